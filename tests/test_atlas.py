"""The morphology atlas: every morphology renders, deterministically, from a table that matches the vocabulary."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from calcifications import atlas, figures
from calcifications.atlas_widgets import FrameViewer, frame_viewer, viewer_state
from calcifications.differential import knowledge_base
from calcifications.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parents[1]
MORPHOLOGIES = [fid for fid, f in vocabulary().findings.items() if f.category == "morphology"]


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", (ROOT / "references.bib").read_text("utf-8"), re.M))


def test_table_covers_exactly_the_vocabulary_morphologies():
    table = atlas.load_atlas()
    assert list(table.entries) == MORPHOLOGIES
    assert len(MORPHOLOGIES) == 18


def test_table_cites_known_keys_and_suggests_likely_diagnoses():
    keys = bib_keys()
    kb = knowledge_base()
    ids = [d.id for d in kb.diagnoses]
    for mid, e in atlas.load_atlas().entries.items():
        assert e.cite and set(e.cite) <= keys, mid
        assert e.suggests and set(e.suggests) <= set(vocabulary().diagnoses), mid
        likelihood = dict(zip(ids, kb.findings[mid].p))
        # The atlas must not contradict the differential engine: each suggested diagnosis lists this shape.
        assert all(likelihood[d] >= 0.2 for d in e.suggests), (mid, {d: likelihood[d] for d in e.suggests})
        assert len(e.alt) > 60 and e.feature.endswith(".")
    for per_morphology in atlas.load_atlas().parameters.values():
        for teaching in per_morphology.values():
            assert teaching.cite and set(teaching.cite) <= keys


@pytest.mark.parametrize("morphology", MORPHOLOGIES)
def test_every_morphology_renders_small_and_deterministic(morphology):
    image = atlas.render(morphology)
    assert image.shape == (256, 256) and image.dtype == np.uint8
    assert image.std() > 10, "an image, not a flat field"
    assert figures.image_digest(atlas.render(morphology)) == figures.image_digest(image)
    assert len(figures.encode_figure(image)) < 25 * 1024


def test_the_pattern_is_visible_against_the_same_view_without_it():
    # Every tile differs from the bare anatomy: the pattern is really drawn in the field shown.
    for morphology in MORPHOLOGIES:
        spec = atlas.figure_spec(morphology)
        assert spec.alt.startswith("Synthetic") and spec.caption.startswith(figures.CAPTION_PREFIX)
    with_mass = atlas.render("zonal_peripheral", weeks_since_trauma=8)
    early = atlas.render("zonal_peripheral", weeks_since_trauma=1)
    assert np.abs(with_mass.astype(int) - early.astype(int)).max() > 40


def test_other_sizes():
    assert atlas.render("phlebolith", size=128).shape == (128, 128)


@pytest.mark.parametrize("size", [0, 100, 257, -256, 256.5, "256", None, True])
def test_bad_size_is_a_clear_value_error(size):
    with pytest.raises(ValueError, match="size must be one of"):
        atlas.render("phlebolith", size=size)


def test_unknown_morphology_and_parameter_are_clear_value_errors():
    with pytest.raises(ValueError, match="unknown morphology 'bone_island'"):
        atlas.render("bone_island")
    with pytest.raises(ValueError, match="no teaching parameter 'colour'; known: weeks_since_trauma"):
        atlas.frames("zonal_peripheral", "colour", [1])
    with pytest.raises(ValueError, match="no teaching parameter 'count'; known: none"):
        atlas.frames("phlebolith", "count", [1])


@pytest.mark.parametrize(
    ("morphology", "parameter", "values", "message"),
    [
        ("zonal_peripheral", "weeks_since_trauma", [], "at least one value"),
        ("zonal_peripheral", "weeks_since_trauma", [-1], "weeks_since_trauma must be"),
        ("zonal_peripheral", "weeks_since_trauma", [float("nan")], "finite number"),
        ("zonal_peripheral", "weeks_since_trauma", ["six"], "finite number"),
        ("zonal_peripheral", "weeks_since_trauma", [True], "finite number"),
        ("zonal_peripheral", "weeks_since_trauma", list(range(30)), "at most 24 frames"),
        ("amorphous_cloud", "phase", ["calcifying"], "phase must be one of"),
        ("amorphous_cloud", "phase", "formative", None),
        ("rice_grain", "count", [2.5], "count must be a whole number"),
        ("rice_grain", "size_mm", [0], "size_mm must be"),
    ],
)
def test_bad_frame_values_are_clear_value_errors(morphology, parameter, values, message):
    if message is None:  # a single string is one value, not a list of characters
        assert len(atlas.frames(morphology, parameter, values, size=128)) == 1
        return
    with pytest.raises(ValueError, match=message):
        atlas.frames(morphology, parameter, values, size=128)


def test_frames_differ_across_values_and_repeat_exactly():
    for morphology, parameter, values in [
        ("zonal_peripheral", "weeks_since_trauma", [1, 3.5, 7, 16]),
        ("amorphous_cloud", "phase", ["formative", "resorptive"]),
        ("rice_grain", "count", [5, 60]),
        ("fluid_calcium_levels", "sediment_fraction", [0.2, 0.8]),
    ]:
        first = atlas.frames(morphology, parameter, values)
        digests = [figures.image_digest(f) for f in first]
        assert len(set(digests)) == len(values), (morphology, parameter)
        assert digests == [figures.image_digest(f) for f in atlas.frames(morphology, parameter, values)]


def test_myositis_ossificans_matures_from_the_periphery_inward():
    assert atlas.entry("zonal_peripheral").params["weeks_since_trauma"] == 7
    images = {w: atlas.render("zonal_peripheral", weeks_since_trauma=w).astype(float) for w in (1, 3.5, 7)}
    # The lesion: the mineral the 7-week film adds to the normal film at 1 week (same anatomy and noise
    # seed), its beaded rim closed over gaps of up to 8 pixels and filled (the lesion includes its lucent
    # centre). The threshold is well above the few grey levels the display trend shifts the whole field by.
    mineral = ndimage.binary_opening(ndimage.gaussian_filter(images[7] - images[1], 1.5) > 20, iterations=2)
    closed = ndimage.binary_fill_holes(ndimage.binary_dilation(mineral, iterations=4))
    region = ndimage.binary_erosion(closed, iterations=4)
    labels, n = ndimage.label(region)
    assert n >= 1
    region = labels == (1 + int(np.argmax(ndimage.sum(region, labels, range(1, n + 1)))))
    core = ndimage.binary_erosion(region, iterations=6)
    rim = region & ~ndimage.binary_erosion(region, iterations=3)
    assert core.any() and rim.any()

    def gain(w: float, where: np.ndarray) -> float:
        return float((ndimage.gaussian_filter(images[w] - images[1], 1.0))[where].mean())

    assert gain(7, region) > gain(3.5, region) + 3  # denser with time
    assert gain(7, rim) > gain(7, core) + 3, "at 7 weeks the periphery is mature, the centre less mineralized"
    # "no rim yet": the periphery is not (yet) denser than the centre as it is at 7 weeks; a floccular
    # centre denser than the periphery at 3-4 weeks is allowed (the sign matters, not the size)
    assert gain(3.5, rim) - gain(3.5, core) < gain(7, rim) - gain(7, core) - 3, "no rim yet at 3-4 weeks"


def test_frame_labels_follow_the_taught_stages():
    label = atlas.frame_label
    assert label("zonal_peripheral", "weeks_since_trauma", 1).startswith("1 week after trauma: no calcification")
    assert "floccular" in label("zonal_peripheral", "weeks_since_trauma", 3.5)
    assert label("zonal_peripheral", "weeks_since_trauma", 6) == (
        "6 weeks after trauma: mature peripheral rim around a less mineralized centre (zonal pattern)"
    )
    assert "mature bone" in label("zonal_peripheral", "weeks_since_trauma", 20)
    assert label("amorphous_cloud", "phase", "resorptive").startswith("Resorptive phase: fainter")
    assert atlas.frame_alt("amorphous_cloud", "phase", "formative").startswith("Synthetic frontal radiograph")


def test_diagnosis_links_point_to_section_anchors_of_published_chapters():
    links = atlas.diagnosis_links("zonal_peripheral", pages=["chapters/muscle"])
    assert links[0] == ("Myositis ossificans", "muscle.html#myositis-ossificans")
    assert links[1][1] is None  # panniculitis ossificans: its chapter is not published here
    everything = [d.chapter for d in knowledge_base().diagnoses]
    for mid in MORPHOLOGIES:
        for _, href in atlas.diagnosis_links(mid, pages=everything):
            assert re.fullmatch(r"[a-z-]+\.html#[a-z-]+", href)


def test_grid_has_one_tile_per_morphology_with_alt_text_and_is_light():
    grid = atlas.atlas_grid(pages=["chapters/muscle"])
    assert repr(grid) == "AtlasGrid(18 synthetic tiles)"
    html = grid._repr_html_()
    assert html.count('<figure class="atlas-tile"') == 18
    assert len(re.findall(r'<img src="data:image/webp;base64,[^"]+" alt="Synthetic image\. [^"]{40,}"', html)) == 18
    assert 'href="muscle.html#myositis-ossificans"' in html
    assert html.count("(synthetic)") == 18
    assert grid.image_bytes < 500 * 1024


def test_viewer_state_and_builder():
    state = viewer_state("amorphous_cloud", "phase", ["formative", "resorptive"], size=128)
    assert [s[:23] for s in state["frames"]] == ["data:image/webp;base64,"] * 2
    assert len(state["labels"]) == len(state["alts"]) == 2
    box = frame_viewer("amorphous_cloud", "phase", ["formative", "resorptive"], start="resorptive", size=128)
    control, viewer = box.children
    assert isinstance(viewer, FrameViewer) and viewer.mode == "index" and viewer.index == 1 == control.index
    with pytest.raises(ValueError, match="start must be one of"):
        frame_viewer("amorphous_cloud", "phase", ["formative"], start="resorptive", size=128)
    with pytest.raises(ValueError, match="continuous needs numeric values"):
        frame_viewer("amorphous_cloud", "phase", ["formative"], continuous=(0, 1, 1), size=128)
    with pytest.raises(ValueError, match="continuous must be"):
        frame_viewer("zonal_peripheral", "weeks_since_trauma", [1, 30], continuous=(0, 20, 1), size=128)


def test_kernel_renders_the_exact_value_between_frames():
    box = frame_viewer("zonal_peripheral", "weeks_since_trauma", [1, 7], continuous=(0, 20, 0.5), size=128)
    control, viewer = box.children
    assert viewer.mode == "value" and viewer.value == 1.0 and viewer.live == {}
    control.value = 3.5
    assert viewer.live["value"] == 3.5 and viewer.live["src"].startswith("data:image/webp;base64,")
    assert "floccular" in viewer.live["label"]
    control.value = 7.0
    assert viewer.live == {}
