"""Tests of tools/light_widgets.py: the static fallback of saved widget state, and the page rewrite."""

from __future__ import annotations

import json
from types import SimpleNamespace

import light_widgets

STATE = {
    "version_major": 2,
    "version_minor": 0,
    "state": {
        "box": {
            "model_name": "VBoxModel",
            "state": {
                "children": ["IPY_MODEL_unit", "IPY_MODEL_ca", "IPY_MODEL_any", "IPY_MODEL_multi", "IPY_MODEL_tick"]
            },
        },
        "unit": {
            "model_name": "DropdownModel",
            "state": {"description": "Unit", "_options_labels": ["mg/dL", "mmol/L"], "index": 1},
        },
        "ca": {"model_name": "TextModel", "state": {"description": "Calcium <b>", "value": "9.5"}},
        "any": {"model_name": "AnyModel", "state": {"fallback_html": "<p class='snap'>Ca × P = 38.0</p>"}},
        "multi": {
            "model_name": "SelectMultipleModel",
            "state": {"description": "Shape", "_options_labels": ["a", "b"], "index": []},
        },
        "tick": {"model_name": "CheckboxModel", "state": {"description": "Diabetes", "value": True}},
    },
}


def test_fallback_lists_each_control_with_its_value_and_escapes_labels():
    html = light_widgets._fallback_block("box", STATE["state"])
    assert "<dt>Unit</dt><dd>mmol/L</dd>" in html
    assert "<dt>Calcium &lt;b&gt;</dt><dd>9.5</dd>" in html
    assert "<dt>Shape</dt><dd>none selected</dd>" in html
    assert "<dt>Diabetes</dt><dd>on</dd>" in html
    assert "<p class='snap'>Ca × P = 38.0</p>" in html  # an anywidget's own snapshot
    assert html.startswith('<div class="lw-fallback"><dl>') and light_widgets.FALLBACK_NOTE in html


def test_a_missing_or_cyclic_model_does_not_break_the_fallback():
    models = {"a": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_a", "IPY_MODEL_gone"]}}}
    assert light_widgets.fallback_html("a", models) == []


def test_page_gets_placeholders_the_loader_and_a_state_file(tmp_path):
    from sphinx.builders.html._assets import _JavaScript

    app = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="html"), _light_widgets_version="v1")
    view = '<script type="application/vnd.jupyter.widget-view+json">{"model_id": "box", "version_major": 2}</script>'
    state_asset = _JavaScript(None, type=light_widgets.STATE_TYPE, body=json.dumps(STATE))
    context = {
        "script_files": [_JavaScript("_static/doctools.js"), state_asset],
        "body": f"<p>x</p>{view}",
        "pathto": lambda name, resource=0: f"../{name}",
    }
    light_widgets.use_light_runtime(app, "chapters/page", "page.html", context, None)
    assert json.loads((tmp_path / "_widgets" / "chapters" / "page.json").read_text()) == STATE
    assert "widget-view+json" not in context["body"] and 'class="lw-view" data-model-id="box"' in context["body"]
    loader = context["script_files"][-1]
    assert [a.filename for a in context["script_files"]] == ["_static/doctools.js", "_static/widgets/loader.js"]
    assert loader.attributes["data-state"] == "../_widgets/chapters/page.json" and loader.attributes["defer"]


def test_pages_without_widgets_are_left_alone(tmp_path):
    app = SimpleNamespace(outdir=str(tmp_path), builder=SimpleNamespace(format="html"))
    context = {"script_files": [], "body": "<p>x</p>"}
    light_widgets.use_light_runtime(app, "index", "page.html", context, None)
    assert context == {"script_files": [], "body": "<p>x</p>"} and not (tmp_path / "_widgets").exists()
