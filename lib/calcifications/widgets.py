"""Calculators that work in a live kernel and on the static website.

Each calculator is built from small anywidget panels whose front-ends (ES
module files in ``static/``) compute in the browser from synced traits.
Standard ipywidgets controls drive them through ``widgets.jslink`` and
``widgets.jsdlink``, which also run in the browser, so the widget state
embedded in a page keeps it interactive with no kernel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

import anywidget
import ipywidgets as widgets
import traitlets

from calcifications import differential, labs
from calcifications.vocabulary import vocabulary

# Roles of a lab panel: the calcium-phosphate calculator (a message beside
# each box, the result) or one optional box of the differential calculator.
PANEL_ROLES: tuple[str, ...] = ("calcium", "phosphate", "result", "field")
# Finding categories of the vocabulary, each entered with one control.
MULTI_CHOICE: tuple[str, ...] = ("compartment", "morphology", "distribution", "clinical")
# Optional lab boxes of the differential calculator: (analyte, label, placeholder).
LAB_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("calcium", "Calcium", "e.g. 9.5"),
    ("phosphate", "Phosphate", "e.g. 4.0"),
    ("pth", "PTH (pg/mL)", "e.g. 40"),
    ("uric_acid", "Uric acid (mg/dL)", "e.g. 5.5"),
)


def static_module(name: str) -> Path:
    """Return the path of a front-end ES module shipped in ``static/``."""
    return Path(str(resources.files("calcifications").joinpath("static", name)))


class LabPanel(anywidget.AnyWidget):
    """Browser-checked lab entry: a message beside a box, or the calcium-phosphate result."""

    _esm = static_module("lab_entry.js")
    role = traitlets.Unicode("result").tag(sync=True)
    calcium = traitlets.Unicode("").tag(sync=True)
    phosphate = traitlets.Unicode("").tag(sync=True)
    unit_index = traitlets.Int(0).tag(sync=True)
    analyte = traitlets.Unicode("").tag(sync=True)
    text = traitlets.Unicode("").tag(sync=True)
    value = traitlets.Float(None, allow_none=True).tag(sync=True)
    lab_table = traitlets.Dict().tag(sync=True)

    @traitlets.validate("role")
    def _check_role(self, proposal: dict) -> str:
        if proposal["value"] not in PANEL_ROLES:
            raise traitlets.TraitError(f"role must be one of {PANEL_ROLES}, got {proposal['value']!r}")
        return proposal["value"]


class CompartmentStep(anywidget.AnyWidget):
    """Compartment-first step: the morphologies to look for in the chosen compartments."""

    _esm = static_module("compartment_step.js")
    compartments = traitlets.List(traitlets.Int()).tag(sync=True)
    morphologies = traitlets.List(traitlets.Int()).tag(sync=True)
    choices = traitlets.Dict().tag(sync=True)


class DifferentialPanel(anywidget.AnyWidget):
    """Browser-ranked differential diagnosis of the case described by the controls."""

    _esm = static_module("differential.js")
    knowledge = traitlets.Dict().tag(sync=True)
    choices = traitlets.Dict().tag(sync=True)
    compartments = traitlets.List(traitlets.Int()).tag(sync=True)
    morphologies = traitlets.List(traitlets.Int()).tag(sync=True)
    distributions = traitlets.List(traitlets.Int()).tag(sync=True)
    clinical = traitlets.List(traitlets.Int()).tag(sync=True)
    site = traitlets.Int(0).tag(sync=True)
    unit_index = traitlets.Int(0).tag(sync=True)
    # Checked lab values published by the lab panels (None: not given or invalid).
    calcium_mg_dl = traitlets.Float(None, allow_none=True).tag(sync=True)
    phosphate_mg_dl = traitlets.Float(None, allow_none=True).tag(sync=True)
    pth_pg_ml = traitlets.Float(None, allow_none=True).tag(sync=True)
    uric_acid_mg_dl = traitlets.Float(None, allow_none=True).tag(sync=True)
    # Lab box texts, linked to the boxes so that a case given in the page URL can fill them.
    calcium_text = traitlets.Unicode("").tag(sync=True)
    phosphate_text = traitlets.Unicode("").tag(sync=True)
    pth_text = traitlets.Unicode("").tag(sync=True)
    uric_acid_text = traitlets.Unicode("").tag(sync=True)
    chapters = traitlets.List(traitlets.Unicode()).tag(sync=True)
    top_n = traitlets.Int(8).tag(sync=True)


def calcium_phosphate_calculator(
    calcium: float | str = 9.5, phosphate: float | str = 4.0, unit: str = "mg/dL"
) -> widgets.VBox:
    """Build the calcium-phosphate product calculator with starting values.

    ``calcium`` and ``phosphate`` are serum values in ``unit`` ("mg/dL" or
    "mmol/L"); the product is shown in mg²/dL² against the 60-70 band.
    """
    unit_box = _unit_dropdown(unit)
    calcium_box = widgets.Text(value=str(calcium), description="Calcium", placeholder="e.g. 9.5")
    phosphate_box = widgets.Text(value=str(phosphate), description="Phosphate", placeholder="e.g. 4.0")
    table = labs.frontend_table()
    panels = {
        role: LabPanel(role=role, calcium=calcium_box.value, phosphate=phosphate_box.value,
                       unit_index=unit_box.index, lab_table=table)
        for role in ("calcium", "phosphate", "result")
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


def _unit_dropdown(unit: str) -> widgets.Dropdown:
    if unit not in labs.UNITS:
        raise ValueError(f"unit must be one of {labs.UNITS}, got {unit!r}")
    return widgets.Dropdown(options=list(labs.UNITS), index=labs.UNITS.index(unit), description="Unit")


def differential_choices() -> dict:
    """Return the options of every control of the differential calculator, in vocabulary order."""
    vocab = vocabulary()
    terms = differential.knowledge_base().findings  # the book's wording of each finding
    by_category: dict[str, list[list[str]]] = {}
    for finding in vocab.findings.values():
        # The "absent" findings (known normal labs, no trauma, no kidney disease) join the clinical list.
        category = "clinical" if finding.category == "absent" else finding.category
        by_category.setdefault(category, []).append([finding.id, terms[finding.id].label])
    return {**by_category, "by_compartment": differential.morphologies_by_compartment()}


def split_case(findings: Iterable[str], choices: Mapping) -> dict[str, list[int]]:
    """Return, for each control, the option indices that select ``findings``.

    Raises ``ValueError`` (an ``UnknownFindingError``) for an id that is not in the vocabulary.
    """
    wanted = set(differential.finding_list(findings))  # refuses a single string, None, a number
    differential.rank(wanted)  # validates the ids with the engine's own error messages
    return {
        category: [i for i, (fid, _) in enumerate(choices[category]) if fid in wanted]
        for category in (*MULTI_CHOICE, "site")
    }


def differential_calculator(
    findings: Iterable[str] = (),
    lab_texts: Mapping[str, str] | None = None,
    unit: str = "mg/dL",
    chapters: Iterable[str] = (),
    top_n: int = 8,
) -> widgets.VBox:
    """Build the differential-diagnosis calculator, optionally pre-filled with a case.

    ``findings`` are vocabulary ids; ``lab_texts`` maps ``calcium``,
    ``phosphate`` (in ``unit``), ``pth`` (pg/mL) and ``uric_acid`` (mg/dL) to
    the text of their boxes. ``chapters`` lists the book pages that exist, so
    that only those are linked. The ranking runs in the browser
    (``static/differential.js``), exactly as :func:`calcifications.differential.rank`.
    """
    choices = differential_choices()
    selected = split_case(findings, choices)
    lab_texts = dict(lab_texts or {})
    unknown = set(lab_texts) - {name for name, _, _ in LAB_FIELDS}
    if unknown:
        raise ValueError(f"unknown lab boxes {sorted(unknown)}; expected {[n for n, _, _ in LAB_FIELDS]}")
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")

    def multi(category: str, description: str, rows: int) -> widgets.SelectMultiple:
        return widgets.SelectMultiple(
            options=[(label, fid) for fid, label in choices[category]], index=selected[category],
            description=description, rows=rows, layout=widgets.Layout(width="min(100%, 40em)"),
            style={"description_width": "9em"},
        )

    controls = {
        "compartments": multi("compartment", "Compartment", 6),
        "morphologies": multi("morphology", "Shape", 8),
        "distributions": multi("distribution", "Distribution", 6),
        "clinical": multi("clinical", "Clinical setting", 8),
    }
    site_options = [("not given", "")] + [(label, fid) for fid, label in choices["site"]]
    site_index = selected["site"][0] + 1 if selected["site"] else 0
    site_box = widgets.Dropdown(options=site_options, index=site_index, description="Site",
                                style={"description_width": "9em"})
    unit_box = _unit_dropdown(unit)
    unit_box.style = {"description_width": "9em"}
    panel = DifferentialPanel(
        knowledge=differential.frontend_knowledge(), choices=choices,
        compartments=selected["compartment"], morphologies=selected["morphology"],
        distributions=selected["distribution"], clinical=selected["clinical"], site=site_index,
        unit_index=unit_box.index, chapters=sorted(set(chapters)), top_n=top_n,
    )
    for trait, control in controls.items():
        widgets.jslink((control, "index"), (panel, trait))
    widgets.jslink((site_box, "index"), (panel, "site"))
    widgets.jslink((unit_box, "index"), (panel, "unit_index"))
    step = CompartmentStep(compartments=selected["compartment"], morphologies=selected["morphology"],
                           choices={k: choices[k] for k in ("compartment", "morphology", "by_compartment")})
    widgets.jslink((controls["compartments"], "index"), (step, "compartments"))
    widgets.jslink((controls["morphologies"], "index"), (step, "morphologies"))

    table = labs.frontend_table()
    lab_rows = []
    for analyte, label, placeholder in LAB_FIELDS:
        box = widgets.Text(value=lab_texts.get(analyte, ""), description=label, placeholder=placeholder,
                           style={"description_width": "9em"})
        field = LabPanel(role="field", analyte=analyte, text=box.value, unit_index=unit_box.index, lab_table=table)
        widgets.jslink((box, "value"), (field, "text"))
        widgets.jslink((box, "value"), (panel, f"{analyte}_text"))
        widgets.jslink((unit_box, "index"), (field, "unit_index"))
        value_trait = "pth_pg_ml" if analyte == "pth" else f"{analyte}_mg_dl"
        widgets.jsdlink((field, "value"), (panel, value_trait))
        lab_rows.append(widgets.HBox([box, field]))

    return widgets.VBox(
        [
            controls["compartments"], step, controls["morphologies"], controls["distributions"], site_box,
            controls["clinical"], unit_box, *lab_rows, panel,
        ],
        layout=widgets.Layout(width="100%"),
    )
