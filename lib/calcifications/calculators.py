"""Settings of the differential calculators, from ``data/calculators.yml``.

One source for Python, the browser and the tests: the page-address parameters
of a case (``?case=...&ca=9.5&unit=mmol/L``), the lab boxes and their labels,
the titles of the finding groups, the short mechanism names, the page of the
full calculator and, for each entity chapter, its compartment preset and the
findings that matter there. :func:`frontend_config` sends them to the browser
(``static/calculator.js``) as data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from calcifications import differential, labs
from calcifications.book import section_anchor
from calcifications.vocabulary import vocabulary

# Finding groups in the order a calculator shows them; "absent" findings join "clinical".
GROUPS: tuple[str, ...] = ("compartment", "morphology", "distribution", "site", "clinical")


@dataclass(frozen=True)
class LabField:
    """One lab box: the analyte it reads, the lab key it feeds, its page-address parameter and label."""

    analyte: str
    key: str
    parameter: str
    label: str
    placeholder: str


@dataclass(frozen=True)
class ChapterPreset:
    """What a chapter's calculator shows: compartments ticked at first, findings by group, lab boxes."""

    chapter: str
    compartments: tuple[str, ...]
    findings: Mapping[str, tuple[str, ...]]
    labs: tuple[str, ...]


@dataclass(frozen=True)
class CalculatorSettings:
    """The validated contents of ``data/calculators.yml``."""

    calculator_page: str
    calculator_anchor: str
    unit_parameter: str
    lab_fields: tuple[LabField, ...]
    group_titles: Mapping[str, str]
    mechanism_labels: Mapping[str, str]
    chapters: Mapping[str, ChapterPreset]


def _group_of(finding_id: str) -> str:
    category = vocabulary().findings[finding_id].category
    return "clinical" if category == "absent" else category


def group_members() -> dict[str, list[str]]:
    """Every finding id of the vocabulary by calculator group, in vocabulary order."""
    vocab = vocabulary()
    members: dict[str, list[str]] = {group: [] for group in GROUPS}
    for fid in vocab.findings:
        members[_group_of(fid)].append(fid)
    return members


@lru_cache(maxsize=1)
def settings() -> CalculatorSettings:
    """Load and validate ``data/calculators.yml`` against the vocabulary and the lab table."""
    return parse_settings(
        yaml.safe_load(resources.files("calcifications").joinpath("data/calculators.yml").read_text("utf-8"))
    )


def parse_settings(raw: Any) -> CalculatorSettings:
    """Validate the parsed YAML of the calculators' settings; raises ``ValueError`` naming what is wrong."""
    vocab = vocabulary()
    lab_keys = labs.case_lab_table().keys
    fields = []
    for row in raw["lab_fields"]:
        field = LabField(**row)
        key = lab_keys.get(field.key)
        if key is None or key.analyte != field.analyte or key.unit not in ("mg/dL", "pg/mL"):
            raise ValueError(
                f"data/calculators.yml: lab field {row} must name a lab key of its analyte in mg/dL or pg/mL"
            )
        fields.append(field)
    parameters = [f.parameter for f in fields] + [raw["unit_parameter"], "case"]
    if len(set(parameters)) != len(parameters):
        raise ValueError(f"data/calculators.yml: page-address parameters must be distinct, got {parameters}")
    if list(raw["groups"]) != list(GROUPS):
        raise ValueError(f"data/calculators.yml: groups must be {list(GROUPS)}, got {list(raw['groups'])}")
    if set(raw["mechanism_labels"]) != set(vocab.mechanisms):
        raise ValueError("data/calculators.yml: mechanism_labels must name every mechanism of the vocabulary")
    analytes = {f.analyte for f in fields}
    known_chapters = {d["chapter"] for d in differential.frontend_knowledge()["diagnoses"]}
    chapters = {}
    for name, row in raw["chapters"].items():
        if f"chapters/{name}" not in known_chapters:
            raise ValueError(f"data/calculators.yml: no diagnosis of the knowledge base is taught in chapter {name!r}")
        findings = {}
        for group in GROUPS[1:]:
            ids = tuple(row[group])
            wrong = [i for i in ids if i not in vocab.findings or _group_of(i) != group]
            if wrong or len(set(ids)) != len(ids):
                raise ValueError(
                    f"data/calculators.yml: chapter {name}, {group}: unknown, misplaced or repeated ids {wrong or ids}"
                )
            findings[group] = ids
        compartments = tuple(row["compartments"])
        if not compartments or not set(compartments) <= set(vocab.compartments):
            raise ValueError(
                f"data/calculators.yml: chapter {name}: compartments must be some of {list(vocab.compartments)}"
            )
        if not set(row["labs"]) <= analytes:
            raise ValueError(f"data/calculators.yml: chapter {name}: labs must be some of {sorted(analytes)}")
        chapters[name] = ChapterPreset(name, compartments, findings, tuple(row["labs"]))
    return CalculatorSettings(
        calculator_page=raw["page"]["calculator"],
        calculator_anchor=raw["page"]["anchor"],
        unit_parameter=raw["unit_parameter"],
        lab_fields=tuple(fields),
        group_titles=dict(raw["groups"]),
        mechanism_labels=dict(raw["mechanism_labels"]),
        chapters=chapters,
    )


def url_parameters() -> tuple[str, ...]:
    """The page-address parameters of a case's lab boxes and unit, e.g. ("ca", "p", "pth", "ua", "unit")."""
    s = settings()
    return (*(f.parameter for f in s.lab_fields), s.unit_parameter)


def chapter_names() -> tuple[str, ...]:
    """The entity chapters that have a calculator preset, in the order of ``data/calculators.yml``."""
    return tuple(settings().chapters)


def chapter_preset(chapter: str) -> ChapterPreset:
    """Return the preset of an entity chapter; raises ``ValueError`` naming the valid chapters."""
    if not isinstance(chapter, str) or chapter not in settings().chapters:
        raise ValueError(f"unknown chapter {chapter!r}; expected one of {list(settings().chapters)}")
    return settings().chapters[chapter]


def section_links(pages: Iterable[str]) -> dict[str, str]:
    """Address (from the site root) of each diagnosis's section, for the diagnoses taught on ``pages``."""
    published = set(pages)
    return {
        d["id"]: f"{d['chapter']}.html#{section_anchor(d['id'])}"
        for d in differential.frontend_knowledge()["diagnoses"]
        if d["chapter"] in published
    }


def frontend_config(chapter: str | None, pages: Iterable[str]) -> dict[str, Any]:
    """Return the JSON-ready settings of one calculator for ``static/calculator.js``.

    ``chapter`` None gives the full calculator (every finding, every lab box, and a
    case read from the page address); an entity chapter's name gives that chapter's
    calculator. ``pages`` lists the published book pages ("chapters/vascular"), so
    that only existing sections are linked.
    """
    s = settings()
    members = group_members()
    preset = None if chapter is None else chapter_preset(chapter)
    shown = (
        {g: members[g] for g in GROUPS}
        if preset is None
        else {"compartment": members["compartment"], **{g: list(preset.findings[g]) for g in GROUPS[1:]}}
    )
    fields = [f for f in s.lab_fields if preset is None or f.analyte in preset.labs]
    pages = sorted(set(pages))
    return {
        "mode": "full" if preset is None else "chapter",
        "chapter": chapter or "",
        "groups": [{"id": g, "title": s.group_titles[g], "findings": shown[g]} for g in GROUPS],
        "by_compartment": differential.morphologies_by_compartment() if preset is None else {},
        "lab_fields": [
            {
                "analyte": f.analyte,
                "key": f.key,
                "parameter": f.parameter,
                "label": f.label,
                "placeholder": f.placeholder,
            }
            for f in fields
        ],
        "unit_parameter": s.unit_parameter,
        "mechanism_labels": dict(s.mechanism_labels),
        "links": section_links(pages),
        "calculator": {
            "page": f"{s.calculator_page}.html",
            "anchor": s.calculator_anchor,
            "published": s.calculator_page in pages,
        },
    }
