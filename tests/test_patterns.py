"""Patterns: each morphology renders inside its compartment, is seeded, validates parameters."""

import numpy as np
import pytest
import yaml
from scipy import ndimage

from calcifications import anatomy as an
from calcifications import patterns as pt
from calcifications import radiograph as rg

SHAPE = (192, 192)

# (morphology, site, projection, parameters): a typical placement of each pattern
CASES = {
    "tubular_parallel_lines": ("site_leg", "frontal", {}),
    "circumferential_ring_vessel": ("site_forearm", "frontal", {}),
    "irregular_plaques_vessel": ("site_thigh", "frontal", {}),
    "curvilinear_rim": ("site_knee", "lateral", {"location": "popliteal_fossa", "size_mm": 30}),
    "phlebolith": ("site_leg", "frontal", {}),
    "rice_grain": ("site_thigh", "lateral", {}),
    "sheet_leaf_linear": ("site_knee", "lateral", {}),
    "mature_bone": ("site_ankle_foot", "lateral", {"location": "achilles_tendon", "size_mm": 40, "width_mm": 9}),
    "zonal_peripheral": ("site_thigh", "lateral", {"weeks_since_trauma": 7}),
    "amorphous_cloud": ("site_shoulder", "frontal", {}),
    "linear_stratified": ("site_knee", "frontal", {}),
    "punctate_in_soft_tissue_mass": ("site_ankle_foot", "frontal", {}),
    "rounded_bodies_ring_arc": ("site_knee", "frontal", {}),
    "lobulated_multicystic_mass": ("site_knee", "frontal", {}),
    "fluid_calcium_levels": ("site_hip_pelvis", "frontal", {"location": "trochanteric_bursa"}),
    "dense_homogeneous_nodules": ("site_hand", "frontal", {}),
    "small_round_nodules": ("site_buttock", "frontal", {}),
    "bridging_ossification": ("site_hip_pelvis", "frontal", {}),
}


@pytest.fixture(scope="module")
def anatomies():
    cache = {}

    def get(site, projection):
        if (site, projection) not in cache:
            cache[(site, projection)] = an.build(site, projection, SHAPE)
        return cache[(site, projection)]

    return get


def test_every_vocabulary_morphology_has_a_generator():
    from importlib import resources

    vocab = yaml.safe_load(resources.files("calcifications").joinpath("data/vocabulary.yml").read_text("utf-8"))
    assert set(vocab["findings"]["morphology"]) == set(pt.MORPHOLOGIES) == set(pt.GENERATORS) == set(CASES)


@pytest.mark.parametrize("morphology", sorted(CASES))
def test_pattern_renders_inside_its_compartment(morphology, anatomies):
    site, projection, params = CASES[morphology]
    anatomy = anatomies(site, projection)
    lesions = pt.generate(morphology, anatomy, np.random.default_rng(0), **params)
    assert lesions
    mineral = 0.0
    for lesion in lesions:
        t = lesion.thickness_mm
        assert t.shape == SHAPE and t.dtype == np.float64
        assert np.all(np.isfinite(t)) and t.min() >= 0
        region = pt.region_mask(anatomy, lesion.compartments)
        assert not ((t > 0) & ~region).any(), f"{morphology}: {lesion.compartments}"
        if lesion.material not in ("fluid", "soft_tissue", "blood"):
            mineral += t.sum()
    assert mineral > 0, f"{morphology} produced no calcification"


@pytest.mark.parametrize("morphology", sorted(CASES))
def test_pattern_is_seeded(morphology, anatomies):
    site, projection, params = CASES[morphology]
    anatomy = anatomies(site, projection)
    a = pt.generate(morphology, anatomy, np.random.default_rng(5), **params)
    b = pt.generate(morphology, anatomy, np.random.default_rng(5), **params)
    for la, lb in zip(a, b):
        np.testing.assert_array_equal(la.thickness_mm, lb.thickness_mm)


def test_calcification_makes_the_image_brighter_where_it_lies(anatomies):
    anatomy = anatomies("site_thigh", "lateral")
    lesions = pt.generate("rice_grain", anatomy, np.random.default_rng(1), count=30)
    exposure = rg.Exposure(energy_kev=40, fluence_photons_per_mm2=None, blur_fwhm_mm=0)
    before = rg.render_log(rg.make_scene(anatomy.thickness_mm, anatomy.grid.pixel_mm), exposure)
    after = rg.render_log(rg.make_scene(pt.apply_lesions(anatomy, lesions), anatomy.grid.pixel_mm), exposure)
    where = lesions[0].thickness_mm > 0.5
    assert np.all(after[where] > before[where])
    np.testing.assert_allclose(after[~(lesions[0].thickness_mm > 0)], before[~(lesions[0].thickness_mm > 0)])


def test_lesions_conserve_thickness_when_host_is_available(anatomies):
    anatomy = anatomies("site_thigh", "lateral")
    lesions = pt.generate("zonal_peripheral", anatomy, np.random.default_rng(1), weeks_since_trauma=7)
    placed = pt.apply_lesions(anatomy, lesions)
    before = sum(anatomy.thickness_mm.values())
    after = sum(placed.values())
    np.testing.assert_allclose(after, before, atol=1e-9)


def test_myositis_ossificans_matures_with_time_and_from_the_periphery(anatomies):
    anatomy = anatomies("site_thigh", "lateral")
    mineral = {}
    for weeks in (1.5, 3.5, 7.0):
        lesions = pt.generate(
            "zonal_peripheral",
            anatomy,
            np.random.default_rng(2),
            weeks_since_trauma=weeks,
            location=(130, 130),
            size_mm=60,
            angle_deg=90,
            cleft_mm=0,
        )
        mineral[weeks] = sum(lesion.thickness_mm for lesion in lesions if not isinstance(lesion.material, str))
    assert np.sum(mineral[1.5]) == 0  # normal film at 1–2 weeks
    assert 0 < np.sum(mineral[3.5]) < np.sum(mineral[7.0])
    # at 6–8 weeks the periphery is denser than the centre (zonal pattern)
    row = mineral[7.0][int(130 / anatomy.grid.pixel_mm)]
    cols = np.nonzero(row > 0)[0]
    edge = row[cols[:3]].mean()
    centre = row[cols[len(cols) // 2 - 1 : len(cols) // 2 + 2]].mean()
    assert edge > centre
    late = pt.generate(
        "zonal_peripheral", anatomy, np.random.default_rng(2), weeks_since_trauma=20, location=(130, 130), size_mm=60
    )
    assert {getattr(lesion.material, "id", lesion.material) for lesion in late} == {"cortical_bone", "yellow_marrow"}


def test_hydroxyapatite_phases_differ_in_sharpness(anatomies):
    anatomy = anatomies("site_shoulder", "frontal")
    formative = pt.generate("amorphous_cloud", anatomy, np.random.default_rng(3), phase="formative")[0].thickness_mm
    resorptive = pt.generate("amorphous_cloud", anatomy, np.random.default_rng(3), phase="resorptive")[0].thickness_mm

    def edge_sharpness(t):
        g = np.hypot(*np.gradient(t))
        return g.max() / t.max()

    assert edge_sharpness(formative) > edge_sharpness(resorptive)
    assert formative.max() > resorptive.max()


def test_fluid_calcium_levels_are_horizontal(anatomies):
    anatomy = anatomies("site_hip_pelvis", "frontal")
    lesions = pt.generate(
        "fluid_calcium_levels",
        anatomy,
        np.random.default_rng(4),
        location="trochanteric_bursa",
        count=1,
        size_mm=50,
        scale=1.0,
        level_fraction=1.0,
    )
    fluid = next(lesion for lesion in lesions if lesion.material == "fluid").thickness_mm
    mineral = next(lesion for lesion in lesions if lesion.material != "fluid").thickness_mm
    rows_fluid = np.nonzero(fluid.sum(axis=1) > 0)[0]
    rows_dense = np.nonzero((mineral > 0.5 * mineral.max()).sum(axis=1) > 3)[0]
    # fluid above, dense sediment below, split along one image row (a horizontal level)
    assert rows_fluid.max() < rows_dense.max()
    level = rows_fluid.max()
    cols = np.nonzero(fluid[level] > 0)[0][2:-2]  # away from the wall, which is dense everywhere
    assert np.all(mineral[level + 1, cols] > mineral[level, cols])


@pytest.mark.parametrize(
    "morphology, params, message",
    [
        ("rice_grain", {"size_mm": -3}, "size_mm"),
        ("rice_grain", {"size_mm": float("nan")}, "size_mm"),
        ("rice_grain", {"count": -1}, "count"),
        ("rice_grain", {"count": 2.5}, "count"),
        ("phlebolith", {"mineral_g_cm3": 0}, "mineral_g_cm3"),
        ("zonal_peripheral", {"weeks_since_trauma": -2}, "weeks_since_trauma"),
        ("amorphous_cloud", {"phase": "melting"}, "phase"),
        ("rice_grain", {"compartment": "intraarticular"}, "not present"),
        ("mature_bone", {"location": "nowhere"}, "landmark"),
    ],
)
def test_bad_parameters_raise_clear_errors(morphology, params, message, anatomies):
    anatomy = anatomies("site_thigh", "lateral")
    with pytest.raises(ValueError, match=message):
        pt.generate(morphology, anatomy, np.random.default_rng(0), **params)


def test_unknown_pattern_and_bad_rng_raise(anatomies):
    anatomy = anatomies("site_thigh", "lateral")
    with pytest.raises(ValueError, match="unknown pattern"):
        pt.generate("popcorn", anatomy, np.random.default_rng(0))
    with pytest.raises(ValueError, match="Generator"):
        pt.generate("rice_grain", anatomy, 42)


# ------------------------------------------------- lesions that behave like lesions (issue 8) ----


def _mineral(lesions):
    return sum(lesion.thickness_mm for lesion in lesions if not isinstance(lesion.material, str))


def test_unknown_pattern_parameters_are_refused_with_the_valid_ones(anatomies):
    anatomy = anatomies("site_knee", "frontal")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['sizemm'\].*valid: \[.*'size_mm'"):
        pt.generate("phlebolith", anatomy, np.random.default_rng(0), sizemm=4)
    for morphology in pt.MORPHOLOGIES:
        assert pt.PARAMETERS[morphology], morphology  # every pattern documents its parameters


def test_myositis_ossificans_keeps_a_lucent_cleft_from_the_cortex(anatomies):
    anatomy = anatomies("site_thigh", "lateral")
    xs, ys = np.nonzero(anatomy.bone_mask.T)
    # centre the mass beside the femur so that it would touch the cortex without a cleft
    col = int(np.median(xs[ys == anatomy.grid.shape[0] // 2])) if (ys == anatomy.grid.shape[0] // 2).any() else 64
    right = anatomy.bone_mask[anatomy.grid.shape[0] // 2].nonzero()[0].max()
    x = (right + 4) * anatomy.grid.pixel_mm
    y = anatomy.grid.shape[0] // 2 * anatomy.grid.pixel_mm
    for weeks in (7, 16):
        lesions = pt.generate(
            "zonal_peripheral",
            anatomy,
            np.random.default_rng(1),
            weeks_since_trauma=weeks,
            location=(x + 10, y),
            size_mm=60,
            aspect=0.45,
            angle_deg=90,
            cleft_mm=4,
        )
        mineral = sum(
            lesion.thickness_mm
            for lesion in lesions
            if getattr(lesion.material, "id", lesion.material) != "soft_tissue"
        )
        near = ndimage.binary_dilation(anatomy.bone_mask, iterations=int(3.5 / anatomy.grid.pixel_mm))
        assert mineral.sum() > 0 and mineral[near].sum() == 0, weeks
    assert col >= 0


def test_myositis_ossificans_stages_differ_visibly(anatomies):
    anatomy = anatomies("site_thigh", "lateral")
    loc = (60, 150)
    maps = {
        w: _mineral(
            pt.generate(
                "zonal_peripheral",
                anatomy,
                np.random.default_rng(2),
                weeks_since_trauma=w,
                location=loc,
                size_mm=60,
                cleft_mm=0,
            )
        )
        for w in (4, 7)
    }
    bone = {
        w: sum(
            lesion.thickness_mm
            for lesion in pt.generate(
                "zonal_peripheral",
                anatomy,
                np.random.default_rng(2),
                weeks_since_trauma=w,
                location=loc,
                size_mm=60,
                cleft_mm=0,
            )
            if lesion.material == "cortical_bone"
        )
        for w in (12, 20)
    }
    assert maps[7].sum() > 1.5 * maps[4].sum()
    assert bone[12].sum() > 0 and bone[20].sum() > 0
    assert abs(bone[20].sum() - bone[12].sum()) > 0.1 * bone[12].sum()  # the mature lesion condenses


def test_formative_and_resorptive_hydroxyapatite_differ(anatomies):
    anatomy = anatomies("site_shoulder", "frontal")
    f = _mineral(pt.generate("amorphous_cloud", anatomy, np.random.default_rng(3), phase="formative", count=1))
    r = _mineral(pt.generate("amorphous_cloud", anatomy, np.random.default_rng(3), phase="resorptive", count=1))
    assert f.max() > 2 * r.max()  # the formative deposit is denser

    # the resorptive deposit is ill defined: a larger share of its area is faint
    def faint(m):
        return ((m > 0.02 * m.max()) & (m < 0.3 * m.max())).sum() / max((m > 0.02 * m.max()).sum(), 1)

    assert faint(r) > faint(f) + 0.1


def test_gouty_tophus_lifts_the_skin_and_erodes_the_margin_with_an_overhanging_edge():
    anatomy = an.build("site_ankle_foot", "forefoot", (256, 256))
    lesions = pt.generate("punctate_in_soft_tissue_mass", anatomy, np.random.default_rng(4), size_mm=22, erosion_mm=6)
    by = {getattr(lesion.material, "id", lesion.material): lesion for lesion in lesions}
    tophus = by.get("urate_tophus")
    masses = [lesion for lesion in lesions if getattr(lesion.material, "id", "") == "urate_tophus"]
    assert len(masses) == 2  # the mass and the erosion's content
    mass, bite = masses
    assert (mass.thickness_mm > 0)[~anatomy.body_mask].any()  # it bulges beyond the outline...
    assert by["skin"].thickness_mm.sum() > 0  # ...and lifts the skin over it
    assert bite.thickness_mm[anatomy.bone_mask].sum() > 0 and not bite.thickness_mm[~anatomy.bone_mask].any()
    edge = ndimage.binary_dilation(~anatomy.bone_mask, iterations=3) & anatomy.bone_mask
    assert (bite.thickness_mm > 0)[edge].any()  # marginal: it reaches the bone's edge
    shelf = by["cortical_bone"].thickness_mm
    assert shelf.sum() > 0 and (shelf > 0)[~anatomy.bone_mask].any()  # the overhanging edge sticks out
    assert tophus is not None


def test_mineral_is_chalky_not_clean():
    rng = np.random.default_rng(5)
    clean = np.zeros((256, 256))
    clean[16:240, 16:240] = 4.0
    chalk = pt.chalky(clean, rng, 0.4)
    inside = chalk[20:236, 20:236]
    assert inside.std() / inside.mean() > 0.2
    assert abs(inside.mean() / 4.0 - 1) < 0.1  # the mean mineral is kept
    assert not chalk[clean == 0].any()
