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
    assert image.max() > 200 and image.min() == 0  # bone near white, air black


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


def test_side_marker_is_drawn_small_and_mirrors():
    spec = fg.get_spec("fig11")
    image = fg.render_figure(spec)
    corner = image[2:24, 512 - 24 : 512 - 2]
    assert (corner == 235).sum() >= 15  # the letter...
    assert (image[:40, 512 - 60 :] == 235).sum() <= 18  # ...small: one 5 × 7 glyph at 512 pixels
    bare = fg.render_figure(replace(spec, marker=None))
    assert (bare[2:24, 512 - 24 : 512 - 2] == 235).sum() < (corner == 235).sum()


def _lit_columns(image):
    """Columns of the burned side-marker letters (value 235 on a dark square)."""
    return np.nonzero((image[:24] == 235).any(axis=0))[0]


def _glyph_at(image, right, scale=1):
    """The letter burned with its right edge at column ``right`` (top 6), or None."""
    for letter in fg._GLYPHS:
        probe = np.zeros((40, image.shape[1]), np.uint8)
        fg.draw_marker(probe, letter, right, 6, scale=scale)
        lit = probe == 235
        if lit.any() and (image[:40][lit] == 235).all() and (image[:40][probe == 20] == 20).all():
            return letter
    return None


def test_two_panel_figures_mark_the_mirrored_panel_left():
    spec = fg.get_spec("fig16")  # both hands: the mirrored panel is the left hand
    assert [p.mirror for p in spec.panels] == [True, False]
    image = fg.render_figure(spec)
    left, right = image[:24, :256], image[:24, 256:]
    glyph_l = fg._GLYPHS["L"]
    assert (left == 235).sum() == sum(row.count("1") for row in glyph_l)
    assert (right == 235).sum() == sum(row.count("1") for row in fg._GLYPHS["R"])


def test_both_hands_are_a_true_left_and_right_hand_marked_at_their_outer_corners():
    """One film of both hands, PA, seen as the beam sees them: the left hand (a mirror image of
    the right) on the image left, each thumb towards the middle, the little fingers outside,
    "L" at the top left corner and "R" at the top right, no panel letters."""
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
    assert _glyph_at(image, 6 + 7) == "L"  # the outer (left) corner of the left hand's panel
    assert _glyph_at(image, 512 - 6) == "R"
    assert not (image[:24, 200:312] == 235).any()  # nothing near the middle to misread


def test_before_and_after_films_of_one_knee_are_both_right_knees_lettered_a_and_b():
    """fig13 shows the same knee two years apart (the essay's A and B), not both knees: both
    panels are the right knee (fibula lateral, on the image left), marked R, lettered A and B."""
    spec = fg.get_spec("fig13")
    assert not any(p.mirror for p in spec.panels)
    for panel in spec.panels:
        anatomy, _ = fg.panel_anatomy(spec, panel, (256, 128), spec.zoom)
        assert anatomy.landmarks["lateral_side"][0] < anatomy.landmarks["joints"]["knee"][0]
    assert fg.panel_letters(spec) == [("R", "A"), ("R", "B")]
    image = fg.render_figure(spec)
    assert [_glyph_at(image, 6 + 7), _glyph_at(image, 256 - 6)] == ["A", "R"]
    assert [_glyph_at(image, 256 + 6 + 7), _glyph_at(image, 512 - 6)] == ["B", "R"]


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
