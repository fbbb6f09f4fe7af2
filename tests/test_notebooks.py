"""The committed notebooks are complete, current and reproducible.

nbval (run by `make test`) re-executes every notebook and compares its text
outputs; it does not look at widget state or images. These tests cover the
rest: the static site renders widgets from the committed widget state, so
that state must exist and match the current library: every saved trait that
the library computes (front-end code, knowledge base, lab table, choices,
chapter list, atlas frames) is compared with what the library produces now.
"""

from __future__ import annotations

import base64
import importlib
import io
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from calcifications import labs
from calcifications.book import published_pages

ROOT = Path(__file__).resolve().parents[1]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NOTEBOOKS = sorted(p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def load(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))


def outputs(nb: dict):
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            yield cell, output


def test_every_chapter_file_is_in_the_table_of_contents():
    listed = set(published_pages(ROOT))
    pages = {
        p.relative_to(ROOT).with_suffix("").as_posix()
        for p in (ROOT / "chapters").rglob("*")
        if p.suffix in {".md", ".ipynb"} and ".ipynb_checkpoints" not in p.parts
    }
    assert pages == listed, "pages must be listed in _toc.yml and the toc must list only existing pages"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_executed_cleanly(path):
    nb = load(path)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), "run top to bottom once"
    text = path.read_text("utf-8")
    assert not re.search(r"0x[0-9a-f]{8,}", text), "memory address in the notebook"
    assert "/work/" not in text and "/home/" not in text and "/root/" not in text, "absolute path in the notebook"
    for cell in code:
        assert "execution" not in cell["metadata"], "timing metadata (run tools/execute_notebooks.py)"
    for _, output in outputs(nb):
        assert output["output_type"] != "error"
        assert output.get("name") != "stderr", "stderr output (a warning?) in a committed notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_images_have_alt_text_and_captions(path):
    for cell, output in outputs(load(path)):
        if "image/png" in output.get("data", {}):
            options = cell["metadata"].get("mystnb", {})
            assert len(options.get("image", {}).get("alt", "")) > 40, "figure without meaningful alt text"
            assert options.get("figure", {}).get("caption"), "figure without a caption"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_widget_state_is_saved_and_current(path):
    nb = load(path)
    views = [o["data"][WIDGET_VIEW]["model_id"] for _, o in outputs(nb) if WIDGET_VIEW in o.get("data", {})]
    if not views:
        pytest.skip("no widgets in this notebook")
    state = nb["metadata"].get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    assert state, "widget outputs without saved widget state: the widgets would vanish from the static site"
    assert all(view in state for view in views)
    # Canonical ids (tools/execute_notebooks.py) keep re-execution diffs clean.
    assert sorted(state) == [f"{i:032x}" for i in range(1, len(state) + 1)]
    anywidgets = [m["state"] for m in state.values() if m["model_name"] == "AnyModel"]
    assert anywidgets
    for model in anywidgets:
        module_name, _, class_name = model["_anywidget_id"].rpartition(".")
        widget_class = getattr(importlib.import_module(module_name), class_name)
        assert model["_esm"] == str(widget_class._esm), f"stale front-end in {path.name}: re-run `make book`"
        stale = stale_traits(model)
        assert not stale, f"stale {class_name} traits {stale} in {path.name}: re-run `make book`"


# ---------------------------------------------------------------- what the library makes now, per widget class


def _as_json(value):
    """A value as the saved widget state holds it (JSON: tuples become lists, keys strings)."""
    return json.loads(json.dumps(value))


@cache
def _knowledge() -> dict:
    from calcifications.differential import frontend_knowledge

    return _as_json(frontend_knowledge())


def _image_width(data_uri: str) -> int:
    """Width in pixels of a ``data:image/...;base64,...`` frame (WebP or PNG)."""
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))).width


def _frame_viewer(model: dict) -> dict:
    # The saved state does not name its morphology and parameter: find the atlas teaching
    # parameter whose caption lines these are, then render its frames again.
    from calcifications import atlas
    from calcifications.atlas_widgets import viewer_state

    values, labels = model["values"], model["labels"]
    assert values and len(labels) == len(values) == len(model["frames"])
    matches = []
    for morphology, parameters in atlas.load_atlas().parameters.items():
        for parameter in parameters:
            try:
                if [atlas.frame_label(morphology, parameter, v) for v in values] == labels:
                    matches.append((morphology, parameter))
            except ValueError:
                continue
    assert len(matches) == 1, f"saved frame captions {labels[:1]}... match {matches or 'no'} atlas parameter"
    state = viewer_state(*matches[0], values, size=_image_width(model["frames"][0]))
    return {name: state[name] for name in ("frames", "values", "labels", "alts", "unit")}


def _differential_panel(model: dict) -> dict:
    from calcifications.calculators import frontend_config

    chapter = model["config"]["chapter"] or None  # the saved panel names its chapter ("" = full calculator)
    return {"knowledge": _knowledge(), "config": frontend_config(chapter, published_pages(ROOT))}


def _unknown_cases(model: dict) -> dict:
    from calcifications.case_widgets import filter_labels

    return {"labels": filter_labels()}


LIBRARY_TRAITS: dict[str, Callable[[dict], dict]] = {
    "LabPanel": lambda model: {"lab_table": labs.frontend_table()},
    "DifferentialPanel": _differential_panel,
    "UnknownCases": _unknown_cases,
    "FrameViewer": _frame_viewer,
}
"""For each anywidget class of the book: the saved traits that come from the library, as it makes them now."""


def stale_traits(model: dict) -> list[str]:
    """The traits of a saved anywidget model that differ from what the library makes now."""
    class_name = model["_anywidget_id"].rpartition(".")[2]
    assert class_name in LIBRARY_TRAITS, f"{class_name}: say in LIBRARY_TRAITS which saved traits the library makes"
    expected = LIBRARY_TRAITS[class_name](model)
    return [trait for trait, value in expected.items() if trait not in model or model[trait] != _as_json(value)]


def _saved_models(name: str, class_name: str) -> list[dict]:
    state = load(ROOT / "chapters" / name)["metadata"]["widgets"][WIDGET_STATE]["state"]
    return [
        m["state"]
        for m in state.values()
        if m["model_name"] == "AnyModel" and m["state"]["_anywidget_id"].endswith("." + class_name)
    ]


@pytest.mark.parametrize(
    "name, class_name, trait, tamper",
    [
        (
            "classification.ipynb",
            "LabPanel",
            "lab_table",
            lambda v: v["analytes"]["calcium"].update(mg_dl_per_mmol_l=4.0),
        ),
        (
            "approach.ipynb",
            "DifferentialPanel",
            "knowledge",
            lambda v: v["findings"]["rice_grain"]["p"].__setitem__(0, 0.5),
        ),
        ("approach.ipynb", "DifferentialPanel", "config", lambda v: v["links"].popitem()),
        ("vascular.ipynb", "DifferentialPanel", "config", lambda v: v["groups"][1]["findings"].reverse()),
        ("unknown-cases.ipynb", "UnknownCases", "labels", lambda v: v.popitem()),
        ("atlas.ipynb", "FrameViewer", "frames", lambda v: v.reverse()),
    ],
)
def test_a_stale_saved_trait_is_caught(name, class_name, trait, tamper):
    smallest = min(_saved_models(name, class_name), key=lambda m: len(json.dumps(m)))
    model = json.loads(json.dumps(smallest))
    assert trait not in stale_traits(model)
    tamper(model[trait])
    assert stale_traits(model) == [trait]
