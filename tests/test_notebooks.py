"""The committed notebooks are complete, current and reproducible.

nbval (run by `make test`) re-executes every notebook and compares its text
outputs; it does not look at widget state or images. These tests cover the
rest: the static site renders widgets from the committed widget state, so
that state must exist and match the current library.
"""

from __future__ import annotations

import importlib
import json
import re
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
    pages = {p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "chapters").rglob("*")
             if p.suffix in {".md", ".ipynb"} and ".ipynb_checkpoints" not in p.parts}
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
        if "lab_table" in model:
            assert model["lab_table"] == labs.frontend_table(), f"stale lab table in {path.name}"
