"""Unknown cases: a synthetic radiograph and a short vignette for any diagnosis, drawn from a seed.

A case of diagnosis ``d`` is drawn in three parts, each from data:

* the image: one of ``d``'s *presentations* in ``data/cases.yml`` (site, view,
  pattern ids of :mod:`calcifications.patterns` with parameter ranges), turned
  into a :class:`calcifications.figures.FigureSpec` and rendered by
  :func:`calcifications.figures.render_figure`;
* the history: age band, symptoms and the other clinical findings are drawn
  with the likelihoods P(finding | d) of the knowledge base
  (:func:`calcifications.differential.knowledge_base`), worded with the
  phrases of ``data/cases.yml``;
* the labs: the lab states (calcium, phosphate, product band, PTH, uric acid)
  are drawn with the knowledge base's state likelihoods, and each value
  uniformly within its state's range around the reference interval of
  ``data/labs.yml``.

A case's ``findings`` are exactly what the reader is given (what the image
shows plus the history told), so the engine can be asked to solve it
(:func:`calcifications.differential.rank`). Difficulty rules (``easy``,
``medium``, ``hard``) decide whether a *give-away* history that names the
diagnosis is kept, and how much history and lab work is told.

Everything is deterministic: the same diagnosis, seed and difficulty give the
same case, image and text. ``python -m calcifications.cases --deck`` writes
the book's committed deck (``figures/deck/cases/deck.json`` and one WebP image
per view of each case: ``case-001.webp``, and ``case-001-b.webp`` for a
presentation with a ``second_view``), byte-identical on every run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from calcifications import anatomy as anat
from calcifications import differential, figures, labs
from calcifications import patterns as pat
from calcifications.book import section_anchor
from calcifications.vocabulary import vocabulary

DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")
DECK_DIR = Path("figures") / "deck" / "cases"
DECK_FILE = "deck.json"
DECK_SEED = 2026
DECK_PER_DIAGNOSIS = 3
DECK_TRIES = 25
"""When building the deck, seeds tried per slot for a case the engine solves."""
MAX_IMAGE_BYTES = 80 * 1024
OPTIONS_SHOWN = 6
"""Choices offered at the morphology and diagnosis steps."""


# ---------------------------------------------------------------- data table


@dataclass(frozen=True)
class SecondView:
    """A second radiograph of the same deposits in another view of the site (the diagnosis depends on it).

    ``params`` holds one mapping per pattern of the presentation (same order):
    parameters that replace the first view's drawn values in this view (a
    location given as a point in mm belongs to one view only).
    """

    view: str
    alt: str
    params: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Presentation:
    """One way a diagnosis is drawn: site, view(s), patterns with parameter ranges, what the image shows."""

    site: str
    view: str
    patterns: tuple[Mapping[str, Any], ...]
    shows: tuple[str, ...]
    alt: str
    options: Mapping[str, Any]
    zoom_on: str | None
    second: SecondView | None = None
    history: tuple[str, ...] = ()
    """Clinical findings always told with this presentation (e.g. the acute pain of a deposit's
    resorptive phase); each replaces the draw of its vignette group."""


@dataclass(frozen=True)
class DiagnosisCases:
    """How cases of one diagnosis are drawn and judged."""

    id: str
    avoid: tuple[str, ...]
    giveaways: tuple[str, ...]
    labs: tuple[str, ...]
    next_accept: tuple[str, ...]
    next_why: str
    presentations: tuple[Presentation, ...]


@dataclass(frozen=True)
class CaseTable:
    """The validated contents of ``data/cases.yml``."""

    difficulties: Mapping[str, Mapping[str, Any]]
    age_years: Mapping[str, tuple[int, int]]
    vignette_groups: Mapping[str, tuple[str, ...]]
    image_findings: frozenset[str]
    not_drawn: frozenset[str]
    min_likelihood: float
    lab_ranges: Mapping[str, Mapping[str, Any]]
    lab_panels: Mapping[str, tuple[str, ...]]
    phrases: Mapping[str, str]
    compartment_clues: Mapping[str, str]
    next_steps: Mapping[str, str]
    chapters: Mapping[str, str]
    sides: Mapping[str, str]
    site_words: Mapping[str, str]
    diagnoses: Mapping[str, DiagnosisCases]


class CaseDataError(ValueError):
    """``data/cases.yml`` is malformed or disagrees with the vocabulary or the pattern ids."""


def _presentation(raw: Mapping[str, Any], where: str, vocab_findings: Mapping[str, Any]) -> Presentation:
    for key in ("site", "view", "patterns", "shows", "alt"):
        if key not in raw:
            raise CaseDataError(f"cases.yml: {where}: missing {key!r}")
    if raw["site"] not in vocabulary().findings or vocabulary().findings[raw["site"]].category != "site":
        raise CaseDataError(f"cases.yml: {where}: unknown site {raw['site']!r}")
    patterns = tuple(raw["patterns"])
    for p in patterns:
        if p.get("id") not in pat.MORPHOLOGIES:
            raise CaseDataError(f"cases.yml: {where}: unknown pattern id {p.get('id')!r}")
    shows = tuple(raw["shows"])
    unknown = [f for f in shows if f not in vocab_findings]
    if unknown:
        raise CaseDataError(f"cases.yml: {where}: unknown finding ids in 'shows': {unknown}")
    if not any(vocab_findings[f].category == "compartment" for f in shows):
        raise CaseDataError(f"cases.yml: {where}: 'shows' needs at least one compartment")
    if not any(vocab_findings[f].category == "morphology" for f in shows):
        raise CaseDataError(f"cases.yml: {where}: 'shows' needs at least one morphology")
    return Presentation(
        raw["site"],
        raw["view"],
        patterns,
        shows,
        " ".join(str(raw["alt"]).split()),
        dict(raw.get("options") or {}),
        raw.get("zoom_on"),
        _second_view(raw, where, patterns),
        _told_history(raw, where, vocab_findings),
    )


def _told_history(raw: Mapping[str, Any], where: str, vocab_findings: Mapping[str, Any]) -> tuple[str, ...]:
    told = tuple(raw.get("history") or ())
    bad = [f for f in told if f not in vocab_findings or vocab_findings[f].category not in ("clinical", "absent")]
    if bad:
        raise CaseDataError(f"cases.yml: {where}.history: not clinical finding ids: {bad}")
    return told


def _second_view(raw: Mapping[str, Any], where: str, patterns: Sequence[Mapping[str, Any]]) -> SecondView | None:
    second = raw.get("second_view")
    if second is None:
        return None
    if not isinstance(second, Mapping) or "view" not in second or "alt" not in second:
        raise CaseDataError(f"cases.yml: {where}.second_view needs 'view' and 'alt'")
    if second["view"] not in anat.views(raw["site"]) or second["view"] == raw["view"]:
        raise CaseDataError(
            f"cases.yml: {where}.second_view: view must be another view of {raw['site']} "
            f"({', '.join(anat.views(raw['site']))}), got {second['view']!r}"
        )
    if raw.get("zoom_on"):
        raise CaseDataError(f"cases.yml: {where}.second_view: a magnified view has no second view")
    params = tuple(dict(p or {}) for p in second.get("params") or ())
    if params and len(params) != len(patterns):
        raise CaseDataError(f"cases.yml: {where}.second_view.params: one mapping per pattern ({len(patterns)})")
    for pattern, override in zip(patterns, params):
        try:
            pat.check_parameters(pattern["id"], override, f"cases.yml: {where}.second_view")
        except ValueError as error:
            raise CaseDataError(str(error)) from None
    return SecondView(second["view"], " ".join(str(second["alt"]).split()), params or ({},) * len(patterns))


def parse_case_table(raw: Any) -> CaseTable:
    """Validate the parsed YAML of a case file against the vocabulary; raise :class:`CaseDataError`."""
    if not isinstance(raw, Mapping) or raw.get("version") != 1:
        raise CaseDataError("cases.yml: expected a mapping with version: 1")
    vocab = vocabulary()
    entries = raw.get("diagnoses") or {}
    if set(entries) != set(vocab.diagnoses):
        raise CaseDataError(
            f"cases.yml: diagnoses must match the vocabulary; missing "
            f"{sorted(set(vocab.diagnoses) - set(entries))}, unknown {sorted(set(entries) - set(vocab.diagnoses))}"
        )
    if tuple(raw.get("difficulties") or ()) != DIFFICULTIES:
        raise CaseDataError(f"cases.yml: difficulties must be {list(DIFFICULTIES)}")
    next_steps = dict(raw["next_steps"])
    if set(raw.get("compartment_clues") or {}) != set(vocab.compartments):
        raise CaseDataError("cases.yml: compartment_clues must give one clue per vocabulary compartment")
    phrases = dict(raw["phrases"])
    for fid in phrases:
        if fid not in vocab.findings:
            raise CaseDataError(f"cases.yml: phrases: unknown finding id {fid!r}")
    diagnoses = {}
    for did in vocab.diagnoses:
        entry = entries[did]
        where = f"diagnoses.{did}"
        accept = tuple(entry["next_step"]["accept"])
        if not accept or set(accept) - set(next_steps):
            raise CaseDataError(f"cases.yml: {where}.next_step.accept must be ids of next_steps, got {accept}")
        giveaways = tuple(entry.get("giveaways") or ())
        for fid in giveaways:
            if fid not in phrases:
                raise CaseDataError(f"cases.yml: {where}: give-away {fid!r} has no phrase")
        panels = tuple(entry.get("labs") or ())
        if set(panels) - set(raw["lab_panels"]):
            raise CaseDataError(f"cases.yml: {where}.labs: unknown panels {panels}")
        presentations = tuple(
            _presentation(p, f"{where}.presentations[{i}]", vocab.findings)
            for i, p in enumerate(entry.get("presentations") or ())
        )
        if not presentations:
            raise CaseDataError(f"cases.yml: {where}: needs at least one presentation")
        diagnoses[did] = DiagnosisCases(
            did,
            tuple(a.lower() for a in entry.get("avoid") or ()),
            giveaways,
            panels,
            accept,
            " ".join(str(entry["next_step"]["why"]).split()),
            presentations,
        )
    return CaseTable(
        difficulties=dict(raw["difficulties"]),
        age_years={k: (int(v[0]), int(v[1])) for k, v in raw["age_years"].items()},
        vignette_groups={k: tuple(v) for k, v in raw["vignette_groups"].items()},
        image_findings=frozenset(raw["image_findings"]),
        not_drawn=frozenset(raw.get("not_drawn") or ()),
        min_likelihood=float(raw["min_likelihood"]),
        lab_ranges=dict(raw["lab_ranges"]),
        lab_panels={k: tuple(v) for k, v in raw["lab_panels"].items()},
        phrases=phrases,
        compartment_clues=dict(raw["compartment_clues"]),
        next_steps=next_steps,
        chapters=dict(raw["chapters"]),
        sides=dict(raw["sides"]),
        site_words=dict(raw["site_words"]),
        diagnoses=diagnoses,
    )


@lru_cache(maxsize=1)
def case_table() -> CaseTable:
    """Load and validate ``data/cases.yml`` (cached)."""
    text = resources.files("calcifications").joinpath("data/cases.yml").read_text("utf-8")
    return parse_case_table(yaml.safe_load(text))


# ---------------------------------------------------------------- the case


@dataclass(frozen=True)
class LabValue:
    """One lab result of a case: analyte, value (mg/dL; PTH in pg/mL), unit and reference interval."""

    analyte: str
    label: str
    value: float
    unit: str
    reference: tuple[float, float]


@dataclass(frozen=True)
class Case:
    """One unknown case: the answer, what the reader is given, and the figure spec of its radiograph."""

    diagnosis: str
    difficulty: str
    seed: int
    presentation: int
    age: int
    sex: str
    side: str
    image_findings: tuple[str, ...]
    history: tuple[str, ...]
    labs: tuple[LabValue, ...]
    vignette: str
    spec: figures.FigureSpec
    second_spec: figures.FigureSpec | None = None

    @property
    def specs(self) -> tuple[figures.FigureSpec, ...]:
        """The case's radiographs: the first view, and the second when the presentation has one."""
        return (self.spec,) if self.second_spec is None else (self.spec, self.second_spec)

    @property
    def findings(self) -> tuple[str, ...]:
        """Every finding id the reader is given (image, then history), for the engine."""
        return self.image_findings + self.history

    @property
    def lab_keys(self) -> dict[str, float]:
        """The labs as the engine's vocabulary keys (``calcium_mg_dl``, ``pth_pg_ml``...)."""
        keys = {
            "calcium": "calcium_mg_dl",
            "phosphate": "phosphate_mg_dl",
            "pth": "pth_pg_ml",
            "uric_acid": "uric_acid_mg_dl",
        }
        return {keys[lab.analyte]: lab.value for lab in self.labs}

    @property
    def alt(self) -> str:
        """Alt text of the (first) radiograph: what it shows, without naming the diagnosis."""
        return self.spec.alt

    @property
    def alts(self) -> tuple[str, ...]:
        """Alt text of each radiograph, in order."""
        return tuple(s.alt for s in self.specs)


def _rng(*parts: Any) -> np.random.Generator:
    """A generator seeded by a stable hash of ``parts`` (no dependence on Python's hash seed)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def sample_parameter(value: Any, rng: np.random.Generator) -> Any:
    """Draw one parameter: ``{between: [a, b]}`` uniform (integers if a and b are), ``{one_of: [...]}``, else as is."""
    if isinstance(value, Mapping) and set(value) == {"between"}:
        low, high = value["between"]
        if isinstance(low, int) and isinstance(high, int):
            return int(rng.integers(low, high + 1))
        return round(float(rng.uniform(low, high)), 3)
    if isinstance(value, Mapping) and set(value) == {"one_of"}:
        return value["one_of"][int(rng.integers(len(value["one_of"])))]
    return value


def _as_spec_value(value: Any) -> Any:
    # The figure spec format stores lists as tuples (points, extents, finger lists).
    if isinstance(value, list):
        return tuple(_as_spec_value(v) for v in value)
    return value


def _base_spec(site: str) -> figures.FigureSpec:
    """A chapter figure of the same site: its beam, window and pixel size suit that part of the body."""
    for spec in figures.load_specs():
        if spec.site == site:
            return spec
    raise CaseDataError(f"no figure spec at {site!r} to take the beam and window from")


def figure_spec(presentation: Presentation, rng: np.random.Generator, case_id: str, alt: str) -> figures.FigureSpec:
    """The figure spec of one drawing of ``presentation``: parameters drawn from their ranges."""
    panel_patterns = tuple(
        figures.PatternSpec(
            p["id"], {k: _as_spec_value(sample_parameter(v, rng)) for k, v in (p.get("params") or {}).items()}
        )
        for p in presentation.patterns
    )
    options = {k: float(sample_parameter(v, rng)) for k, v in presentation.options.items()}
    base = _base_spec(presentation.site)
    return replace(
        base,
        # a chapter figure's framing suits its own view only (a lateral's zoom on a frontal case cut the calf off)
        zoom=base.zoom if base.projection == presentation.view else None,
        id=case_id,
        source_figure="",
        title=f"Unknown case {case_id}",
        projection=presentation.view,
        panels=(figures.PanelSpec(panel_patterns, False, options),),
        seed=int(rng.integers(1, 2**31 - 1)),
        zoom_on=presentation.zoom_on,
        alt=alt,
        caption=f"{figures.CAPTION_PREFIX} Unknown case {case_id}.",
    )


SECOND_SUFFIX = "-b"
"""The second radiograph's id is the case id with this suffix (its deck image ``case-001-b.webp``)."""


def second_spec(first: figures.FigureSpec, second: SecondView) -> figures.FigureSpec:
    """The second view of a drawn case: the same deposits (the first view's drawn sizes, counts, density
    and seed) seen in ``second.view``, with that view's parameter overrides."""
    (panel,) = first.panels
    patterns = tuple(
        replace(p, params={**p.params, **{k: _as_spec_value(v) for k, v in override.items()}})
        for p, override in zip(panel.patterns, second.params)
    )
    return replace(
        first,
        id=first.id + SECOND_SUFFIX,
        title=f"{first.title}, second view",
        projection=second.view,
        panels=(replace(panel, patterns=patterns),),
        alt=second.alt,
        caption=first.caption,
    )


def _renamed(spec: figures.FigureSpec, case_id: str, suffix: str = "") -> figures.FigureSpec:
    return replace(
        spec,
        id=case_id + suffix,
        title=f"Unknown case {case_id}" + (", second view" if suffix else ""),
        caption=f"{figures.CAPTION_PREFIX} Unknown case {case_id}.",
    )


def _likelihood(fid: str, index: int) -> float:
    return differential.knowledge_base().findings[fid].p[index]


def _pick_one(members: Sequence[str], weights: Sequence[float], rng: np.random.Generator) -> str | None:
    """One member with probability weight (normalised if they sum above 1), or None."""
    total = sum(weights)
    scale = 1 / total if total > 1 else 1.0
    u = rng.uniform()
    acc = 0.0
    for member, w in zip(members, weights):
        acc += w * scale
        if u < acc:
            return member
    return None


def _draw_history(
    diagnosis: str, difficulty: str, has_ca_p: bool, rng: np.random.Generator, always: Sequence[str] = ()
) -> tuple[str, tuple[str, ...]]:
    """Age band and the clinical findings told, drawn with the knowledge base's likelihoods.

    ``always`` (the presentation's history) are told in every case, each in place of its vignette group's draw.
    """
    table, vocab, kb = case_table(), vocabulary(), differential.knowledge_base()
    index = [d.id for d in kb.diagnoses].index(diagnosis)
    rule = table.difficulties[difficulty]
    ages = tuple(table.age_years)
    age = _pick_one(ages, [_likelihood(a, index) for a in ages], rng) or ages[-1]
    grouped = {f for members in table.vignette_groups.values() for f in members}
    candidates = [
        f
        for f, item in vocab.findings.items()
        if item.category in ("clinical", "absent")
        and f not in table.image_findings
        and f not in table.not_drawn
        and f not in ages
        and f not in grouped
    ]
    floor = table.min_likelihood

    def told_p(fid: str) -> float:
        p = _likelihood(fid, index)
        return p if p >= floor else 0.0

    told = []
    for members in table.vignette_groups.values():
        chosen = _pick_one(members, [told_p(f) for f in members], rng)
        fixed = [f for f in always if f in members]
        if fixed:
            chosen = fixed[0]
        if chosen:
            told.append(chosen)
    for fid in candidates:
        if rng.uniform() < told_p(fid) and fid not in always:
            told.append(fid)
    told += [f for f in always if f not in told]
    giveaways = set(table.diagnoses[diagnosis].giveaways)
    if rule["giveaways"]:
        told.extend(g for g in table.diagnoses[diagnosis].giveaways if g not in told)
    else:
        told = [f for f in told if f not in giveaways]
    if has_ca_p:
        told = [f for f in told if f != "normal_calcium_phosphate"]
    # The salient history first (largest evidence weight for the truth); the rest is left untold.
    weight = {f: abs(kb.findings[f].log_p[index] - kb.findings[f].log_marginal) for f in told}
    told.sort(key=lambda f: (f not in always, -weight[f], f))
    told = told[: int(rule["max_clinical"])]
    order = list(vocab.findings)
    return age, tuple(sorted(told, key=order.index))


def _lab_range(analyte: str, state: str) -> tuple[float, float]:
    """Value range (mg/dL; PTH pg/mL) of one lab state, from the reference interval and ``lab_ranges``."""
    if analyte in labs.lab_table().analytes:
        low, high = labs.lab_table().analytes[analyte].reference_mg_dl
    else:
        low, high = labs.case_lab_table().single_unit[analyte].reference
    rule = case_table().lab_ranges[state]
    a, b = rule["between"]
    if rule["of"] == "upper":
        return high * a, high * b
    if rule["of"] == "lower":
        return low * a, low * b
    return low + (high - low) * a, low + (high - low) * b


def _round_lab(analyte: str, value: float) -> float:
    return float(round(value)) if analyte == "pth" else round(value, 1)


def _draw_state(lab: str, index: int, rng: np.random.Generator) -> str:
    kb = differential.knowledge_base()
    states = differential.LAB_STATES[lab]
    weights = [kb.lab_terms[f"{lab}_{s}"].p[index] for s in states]
    return _pick_one(states, weights, rng) or states[-1]


def _draw_labs(diagnosis: str, difficulty: str, rng: np.random.Generator) -> tuple[LabValue, ...]:
    """Lab values drawn from the knowledge base's state likelihoods (calcium and phosphate consistent with the product)."""
    table, kb = case_table(), differential.knowledge_base()
    index = [d.id for d in kb.diagnoses].index(diagnosis)
    panels = list(table.diagnoses[diagnosis].labs)
    if not panels and rng.uniform() < float(table.difficulties[difficulty]["other_labs"]):
        panels = ["calcium_phosphate"]
    values: dict[str, float] = {}
    for panel in panels:
        analytes = table.lab_panels[panel]
        if set(analytes) == {"calcium", "phosphate"}:
            for _ in range(40):
                wanted = {lab: _draw_state(lab, index, rng) for lab in ("product", "calcium", "phosphate")}
                ca_p = {}
                for _ in range(60):
                    ca_p = {a: _round_lab(a, rng.uniform(*_lab_range(a, wanted[a]))) for a in ("calcium", "phosphate")}
                    band = labs.product_band(labs.calcium_phosphate_product(ca_p["calcium"], ca_p["phosphate"])).id
                    if band == wanted["product"]:
                        break
                else:
                    continue
                break
            values.update(ca_p)
        else:
            for analyte in analytes:
                state = _draw_state(analyte, index, rng)
                values[analyte] = _round_lab(analyte, rng.uniform(*_lab_range(analyte, state)))
    result = []
    for analyte, value in values.items():
        if analyte in labs.lab_table().analytes:
            a = labs.lab_table().analytes[analyte]
            result.append(LabValue(analyte, a.label, value, "mg/dL", tuple(a.reference_mg_dl)))
        else:
            s = labs.case_lab_table().single_unit[analyte]
            result.append(LabValue(analyte, s.label, value, s.unit, tuple(s.reference)))
    return tuple(result)


def _format_number(value: float) -> str:
    return f"{value:g}"


def _view_words(view: str) -> str:
    return view.replace("_", " ")


def _vignette(
    age: int, sex: str, history: Sequence[str], lab_values: Sequence[LabValue], presentation: Presentation, side: str
) -> str:
    table = case_table()
    female = sex == "female"
    person = ("girl" if female else "boy") if age < 15 else ("woman" if female else "man")
    article = "An" if str(age).startswith("8") or age in (11, 18) else "A"
    sentences = [f"{article} {age}-year-old {person}."]
    sentences += [table.phrases[f] for f in history if f in table.phrases]
    if lab_values:
        parts = [
            f"{lab.label.split(' (')[0].lower().replace('intact parathyroid hormone', 'PTH')} "
            f"{_format_number(lab.value)} {lab.unit} (reference {_format_number(lab.reference[0])}–"
            f"{_format_number(lab.reference[1])})"
            for lab in lab_values
        ]
        sentences.append("Labs: " + "; ".join(parts) + ".")
    place = table.site_words[presentation.site]
    where = place if presentation.site == "site_buttock" else f"{side} {place}"
    magnified = "magnified " if presentation.zoom_on else ""
    if presentation.second is None:
        sentences.append(f"Radiograph: {magnified}{_view_words(presentation.view)} view of the {where}.")
    else:
        views = f"{_view_words(presentation.view)} and {_view_words(presentation.second.view)}"
        sentences.append(f"Radiographs: {views} views of the {where}.")
    return " ".join(sentences)


def draw_case(
    diagnosis: str, seed: int, difficulty: str = "medium", presentation: int | None = None, case_id: str = "case"
) -> Case:
    """Draw one case of ``diagnosis`` from ``seed`` (deterministic).

    ``difficulty`` is one of :data:`DIFFICULTIES`; ``presentation`` picks one
    of the diagnosis's presentations in ``data/cases.yml`` by index (default:
    drawn). Raises ``ValueError`` for an unknown diagnosis, difficulty or
    presentation index.
    """
    table = case_table()
    if diagnosis not in table.diagnoses:
        close = ", ".join(d for d in table.diagnoses if diagnosis and diagnosis[:4] in d) or "see vocabulary.yml"
        raise ValueError(f"unknown diagnosis {diagnosis!r}; known ids include: {close}")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    entry = table.diagnoses[diagnosis]
    rng = _rng("case", diagnosis, difficulty, int(seed))
    count = len(entry.presentations)
    if presentation is None:
        presentation = int(rng.integers(count))
    elif not 0 <= presentation < count:
        raise ValueError(f"{diagnosis} has presentations 0 to {count - 1}, got {presentation}")
    chosen = entry.presentations[presentation]
    site_findings = (chosen.site,)
    image_findings = tuple(dict.fromkeys(chosen.shows + site_findings))
    spec = figure_spec(chosen, rng, case_id, chosen.alt)
    second = None if chosen.second is None else second_spec(spec, chosen.second)
    sex = "female" if rng.uniform() < 0.5 else "male"
    side = table.sides[anat.side_marker(chosen.site, chosen.view)]  # the side the film's marker shows
    lab_values = _draw_labs(diagnosis, difficulty, rng)
    has_ca_p = any(lab.analyte in ("calcium", "phosphate") for lab in lab_values)
    age_band, history = _draw_history(diagnosis, difficulty, has_ca_p, rng, chosen.history)
    low, high = table.age_years[age_band]
    age = int(rng.integers(low, high + 1))
    vignette = _vignette(age, sex, history, lab_values, chosen, side)
    return Case(
        diagnosis,
        difficulty,
        int(seed),
        presentation,
        age,
        sex,
        side,
        image_findings,
        (age_band, *history),
        lab_values,
        vignette,
        spec,
        second,
    )


def random_case(seed: int, diagnoses: Iterable[str] | None = None, difficulties: Iterable[str] | None = None) -> Case:
    """Draw a diagnosis (uniformly among ``diagnoses``, default all), a difficulty and a case, from ``seed``."""
    pool = sorted(set(diagnoses)) if diagnoses is not None else list(case_table().diagnoses)
    levels = [d for d in DIFFICULTIES if difficulties is None or d in set(difficulties)]
    if not pool or not levels:
        raise ValueError("no diagnosis or difficulty left to draw from: widen the filters")
    rng = _rng("random", int(seed))
    diagnosis = pool[int(rng.integers(len(pool)))]
    difficulty = levels[int(rng.integers(len(levels)))]
    return draw_case(diagnosis, int(rng.integers(1, 2**31 - 1)), difficulty, case_id=f"live-{seed}")


def solve(case: Case) -> list[differential.Candidate]:
    """The engine's ranking from the case's own findings and labs."""
    return differential.rank(case.findings, case.lab_keys or None)


def forbidden_terms(diagnosis: str) -> tuple[str, ...]:
    """Lower-case words a non-easy vignette (and any alt text) of ``diagnosis`` must not contain."""
    label = vocabulary().diagnoses[diagnosis].label.lower()
    return (label, label.split(" (")[0], *case_table().diagnoses[diagnosis].avoid)


# ---------------------------------------------------------------- the reader's record


def _options(
    answers: Sequence[str], pool: Sequence[str], rng: np.random.Generator, n: int = OPTIONS_SHOWN
) -> list[str]:
    """The accepted answers' first member plus distractors from ``pool`` (in order), shuffled; ``n`` in all."""
    chosen = [answers[0]]
    for item in pool:
        if len(chosen) >= n:
            break
        if item not in chosen and item not in answers:
            chosen.append(item)
    order = rng.permutation(len(chosen))
    return [chosen[i] for i in order]


def _percent(p: float) -> str:
    """A probability as a reader-friendly percentage ('<1 %', '>99 %', '37 %')."""
    if p < 0.005:
        return "<1 %"
    if p > 0.995:
        return ">99 %"
    return f"{100 * p:.0f} %"


def _short(label: str) -> str:
    return label.split(" (")[0]


def case_record(case: Case, images: str | Sequence[str], published: Iterable[str] | None = None) -> dict[str, Any]:
    """The compact JSON record of a case for the widget (``static/unknown_cases.js``).

    Ids only: the names and explanations they refer to are in :func:`record_labels`
    (carried once per deck). ``images`` are the URLs of the case's radiographs
    in order (a file name relative to the deck, or a data URI; one string for
    a one-view case); ``published`` are the book pages that exist, to link only those.
    """
    urls = [images] if isinstance(images, str) else list(images)
    if len(urls) != len(case.specs):
        raise ValueError(f"case {case.spec.id} has {len(case.specs)} radiograph(s), got {len(urls)} image URL(s)")
    table, vocab = case_table(), vocabulary()
    kb = differential.knowledge_base()
    entry = table.diagnoses[case.diagnosis]
    info = vocab.diagnoses[case.diagnosis]
    chapter = next(d.chapter for d in kb.diagnoses if d.id == case.diagnosis)
    rng = _rng("options", case.diagnosis, case.difficulty, case.seed)
    ranked = solve(case)
    rank_of_truth = next(i for i, c in enumerate(ranked) if c.diagnosis == case.diagnosis)
    truth = ranked[rank_of_truth]
    runner = next(c for c in ranked if c.diagnosis != case.diagnosis)
    compartments = [f for f in case.image_findings if vocab.findings[f].category == "compartment"]
    main_compartment = info.compartment if info.compartment in compartments else compartments[0]
    compartments = [main_compartment] + [c for c in compartments if c != main_compartment]
    morphologies = [f for f in case.image_findings if vocab.findings[f].category == "morphology"]
    by_compartment = differential.morphologies_by_compartment()
    morph_pool = [m for c in vocab.compartments for m in by_compartment[c]]
    morph_pool += [f for f, item in vocab.findings.items() if item.category == "morphology"]
    morph_pool = list(dict.fromkeys(morph_pool))
    rng.shuffle(morph_pool)
    href = f"{chapter}.html#{section_anchor(case.diagnosis)}"
    linked = published is None or chapter in set(published)
    return {
        "diagnosis": case.diagnosis,
        "difficulty": case.difficulty,
        "chapter": chapter,
        "mechanism": info.mechanism,
        "href": href if linked else "",
        "images": [[url, alt] for url, alt in zip(urls, case.alts)],
        "vignette": case.vignette,
        "compartment": compartments,
        "morphology": {"options": _options(morphologies, morph_pool, rng), "accept": morphologies},
        "options": _options([case.diagnosis], [c.diagnosis for c in ranked], rng),
        "next_step": list(entry.next_accept),
        "engine": {
            "rank": rank_of_truth + 1,
            "p": _percent(truth.probability),
            "runner": runner.diagnosis,
            "runner_p": _percent(runner.probability),
            "evidence": [[e.id, round(e.weight, 2)] for e in truth.evidence[:6]],
        },
    }


def record_labels(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Names and explanations the records refer to, each once: compartments, shapes, diagnoses, next steps, evidence."""
    table, vocab, kb = case_table(), vocabulary(), differential.knowledge_base()
    terms = {**{fid: t.label for fid, t in kb.findings.items()}, **{tid: t.label for tid, t in kb.lab_terms.items()}}
    evidence = sorted({e[0] for r in records for e in r["engine"]["evidence"]})

    def term_label(term_id: str) -> str:
        return " or ".join(terms[part] for part in term_id.split("+"))

    return {
        "compartment": {c: _short(label) for c, label in vocab.compartments.items()},
        "compartment_why": dict(table.compartment_clues),
        "morphology": {f: item.label for f, item in vocab.findings.items() if item.category == "morphology"},
        "diagnosis": {d: item.label for d, item in vocab.diagnoses.items()},
        "chapter": dict(table.chapters),
        "next_step": dict(table.next_steps),
        "next_step_why": {d: entry.next_why for d, entry in table.diagnoses.items()},
        "evidence": {e: term_label(e) for e in evidence},
    }


# ---------------------------------------------------------------- the deck


def deck_cases(per_diagnosis: int = DECK_PER_DIAGNOSIS, base_seed: int = DECK_SEED) -> list[Case]:
    """The book's deck: ``per_diagnosis`` cases of every diagnosis, cycling difficulties and presentations.

    For each slot the first of :data:`DECK_TRIES` seeds whose case the engine
    solves (truth ranked first) is kept, else the best-ranked one; the deck is
    then shuffled (seeded) and numbered ``case-001``...
    """
    table = case_table()
    drawn = []
    for d_index, diagnosis in enumerate(table.diagnoses):
        entry = table.diagnoses[diagnosis]
        for k in range(per_diagnosis):
            difficulty = DIFFICULTIES[k % len(DIFFICULTIES)]
            presentation = k % len(entry.presentations)
            best: tuple[int, Case] | None = None
            for attempt in range(DECK_TRIES):
                seed = base_seed + 1000 * d_index + 100 * k + attempt
                case = draw_case(diagnosis, seed, difficulty, presentation)
                rank = [c.diagnosis for c in solve(case)].index(diagnosis)
                if best is None or rank < best[0]:
                    best = (rank, case)
                if rank == 0:
                    break
            assert best is not None
            drawn.append(best[1])
    order = _rng("deck", base_seed).permutation(len(drawn))
    deck = []
    for number, i in enumerate(order, 1):
        case = drawn[i]
        case_id = f"case-{number:03d}"
        second = None if case.second_spec is None else _renamed(case.second_spec, case_id, SECOND_SUFFIX)
        deck.append(replace(case, spec=_renamed(case.spec, case_id), second_spec=second))
    return deck


def deck_json(cases: Sequence[Case], published: Iterable[str] | None = None) -> dict[str, Any]:
    """The deck file's content: filter options, labels (once) and one compact record per case (image ``<id>.webp``)."""
    table, vocab = case_table(), vocabulary()
    records = [{"id": c.spec.id, **case_record(c, [f"{s.id}.webp" for s in c.specs], published)} for c in cases]
    return {
        "version": 1,
        "note": "Generated by `python -m calcifications.cases --deck`; do not edit by hand.",
        "chapters": [[k, v] for k, v in table.chapters.items()],
        "mechanisms": [[k, _short(v)] for k, v in vocab.mechanisms.items()],
        "difficulties": list(DIFFICULTIES),
        "labels": record_labels(records),
        "cases": records,
    }


def deck_text(deck: Mapping[str, Any]) -> str:
    """The deck as JSON text: compact, one case per line (small to fetch, readable in a diff)."""
    head = {k: v for k, v in deck.items() if k != "cases"}
    lines = [json.dumps(c, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for c in deck["cases"]]
    body = json.dumps(head, ensure_ascii=False, sort_keys=True, separators=(",", ":"))[:-1]
    return body + ',"cases":[\n' + ",\n".join(lines) + "\n]}\n"


def solve_rate(seeds: Iterable[int]) -> tuple[int, int]:
    """(solved, drawn): how many random cases of ``seeds`` the engine ranks right first."""
    solved = drawn = 0
    for seed in seeds:
        case = random_case(seed)
        drawn += 1
        solved += solve(case)[0].diagnosis == case.diagnosis
    return solved, drawn


def deck_summary(cases: Sequence[Case] | None = None, random_seeds: int = 520) -> str:
    """Plain-text summary of the deck (counts per difficulty, cases the engine solves) and of random draws."""
    cases = deck_cases() if cases is None else list(cases)
    vocab = vocabulary()
    per_level = {d: sum(c.difficulty == d for c in cases) for d in DIFFICULTIES}
    per_diagnosis = {d: sum(c.diagnosis == d for c in cases) for d in vocab.diagnoses}
    missed = [c for c in cases if solve(c)[0].diagnosis != c.diagnosis]
    lines = [
        f"{len(cases)} cases: "
        + ", ".join(f"{n} {d}" for d, n in per_level.items())
        + f"; every diagnosis at least {min(per_diagnosis.values())} times."
    ]
    lines.append(
        f"The engine ranks the right diagnosis first in {len(cases) - len(missed)} of them "
        f"({100 * (len(cases) - len(missed)) / len(cases):.0f} %)."
    )
    if missed:
        names = sorted({vocab.diagnoses[c.diagnosis].label for c in missed})
        lines.append("Not first in: " + "; ".join(names) + ".")
    solved, drawn = solve_rate(range(random_seeds))
    lines.append(
        f"Random cases drawn with seeds 0 to {drawn - 1}: the engine ranks the right diagnosis first "
        f"in {solved} ({100 * solved / drawn:.0f} %)."
    )
    return "\n".join(lines)


def encode_image(case: Case) -> bytes:
    """The case's (first) radiograph as WebP bytes (deterministic)."""
    return encode_spec(case.spec)


def encode_spec(spec: figures.FigureSpec) -> bytes:
    """One radiograph of a case as WebP bytes (deterministic)."""
    return figures.encode_webp(figures.render_figure(spec))  # as the figures: light, byte-identical


def encode_images(case: Case) -> list[bytes]:
    """Every radiograph of the case (one or two views) as WebP bytes, in order."""
    return [encode_spec(spec) for spec in case.specs]


def write_deck(out: Path = DECK_DIR, stream: Any = None, images: bool = True) -> list[Path]:
    """Render the deck into ``out`` (the book's is ``figures/deck/cases/deck.json``): the JSON, one line per case, and each case's WebP image (unless not ``images``)."""
    from calcifications.book import published_pages

    stream = sys.stdout if stream is None else stream
    out.mkdir(parents=True, exist_ok=True)
    cases = deck_cases()
    written = []
    ids = {s.id for c in cases for s in c.specs}
    for old in [*out.glob("case-*.png"), *out.glob("case-*.webp")]:
        if old.stem not in ids:
            old.unlink()
    for k, case in enumerate(cases if images else [], 1):
        for spec in case.specs:
            data = encode_spec(spec)
            path = out / f"{spec.id}.webp"
            path.write_bytes(data)
            flag = "" if len(data) <= MAX_IMAGE_BYTES else "  (over size budget)"
            print(
                f"[{k:2d}/{len(cases)}] {spec.id:10} {case.difficulty:6} {len(data) / 1024:5.1f} KB{flag}",
                file=stream,
                flush=True,
            )
            written.append(path)
    pages = published_pages(out.resolve())
    path = out / DECK_FILE
    path.write_text(deck_text(deck_json(cases, pages or None)), "utf-8")
    written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m calcifications.cases --deck [--out figures/deck/cases]``, or print cases."""
    parser = argparse.ArgumentParser(description="Unknown cases: write the book's deck, or print drawn cases.")
    parser.add_argument("--deck", action="store_true", help="write the committed deck (JSON and WebP files)")
    parser.add_argument("--json-only", action="store_true", help="with --deck: rewrite deck.json only (text changes)")
    parser.add_argument("--out", type=Path, default=DECK_DIR, help=f"deck folder (default: {DECK_DIR})")
    parser.add_argument(
        "--print", type=int, default=0, metavar="N", help="print N random cases and the engine's answer"
    )
    args = parser.parse_args(argv)
    if args.deck:
        write_deck(args.out, images=not args.json_only)
    for seed in range(args.print):
        case = random_case(seed)
        top = solve(case)[0]
        print(f"{seed:3d} {case.diagnosis:42} {case.difficulty:6} engine: {top.diagnosis} ({top.probability:.2f})")
        print("    " + case.vignette)
    if not args.deck and not args.print:
        parser.print_help()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
