"""Sphinx extension: pages with widgets load the light widget runtime, lazily.

myst-nb embeds a notebook's saved widget state in the page ``<head>`` and one
``<script type="application/vnd.jupyter.widget-view+json">`` per widget output
(``nb_ipywidgets_js`` is empty in ``_config.yml``, so it adds no manager of its
own). For every page with widgets this extension

- moves the widget state out of ``<head>`` into a same-origin file,
  ``_widgets/<page>.json``, fetched only when a widget is about to be drawn;
- replaces each widget-view script with ``<div class="lw-view">`` holding a
  readable static fallback: the saved state as plain HTML (each control's
  label and value; an anywidget's ``fallback_html`` trait when it has one);
- adds ``_static/widgets/loader.js`` (``defer``, about 1 KB), which fetches the
  runtime (``_static/widgets/runtime.js``, built by ``tools/vendor_js.py``) when
  the page is idle, the state then too if it is small (else when a widget comes
  within two screens), and draws each widget when it nears the viewport.

Pages without widgets get nothing. Live kernels are untouched: this runs only
in the HTML build.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

STATE_TYPE = "application/vnd.jupyter.widget-state+json"
VIEW_SCRIPT = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-view\+json">(?P<json>.*?)</script>', re.DOTALL
)
STATE_FOLDER = "_widgets"
LOADER = "widgets/loader.js"
RUNTIME = "widgets/runtime.js"
FALLBACK_NOTE = "Interactive widget: it is drawn here when the page has loaded (JavaScript needed)."
# The fallback's own few rules, inlined once per page so that it is styled at first paint.
FALLBACK_STYLE = (
    "<style>.lw-fallback{border:1px solid var(--pst-color-border,#ccc);border-radius:.25rem;"
    "padding:.5rem .75rem;margin:.5rem 0;font-size:.9rem}"
    ".lw-fallback dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem .75rem;margin:0}"
    ".lw-fallback dt{font-weight:600}.lw-fallback dd{margin:0}"
    ".lw-fallback .lw-note{margin:.25rem 0 0;color:var(--pst-color-text-muted,#555);font-style:italic}"
    ".lw-view[data-lw-state=ready]{display:block}</style>"
)


def _state_of(asset) -> dict | None:
    attributes = getattr(asset, "attributes", {}) or {}
    if attributes.get("type") != STATE_TYPE:
        return None
    return json.loads(attributes["body"])


def _ref(value) -> str | None:
    return value[len("IPY_MODEL_") :] if isinstance(value, str) and value.startswith("IPY_MODEL_") else None


def _value_text(name: str, state: dict) -> str | None:
    """The current value of a control, as a reader would read it, or None for no value."""
    labels = state.get("_options_labels")
    if labels is not None:
        index = state.get("index")
        if isinstance(index, list):
            return ", ".join(labels[i] for i in index) or "none selected"
        return labels[index] if isinstance(index, int) and 0 <= index < len(labels) else "none selected"
    if name in ("CheckboxModel", "ToggleButtonModel"):
        return "on" if state.get("value") else "off"
    if "value" in state and name not in ("HTMLModel", "LabelModel", "ButtonModel"):
        value = state["value"]
        return "empty" if value in ("", None) else str(value)
    return None


def fallback_html(model_id: str, models: dict, depth: int = 0) -> list[str]:
    """Plain HTML for the saved state of ``model_id`` and of the widgets it contains."""
    model = models.get(model_id)
    if model is None or depth > 20:
        return []
    name, state = model.get("model_name", ""), model.get("state", {})
    if name in ("HBoxModel", "VBoxModel", "BoxModel", "GridBoxModel"):
        parts = []
        for child in state.get("children", []):
            parts += fallback_html(_ref(child) or "", models, depth + 1)
        return parts
    if name == "AnyModel":
        snapshot = state.get("fallback_html")
        return [f'<div class="lw-snapshot">{snapshot}</div>'] if isinstance(snapshot, str) and snapshot else []
    if name == "HTMLModel":
        return [f'<div class="lw-html">{state.get("value", "")}</div>']
    if name == "LabelModel":
        return [f"<p>{html.escape(str(state.get('value', '')))}</p>"]
    value = _value_text(name, state)
    if value is None:
        return []
    label = state.get("description") or state.get("tooltip") or name.removesuffix("Model")
    return [f"<dt>{html.escape(str(label))}</dt><dd>{html.escape(value)}</dd>"]


def _fallback_block(model_id: str, models: dict) -> str:
    parts = fallback_html(model_id, models)
    terms = "".join(p for p in parts if p.startswith("<dt>"))
    others = "".join(p for p in parts if not p.startswith("<dt>"))
    listing = f"<dl>{terms}</dl>" if terms else ""
    return f'<div class="lw-fallback">{listing}{others}<p class="lw-note">{html.escape(FALLBACK_NOTE)}</p></div>'


def _runtime_version(app: Sphinx) -> str:
    for folder in app.config.html_static_path:
        runtime = Path(app.confdir) / folder / RUNTIME
        if runtime.is_file():
            return hashlib.sha256(runtime.read_bytes()).hexdigest()[:12]
    logger.warning(f"no {RUNTIME} in html_static_path: run `make vendor`")
    return ""


def use_light_runtime(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if app.builder.format != "html":
        return
    scripts = context.get("script_files") or []
    states = [s for s in (_state_of(a) for a in scripts) if s]
    if not states:
        return
    state = states[0]
    context["script_files"] = [a for a in scripts if _state_of(a) is None]
    folder = Path(app.outdir) / STATE_FOLDER
    target = folder / f"{pagename}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    saved = json.dumps(state, separators=(",", ":"))
    target.write_text(saved, "utf-8")

    models = state.get("state", {})

    def replace(match: re.Match) -> str:
        view = json.loads(match.group("json"))
        model_id = view["model_id"]
        if model_id not in models:
            logger.warning(f"{pagename}: a widget view refers to model {model_id}, missing from the saved state")
        return f'<div class="lw-view" data-model-id="{html.escape(model_id)}">{_fallback_block(model_id, models)}</div>'

    body, count = VIEW_SCRIPT.subn(replace, context.get("body", ""))
    context["body"] = FALLBACK_STYLE + body if count else body
    state_url = context["pathto"](f"{STATE_FOLDER}/{pagename}.json", 1)
    from sphinx.builders.html._assets import _JavaScript

    context["script_files"].append(
        _JavaScript(
            f"_static/{LOADER}",
            priority=900,
            defer="defer",
            **{
                "data-state": state_url,
                "data-state-bytes": str(len(saved.encode("utf-8"))),
                "data-version": getattr(app, "_light_widgets_version", ""),
            },
        )
    )


def remember_version(app: Sphinx) -> None:
    app._light_widgets_version = _runtime_version(app)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", remember_version)
    # Before offline_site (priority 900), which defers and de-duplicates what is left.
    app.connect("html-page-context", use_light_runtime, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
