"""Tests of the build tooling in tools/: deterministic notebook ids and the offline guard."""

from __future__ import annotations

import json
import random

import nbformat

import execute_notebooks
import offline_site


def _notebook(ids: dict[str, str], order: list[str]) -> nbformat.NotebookNode:
    """A notebook with one displayed box holding two texts, and two links nothing references."""
    box, text_a, text_b, link_1, link_2 = (ids[k] for k in ("box", "a", "b", "l1", "l2"))
    models = {
        box: {"model_name": "VBoxModel", "state": {"children": [f"IPY_MODEL_{text_a}", f"IPY_MODEL_{text_b}"]}},
        text_a: {"model_name": "TextModel", "state": {"value": "a"}},
        text_b: {"model_name": "TextModel", "state": {"value": "b"}},
        link_1: {"model_name": "LinkModel", "state": {"source": [f"IPY_MODEL_{text_a}", "value"]}},
        link_2: {"model_name": "LinkModel", "state": {"source": [f"IPY_MODEL_{text_b}", "value"]}},
    }
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("box", id="display-cell")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {"model_id": box, "version_major": 2, "version_minor": 0}
            },
        )
    ]
    nb.cells = [cell]
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {ids[k]: models[ids[k]] for k in order},
            "version_major": 2,
            "version_minor": 0,
        }
    }
    return nb


def _canonical_text(seed: int) -> str:
    rng = random.Random(seed)
    ids = {k: f"{rng.getrandbits(128):032x}" for k in ("box", "a", "b", "l1", "l2")}
    order = list(ids)
    rng.shuffle(order)
    nb = _notebook(ids, order)
    text = execute_notebooks.renumber_widget_ids(nbformat.writes(nb), execute_notebooks.canonical_widget_order(nb))
    return nbformat.writes(nbformat.reads(text, as_version=4))


def test_widget_ids_are_canonical_whatever_the_kernel_order_and_ids():
    texts = {_canonical_text(seed) for seed in range(20)}
    assert len(texts) == 1
    state = json.loads(texts.pop())["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert list(state) == [f"{i:032x}" for i in range(1, 6)]
    assert state[f"{1:032x}"]["model_name"] == "VBoxModel"
    assert [state[f"{i:032x}"]["state"]["source"][0] for i in (4, 5)] == [f"IPY_MODEL_{2:032x}", f"IPY_MODEL_{3:032x}"]


class _Asset:
    def __init__(self, filename, priority=500, **attributes):
        self.filename, self.priority, self.attributes = filename, priority, attributes


def test_offline_guard_drops_duplicate_scripts_and_flags_remote_ones(monkeypatch):
    inline = "const THEBE_JS_URL = 1"
    context = {
        "script_files": [
            _Asset("", body=inline),
            _Asset("a.js"),
            _Asset("", 501, body=inline),
            _Asset("https://cdn.example/x.js"),
        ],
        "css_files": [_Asset("b.css"), _Asset("b.css")],
    }
    warnings = []
    # monkeypatch restores the logger after this test: other tests see real warnings.
    monkeypatch.setattr(offline_site.logger, "warning", warnings.append)
    offline_site.tidy_assets(None, "page", "page.html", context, None)
    assert [a.filename for a in context["script_files"]] == ["", "a.js", "https://cdn.example/x.js"]
    assert [a.filename for a in context["css_files"]] == ["b.css"]
    assert len(warnings) == 1 and "cdn.example" in warnings[0]


def test_the_offline_guard_logger_is_restored_after_the_test_above():
    # Runs after the test above (file order): its replacement of logger.warning must not leak.
    assert "warning" not in vars(offline_site.logger)


def test_executing_a_notebook_prints_no_kernel_transport_warning(tmp_path, capfd):
    # `make book` used to print "Kernel is running over TCP without encryption" once per notebook.
    path = tmp_path / "tiny.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(6 * 7)", id="tiny")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.write_text(nbformat.writes(nb), "utf-8")
    execute_notebooks.execute(path)
    out, err = capfd.readouterr()
    assert "42" in path.read_text("utf-8")
    assert "without encryption" not in out + err and "WARNING" not in out + err
