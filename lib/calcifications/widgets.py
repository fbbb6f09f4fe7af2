"""Calculators that work in a live kernel and on the static website.

Each calculator is an anywidget panel whose front-end (ES modules in
``static/``) computes in the browser from synced traits, so the widget state
embedded in a page keeps it interactive with no kernel:

* the calcium-phosphate calculator: standard ``Text`` and ``Dropdown`` controls
  drive :class:`LabPanel` panels through ``widgets.jslink``, which runs in the browser;
* the differential calculators, full (:func:`differential_calculator`) and per
  chapter (:func:`chapter_calculator`): one :class:`DifferentialPanel` draws its
  findings as labelled checkbox chips, its lab boxes, the ranking, the "why" and
  the mechanism bars. Its settings come from ``data/calculators.yml``
  (:mod:`calcifications.calculators`), its knowledge base from
  :func:`calcifications.differential.frontend_knowledge`, carried once per panel.

An anywidget front-end is one ES module: :func:`bundled_module` inlines the
helpers a module imports (``import {...} from "./common.js"``) when the widget
class is defined, so one source file serves every widget and the node tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from calcifications import calculators, differential, labs
from calcifications.book import published_pages

# Roles of a lab panel of the calcium-phosphate calculator: a message beside each box, or the result.
PANEL_ROLES: tuple[str, ...] = ("calcium", "phosphate", "result")
_IMPORT = re.compile(r'^import \{[^}]*\} from "\./([\w-]+\.js)";\n', re.MULTILINE)


def static_module(name: str) -> Path:
    """Return the path of a front-end file shipped in ``static/``."""
    return Path(str(resources.files("calcifications").joinpath("static", name)))


def bundled_module(name: str) -> str:
    """Return ``static/<name>`` as one ES module: its relative imports inlined, dependencies first, once each.

    Only ``import {...} from "./x.js";`` lines are allowed; an imported module must
    not have a default export (that is the widget's). Raises ``ValueError`` otherwise.
    """
    order: list[str] = []

    def visit(module: str, stack: tuple[str, ...]) -> None:
        if module in stack:
            raise ValueError(f"import cycle: {' -> '.join((*stack, module))}")
        if module in order:
            return
        for dependency in _IMPORT.findall(static_module(module).read_text("utf-8")):
            visit(dependency, (*stack, module))
        order.append(module)

    visit(name, ())
    parts = []
    for module in order:
        text = _IMPORT.sub("", static_module(module).read_text("utf-8"))
        if re.search(r"^\s*import\b", text, re.MULTILINE):
            raise ValueError(f"static/{module}: only 'import {{...}} from \"./x.js\";' lines can be inlined")
        if module != name and "export default" in text:
            raise ValueError(f"static/{module} is imported by another module and must not have a default export")
        parts.append(f"// ---- static/{module}\n{text}")
    return "\n".join(parts)


def _calculator_css() -> str:
    return static_module("calculators.css").read_text("utf-8")


class LabPanel(anywidget.AnyWidget):
    """Browser-checked lab entry of the calcium-phosphate calculator: a message beside a box, or the result."""

    _esm = bundled_module("lab_entry.js")
    _css = _calculator_css()
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


class DifferentialPanel(anywidget.AnyWidget):
    """A differential calculator (full or one chapter's), ranked in the browser.

    ``findings`` are the ticked vocabulary ids, ``lab_texts`` what was typed in each
    lab box (by analyte), ``unit`` the unit of calcium and phosphate. In a kernel,
    :meth:`case` and :meth:`ranking` read the same state with the Python engine.
    """

    _esm = bundled_module("calculator.js")
    _css = _calculator_css()
    knowledge = traitlets.Dict().tag(sync=True)
    config = traitlets.Dict().tag(sync=True)
    findings = traitlets.List(traitlets.Unicode()).tag(sync=True)
    lab_texts = traitlets.Dict(value_trait=traitlets.Unicode(), key_trait=traitlets.Unicode()).tag(sync=True)
    unit = traitlets.Unicode("mg/dL").tag(sync=True)
    top_n = traitlets.Int(8).tag(sync=True)

    @traitlets.validate("unit")
    def _check_unit(self, proposal: dict) -> str:
        if proposal["value"] not in labs.UNITS:
            raise traitlets.TraitError(f"unit must be one of {labs.UNITS}, got {proposal['value']!r}")
        return proposal["value"]

    def __repr__(self) -> str:
        # Deterministic (no memory address): executed notebooks must not change between runs.
        name = self.config.get("chapter") or "full"
        return f"DifferentialPanel({name!r}, findings={list(self.findings)!r}, lab_texts={dict(self.lab_texts)!r})"

    def case(self) -> tuple[list[str], dict[str, float]]:
        """The finding ids and the valid lab entries (lab keys to values) of the current state.

        A lab box that is empty or invalid is left out, as in the browser.
        """
        labs_of_case = {}
        for field in calculators.settings().lab_fields:
            text = self.lab_texts.get(field.analyte, "")
            if field.parameter in _shown_parameters(self.config) and text.strip():
                try:
                    labs_of_case[field.key] = labs.parse_lab_text(text, field.analyte, self.unit)
                except ValueError:
                    continue
        return list(self.findings), labs_of_case

    def ranking(self) -> list[differential.Candidate]:
        """Rank the current case with the Python engine (the browser shows the same ranking)."""
        findings, labs_of_case = self.case()
        return differential.rank(findings, labs_of_case)


def _shown_parameters(config: Mapping) -> set[str]:
    return {f["parameter"] for f in config.get("lab_fields", [])}


def calcium_phosphate_calculator(
    calcium: float | str = 9.5, phosphate: float | str = 4.0, unit: str = "mg/dL"
) -> widgets.VBox:
    """Build the calcium-phosphate product calculator with starting values.

    ``calcium`` and ``phosphate`` are serum values in ``unit`` ("mg/dL" or
    "mmol/L"); the product is shown in mg²/dL² against the 60-70 band.
    """
    unit_box = _unit_dropdown(unit)
    box_layout = widgets.Layout(width="min(100%, 20em)")
    calcium_box = widgets.Text(value=str(calcium), description="Calcium", placeholder="e.g. 9.5", layout=box_layout)
    phosphate_box = widgets.Text(
        value=str(phosphate), description="Phosphate", placeholder="e.g. 4.0", layout=box_layout
    )
    table = labs.frontend_table()
    panels = {
        role: LabPanel(
            role=role,
            calcium=calcium_box.value,
            phosphate=phosphate_box.value,
            unit_index=unit_box.index,
            lab_table=table,
        )
        for role in ("calcium", "phosphate", "result")
    }
    for panel in panels.values():
        widgets.jslink((calcium_box, "value"), (panel, "calcium"))
        widgets.jslink((phosphate_box, "value"), (panel, "phosphate"))
        widgets.jslink((unit_box, "index"), (panel, "unit_index"))
    # On a phone the message goes under its box instead of squeezing beside it.
    row = widgets.Layout(flex_flow="row wrap", align_items="center", max_width="100%")
    return widgets.VBox(
        [
            unit_box,
            widgets.HBox([calcium_box, panels["calcium"]], layout=row),
            widgets.HBox([phosphate_box, panels["phosphate"]], layout=row),
            panels["result"],
        ]
    )


def _unit_dropdown(unit: str) -> widgets.Dropdown:
    if unit not in labs.UNITS:
        raise ValueError(f"unit must be one of {labs.UNITS}, got {unit!r}")
    return widgets.Dropdown(options=list(labs.UNITS), index=labs.UNITS.index(unit), description="Unit")


def _check_top_n(top_n: Any) -> int:
    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ValueError(f"top_n must be a whole number of at least 1 (rows shown), got {top_n!r}")
    return top_n


def _check_findings(findings: Any) -> list[str]:
    if isinstance(findings, str) or not isinstance(findings, Iterable):
        raise ValueError(f"findings must be a list of vocabulary ids such as ['periarticular'], got {findings!r}")
    ids = list(findings)
    differential.rank(ids)  # validates the ids with the engine's messages (ValueError naming the closest ids)
    return ids


def _check_lab_texts(lab_texts: Any, allowed: Iterable[str]) -> dict[str, str]:
    if lab_texts is None:
        return {}
    if not isinstance(lab_texts, Mapping):
        raise ValueError(f"lab_texts must map lab boxes to their text, e.g. {{'calcium': '9.5'}}, got {lab_texts!r}")
    allowed = list(allowed)
    unknown = sorted(set(lab_texts) - set(allowed))
    if unknown:
        raise ValueError(f"unknown lab boxes {unknown}; expected some of {allowed}")
    for name, text in lab_texts.items():
        if not isinstance(text, str):
            raise ValueError(
                f"lab_texts[{name!r}] must be the text typed in the box, e.g. '9.5', got {type(text).__name__} {text!r}"
            )
    return dict(lab_texts)


def _check_pages(chapters: Any) -> list[str]:
    if chapters is None:
        return published_pages()
    if isinstance(chapters, str) or not all(isinstance(c, str) for c in chapters):
        raise ValueError(f"chapters must be a list of page names such as ['chapters/vascular'], got {chapters!r}")
    return sorted(set(chapters))


def _panel(
    chapter: str | None, findings: Any, lab_texts: Any, unit: str, chapters: Any, top_n: Any
) -> DifferentialPanel:
    top_n = _check_top_n(top_n)
    if unit not in labs.UNITS:
        raise ValueError(f"unit must be one of {labs.UNITS}, got {unit!r}")
    ids = _check_findings(findings)
    config = calculators.frontend_config(chapter, _check_pages(chapters))
    texts = _check_lab_texts(lab_texts, [f["analyte"] for f in config["lab_fields"]])
    return DifferentialPanel(
        knowledge=differential.frontend_knowledge(),
        config=config,
        findings=ids,
        lab_texts=texts,
        unit=unit,
        top_n=top_n,
    )


def differential_calculator(
    findings: Iterable[str] = (),
    lab_texts: Mapping[str, str] | None = None,
    unit: str = "mg/dL",
    chapters: Iterable[str] | None = None,
    top_n: int = 8,
) -> DifferentialPanel:
    """Build the full differential-diagnosis calculator, optionally pre-filled with a case.

    ``findings`` are vocabulary ids; ``lab_texts`` maps ``calcium``, ``phosphate``
    (in ``unit``, "mg/dL" or "mmol/L"), ``pth`` (pg/mL) and ``uric_acid`` (mg/dL)
    to the text of their boxes. ``chapters`` lists the book pages that exist, so that
    only those are linked (default: the pages of ``_toc.yml``). On the static site the
    calculator also reads a case from the page address (``?case=...&ca=...``). The
    ranking runs in the browser (``static/differential.js``), exactly as
    :func:`calcifications.differential.rank`. Raises ``ValueError`` for bad arguments.
    """
    return _panel(None, findings, lab_texts, unit, chapters, top_n)


def chapter_calculator(
    chapter: str,
    findings: Iterable[str] | None = None,
    lab_texts: Mapping[str, str] | None = None,
    unit: str = "mg/dL",
    chapters: Iterable[str] | None = None,
    top_n: int = 6,
) -> DifferentialPanel:
    """Build the calculator of one entity chapter (e.g. ``chapter_calculator("vascular")``).

    It offers the findings that matter in that chapter (``data/calculators.yml``), with
    the chapter's compartments ticked (``findings`` None) or the given ``findings``, the
    chapter's lab boxes, the ranking of every diagnosis with its "why", the mechanism
    bars, links to the sections, and a link that opens the full calculator with the
    same case. Same engine and knowledge base as :func:`differential_calculator`.
    Raises ``ValueError`` for an unknown chapter or bad arguments.
    """
    preset = calculators.chapter_preset(chapter)
    chosen = list(preset.compartments) if findings is None else findings
    return _panel(chapter, chosen, lab_texts, unit, chapters, top_n)
