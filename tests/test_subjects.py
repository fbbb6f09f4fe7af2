"""Subjects: patient habitus, positioning and exposure vary figures of one site without a new 3-D build."""

from collections import defaultdict

import numpy as np
import pytest

from calcifications import anatomy as an
from calcifications import figures as fg
from calcifications import patterns as pt
from calcifications import subjects as sj


@pytest.fixture
def raw_spec(blank_knee_spec):
    return {**blank_knee_spec, "id": "figS"}


@pytest.fixture(scope="module")
def knee():
    return an.from_projection("site_knee", "frontal", (256, 256))


def test_no_subject_leaves_the_anatomy_and_exposure_alone(knee, raw_spec):
    spec = fg.make_spec(raw_spec)
    assert spec.panels[0].subject == sj.IDENTITY
    assert sj.apply(knee, sj.IDENTITY) is knee
    assert fg.panel_exposure(spec, spec.panels[0]) == spec.exposure


def test_a_shift_moves_bone_masks_and_landmarks_together(knee):
    subject = sj.Subject(shift_mm=(10.0, -6.0))
    moved = sj.apply(knee, subject)
    px = knee.grid.pixel_mm
    for before_mask, after_mask in ((knee.masks["intraarticular"], moved.masks["intraarticular"]),):
        before = np.argwhere(before_mask).mean(axis=0) * px
        after = np.argwhere(after_mask).mean(axis=0) * px
        assert after[1] - before[1] == pytest.approx(10.0, abs=1.0)  # columns: x
        assert after[0] - before[0] == pytest.approx(-6.0, abs=1.0)  # rows: y
    assert moved.bone_mask.sum() == pytest.approx(knee.bone_mask.sum(), rel=0.05)
    kx, ky = knee.landmarks["joints"]["knee"]
    assert moved.landmarks["joints"]["knee"] == pytest.approx((kx + 10.0, ky - 6.0))


def test_a_landmark_on_bone_stays_on_bone_after_tilt_and_scale(knee):
    subject = sj.Subject(scale=1.08, width=0.95, tilt_deg=6.0, shift_mm=(-5.0, 4.0))
    moved = sj.apply(knee, subject)
    px = knee.grid.pixel_mm
    for anatomy in (knee, moved):
        x, y = anatomy.landmarks["joints"]["knee"]
        # the knee joint centre lies in the notch above the tibial spines: femur 35 mm above, tibia 12 mm below
        col = anatomy.bone_mask[:, int(x / px)]
        assert col[int((y - 35) / px)] and col[int((y + 12) / px)] and not col[int(y / px)]


def test_habitus_scales_fat_and_muscle_path_lengths(knee):
    fat = sj.apply(knee, sj.Subject(fat=1.5))
    assert fat.thickness_mm["adipose"].sum() == pytest.approx(1.5 * knee.thickness_mm["adipose"].sum())
    assert fat.thickness_mm["muscle"].sum() == pytest.approx(knee.thickness_mm["muscle"].sum())
    subject = sj.Subject(scale=1.1, muscle=0.8)
    big = sj.apply(knee, subject)
    px, size = knee.grid.pixel_mm, knee.grid.size_mm
    ratios = []
    for r in range(80, 176, 8):  # the same tissue point before and after: path scaled by 1.1 × 0.8
        for c in range(80, 176, 8):
            before = knee.thickness_mm["muscle"][r, c]
            x, y = sj.forward_point(subject, ((c + 0.5) * px, (r + 0.5) * px), size)
            if before > 5:
                ratios.append(big.thickness_mm["muscle"][int(y / px), int(x / px)] / before)
    assert len(ratios) > 10 and np.median(ratios) == pytest.approx(1.1 * 0.8, rel=0.03)
    rows = slice(60, 200)  # the widest bone across (the condyles) is 10 % wider
    widest = big.bone_mask[rows].sum(axis=1).max() / knee.bone_mask[rows].sum(axis=1).max()
    assert widest == pytest.approx(1.1, abs=0.03)


def test_named_patient_and_panel_keys_update_the_figure_subject(raw_spec):
    raw = {
        **raw_spec,
        "subject": {"patient": "heavy", "tilt_deg": 2.0},
        "panels": [{"patterns": []}, {"subject": {"tilt_deg": -3.0, "fluence": 1.5}, "patterns": []}],
    }
    spec = fg.make_spec(raw)
    heavy = sj.patients()["heavy"]
    a, b = (p.subject for p in spec.panels)
    assert a.fat == b.fat == heavy["fat"] and a.scale == heavy["scale"]
    assert (a.tilt_deg, b.tilt_deg) == (2.0, -3.0)
    assert fg.panel_exposure(spec, spec.panels[1]).fluence_photons_per_mm2 == pytest.approx(
        1.5 * spec.exposure.fluence_photons_per_mm2
    )


@pytest.mark.parametrize(
    "subject, message",
    [
        ({"girth": 1.2}, r"figS.*unknown subject key\(s\) \['girth'\]"),
        ({"scale": 1.5}, r"figS.*scale must be within 0.9–1.1"),
        ({"fat": float("nan")}, r"figS.*fat must be within"),
        ({"tilt_deg": True}, r"figS.*tilt_deg must be a number"),
        ({"shift_mm": [3]}, r"figS.*shift_mm must be \[dx, dy\]"),
        ({"shift_mm": [3, 40]}, r"figS.*shift_mm must be within"),
        ("giant", r"figS.*unknown patient 'giant'"),
        (3, r"figS.*subject must be a patient name or a mapping"),
    ],
)
def test_bad_subjects_raise_naming_the_figure(subject, message, raw_spec):
    with pytest.raises(ValueError, match=message):
        fg.make_spec({**raw_spec, "subject": subject}, "quiz-test.yml")
    with pytest.raises(ValueError, match=message):
        fg.make_spec({**raw_spec, "panels": [{"subject": subject, "patterns": []}]}, "quiz-test.yml")


def test_figures_of_one_site_and_view_differ_in_subject():
    """No two films of the same site, view and field share patient and positioning (one background)."""
    seen = defaultdict(list)
    for spec in fg.load_specs():
        for k, panel in enumerate(spec.panels):
            key = (spec.site, spec.projection, spec.zoom, panel.mirror, panel.subject)
            seen[key].append(f"{spec.id}[{k}]")
    shared = {k: v for k, v in seen.items() if len(v) > 1}
    assert not shared, shared


def test_both_hands_are_not_mirror_images_of_each_other():
    image = fg.render_figure("fig16").astype(float)
    left, right = image[:, :256], image[:, 256:][:, ::-1]
    assert np.abs(left - right).mean() > 5.0  # a mirrored copy differed by about 1 grey level


def test_no_two_particles_of_a_crowd_are_alike(knee):
    """Rice grains, granulomas and loose bodies: each particle its own size, outline and density."""
    from scipy import ndimage

    thigh = an.from_projection("site_thigh", "frontal", (512, 512))
    for morphology, anatomy, params in (
        ("rice_grain", thigh, {"count": 30, "size_mm": 8}),
        ("small_round_nodules", thigh, {"count": 12, "size_mm": 7}),
        ("rounded_bodies_ring_arc", knee, {"count": 12, "size_mm": 9, "effusion_mm": 0}),
    ):
        lesions = pt.generate(morphology, anatomy, np.random.default_rng(3), **params)
        mineral = sum(lesion.thickness_mm for lesion in lesions if lesion.material != "fluid")
        labels, n = ndimage.label(mineral > 0.05)
        assert n >= 4, (morphology, n)
        sizes = ndimage.sum_labels(np.ones_like(mineral), labels, range(1, n + 1))
        peaks = ndimage.maximum(mineral, labels, range(1, n + 1))
        signatures = {(int(a), round(float(p), 2)) for a, p in zip(sizes, peaks)}
        assert len(signatures) == n, morphology  # no two with the same area and peak density
        assert np.std(peaks) / np.mean(peaks) > 0.1, morphology  # densities differ visibly


def test_facets_cut_a_particle_outline_flat():
    theta = np.linspace(-np.pi, np.pi, 721)
    facet = np.array([[-1.0, 0.8, 0.0]])
    r = pt._radius_factor(theta, facet)
    assert r.min() == pytest.approx(0.8) and r.max() == pytest.approx(1.0)
    near = np.abs(theta) < 0.3
    x = r[near] * np.cos(theta[near])
    assert np.allclose(x, 0.8)  # a straight side at 0.8 of the radius


def test_a_tilted_limb_is_magnified_just_enough_to_keep_the_field_filled(knee):
    """The knee reaches the top and bottom of its field: a tilt or a shift would show the end of the
    projected maps there, so the film is magnified; a habitus-only subject needs no magnification."""
    assert sj.fitted(sj.Subject(fat=1.4), knee).zoom == 1.0
    tilted = sj.fitted(sj.Subject(tilt_deg=4.0), knee)
    assert 1.02 < tilted.zoom < 1.1
    shifted = sj.fitted(sj.Subject(shift_mm=(0.0, 6.0)), knee)
    assert shifted.zoom == pytest.approx(1.0 + 2 * 6.0 / knee.grid.size_mm[1], rel=1e-6)
    # every corner of the output now samples inside the projected maps
    size = knee.grid.size_mm
    for corner in ((0.0, 0.0), (size[0], 0.0), (0.0, size[1]), size):
        inverse = np.linalg.inv(sj._matrix(tilted))
        q = np.asarray(size) / 2 + inverse @ (np.asarray(corner) - np.asarray(size) / 2)
        assert -1e-6 <= q[1] <= size[1] + 1e-6
