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
    m = mineral[7.0]
    rows, cols = np.nonzero(m > 0)
    row = m[int(np.round(np.average(rows, weights=m[rows, cols])))]  # through the lesion's centre
    cols = np.nonzero(row > 0.05 * row.max())[0]
    third = max(len(cols) // 3, 1)
    edge = max(row[cols[:third]].max(), row[cols[-third:]].max())
    centre = row[cols[third:-third]].mean()
    assert edge > 1.5 * centre
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


# ------------------------------------------------ placement, rings, gravity (issue 8, session 2) ----


@pytest.mark.parametrize("morphology", sorted(CASES))
def test_every_lesion_stays_inside_the_skin_or_lifts_it(morphology, anatomies):
    """Nothing floats in air: a deposit outside the original outline is covered by a lifted skin."""
    site, projection, params = CASES[morphology]
    anatomy = anatomies(site, projection)
    lesions = pt.generate(morphology, anatomy, np.random.default_rng(3), **params)
    cover = np.zeros(anatomy.grid.shape, bool)
    for lesion in lesions:
        if lesion.material in ("skin", "adipose"):
            cover |= lesion.thickness_mm > 0
    cover = ndimage.binary_dilation(cover, iterations=2) | anatomy.body_mask
    for lesion in lesions:
        outside = (lesion.thickness_mm > 1e-6) & ~cover
        assert not outside.any(), (morphology, getattr(lesion.material, "id", lesion.material), outside.sum())


def _components(m, threshold):
    labels, n = ndimage.label(m > threshold)
    return [m[sl] * (labels[sl] == k + 1) for k, sl in enumerate(ndimage.find_objects(labels))]


@pytest.mark.parametrize(
    "morphology, site, projection",
    [("phlebolith", "site_leg", "frontal"), ("small_round_nodules", "site_buttock", "frontal")],
)
def test_no_two_rings_of_a_cluster_are_identical(morphology, site, projection):
    anatomy = an.build(site, projection)
    lesions = pt.generate(morphology, anatomy, np.random.default_rng(6), count=10, size_mm=7)
    parts = _components(_mineral(lesions), 0.05)
    assert len(parts) >= 4
    signatures = [(p.shape, round(float(p.sum()), 1), round(float(p.max()), 2)) for p in parts]
    assert len(set(signatures)) == len(signatures)
    sizes = [p.shape[0] * p.shape[1] for p in parts]
    assert max(sizes) > 1.5 * min(sizes)  # varied sizes


def test_outlines_are_lobulated_not_ellipses():
    anatomy = an.build("site_thigh", "lateral", SHAPE)
    rng = np.random.default_rng(8)
    clean = pt.blob(anatomy, (60.0, 60.0), 25.0, 15.0, 15.0, 30.0, None) > 0
    lumpy = pt.blob(anatomy, (60.0, 60.0), 25.0, 15.0, 15.0, 30.0, pt.radial_profile(rng, 0.15)) > 0
    assert (clean ^ lumpy).sum() > 0.08 * clean.sum()


def test_myositis_ossificans_is_seated_clear_of_the_cortex_even_when_asked_onto_it(anatomies):
    anatomy = anatomies("site_thigh", "lateral")
    rows, cols = np.nonzero(anatomy.bone_mask)
    on_bone = ((cols.mean() + 0.5) * anatomy.grid.pixel_mm, (rows.mean() + 0.5) * anatomy.grid.pixel_mm)
    for weeks in (4, 7, 12, 16):
        lesions = pt.generate(
            "zonal_peripheral", anatomy, np.random.default_rng(1), weeks_since_trauma=weeks, location=on_bone
        )
        mineral = sum(lesion.thickness_mm for lesion in lesions if lesion.material != "soft_tissue")
        gap = ndimage.distance_transform_edt(~anatomy.bone_mask) * anatomy.grid.pixel_mm
        assert mineral.sum() > 0 and mineral[gap < 3.5].sum() == 0, weeks  # a lucent cleft remains


def _with_gravity(anatomy, degrees):
    from dataclasses import replace
    from types import MappingProxyType

    return replace(anatomy, landmarks=MappingProxyType({**anatomy.landmarks, "gravity_deg": degrees}))


def _one_cyst_with_a_level(anatomy: an.Anatomy) -> tuple[tuple[pt.Lesion, ...], np.ndarray]:
    """One 5 cm cyst with a fluid–calcium level beside the greater trochanter, and its fluid mask."""
    lesions = pt.generate(
        "fluid_calcium_levels",
        anatomy,
        np.random.default_rng(4),
        location="trochanteric_bursa",
        count=1,
        size_mm=50,
        level_fraction=1.0,
        sediment_fraction=0.5,
    )
    return lesions, next(lesion for lesion in lesions if lesion.material == "fluid").thickness_mm > 0


@pytest.mark.parametrize("gravity_deg", [90.0, 0.0, 35.0, None])
def test_fluid_calcium_levels_are_perpendicular_to_gravity(gravity_deg):
    anatomy = an.build("site_hip_pelvis", "frontal")
    if gravity_deg is not None:
        anatomy = _with_gravity(anatomy, gravity_deg)
    g = np.deg2rad(90.0 if gravity_deg is None else gravity_deg)  # image-down when the view has none
    gx, gy = np.cos(g), np.sin(g)
    lesions, fluid = _one_cyst_with_a_level(anatomy)
    cyst = _mineral(lesions) > 0
    # the level: fluid pixels whose neighbour one step along gravity is sediment (cyst, no fluid)
    rows, cols = np.nonzero(fluid)
    step_r, step_c = np.rint(rows + 1.5 * gy).astype(int), np.rint(cols + 1.5 * gx).astype(int)
    ok = (step_r >= 0) & (step_r < fluid.shape[0]) & (step_c >= 0) & (step_c < fluid.shape[1])
    rows, cols, step_r, step_c = rows[ok], cols[ok], step_r[ok], step_c[ok]
    level = ~fluid[step_r, step_c] & cyst[step_r, step_c]
    inner = ndimage.binary_erosion(cyst | fluid, iterations=4)[rows, cols]  # away from the wall
    r, c = rows[level & inner], cols[level & inner]
    assert r.size > 8
    along = c * gx + r * gy  # position along gravity: constant on a level
    across = -c * gy + r * gx
    assert along.std() < 1.0 and across.std() > 4.0
    # the dense layer is on the gravity side of the fluid
    fr, fc = np.nonzero(fluid)
    sr, sc = np.nonzero(cyst & ~fluid & ndimage.binary_erosion(cyst | fluid, iterations=4))
    assert (sc * gx + sr * gy).mean() > (fc * gx + fr * gy).mean()


def test_gravity_landmark_must_be_an_angle(anatomies):
    anatomy = _with_gravity(anatomies("site_hip_pelvis", "frontal"), "down")
    with pytest.raises(ValueError, match="gravity_deg"):
        pt.generate("fluid_calcium_levels", anatomy, np.random.default_rng(0), location="trochanteric_bursa")


def test_vessel_calcium_follows_the_artery_as_a_tram_track_with_gaps():
    anatomy = an.build("site_knee", "lateral")
    path = np.asarray(anatomy.landmarks["artery"], float)
    for morphology in ("tubular_parallel_lines", "circumferential_ring_vessel", "irregular_plaques_vessel"):
        m = _mineral(pt.generate(morphology, anatomy, np.random.default_rng(2), size_mm=7))
        assert m.sum() > 0
        _, d = pt.polyline_coordinates(path, anatomy)
        assert np.all(np.abs(d[m > 0]) < 3.5 * 1.25 + 2.4 + 0.6), morphology  # on the course (radius + wobble)
    m = _mineral(pt.generate("tubular_parallel_lines", anatomy, np.random.default_rng(2), size_mm=7))
    s, d = pt.polyline_coordinates(pt.wobbly_path(path, np.random.default_rng(2), 0.0), anatomy)
    # two lines: along the course, mineral at the walls exceeds mineral on the axis
    rows, cols = np.nonzero(m > 0)
    on_axis = m[(np.abs(d) < 0.8) & (m > 0)].mean()
    at_wall = np.percentile(m[m > 0], 90)
    assert at_wall > 2 * on_axis
    # gaps: stretches of the course without calcium
    profile = np.bincount(np.clip(s[m > 0.05].astype(int), 0, None), minlength=int(s.max()) + 1)
    covered = profile[int(0.1 * s.max()) : int(0.9 * s.max())] > 0
    assert 0.4 < covered.mean() < 1.0


def test_meniscal_chondrocalcinosis_stays_inside_the_joint_space():
    anatomy = an.build("site_knee", "frontal")
    m = pt.generate("linear_stratified", anatomy, np.random.default_rng(0))[0].thickness_mm
    assert m.sum() > 0
    assert not (m[anatomy.bone_mask] > 0).any()
    rows, cols = np.nonzero(m > 0)
    # never beyond the tibial margins: every column with calcium has bone below and above it
    for c in np.unique(cols):
        r = rows[cols == c]
        assert anatomy.bone_mask[r.max() :, c].any() and anatomy.bone_mask[: r.min(), c].any(), c


def test_formative_resorptive_and_bursal_hydroxyapatite_differ(anatomies):
    anatomy = an.build("site_shoulder", "frontal")
    f = _mineral(pt.generate("amorphous_cloud", anatomy, np.random.default_rng(3), phase="formative", count=1))
    r = _mineral(pt.generate("amorphous_cloud", anatomy, np.random.default_rng(3), phase="resorptive", count=1))
    b = _mineral(pt.generate("amorphous_cloud", anatomy, np.random.default_rng(3), phase="bursal", size_mm=28))
    assert b.sum() > 0
    gap = ndimage.distance_transform_edt(~anatomy.bone_mask) * anatomy.grid.pixel_mm
    assert np.percentile(gap[b > 0.05 * b.max()], 95) < 10  # the crescent hugs the head and tuberosity
    rows, cols = np.nonzero(b > 0.05 * b.max())
    extent = np.hypot(np.ptp(rows), np.ptp(cols)) * anatomy.grid.pixel_mm
    assert extent > 25  # long and thin (a crescent), unlike the tendon deposits
    assert (f > 0.05 * f.max()).sum() < (b > 0.05 * b.max()).sum()
    assert r.max() < f.max()
    with pytest.raises(ValueError, match="phase"):
        pt.generate("amorphous_cloud", anatomy, np.random.default_rng(3), phase="melting")


def _parosteal(shape: tuple[int, int], gap_px: int, width_mm: float) -> tuple[an.Anatomy, np.ndarray]:
    """The thigh (lateral) and a centrally zoned mature-bone mass ``gap_px`` beside the femur (mm map)."""
    anatomy = an.build("site_thigh", "lateral", shape)
    rows, cols = np.nonzero(anatomy.bone_mask)
    r0 = int(np.median(rows))
    right = np.nonzero(anatomy.bone_mask[r0])[0].max()
    loc = ((right + gap_px) * anatomy.grid.pixel_mm, r0 * anatomy.grid.pixel_mm)
    lesion = pt.generate(
        "mature_bone",
        anatomy,
        np.random.default_rng(1),
        compartment="muscle",
        zoning="central",
        location=loc,
        size_mm=50,
        width_mm=width_mm,
        angle_deg=90,
    )[0].thickness_mm
    return anatomy, lesion


def test_parosteal_pattern_is_attached_and_densest_centrally():
    anatomy, lesion = _parosteal((512, 512), 20, 20)
    touching = ndimage.binary_dilation(anatomy.bone_mask, iterations=2) & (lesion > 0)
    assert touching.sum() > 10  # broad attachment, no cleft
    ys, xs = np.nonzero(lesion > 0)
    cy, cx = int(np.average(ys, weights=lesion[ys, xs])), int(np.average(xs, weights=lesion[ys, xs]))
    assert lesion[cy - 2 : cy + 3, cx - 2 : cx + 3].mean() > 2 * np.percentile(lesion[lesion > 0], 25)


# ------------------------------------------------ lesions that behave like lesions (issue 8, session 4) ----


def _by_material(lesions):
    out = {}
    for lesion in lesions:
        key = getattr(lesion.material, "id", lesion.material)
        out[key] = out.get(key, 0) + lesion.thickness_mm
    return out


def _band_cv(field, mask, pixel_mm):
    """Relative contrast of ``field`` inside ``mask`` at the scale of trabeculae (about 0.5–3 mm)."""
    band = ndimage.gaussian_filter(field, 0.5 / pixel_mm) - ndimage.gaussian_filter(field, 2.5 / pixel_mm)
    return float(band[mask].std() / field[mask].mean())


@pytest.mark.parametrize("weeks", [12, 16])
def test_mature_myositis_ossificans_is_a_dense_shell_around_a_coarsely_trabeculated_centre(weeks):
    anatomy = an.build("site_thigh", "lateral", (384, 384))
    px = anatomy.grid.pixel_mm
    lesions = pt.generate(
        "zonal_peripheral", anatomy, np.random.default_rng(2), weeks_since_trauma=weeks, size_mm=70, aspect=0.42
    )
    m = _by_material(lesions)
    bone, marrow = m["cortical_bone"], m["yellow_marrow"]
    # the shell (where the beam runs along it) is denser than the centre
    ys, xs = np.nonzero(bone > 0)
    row = bone[int(np.average(ys, weights=bone[ys, xs]))]
    cols = np.nonzero(row > 0)[0]
    third = max(len(cols) // 4, 1)
    assert max(row[cols[:third]].max(), row[cols[-third:]].max()) > 1.6 * row[cols[third:-third]].mean()
    # the centre is woven bone: coarse, disorganised trabeculae and marrow spaces (blind readers found the
    # old, finely mottled centre flat and pasted: band contrast 0.05), yet not a copy of an ordered
    # trabecular medulla drawn in the same body (its bone share varies clearly less at that scale)
    centre = ndimage.binary_erosion(marrow > 0.5 * marrow.max(), iterations=int(2.5 / px))
    assert centre.sum() > 50
    share = bone / np.maximum(bone + marrow, 1e-9)
    trabecular = pt._bone_from_chord(anatomy, bone + marrow, 3.0, ("muscle",), np.random.default_rng(0), 0.3)
    t_bone, t_marrow = (lesion.thickness_mm for lesion in trabecular)
    reference = t_bone / np.maximum(t_bone + t_marrow, 1e-9)
    cv = _band_cv(share, centre, px)
    assert 0.085 < cv < 0.75 * _band_cv(reference, centre, px)


def test_myositis_ossificans_outline_is_irregular_and_along_the_fibres():
    anatomy = an.build("site_thigh", "lateral", (384, 384))
    lesions = pt.generate("zonal_peripheral", anatomy, np.random.default_rng(2), weeks_since_trauma=12, angle_deg=90)
    m = sum(_by_material(lesions).values())
    foot = m > 0
    ys, xs = np.nonzero(foot)
    assert np.ptp(ys) > 1.8 * np.ptp(xs)  # elongated along the fibres (vertical here)
    # not a clean ellipse: its outline strays from the ellipse of the same moments far more than
    # a clean ellipse's pixelated outline does
    clean = pt.blob(anatomy, (60.0, 60.0), np.ptp(ys) * 0.34, np.ptp(xs) * 0.34, 10.0, 90.0, None) > 0
    assert _irregularity(foot) > 1.5 * _irregularity(clean)


def _irregularity(foot):
    """Spread of the outline's elliptical radius (1 = on the ellipse of the footprint's moments)."""
    ys, xs = np.nonzero(foot)
    cy, cx = ys.mean(), xs.mean()
    cov = np.cov(np.vstack([ys - cy, xs - cx]))
    ey, ex = np.nonzero(foot & ~ndimage.binary_erosion(foot))
    d = np.stack([ey - cy, ex - cx], -1)
    q = np.sqrt(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d))
    return q.std() / q.mean()


def test_myositis_ossificans_week_two_shows_faint_amorphous_mineral(anatomies):
    anatomy = anatomies("site_thigh", "lateral")
    m = {
        w: _mineral(pt.generate("zonal_peripheral", anatomy, np.random.default_rng(2), weeks_since_trauma=w))
        for w in (1.5, 2, 4, 7)
    }
    assert np.sum(m[1.5]) == 0 and np.sum(m[2]) > 0
    assert m[2].max() < m[4].max() < m[7].max()  # faint, then fainter than the rim to come


def test_parosteal_pattern_has_no_rosette():
    anatomy, th = _parosteal((384, 384), 30, 24)
    smooth = ndimage.gaussian_filter(th, 1.0)
    ys, xs = np.nonzero(th > 0)
    cy, cx = np.average(ys, weights=th[ys, xs]), np.average(xs, weights=th[ys, xs])
    radius = 0.25 * 12 / anatomy.grid.pixel_mm
    phi = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    ring = ndimage.map_coordinates(smooth, [cy + radius * np.sin(phi), cx + radius * np.cos(phi)], order=1)
    assert ring.std() / ring.mean() < 0.2  # no petals radiating from a point


def test_fluid_calcium_level_sediment_is_much_denser_than_the_fluid_above():
    anatomy = an.build("site_hip_pelvis", "frontal")
    lesions, fluid = _one_cyst_with_a_level(anatomy)
    mineral = _mineral(lesions)
    inside = ndimage.binary_erosion((mineral > 0) | fluid, iterations=6)
    above = mineral[inside & fluid].mean()
    below = mineral[inside & ~fluid & (mineral > 0)].mean()
    assert below > 4 * above  # a readable level: the calcium "milk" against thin walls over fluid


def test_cysts_are_rounded_lobules_not_facets():
    anatomy = an.build("site_hip_pelvis", "frontal")
    m = _mineral(
        pt.generate(
            "lobulated_multicystic_mass",
            anatomy,
            np.random.default_rng(5),
            location="trochanteric_bursa",
            count=1,
            size_mm=40,
        )
    )
    foot = m > 0
    # convex and round: the footprint fills its convex hull's circle nearly completely
    ys, xs = np.nonzero(foot)
    r = np.sqrt(foot.sum() / np.pi)
    dist = np.hypot(ys - ys.mean(), xs - xs.mean())
    assert dist.max() < 1.35 * r


def test_vessel_wall_is_antialiased():
    r, h = 3.4, 0.25
    d = np.linspace(-5, 5, 2001)
    exact = np.sqrt(np.clip(r * r - d * d, 0, None))
    box = pt._half_chord_mean(d, r, h)
    # the same area, spread smoothly over the edge (coverage) instead of cut at pixel centres
    assert abs(box.sum() - exact.sum()) < 0.01 * exact.sum()
    edge = (np.abs(d) > r) & (np.abs(d) < r + h)
    assert np.all(box[edge] > 0)
    assert np.allclose(pt._half_chord_mean(d, r, 1e-4), exact, atol=0.02)
    anatomy = an.build("site_knee", "lateral")
    m = _mineral(pt.generate("tubular_parallel_lines", anatomy, np.random.default_rng(2), size_mm=7))
    walls = m[m > 0]
    # intermediate values at the walls' edges: a soft profile, not a binary footprint
    assert ((walls > 0.02 * walls.max()) & (walls < 0.25 * walls.max())).mean() > 0.2


@pytest.mark.parametrize("morphology", sorted(m for m in CASES if "mineral_g_cm3" in pt.PARAMETERS[m]))
def test_no_deposit_is_denser_than_cortex(morphology, anatomies):
    site, projection, params = CASES[morphology]
    anatomy = anatomies(site, projection)

    def mineral(conc):
        lesions = pt.generate(morphology, anatomy, np.random.default_rng(3), **params, mineral_g_cm3=conc)
        deposits = [x.thickness_mm for x in lesions if getattr(x.material, "id", "").endswith("reference_deposit")]
        return sum(deposits) if deposits else np.zeros(anatomy.grid.shape)

    cap = pt.cortex_equivalent_g_cm3()
    assert 0.9 < cap < 1.4  # cortical bone attenuates like about 1.1 g/cm³ of hydroxyapatite
    low, one, high = mineral(0.5), mineral(1.0), mineral(3.0)
    where = one > 1e-6
    if not where.any():
        pytest.skip("no reference deposit")
    # linear below the cap (where a lesion's own chord caps its chalky peaks, less)
    assert np.all(low[where] >= 0.5 * one[where] * (1 - 1e-9)) and np.all(low <= one * (1 + 1e-9))
    assert np.isclose(low[where], 0.5 * one[where]).mean() > 0.5
    assert np.all(high[where] <= cap * one[where] * (1 + 1e-9))


def test_loose_bodies_gather_in_the_named_recess():
    anatomy = an.build("site_knee", "frontal")
    line = np.asarray(anatomy.landmarks["joint_line"], float)
    lesions = pt.generate(
        "rounded_bodies_ring_arc", anatomy, np.random.default_rng(1), location="joint_line", count=20, size_mm=13
    )
    m = _mineral(lesions)
    assert m.sum() > 0
    ys = (np.nonzero(m > 0.05 * m.max())[0] + 0.5) * anatomy.grid.pixel_mm
    # none up over the femoral shaft: centres within the recess reach (1.5 × size + 6 mm), plus a radius
    assert np.all(np.abs(ys - line[:, 1].mean()) < 1.5 * 13 + 6 + 13 / 2)
    assert not (m[~anatomy.masks["intraarticular"]] > 0).any()
    with pytest.raises(ValueError, match="landmark"):
        pt.generate("rounded_bodies_ring_arc", anatomy, np.random.default_rng(1), location="nowhere")


# ------------------------------------------- tumoral calcinosis, mass effect (issue 8, session 5) ----


def _tumoral(anatomy, seed=11, **params):
    base = {"location": "trochanteric_bursa", "count": 12, "size_mm": 60}
    return pt.generate("fluid_calcium_levels", anatomy, np.random.default_rng(seed), **{**base, **params})


def test_locules_are_unequal_cells_joined_by_a_net_of_septa():
    anatomy = an.build("site_hip_pelvis", "frontal")
    x, y = anatomy.grid.coordinates()
    disc = (x - 100) ** 2 + (y - 100) ** 2 <= 30**2
    labels, septum, k = pt._locules(anatomy, np.random.default_rng(2), disc, 10)
    assert k == 10 and set(np.unique(labels[disc])) == set(range(1, 11)) and not labels[~disc].any()
    areas = np.bincount(labels[disc])[1:]
    assert areas.max() > 1.6 * areas.min()  # unequal locules, not a tiling of equal cells
    rind = disc & ~ndimage.binary_erosion(disc, iterations=2)
    net = (disc & (septum < 0.6)) | rind
    assert ndimage.label(net, np.ones((3, 3)))[1] == 1  # the septa meet the wall and each other: one net
    assert (disc & (septum < 0.6)).sum() > 0.05 * disc.sum()  # and there are septa, not one cyst


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_only_a_minority_of_locules_show_a_level_and_paste_fills_most(seed):
    anatomy = an.build("site_hip_pelvis", "frontal")
    lesions = _tumoral(anatomy, seed)
    fluid = next(lesion for lesion in lesions if lesion.material == "fluid").thickness_mm > 0.5
    pools = ndimage.label(fluid)[1]
    assert 1 <= pools <= 12 // 2  # a level in a minority of the twelve locules
    mineral = _mineral(lesions)
    mass = mineral > 0
    # chalky calcium (well above the thin walls) over most of the mass, not half-empty spheres
    assert (mineral[mass] > 0.12 * np.percentile(mineral[mass], 99)).mean() > 0.6


def test_levels_are_slightly_blurred_not_ruled_lines():
    anatomy = an.build("site_hip_pelvis", "frontal")
    lesions = _tumoral(anatomy, 11, count=1, size_mm=50, level_fraction=1.0, sediment_fraction=0.5)
    fluid = next(lesion for lesion in lesions if lesion.material == "fluid").thickness_mm
    mineral = _mineral(lesions)
    cols = np.nonzero((fluid > 0).any(axis=0))[0]
    c = int(np.median(cols))
    inside = (mineral[:, c] > 0) | (fluid[:, c] > 0)
    share = fluid[:, c] / np.clip(fluid[:, c] + mineral[:, c] / pt.SEDIMENT_SHARE, 1e-9, None)
    # (the hazy supernatant just above the level is still 0.85–0.9 fluid by this measure)
    partial = inside & (share > 0.1) & (share < 0.8)
    # the interface spreads over about LEVEL_BLUR_MM or more: at least two pixel rows are partly fluid
    assert partial.sum() >= max(2, int(0.5 * pt.LEVEL_BLUR_MM / anatomy.grid.pixel_mm))
    # still a sharp level: no wider than the locule's own blur allows
    assert partial.sum() * anatomy.grid.pixel_mm < 2 * pt.LEVEL_BLUR_MM * pt.LEVEL_BLUR_SPREAD[1] + 1.0


@pytest.mark.parametrize(
    "site, projection, location, size",
    [("site_hip_pelvis", "frontal", (34.0, 178.0), 90), ("site_elbow", "horizontal_beam", "posterior_elbow", 44)],
)
def test_tumoral_mass_lies_inside_the_body_and_lifts_the_skin(site, projection, location, size):
    """Asked at the skin, the mass is seated inside the outline; the part that bulges is covered."""
    anatomy = an.build(site, projection)
    lesions = _tumoral(anatomy, 7, location=location, size_mm=size)
    mass = _mineral(lesions) > 0
    assert mass.any()
    outside = mass & ~anatomy.body_mask
    assert outside.sum() < 0.25 * mass.sum()
    skin = np.zeros(mass.shape, bool)
    for lesion in lesions:
        if lesion.material == "skin":
            skin |= lesion.thickness_mm > 0
    # every pixel of the mass beyond the old outline lies under the lifted skin (skin beyond it too)
    lifted = ndimage.binary_fill_holes(skin | anatomy.body_mask)
    assert not (outside & ~lifted).any()


def test_a_skin_bulge_has_no_dark_trough_along_the_old_outline():
    """The tissue path grows steadily inwards from the lifted skin: no thin (dark) band where the
    old skin line ran (the 'halo' readers saw round a bulge)."""
    anatomy = an.build("site_thigh", "frontal")
    rows, cols = np.nonzero(anatomy.body_mask)
    r = int(np.median(rows))
    c0 = int(cols[rows == r].min())  # the outline on this row
    px = anatomy.grid.pixel_mm
    centre = ((c0 + 0.5) * px + 4.0, (r + 0.5) * px)  # a mass 4 mm under the skin: it bulges
    mass = pt.blob(anatomy, centre, 8.0, 14.0, 8.0, 90.0, None)
    lesions = (pt.Lesion(pt.reference_deposit(), mass, ("swelling",)),) + pt.mass_effect(anatomy, mass)
    total = sum(pt.apply_lesions(anatomy, lesions).values())
    row = total[r, : c0 + int(25 / px)]
    start = int(np.argmax(row > 0.5))
    profile = row[start:]
    drop = np.maximum.accumulate(profile) - profile
    assert drop.max() < 2.0, drop.max()  # was 33 mm with the fat only outside the old outline


def test_a_skin_bulge_leaves_nothing_in_the_air_along_the_limb_away_from_it():
    """The lifted skin and its fat stay over the bulge: no sliver of tissue a pixel or two outside
    a straight outline above and below the mass (it drew a thin line in the air along the limb)."""
    anatomy = an.build("site_thigh", "frontal")
    rows, cols = np.nonzero(anatomy.body_mask)
    r = int(np.median(rows))
    c0 = int(cols[rows == r].min())
    px = anatomy.grid.pixel_mm
    centre = ((c0 + 0.5) * px + 4.0, (r + 0.5) * px)
    mass = pt.blob(anatomy, centre, 8.0, 14.0, 8.0, 90.0, None)
    added = sum(np.abs(lesion.thickness_mm) for lesion in pt.mass_effect(anatomy, mass))
    covered = ndimage.binary_dilation(mass > 0.05, iterations=round(2.5 / px))
    near = ndimage.binary_dilation(covered, iterations=round(4.0 / px))
    stray = (added > 0.05) & ~anatomy.body_mask & ~near
    # the rounded junction may reach a little further (a few dozen pixels); the sliver was a line
    # along the outline (89 pixels on this limb)
    assert int(stray.sum()) < 40, f"{int(stray.sum())} pixels of tissue in the air away from the bulge"


@pytest.mark.parametrize("projection", ["frontal", "lateral"])
@pytest.mark.parametrize("compartment", ["subcutaneous", "vascular"])
def test_phleboliths_lie_in_the_veins_well_inside_the_skin(projection, compartment):
    anatomy = an.build("site_leg", projection)
    lesions = pt.generate("phlebolith", anatomy, np.random.default_rng(9), count=9, size_mm=6, compartment=compartment)
    m = _mineral(lesions)
    assert m.sum() > 0
    depth = ndimage.distance_transform_edt(anatomy.body_mask) * anatomy.grid.pixel_mm
    assert depth[m > 1e-6].min() >= 1.5  # every ring pixel inside the body, clear of the skin line
    near = pt._along_veins(anatomy, 10.0 + 6 * 0.7)
    assert m[near].sum() > 0.99 * m.sum()  # in (tortuous) veins, not scattered anywhere


@pytest.mark.parametrize("seed", [0, 1])
def test_meniscal_calcium_stays_between_the_condyle_margins(seed):
    """Chondrocalcinosis lies in the femorotibial joint space, never in the soft tissue beyond it."""
    anatomy = an.build("site_knee", "frontal")
    lesions = pt.generate("linear_stratified", anatomy, np.random.default_rng(seed), mineral_g_cm3=2.5, width_mm=2.0)
    m = _mineral(lesions)
    assert m.sum() > 0
    y0 = float(np.mean([p[1] for p in anatomy.landmarks["menisci"]]))
    top, bottom = pt.joint_space(anatomy, y0)
    cols = np.nonzero(np.isfinite(top) & np.isfinite(bottom))[0]
    inside = np.zeros(m.shape, bool)
    inside[:, cols.min() : cols.max() + 1] = True
    assert m[~inside].sum() < 0.005 * m.sum()  # nothing beyond the joint's bony margins (but blur)
    # and inside the joint space rows (between the condyle and the plateau), with a pixel of blur
    rows = np.arange(m.shape[0])[:, None]
    band = (rows >= np.nan_to_num(top, nan=1e9)[None, :] - 2) & (rows <= np.nan_to_num(bottom, nan=-1e9)[None, :] + 2)
    assert m[~band].sum() < 0.02 * m.sum()
    # stippled, not a solid block: the mineral varies strongly inside the meniscal triangles
    vals = m[m > 0.05 * m.max()]
    assert vals.std() / vals.mean() > 0.35


def test_loose_bodies_fill_the_elbow_recesses_on_the_flexed_lateral():
    """On the posed lateral the bodies lie in front of and behind the distal humerus (fat-pad recesses),
    not over the condyles."""
    anatomy = an.build("site_elbow", "lateral")
    recesses = ["anterior_fat_pad", "posterior_fat_pad"]
    lesions = pt.generate(
        "rounded_bodies_ring_arc", anatomy, np.random.default_rng(1603), count=9, size_mm=12, recesses=recesses
    )
    m = _mineral(lesions)
    assert m.sum() > 0
    px = anatomy.grid.pixel_mm
    zones = pt.recess_zones(anatomy, recesses, 0.6 * 12 + 4.0)
    grown = [ndimage.binary_dilation(z, iterations=round(0.6 * 12 / px)) for z in zones]
    assert m[~(grown[0] | grown[1])].sum() == 0  # inside the recesses
    assert all(m[z].sum() > 0.15 * m.sum() for z in zones)  # both recesses hold bodies
    x, y = anatomy.grid.coordinates()
    tx, ty = anatomy.landmarks["trochlea_center"]
    condyles = (x - tx) ** 2 + (y - ty) ** 2 <= 10.0**2
    assert m[condyles].sum() < 0.02 * m.sum()  # not over the round articular end of the humerus
    with pytest.raises(ValueError, match="recess"):
        pt.generate("rounded_bodies_ring_arc", anatomy, np.random.default_rng(0), recesses=["nowhere"])
    with pytest.raises(ValueError, match="recesses"):
        pt.generate("rounded_bodies_ring_arc", anatomy, np.random.default_rng(0), recesses="anterior_fat_pad")


def _grain_shapes(m):
    """(long axis mm-free px length, angle deg, peak) of each separate grain of a mineral map."""
    labels, n = ndimage.label(m > 0.05 * m.max())
    out = []
    for k, sl in enumerate(ndimage.find_objects(labels)):
        ys, xs = np.nonzero(labels[sl] == k + 1)
        if ys.size < 6:
            continue
        cov = np.cov(np.vstack([xs, ys]))
        w, v = np.linalg.eigh(cov)
        angle = np.degrees(np.arctan2(v[1, 1], v[0, 1])) % 180
        out.append((4 * np.sqrt(w[1]), angle, float(m[sl][labels[sl] == k + 1].max())))
    return out


def test_rice_grains_are_not_copies_of_one_sprite():
    anatomy = an.build("site_thigh", "lateral")
    m = _mineral(pt.generate("rice_grain", anatomy, np.random.default_rng(4), count=30, size_mm=8))
    grains = _grain_shapes(m)
    assert len(grains) >= 12
    lengths = np.array([g[0] for g in grains])
    peaks = np.array([g[2] for g in grains])
    assert lengths.std() / lengths.mean() > 0.2 and lengths.max() > 1.8 * lengths.min()
    assert peaks.std() / peaks.mean() > 0.15  # density differs from grain to grain
    fibre = float(anatomy.landmarks.get("fibre_angle_deg", 90.0)) % 180
    long = [g for g in grains if g[0] > np.median(lengths)]
    dev = [min(abs(g[1] - fibre), 180 - abs(g[1] - fibre)) for g in long]
    assert np.median(dev) < 20  # still aligned with the muscle fibres


def test_mature_myositis_ossificans_is_lobulated_with_a_rim_of_varying_thickness():
    """Not a perfect ellipse with a uniform rim (what readers saw at twelve weeks)."""
    anatomy = an.build("site_thigh", "lateral", (384, 384))
    lesions = pt.generate("zonal_peripheral", anatomy, np.random.default_rng(2), weeks_since_trauma=12, size_mm=70)
    m = _by_material(lesions)
    foot = m["cortical_bone"] > 0
    core = m["yellow_marrow"] > 0.5 * m["yellow_marrow"].max()
    ys, xs = np.nonzero(foot)
    cy, cx = ys.mean(), xs.mean()
    # the best-fit ellipse (same second moments) misses a fair share of the outline
    cov = np.cov(np.vstack([xs - cx, ys - cy]))
    inv = np.linalg.inv(cov)
    yy, xx = np.indices(foot.shape)
    d = np.stack([xx - cx, yy - cy])
    ellipse = np.einsum("i...,ij,j...->...", d, inv, d) <= 4.0
    assert (foot ^ ellipse).sum() > 0.06 * foot.sum()
    # rim thickness along rays from the centre varies round the lesion
    rims = []
    for phi in np.linspace(0, 2 * np.pi, 48, endpoint=False):
        t = np.arange(0, 200, 0.5)
        r, c = np.rint(cy + t * np.sin(phi)).astype(int), np.rint(cx + t * np.cos(phi)).astype(int)
        ok = (r >= 0) & (r < foot.shape[0]) & (c >= 0) & (c < foot.shape[1])
        r, c, t = r[ok], c[ok], t[ok]
        outer = t[foot[r, c]].max() if foot[r, c].any() else 0
        inner = t[core[r, c]].max() if core[r, c].any() else 0
        if outer > 0 and inner > 0:
            rims.append(outer - inner)
    rims = np.array(rims)
    assert len(rims) > 30 and rims.std() / rims.mean() > 0.25


# ---------------------------------------------- session 7: readers' lesion defects ----


def _flat_side_mm(footprint: np.ndarray, pixel_mm: float) -> float:
    """Longest side of a footprint that is flat to within one pixel (mm), over its four sides: a circle
    of radius R has about 2·sqrt(2·R·pixel) there, a side cut straight has its whole length."""
    longest = 0.0
    for k in range(4):
        f = np.rot90(footprint, k)
        cols = np.nonzero(f.any(axis=0))[0]
        bottom = np.array([np.nonzero(f[:, c])[0].max() for c in cols])
        longest = max(longest, float((bottom >= bottom.max() - 1).sum()) * pixel_mm)
    return longest


def test_tumoral_calcinosis_outline_is_lobulated_all_round_with_no_straight_side():
    """fig15's mass had a ruler-straight lower edge 33 mm long (three lobes' bottoms lined up under
    broad fillets); the lobes now spread round the core and carry small bumps."""
    anatomy = an.build("site_hip_pelvis", "frontal")
    for seed in (118, 0, 1, 2, 3):  # 118: fig15's own draw
        lesions = pt.generate(
            "fluid_calcium_levels", anatomy, np.random.default_rng(seed), location=(34.0, 178.0), size_mm=80, count=14
        )
        flat = _flat_side_mm(_mineral(lesions) > 0.05, anatomy.grid.pixel_mm)
        assert flat < 26.0, (seed, flat)


def test_lifted_skin_fades_in_instead_of_stopping_along_a_row():
    """The old skin line under a bulge became fat in a band cut square at the bulge's ends: a step of
    the whole skin path (26 mm) from one row to the next, a straight edge and a dark pocket across the mass."""
    anatomy = an.build("site_hip_pelvis", "frontal")
    rows, cols = np.nonzero(anatomy.body_mask)
    r = int(np.median(rows))
    c0 = int(cols[rows == r].min())  # the lateral skin line on this row
    px = anatomy.grid.pixel_mm
    mass = pt.blob(anatomy, ((c0 + 0.5) * px + 10.0, (r + 0.5) * px), 18.0, 30.0, 18.0, 90.0, None)  # bulges 8 mm
    lifted = next(lesion for lesion in pt.mass_effect(anatomy, mass) if lesion.hosts == ("skin",)).thickness_mm
    assert lifted.max() > 10  # the old skin line is replaced under the bulge
    # ... fading in over several rows at the bulge's ends (across the outline, the skin's own edge)
    assert np.abs(np.diff(lifted, axis=0)).max() < 6.0


def test_tumoral_calcinosis_locules_hold_fluid_round_the_calcium_not_host_fat():
    """The calcium paste and sediment lie in fluid (water-equivalent), which fills every locule: before,
    only the locules with a level held fluid and the rest of each locule's path stayed the host's fat."""
    anatomy = an.build("site_hip_pelvis", "frontal")
    for seed in (118, 2):
        lesions = pt.generate(
            "fluid_calcium_levels", anatomy, np.random.default_rng(seed), location=(34.0, 178.0), size_mm=80, count=14
        )
        mineral = _mineral(lesions)
        fluid = sum(lesion.thickness_mm for lesion in lesions if lesion.material == "fluid")
        inside = ndimage.binary_erosion(mineral > 0, iterations=6)
        assert (fluid[inside] > 1.0).mean() > 0.95
        assert np.median(fluid[inside]) > np.median(mineral[inside])  # mostly fluid by path, calcium in it
        # beside the trochanter the mass lies in the soft tissue: it pushes fat or (since the hip's
        # muscle fills up to the deep fascia, session 9) muscle aside first, never bone or skin
        assert all(lesion.hosts[0] in ("adipose", "muscle") for lesion in lesions if lesion.material == "fluid")
    lesions = pt.generate("lobulated_multicystic_mass", anatomy, np.random.default_rng(3), location=(34.0, 178.0))
    assert any(lesion.material == "fluid" and lesion.thickness_mm.max() > 5 for lesion in lesions)


def test_fluid_level_undulates_a_little_and_is_not_a_ruled_row():
    """Within a locule the level's height varies by a fraction of a millimetre from column to column (an
    uneven sediment surface), apart from the meniscus at the wall: not one straight pixel row."""
    anatomy = an.build("site_hip_pelvis", "frontal")
    px = anatomy.grid.pixel_mm
    spreads = []
    for seed in (4, 6, 8):
        lesions = pt.generate(
            "fluid_calcium_levels",
            anatomy,
            np.random.default_rng(seed),
            location="trochanteric_bursa",
            count=1,
            size_mm=50,
            level_fraction=1.0,
            sediment_fraction=0.5,
        )
        fluid = next(lesion for lesion in lesions if lesion.material == "fluid").thickness_mm
        cols = np.nonzero((fluid > 0.5).any(axis=0))[0]
        middle = cols[int(0.3 * cols.size) : int(0.7 * cols.size)]  # clear of the meniscus at the walls
        heights = []
        for c in middle:
            f = fluid[:, c] / fluid[:, c].max()
            r = int(np.nonzero(f > 0.5)[0].max())  # last row more than half fluid, going down
            heights.append((r + (f[r] - 0.5) / max(f[r] - f[r + 1], 1e-9)) * px)  # sub-pixel crossing
        spreads.append(float(np.std(heights)))
    assert max(spreads) > 0.1  # mm: not a ruled line (the old level: one exact height)
    assert max(spreads) < 1.0  # still a level


def test_rice_grains_gather_in_the_muscles_off_the_lung_not_an_even_sprinkle():
    """fig04: on the shoulder film the grains were sprinkled evenly, most over the lung (82 %)."""
    anatomy = an.build("site_shoulder", "frontal")
    lung = anatomy.thickness_mm["lung"] > pt.LUNG_PATH_MM
    for seed in (104, 5):
        lesion = pt.generate("rice_grain", anatomy, np.random.default_rng(seed), count=70, size_mm=8)[0]
        m = lesion.thickness_mm
        assert m.sum() > 0 and m[lung].sum() == 0
        region = pt.region_mask(anatomy, lesion.compartments)
        rim = region & ~ndimage.binary_erosion(region, iterations=1)
        assert m[rim].sum() < 0.01 * m.sum()  # whole grains inside the muscle, none cut along the mask
        # clustered: nearest neighbours closer than in an even sprinkle (Clark–Evans ratio; 1 = random)
        labels, k = ndimage.label(m > 0.05 * m.max())
        centres = np.array(ndimage.center_of_mass(m, labels, range(1, k + 1)))
        gaps = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
        np.fill_diagonal(gaps, np.inf)
        ratio = gaps.min(axis=1).mean() / (0.5 * np.sqrt(pt.region_mask(anatomy, ("muscle",)).sum() / k))
        assert ratio < 0.85, ratio  # was 1.06–1.11


def test_small_nodules_lie_wholly_in_the_fat_inside_the_skin():
    anatomy = an.build("site_buttock", "frontal")
    depth = pt.body_depth(anatomy)
    for seed in (211, 5):
        lesion = pt.generate(
            "small_round_nodules", anatomy, np.random.default_rng(seed), count=9, size_mm=11, compartment="subcutaneous"
        )[0]
        m = lesion.thickness_mm
        assert m.sum() > 0 and depth[m > 1e-6].min() >= 1.5
        region = pt.region_mask(anatomy, ("subcutaneous",))
        rim = region & ~ndimage.binary_erosion(region, iterations=1)
        assert m[rim].sum() < 0.01 * m.sum()


def test_medial_sclerosis_is_two_fine_lines_round_a_clear_lumen():
    """fig01's ulnar artery read as a third bone: the en-face walls filled the lumen (edge/axis about
    2.5) and ring bands crossed it; medial calcium is granular round the vessel, the lumen stays clear."""
    anatomy = an.build("site_forearm", "frontal")
    m = _mineral(
        pt.generate(
            "circumferential_ring_vessel",
            anatomy,
            np.random.default_rng(101),
            vessel="ulnar_artery",
            size_mm=3.6,
            wall_mm=0.6,
            spacing_mm=4.0,
            mineral_g_cm3=2.0,
        )
    )
    assert m.sum() > 0
    ratios = []
    for row in m:  # the artery runs up and down: each row crosses it once
        if row.max() <= 0:
            continue
        on = np.nonzero(row > 0.3 * row.max())[0]
        if on.size < 2 or on[-1] - on[0] < 5:
            continue  # a gap or a ring band, not a crossing of the two walls
        ratios.append(row.max() / max(row[(on[0] + on[-1]) // 2], 1e-9))
    assert len(ratios) > 50
    assert np.median(ratios) > 3.0, np.median(ratios)  # a clear lumen between two fine lines


def test_tumoral_mass_reaches_at_most_bulge_mm_beyond_the_skin_line():
    """Pushed further out, a mass lifted a broad flat-bottomed plateau of fat along the skin (a dark band)."""
    anatomy = an.build("site_hip_pelvis", "frontal")
    outside = ndimage.distance_transform_edt(~anatomy.body_mask) * anatomy.grid.pixel_mm
    for bulge in (None, 8.0):
        extra = {} if bulge is None else {"bulge_mm": bulge}
        lesions = pt.generate(
            "fluid_calcium_levels", anatomy, np.random.default_rng(118), location=(20.0, 178.0), size_mm=80, **extra
        )
        reach = outside[_mineral(lesions) > 0.05].max()
        assert reach <= (pt.MASS_BULGE_MM if bulge is None else bulge) + 1.5, (bulge, reach)
    with pytest.raises(ValueError, match="bulge_mm"):
        pt.generate("fluid_calcium_levels", anatomy, np.random.default_rng(0), bulge_mm=-1)


@pytest.mark.parametrize("site", ["site_knee", "site_thigh"])
@pytest.mark.parametrize("projection", ["frontal", "lateral"])
def test_fascial_sheets_follow_the_planes_clear_of_bone(site, projection, anatomies):
    # Dermatomyositis's fascial sheets must be seen: on the plane the view shows, not over the femur
    # (leaves placed along 3-D septa that project onto the shaft were lost in it on the laterals).
    anatomy = anatomies(site, projection)
    (lesion,) = pt.sheet_leaf_linear(anatomy, np.random.default_rng(2), count=9, compartments=["fascial"])
    laid = lesion.thickness_mm > 0.01
    assert laid.sum() * anatomy.grid.pixel_mm**2 >= 150, "too little of each leaf survives on the fascial planes"
    assert (laid & anatomy.bone_mask).sum() <= 0.1 * laid.sum(), "fascial sheets lie over bone"
