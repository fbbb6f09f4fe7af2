"""Calculators that work in a live kernel and on the static website.

Each calculator is a small anywidget whose front-end (an ES module file in
``static/``) computes in the browser from synced traits. Standard ipywidgets
controls drive it through ``widgets.jslink``, which also runs in the browser,
so the embedded widget state keeps the page interactive with no kernel.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import anywidget
import ipywidgets as widgets
import traitlets

from calcifications import labs

# Roles of a calcium-phosphate panel: a message beside each input, or the result.
PANEL_ROLES: tuple[str, ...] = ("calcium", "phosphate", "result")


def static_module(name: str) -> Path:
    """Return the path of a front-end ES module shipped in ``static/``."""
    return Path(str(resources.files("calcifications").joinpath("static", name)))


class CalciumPhosphatePanel(anywidget.AnyWidget):
    """Browser-computed part of the calcium-phosphate calculator (one role per panel)."""

    _esm = static_module("calcium_phosphate.js")
    role = traitlets.Unicode("result").tag(sync=True)
    calcium = traitlets.Unicode("").tag(sync=True)
    phosphate = traitlets.Unicode("").tag(sync=True)
    unit_index = traitlets.Int(0).tag(sync=True)
    lab_table = traitlets.Dict().tag(sync=True)

    @traitlets.validate("role")
    def _check_role(self, proposal: dict) -> str:
        if proposal["value"] not in PANEL_ROLES:
            raise traitlets.TraitError(f"role must be one of {PANEL_ROLES}, got {proposal['value']!r}")
        return proposal["value"]


def calcium_phosphate_calculator(
    calcium: float | str = 9.5, phosphate: float | str = 4.0, unit: str = "mg/dL"
) -> widgets.VBox:
    """Build the calcium-phosphate product calculator with starting values.

    ``calcium`` and ``phosphate`` are serum values in ``unit`` ("mg/dL" or
    "mmol/L"); the product is shown in mg²/dL² against the 60-70 band.
    """
    if unit not in labs.UNITS:
        raise ValueError(f"unit must be one of {labs.UNITS}, got {unit!r}")
    unit_box = widgets.Dropdown(options=list(labs.UNITS), index=labs.UNITS.index(unit), description="Unit")
    calcium_box = widgets.Text(value=str(calcium), description="Calcium", placeholder="e.g. 9.5")
    phosphate_box = widgets.Text(value=str(phosphate), description="Phosphate", placeholder="e.g. 4.0")
    table = labs.frontend_table()
    panels = {
        role: CalciumPhosphatePanel(
            role=role, calcium=calcium_box.value, phosphate=phosphate_box.value,
            unit_index=unit_box.index, lab_table=table,
        )
        for role in PANEL_ROLES
    }
    for panel in panels.values():
        widgets.jslink((calcium_box, "value"), (panel, "calcium"))
        widgets.jslink((phosphate_box, "value"), (panel, "phosphate"))
        widgets.jslink((unit_box, "index"), (panel, "unit_index"))
    return widgets.VBox(
        [
            unit_box,
            widgets.HBox([calcium_box, panels["calcium"]]),
            widgets.HBox([phosphate_box, panels["phosphate"]]),
            panels["result"],
        ]
    )

