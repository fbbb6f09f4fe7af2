"""Frame viewers of the morphology atlas: a teaching parameter varied on the static site and in a kernel.

A :class:`FrameViewer` (front-end ``static/frame_viewer.js``) carries a few
pre-rendered frames of one synthetic radiograph, once, as WebP data URIs, with
each frame's parameter value, caption line and alt text. A standard control
drives it through ``widgets.jslink``, which runs in the browser, so the
embedded widget state of a static page keeps it working with no kernel:

* discrete parameters (a phase, or a few chosen values) use ``mode="index"``:
  a Dropdown (names) or a SelectionSlider (numbers) links its ``index`` to the
  viewer's ``index``;
* continuous parameters (weeks since trauma, a count) use ``mode="value"``:
  a FloatSlider or IntSlider links its ``value`` to the viewer's ``value``, and
  the front-end shows the pre-rendered frame nearest that value, saying so in
  the caption. In a live kernel the builder also observes the slider in
  Python: for a value between the pre-rendered ones it renders that exact
  value (:func:`calcifications.atlas.frames`) and publishes it in the
  viewer's ``live`` trait, which the front-end shows while it matches the
  slider. ``live`` stays empty during notebook execution, so the saved state
  (and the static page) holds the pre-rendered frames only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from calcifications import atlas
from calcifications.widgets import static_module

MODES: tuple[str, ...] = ("index", "value")


class FrameViewer(anywidget.AnyWidget):
    """Shows one of several pre-rendered frames, chosen in the browser by ``index`` or nearest ``value``."""

    _esm = static_module("frame_viewer.js")
    frames = traitlets.List(traitlets.Unicode()).tag(sync=True)
    values = traitlets.List().tag(sync=True)
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    alts = traitlets.List(traitlets.Unicode()).tag(sync=True)
    index = traitlets.Int(0).tag(sync=True)
    value = traitlets.Float(None, allow_none=True).tag(sync=True)
    mode = traitlets.Unicode("index").tag(sync=True)
    unit = traitlets.Unicode("").tag(sync=True)
    # A frame rendered by the kernel for the exact current value: {value, src, label, alt}, or {}.
    live = traitlets.Dict().tag(sync=True)

    @traitlets.validate("mode")
    def _check_mode(self, proposal: dict) -> str:
        if proposal["value"] not in MODES:
            raise traitlets.TraitError(f"mode must be one of {MODES}, got {proposal['value']!r}")
        return proposal["value"]


def viewer_state(morphology: str, parameter: str, values: Sequence[Any], size: int = atlas.TILE_SIZE) -> dict:
    """Frames (data URIs), values, caption lines and alt texts of ``morphology`` over ``values``."""
    images = atlas.frames(morphology, parameter, values, size)
    return {
        "frames": [atlas.image_data_uri(image) for image in images],
        "values": list(values),
        "labels": [atlas.frame_label(morphology, parameter, v) for v in values],
        "alts": [atlas.frame_alt(morphology, parameter, v) for v in values],
        "unit": atlas.teaching_parameter(morphology, parameter).unit,
    }


def frame_viewer(
    morphology: str,
    parameter: str,
    values: Sequence[Any],
    start: Any = None,
    continuous: tuple[float, float, float] | None = None,
    description: str | None = None,
    size: int = atlas.TILE_SIZE,
) -> widgets.VBox:
    """Build a control and a :class:`FrameViewer` showing ``morphology`` as ``parameter`` varies.

    ``values`` are pre-rendered (at most ``atlas.MAX_FRAMES``). Without ``continuous``, a
    Dropdown (names) or SelectionSlider (numbers) picks one of them. With
    ``continuous=(min, max, step)`` (numbers only), a slider spans that range: the static site
    shows the nearest pre-rendered frame, a live kernel renders the exact value. ``start`` is
    the initial value (default: the first of ``values``). Raises ValueError for bad arguments.
    """
    values = list(values)
    state = viewer_state(morphology, parameter, values, size)
    start = values[0] if start is None else start
    teaching = atlas.teaching_parameter(morphology, parameter)
    label = description or parameter.replace("_", " ").capitalize()
    style = {"description_width": "initial"}
    layout = widgets.Layout(width="min(100%, 36em)")
    if continuous is None:
        if start not in values:
            raise ValueError(f"start must be one of the values {values}, got {start!r}")
        index = values.index(start)
        viewer = FrameViewer(**state, index=index, mode="index")
        heads = [atlas.frame_label(morphology, parameter, v).split(":")[0] for v in values]
        if all(isinstance(v, str) for v in values):
            control = widgets.Dropdown(options=heads, index=index, description=label, style=style, layout=layout)
        else:
            control = widgets.SelectionSlider(
                options=heads, index=index, description=label, style=style, layout=layout, continuous_update=True
            )
        widgets.jslink((control, "index"), (viewer, "index"))
        return widgets.VBox([control, viewer], layout=widgets.Layout(width="100%"))

    if any(isinstance(v, str) for v in values):
        raise ValueError("continuous needs numeric values")
    low, high, step = (float(x) for x in continuous)
    if not (low < high and step > 0) or not all(low <= float(v) <= high for v in [*values, start]):
        raise ValueError(
            f"continuous must be (min, max, step) with min < max, step > 0, covering the values "
            f"and start; got {continuous!r}"
        )
    integral = all(float(x).is_integer() for x in (low, high, step, start, *values))
    slider_class = widgets.IntSlider if integral else widgets.FloatSlider
    cast = int if integral else float
    control = slider_class(
        value=cast(start),
        min=cast(low),
        max=cast(high),
        step=cast(step),
        description=label,
        style=style,
        layout=layout,
        continuous_update=False,
    )
    if teaching.unit:
        control.description = f"{label} ({teaching.unit})" if description is None else label
    viewer = FrameViewer(**state, value=float(start), mode="value")
    widgets.jslink((control, "value"), (viewer, "value"))
    pre_rendered = {float(v) for v in values}

    def render_exact(change: dict) -> None:
        # Only a kernel runs this; the static page keeps the nearest pre-rendered frame.
        value = cast(change["new"])
        if float(value) in pre_rendered:
            viewer.live = {}
            return
        image = atlas.frames(morphology, parameter, [value], size)[0]
        viewer.live = {
            "value": float(value),
            "src": atlas.image_data_uri(image),
            "label": atlas.frame_label(morphology, parameter, value),
            "alt": atlas.frame_alt(morphology, parameter, value),
        }

    control.observe(render_exact, names="value")
    if float(start) not in pre_rendered:
        render_exact({"new": start})
    return widgets.VBox([control, viewer], layout=widgets.Layout(width="100%"))
