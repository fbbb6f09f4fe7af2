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
    inline = "const PAGE_OPTION = 1"
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


def test_thebe_assets_are_dropped_and_head_scripts_deferred():
    from sphinx.builders.html._assets import _CascadingStyleSheet, _JavaScript

    context = {
        "script_files": [
            _JavaScript("_static/documentation_options.js"),
            _JavaScript("_static/doctools.js"),
            _JavaScript(None, body='const THEBE_JS_URL = "x"'),
            _JavaScript("_static/sphinx-thebe.js"),
            _JavaScript(None, body="let a = 1"),
            _JavaScript("_static/m.js", type="module"),
        ],
        "css_files": [_CascadingStyleSheet("_static/sphinx-thebe.css"), _CascadingStyleSheet("_static/basic.css")],
    }
    offline_site.tidy_assets(None, "chapters/x", "page.html", context, None)
    scripts = [(a.filename, a.attributes.get("defer")) for a in context["script_files"]]
    assert scripts == [
        ("_static/documentation_options.js", None),
        ("_static/doctools.js", "defer"),
        (None, None),
        ("_static/m.js", None),
    ]
    assert [a.filename for a in context["css_files"]] == ["_static/basic.css"]
    context = {"script_files": [_JavaScript("_static/doctools.js")]}
    offline_site.tidy_assets(None, "search", "search.html", context, None)
    assert context["script_files"][0].attributes.get("defer") is None  # searchtools.js calls it at once


def test_large_inline_images_become_files_and_every_image_is_lazy(tmp_path):
    import base64

    big, small = bytes(range(256)) * 16, b"tiny"
    body = (
        f'<img alt="a" src="data:image/png;base64,{base64.b64encode(big).decode()}">'
        f'<img src="data:image/png;base64,{base64.b64encode(small).decode()}"><img loading="eager" src="x.png">'
    )
    out = offline_site.images_to_files(body, tmp_path, lambda path: f"../{path}")
    files = list((tmp_path / "_images").iterdir())
    assert len(files) == 1 and files[0].read_bytes() == big and files[0].suffix == ".png"
    assert f'src="../_images/{files[0].name}"' in out and "data:image/png;base64,dGlueQ==" in out
    assert offline_site.lazy_images(out).count('loading="lazy"') == 2 and 'loading="eager"' in out
