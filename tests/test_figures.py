"""Seed figures: specs are complete, images match the committed PNGs, stay small and are 8-bit grey."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from calcifications import anatomy as an
from calcifications import figures as fg
from calcifications import patterns as pt

FIGURES = Path(__file__).resolve().parents[1] / "figures"
SPECS = fg.load_specs()
SEEDS = fg.seed_specs()


def test_seventeen_seed_specs_in_order_with_valid_site_projection_and_patterns():
    assert [s.id for s in SEEDS] == [f"fig{i:02d}" for i in range(1, 18)]
    assert [s.source_figure.rstrip("AB") for s in SEEDS][:12] == [str(i) for i in range(1, 13)]
    for s in SPECS:
        assert s.site in an.SITES and s.projection in an.PROJECTIONS
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
def test_committed_png_matches_generated_and_is_small(spec):
    path = FIGURES / f"{spec.id}.png"
    assert path.exists(), f"{path} missing: run python -m calcifications.figures --out figures/"
    image = fg.render_figure(spec)
    assert image.shape == fg.IMAGE_SHAPE and image.dtype == np.uint8
    committed = Image.open(path)
    assert committed.mode == "L" and committed.size == (512, 512)
    np.testing.assert_array_equal(np.asarray(committed), image)
    assert path.stat().st_size <= fg.MAX_PNG_BYTES
    assert image.max() > 200 and image.min() == 0  # bone near white, air black


def test_figures_folder_holds_exactly_the_specified_figures():
    assert sorted(p.stem for p in FIGURES.glob("*.png")) == sorted(s.id for s in SPECS)


def test_encoding_is_deterministic_and_carries_no_metadata():
    image = (np.arange(64 * 64) % 251).astype(np.uint8).reshape(64, 64)
    a, b = fg.encode_png(image), fg.encode_png(image)
    assert a == b
    assert b"tIME" not in a and b"tEXt" not in a
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(a))), image)


def test_cli_writes_files_with_progress(tmp_path, capsys):
    assert fg.main(["--out", str(tmp_path), "--only", "fig06"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "fig06" in out
    assert (tmp_path / "fig06.png").read_bytes() == (FIGURES / "fig06.png").read_bytes()


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
    ],
)
def test_bad_spec_raises(mutation, message):
    raw = {
        "id": "figX",
        "source_figure": "1",
        "title": "t",
        "site": "site_knee",
        "projection": "frontal",
        "seed": 1,
        "alt": "A synthetic frontal radiograph of a knee with nothing in particular to see in it.",
        "caption": "Synthetic illustration. Look at the knee.",
        "patterns": [],
    }
    mutation(raw)
    with pytest.raises(ValueError, match=message):
        fg._figure(raw)
