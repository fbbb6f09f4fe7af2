"""Seed figures: specs are complete, images match the committed PNGs, stay small and are 8-bit grey."""

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from calcifications import anatomy as an
from calcifications import figures as fg
from calcifications import patterns as pt
from calcifications import subjects

FIGURES = Path(__file__).resolve().parents[1] / "figures"
SPECS = fg.load_specs()
SEEDS = fg.seed_specs()


def test_seventeen_seed_specs_in_order_with_valid_site_projection_and_patterns():
    assert [s.id for s in SEEDS] == [f"fig{i:02d}" for i in range(1, 18)]
    assert [s.source_figure.rstrip("AB") for s in SEEDS][:12] == [str(i) for i in range(1, 13)]
    for s in SPECS:
        assert s.site in an.SITES and s.projection in an.views(s.site)
        assert all(p.id in pt.MORPHOLOGIES for panel in s.panels for p in panel.patterns)


def test_captions_and_alt_text():
    for s in SPECS:
        assert s.caption.startswith("Synthetic illustration.")
        assert "look" in s.caption.lower(), s.id  # says what to look for
        assert len(s.alt) > 80 and not s.alt.lower().startswith("image of"), s.id


def test_errata_hallux_joint_is_metatarsophalangeal():
    fig14 = fg.get_spec("fig14")
    assert "metatarsophalangeal" in fig14.caption and "metatarsophalangeal" in fig14.alt
    assert fig14.site == "site_ankle_foot"


def test_legend_projections_and_sites():
    expected = {
        "fig01": ("site_forearm", "frontal"),
        "fig02": ("site_knee", "lateral"),
        "fig03": ("site_knee", "lateral"),
        "fig04": ("site_shoulder", "frontal"),
        "fig05": ("site_thigh", "lateral"),
        "fig06": ("site_leg", "lateral"),
        "fig07": ("site_hip_pelvis", "frontal"),
        "fig08": ("site_ankle_foot", "lateral"),
        "fig09": ("site_shoulder", "frontal"),
        "fig10": ("site_shoulder", "frontal"),
        "fig11": ("site_knee", "frontal"),
        "fig12": ("site_knee", "frontal"),
        "fig13": ("site_knee", "frontal"),
        "fig15": ("site_hip_pelvis", "frontal"),
        "fig16": ("site_hand", "frontal"),
        "fig17": ("site_shoulder", "frontal"),
    }
    for fid, site_projection in expected.items():
        s = fg.get_spec(fid)
        assert (s.site, s.projection) == site_projection, fid


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_committed_figure_is_byte_identical_to_a_fresh_render_and_small(spec):
    path = fg.figure_path(FIGURES, spec.id)
    assert path.exists(), f"{path} missing: run python -m calcifications.figures --out figures/"
    image = fg.render_figure(spec)
    assert image.shape == fg.IMAGE_SHAPE and image.dtype == np.uint8
    assert fg.encode_figure(image) == path.read_bytes()  # lossy, but regeneration is byte-identical
    assert path.stat().st_size <= fg.MAX_FIGURE_BYTES
    with Image.open(path) as committed:
        assert committed.size == (512, 512)
        decoded = np.asarray(committed.convert("L")).astype(float)
    assert np.abs(decoded - image).mean() < 3.0  # the lossy encoding stays close to the render
    assert image.max() > 200 and image.min() < 40  # bone near white, air (and a shuttered border) dark


def test_figures_folder_holds_exactly_the_specified_figures():
    assert sorted(p.stem for p in FIGURES.glob(f"*.{fg.FIGURE_FORMAT}")) == sorted(s.id for s in SPECS)
    assert not list(FIGURES.glob("fig*.png")), "old PNG figures left in figures/"


def test_encoding_is_deterministic_and_carries_no_metadata():
    image = (np.arange(64 * 64) % 251).astype(np.uint8).reshape(64, 64)
    a, b = fg.encode_png(image), fg.encode_png(image)
    assert a == b
    assert b"tIME" not in a and b"tEXt" not in a
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(a))), image)
    w1, w2 = fg.encode_webp(image), fg.encode_webp(image)
    assert w1 == w2 and w1[:4] == b"RIFF" and b"EXIF" not in w1 and b"XMP " not in w1


def test_cli_writes_files_with_progress_and_a_contact_sheet(tmp_path, capsys):
    assert fg.main(["--out", str(tmp_path), "--only", "fig06", "--sheet"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 2 and "fig06" in out and "contact sheet" in out
    assert (tmp_path / "fig06.webp").read_bytes() == fg.figure_path(FIGURES, "fig06").read_bytes()
    with Image.open(tmp_path / "contact-sheet.png") as sheet:
        assert sheet.mode == "L" and sheet.size[0] > 256


def test_render_figure_accepts_a_spec_built_by_another_module():
    spec = fg.make_spec(
        {
            "id": "case-1",
            "title": "Unknown case",
            "site": "site_knee",
            "projection": "lateral",
            "seed": 7,
            "alt": "A synthetic lateral radiograph of a knee, with a deposit to find.",
            "caption": "Synthetic illustration. Look behind the knee.",
            "patterns": [{"id": "phlebolith", "params": {"count": 3}}],
        }
    )
    image = fg.render_figure(spec, shape=(128, 128))
    assert image.shape == (128, 128) and image.dtype == np.uint8


def _glyph_at(image, right, scale=1):
    """The panel letter burned with its right edge at column ``right`` (top 6), or None."""
    for letter in fg._GLYPHS:
        probe = np.zeros((40, image.shape[1]), np.uint8)
        fg.draw_marker(probe, letter, right, 6, scale=scale)
        lit = probe == 235
        if lit.any() and (image[:40][lit] == 235).all() and (image[:40][probe == 20] == 20).all():
            return letter
    return None


def _marker_pixels(film, marker):
    """Pixels fully covered by a lead marker's letter (coverage ≥ 0.95)."""
    from calcifications import radiograph as rg

    letter, _ = rg.marker_coverage(film.image.shape, marker)
    return letter >= 0.95


def test_side_marker_is_a_lead_letter_of_constant_size_in_mm_inside_the_field():
    """A lead letter (bright, 10–14 mm tall whatever the field) inside the collimated field; the
    old marker was a 5 × 7 pixel glyph in a dark box at the top right corner of every film."""
    for fid in ("fig11", "fig14", "fig09"):
        spec = fg.get_spec(fid)
        film = fg.render_film(spec)
        (marker,) = film.markers
        assert marker.letter == "R"
        assert 10.0 <= marker.height_px * film.pixel_mm <= 14.0, fid
        lit = _marker_pixels(film, marker)
        assert lit.sum() > 40 and np.median(film.image[lit]) >= 225, fid  # bright lead
        r, c = np.nonzero(lit)
        assert (film.field[r, c] > 0.999).all(), fid  # inside the collimated field
        assert not (film.image[2:24, 512 - 24 : 512 - 2] == 235).sum() >= 15, fid  # not the old corner glyph
    bare = fg.render_film(replace(fg.get_spec("fig11"), marker=None))
    assert bare.markers == ()


def test_two_panel_figures_mark_the_mirrored_panel_left():
    spec = fg.get_spec("fig16")  # both hands on one film: the mirrored panel is the left hand
    assert [p.mirror for p in spec.panels] == [True, False]
    film = fg.render_film(spec)
    assert [m.letter for m in film.markers] == ["L", "R"]
    left, right = film.markers
    assert left.center[1] < 256 <= right.center[1]  # each letter over its own hand's half
    for marker in film.markers:
        assert np.median(film.image[_marker_pixels(film, marker)]) >= 225
    assert len(film.fields) == 1  # one film of both hands: one collimated field


def test_both_hands_are_a_true_left_and_right_hand_marked_on_their_own_sides():
    """One film of both hands, PA, seen as the beam sees them: the left hand (a mirror image of
    the right) on the image left, each thumb towards the middle, the little fingers outside,
    "L" on the left hand's half and "R" on the right's, no panel letters."""
    spec = fg.get_spec("fig16")
    thumbs, littles = [], []
    for panel in spec.panels:
        anatomy, _ = fg.panel_anatomy(spec, panel, (256, 128), spec.zoom)
        anatomy, _, _ = fg.panel_scene(spec, panel, anatomy, np.random.default_rng(0))
        tips = np.asarray(anatomy.landmarks["fingertips"], float)  # thumb first, little finger last
        thumbs.append(tips[0][0])
        littles.append(tips[-1][0])
    assert thumbs[0] > littles[0]  # left hand: thumb on its right, towards the middle
    assert thumbs[1] < littles[1]  # right hand: thumb on its left, towards the middle
    assert fg.panel_letters(spec) == [("L", None), ("R", None)]
    image = fg.render_figure(spec)
    assert _glyph_at(image, 6 + 7) is None and _glyph_at(image, 256 + 6 + 7) is None  # no panel letters


def test_before_and_after_films_of_one_knee_are_both_right_knees_lettered_a_and_b():
    """fig13 shows the same knee two years apart (the essay's A and B), not both knees: both
    panels are the right knee (fibula lateral, on the image left), marked R, lettered A and B,
    each film coned on its own with its marker where that radiographer put it."""
    spec = fg.get_spec("fig13")
    assert not any(p.mirror for p in spec.panels)
    for panel in spec.panels:
        anatomy, _ = fg.panel_anatomy(spec, panel, (256, 128), spec.zoom)
        assert anatomy.landmarks["lateral_side"][0] < anatomy.landmarks["joints"]["knee"][0]
    assert fg.panel_letters(spec) == [("R", "A"), ("R", "B")]
    film = fg.render_film(spec)
    assert [_glyph_at(film.image, 6 + 7), _glyph_at(film.image, 256 + 6 + 7)] == ["A", "B"]
    assert [m.letter for m in film.markers] == ["R", "R"]
    a, b = film.markers
    assert a.center[1] < 256 <= b.center[1]
    assert abs(a.center[0] - b.center[0]) > 5 or abs(a.center[1] + 256 - b.center[1]) > 5  # not copies
    assert len(film.fields) == 2 and film.fields[0] != replace(film.fields[1], center=film.fields[0].center)


def test_marker_positions_and_fields_differ_between_figures():
    """The radiographer's marker is not in the same corner of every film, and the coning varies."""
    places, fields = [], []
    for fid in ("fig01", "fig04", "fig05", "fig08", "fig09", "fig11", "fig14", "fig17"):
        film = fg.render_film(fid, shape=(256, 256))
        (marker,) = film.markers
        places.append((round(marker.center[0] / 32), round(marker.center[1] / 32)))
        f = film.fields[0]
        fields.append((round(f.angle_deg, 1), round(f.left), round(f.top)))
    assert len(set(places)) >= 6, places
    assert len(set(fields)) == len(fields), fields
    quadrants = {(r >= 4, c >= 4) for r, c in places}
    assert len(quadrants) >= 3, places


def test_direct_exposure_air_is_dark_grainy_and_uneven_not_a_flat_zero():
    """Real processed DR: the open-beam area is very dark but carries grain, a heel-effect gradient
    and some glow beside the skin (the old films: air exactly 0, noiseless)."""
    from scipy import ndimage

    for fid in ("fig11", "fig09", "fig16"):
        film = fg.render_film(fid)
        skin_far = ~ndimage.binary_dilation(film.body, iterations=12)
        clear = np.ones_like(film.body)
        for marker in film.markers:
            r, c = (int(v) for v in marker.center)
            clear[max(r - 40, 0) : r + 40, max(c - 40, 0) : c + 40] = False
        air = (film.field > 0.999) & skin_far & clear
        air[:, 250:262] = False  # a gutter between panels
        assert air.sum() > 2000, fid
        values = film.image[air].astype(float)
        assert (values == 0).mean() < 0.02, fid  # not a flat digital zero
        assert 4 <= np.median(values) <= 35, fid  # but very dark
        rows, cols = np.nonzero(air)
        # grain: neighbouring air pixels differ
        right = air[:, :-1] & air[:, 1:]
        step = np.abs(np.diff(film.image.astype(float), axis=1))[right]
        assert step.mean() > 0.8, fid
        # heel effect: the air's mean grey changes along one axis of the film
        ends = []
        for axis in (rows, cols):
            low, high = values[axis < np.percentile(axis, 30)], values[axis > np.percentile(axis, 70)]
            ends.append(abs(low.mean() - high.mean()) / values.mean())
        assert max(ends) > 0.05, (fid, ends)
        # glow: the air near the skin is brighter than the air far from it
        near = (film.field > 0.999) & ~film.body & ndimage.binary_dilation(film.body, iterations=4) & clear
        near &= ~ndimage.binary_dilation(film.body, iterations=1)
        assert film.image[near].mean() > np.median(values) + 2, fid


def test_collimation_leaves_a_straight_edged_border_shuttered_black():
    """Coned films: outside the field the display's electronic shutter makes the border flat black
    (a pale unshuttered border read as a paper frame); the field is at most slightly rotated."""
    for fid in ("fig01", "fig04", "fig05", "fig08", "fig11", "fig14"):
        film = fg.render_film(fid)
        (f,) = film.fields
        assert abs(f.angle_deg) <= 1.0, fid
        border = film.field == 0
        assert border.mean() > 0.005, fid
        assert (film.image[border] == 0).all(), fid
        # the shutter's edge shows against the dark air: the air inside the field is not flat black
        inside = (film.field > 0.999) & ~film.body
        if inside.any():
            assert np.median(film.image[inside]) >= 5, fid


def _noiseless(spec):
    return replace(spec, exposure=replace(spec.exposure, fluence_photons_per_mm2=None))


def _lesion_masks(spec, shape):
    """Every lesion pixel of a noiseless render (drawn as the render draws them)."""
    rng = np.random.default_rng(spec.seed)
    n, parts = len(spec.panels), []
    for i, panel in enumerate(spec.panels):
        width = shape[1] // n + (shape[1] % n if i == n - 1 else 0)
        parts.append(fg.panel_film_log(spec, panel, (shape[0], width), rng, spec.zoom)[3])
    return np.hstack(parts)


def _deck_specs():
    from calcifications import cases

    for diagnosis, entry in cases.case_table().diagnoses.items():
        for index in range(len(entry.presentations)):
            yield from cases.draw_case(diagnosis, 2, "medium", index).specs


def test_collimation_never_cuts_a_lesion_or_the_middle_of_a_panel_in_any_figure_or_deck_case():
    shape = (128, 128)
    cut = []
    for spec in [*SPECS, *_deck_specs()]:
        spec = _noiseless(spec)
        film = fg.render_film(spec, shape)
        lesion = _lesion_masks(spec, shape)
        if lesion.any() and film.field[lesion].min() < 0.999:
            cut.append(f"{spec.id} lesion")
        n = len(spec.panels)
        for k in range(n):
            c0, width = k * (shape[1] // n), shape[1] // n
            middle = film.field[32:96, c0 + width // 4 : c0 + 3 * width // 4]
            if middle.min() < 0.999:
                cut.append(f"{spec.id} middle of panel {k + 1}")
        for marker in film.markers:
            if (_marker_pixels(film, marker) & lesion).any():
                cut.append(f"{spec.id} marker over the lesion")
    assert not cut, cut


def test_acquisition_is_seeded_and_leaves_the_lesions_and_quantum_noise_alone():
    spec = fg.get_spec("fig11")
    a, b = fg.render_film(spec, (192, 192)), fg.render_film(spec, (192, 192))
    assert np.array_equal(a.image, b.image) and a.markers == b.markers and a.fields == b.fields
    other = fg.render_film(replace(spec, seed=spec.seed + 1), (192, 192))
    assert other.fields != a.fields and other.markers != a.markers


def test_a_mirrored_knee_is_a_left_knee_with_its_fibula_on_the_image_right():
    spec = fg.make_spec(
        {
            "id": "both-knees",
            "title": "Both knees",
            "site": "site_knee",
            "projection": "frontal",
            "seed": 1,
            "alt": "Synthetic frontal radiograph of both knees, the right knee on the image right.",
            "caption": "Synthetic illustration. Both knees.",
            "panels": [{"mirror": True, "patterns": []}, {"patterns": []}],
        }
    )
    from scipy import ndimage

    fibula_side = []
    for panel in spec.panels:
        anatomy, _ = fg.panel_anatomy(spec, panel, (512, 256), spec.zoom)
        anatomy, _, _ = fg.panel_scene(spec, panel, anatomy, np.random.default_rng(0))
        knee, px = anatomy.landmarks["joints"]["knee"], anatomy.grid.pixel_mm
        row = anatomy.bone_mask[int((knee[1] + 50) / px)]  # 5 cm below the joint: tibia and fibula
        labels, n = ndimage.label(row)
        segments = sorted((int((labels == i).sum()), float(np.nonzero(labels == i)[0].mean())) for i in range(1, n + 1))
        assert n == 2, n
        (_, fibula), (_, tibia) = segments  # the narrower bone is the fibula
        fibula_side.append(np.sign(fibula - tibia))
        lateral = anatomy.landmarks["lateral_side"][0] - knee[0]
        assert np.sign(lateral) == np.sign(fibula - tibia)  # landmarks mirrored with the image
    assert fibula_side == [1, -1]  # left knee: fibula on the image right; right knee: image left
    assert fg.panel_letters(spec) == [("L", None), ("R", None)]


def test_explicit_points_are_read_in_the_full_view():
    shift = (-65.0, 10.0)
    moved = fg.panel_params({"location": (150, 100), "size_mm": 20, "vessel": "artery"}, shift)
    assert moved == {"location": (85.0, 110.0), "size_mm": 20, "vessel": "artery"}
    mirrored = fg.panel_params({"start": [10, 20]}, (0.0, 0.0), mirror_width=100.0)
    assert mirrored == {"start": (90.0, 20.0)}
    # a narrower panel of a 3-D view: landmarks and points shift by the same amount
    full = an.build("site_thigh", "lateral")
    half = an.from_projection("site_thigh", "lateral", (512, 256))
    dx, dy = fg._landmark_shift(full, half)
    assert dy == 0 and dx == pytest.approx(-128 * full.grid.pixel_mm)
    # a zoomed view: the same anatomical point keeps its place on the anatomy
    zoomed = an.from_projection("site_thigh", "lateral", (512, 512), zoom=((120.0, 150.0), 100.0))
    dx, dy = fg._landmark_shift(full, zoomed)
    assert (dx, dy) == pytest.approx((50.0 - 120.0, 50.0 - 150.0))


def test_unknown_parameter_in_a_figure_file_is_a_clear_error():
    text = """
figures:
  - id: figY
    title: t
    site: site_knee
    projection: frontal
    seed: 1
    alt: A synthetic frontal radiograph of a knee with a deposit in it to find.
    caption: Synthetic illustration. Look at the knee.
    patterns:
      - id: curvilinear_rim
        params: {location: popliteal_fossa, sise_mm: 30}
"""
    raw = yaml.safe_load(text)["figures"][0]
    with pytest.raises(ValueError, match=r"figY.*unknown parameter\(s\) \['sise_mm'\].*'size_mm'"):
        fg.make_spec(raw, "quiz-test.yml")


def test_unknown_figure_raises():
    with pytest.raises(ValueError, match="unknown figure"):
        fg.get_spec("fig99")


@pytest.mark.parametrize(
    "mutation, message",
    [
        (lambda r: r.update(site="site_nose"), "unknown site"),
        (lambda r: r.update(caption="A knee."), "Synthetic illustration"),
        (lambda r: r.update(patterns=[{"id": "popcorn"}]), "unknown pattern"),
        (lambda r: r.pop("alt"), "alt"),
        (lambda r: r.update(projection="oblique"), "unknown projection"),
        (lambda r: r.update(colour="red"), r"unknown key\(s\) \['colour'\]"),
        (
            lambda r: r.update(patterns=[{"id": "phlebolith", "params": {"cuont": 3}}]),
            r"unknown parameter\(s\) \['cuont'\].*valid: \['compartment', 'count'",
        ),
        (lambda r: r.update(exposure={"energy_kev": 600}), "energy_kev"),
        (lambda r: r.update(zoom={"center": "hallux_mtp"}), "zoom needs"),
    ],
)
def test_bad_spec_raises(mutation, message, blank_knee_spec):
    raw = {**blank_knee_spec, "source_figure": "1"}
    mutation(raw)
    with pytest.raises(ValueError, match=message):
        fg._figure(raw)


@pytest.mark.parametrize("spec", SEEDS, ids=[s.id for s in SEEDS])
def test_every_pattern_lands_in_its_compartment(spec):
    """Each pattern of a seed figure places a non-empty deposit, inside the compartments it names."""
    rng = np.random.default_rng(spec.seed)
    for panel in spec.panels:
        anatomy, shift = fg.panel_anatomy(spec, panel, (256, 256 // len(spec.panels)), spec.zoom)
        if panel.mirror:
            anatomy = an.mirrored(anatomy)
        width = anatomy.grid.size_mm[0] if panel.mirror else None
        subject = subjects.fitted(panel.subject, anatomy)  # the patient and positioning of the panel
        anatomy = subjects.apply(anatomy, subject)
        size = anatomy.grid.size_mm
        for p in panel.patterns:
            lesions = pt.generate(p.id, anatomy, rng, **fg.panel_params(p.params, shift, width, subject, size))
            total = sum(float(lesion.thickness_mm.sum()) for lesion in lesions)
            assert total > 0, (spec.id, p.id)
            for lesion in lesions:
                region = pt.region_mask(anatomy, lesion.compartments)
                assert not lesion.thickness_mm[~region].any(), (spec.id, p.id, lesion.compartments)


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_no_deposit_floats_outside_the_body(spec):
    """Every figure's lesions lie inside the skin, or under a skin lifted over them (mass effect)."""
    from scipy import ndimage

    rng = np.random.default_rng(spec.seed)
    for panel in spec.panels:
        anatomy, shift = fg.panel_anatomy(spec, panel, (256, 256 // len(spec.panels)), spec.zoom)
        anatomy, lesions, _ = fg.panel_scene(spec, panel, anatomy, rng, shift)
        cover = anatomy.body_mask.copy()
        for lesion in lesions:
            if lesion.material in ("skin", "adipose"):
                cover |= lesion.thickness_mm > 0
        cover = ndimage.binary_dilation(cover, iterations=1)
        for lesion in lesions:
            assert not ((lesion.thickness_mm > 1e-6) & ~cover).any(), (spec.id, lesion.compartments)


@pytest.mark.parametrize("fid", ["fig05", "fig08", "fig11", "fig16"])
def test_no_flat_digital_zero_in_the_middle_of_a_film(fid):
    """The middle of every film (never under a shutter) has open-beam air in these figures; it was
    exactly 0 there on 5–50 % of the pixels; a real film's direct-exposure area is dark but not zero."""
    image = fg.render_figure(fid)
    middle = np.delete(image[103:410, 103:410], np.s_[145:160], axis=1)  # without a panel gutter
    assert (middle == 0).mean() < 0.005
    assert (middle < 40).mean() > 0.02  # there is dark air in it
