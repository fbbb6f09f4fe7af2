"""Differential diagnosis of soft-tissue calcifications: a transparent naive Bayes ranker.

The public contract, shared with the book's calculators, its tests and outside
evaluators (its text is ``spec/differential-api.md`` in the project's shared
folder beside the repository; it is not shipped with the package):

* ``rank(findings, labs=None) -> list[Candidate]``: ``findings`` are
  compartment and finding ids of the vocabulary, in any order, duplicates
  allowed (none gives the prior); ``labs`` maps the vocabulary's lab keys to
  numbers. One candidate per diagnosis, most probable first, ties broken by
  diagnosis id; probabilities finite, in [0, 1], summing to 1 within 1e-9,
  independent of the order and repetition of the findings.
* Unknown finding ids raise :class:`UnknownFindingError` (a ``ValueError``)
  naming the bad id and the closest valid ids; lab values that are not
  finite, negative, implausible, of an unknown key or given twice in
  conflicting units raise ``ValueError`` saying what range or unit is
  expected. Nothing is silently dropped.
* :class:`Candidate` carries ``diagnosis``, ``label``, ``mechanism``,
  ``probability``, ``evidence`` (signed weights, strongest first) and
  ``chapter`` (the book page that teaches it).
* :func:`calcium_phosphate_product` (mg²/dL²; the one implementation, from
  :mod:`calcifications.labs`) and :func:`mechanism_probabilities` (sums by
  mechanism id).

The numbers live in ``data/knowledge.yml``; this module only loads them,
checks them and does the arithmetic.

The model
---------
For every diagnosis ``d`` of the vocabulary::

    score(d) = ln prior(d) + Σ over evidence terms e of ln P(e | d)
    P(d | case) = exp(score(d) - max score) / Σ exp(score - max score)

* Evidence terms are the PRESENT findings (a finding that is not given is
  unknown and contributes nothing), the explicit "absent" ids
  (``normal_calcium_phosphate``, ``no_trauma_history``, ``no_kidney_disease``)
  with their own likelihoods, and the lab states derived from the numbers.
* A diagnosis that does not list a finding gets the finding's default (leak)
  likelihood, so nothing is ever impossible.
* Members of a mutually exclusive group (age bands, solitary vs multiple,
  kidney disease vs normal renal function) given together count once, as
  the event "one of these": likelihood Σ P(member | d), term id the members
  joined by ``+`` in sorted order.
* Lab states: calcium and phosphate give the calcium-phosphate product band
  (``product_below`` < 60 ≤ ``product_within`` < 70 ≤ ``product_above``, in
  mg²/dL²) and ``calcium_high``/``calcium_not_high``,
  ``phosphate_high``/``phosphate_not_high`` (above the upper reference limit
  of ``data/labs.yml`` or not); PTH gives ``pth_high``/``pth_normal``/
  ``pth_suppressed`` (above, within, below its reference range); uric acid
  gives ``uric_acid_high``/``uric_acid_not_high``.
* Terms are summed in the order of their ids and ties in probability are
  broken by diagnosis id, so the result is deterministic and independent of
  the order or repetition of the findings.

Evidence weights
----------------
Each :class:`Evidence` carries ``weight = ln P(e | d) - ln P(e)`` in nats,
where ``P(e) = Σ_d' prior(d') P(e | d')`` is how often the evidence occurs in
the average calcification of the prior. Positive weight: the evidence favours
``d`` more than it favours the typical case; the weights of a candidate plus
``ln prior(d)`` equal its score up to a constant shared by all diagnoses, so
they explain exactly how the case moved the diagnosis away from its prior.
Terms whose |weight| is below 1e-9 nat (uninformative for ``d``) are left out.

The browser mirror, ``static/differential.js``, reads
:func:`frontend_knowledge` and repeats these steps one for one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from calcifications import labs as _labs
from calcifications.labs import calcium_phosphate_product
from calcifications.vocabulary import ABSENT_CATEGORY, Vocabulary, vocabulary

__all__ = [
    "Candidate",
    "Evidence",
    "UnknownFindingError",
    "FindingsTypeError",
    "KnowledgeError",
    "rank",
    "calcium_phosphate_product",
    "mechanism_probabilities",
    "knowledge_base",
    "frontend_knowledge",
]

EVIDENCE_THRESHOLD = 1e-9
"""Evidence with |weight| at or below this many nats is not reported."""

LAB_STATES: dict[str, tuple[str, ...]] = {
    "product": ("below", "within", "above"),
    "calcium": ("high", "not_high"),
    "phosphate": ("high", "not_high"),
    "pth": ("high", "normal", "suppressed"),
    "uric_acid": ("high", "not_high"),
}
_CHAPTER = re.compile(r"^chapters/[a-z0-9][a-z0-9-]*$")
_SUM_TOLERANCE = 1e-9


# ---------------------------------------------------------------- public types


@dataclass(frozen=True)
class Evidence:
    """One finding, group of findings or lab state that moved a diagnosis.

    ``weight`` is ``ln P(evidence | diagnosis) - ln P(evidence)`` in nats
    (see the module docstring): positive favours the diagnosis.
    """

    id: str
    label: str
    weight: float


@dataclass(frozen=True)
class Candidate:
    """One ranked diagnosis with its posterior probability and the evidence behind it."""

    diagnosis: str
    label: str
    mechanism: str
    probability: float
    evidence: tuple[Evidence, ...]
    chapter: str


class UnknownFindingError(ValueError):
    """A finding id that is not in the vocabulary; the message names the closest valid ids."""

    def __init__(self, finding: Any, suggestions: Iterable[str] = (), hint: str = "") -> None:
        self.finding = finding
        self.suggestions = tuple(suggestions)
        if self.suggestions:
            closest = "did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        else:
            closest = "no close match; the valid ids are the compartments and findings of vocabulary.yml"
        message = f"unknown finding id {finding!r}: {hint + '; ' if hint else ''}{closest}"
        super().__init__(message)


class KnowledgeError(ValueError):
    """``data/knowledge.yml`` is malformed or disagrees with the vocabulary."""


# ---------------------------------------------------------------- knowledge base


@dataclass(frozen=True)
class Term:
    """One evidence term with its likelihood for every diagnosis (in diagnosis order)."""

    id: str
    label: str
    p: tuple[float, ...]
    log_p: tuple[float, ...]
    log_marginal: float
    evidence: tuple[Evidence | None, ...]


@dataclass(frozen=True)
class DiagnosisEntry:
    """A diagnosis of the knowledge base: vocabulary data plus prior and chapter."""

    id: str
    label: str
    mechanism: str
    chapter: str
    prior: float


@dataclass(frozen=True)
class KnowledgeBase:
    """The validated knowledge base, with the log-likelihood table precomputed."""

    diagnoses: tuple[DiagnosisEntry, ...]
    log_prior: tuple[float, ...]
    findings: Mapping[str, Term]
    group_of: Mapping[str, str]
    groups: Mapping[str, tuple[str, ...]]
    lab_terms: Mapping[str, Term]
    lab_needs: Mapping[str, tuple[str, ...]]
    cites: frozenset[str]


def _probability(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise KnowledgeError(f"knowledge.yml: {where}: probability must be a number in (0, 1), got {value!r}")
    return float(value)


def _cited(row: Any, where: str, cites: set[str]) -> Any:
    if not isinstance(row, Mapping) or set(row) - {"p", "cite"} or "p" not in row:
        raise KnowledgeError(f"knowledge.yml: {where}: expected {{p: ..., cite: ...}}, got {row!r}")
    cite = row.get("cite")
    if not isinstance(cite, str) or not cite.strip():
        raise KnowledgeError(f"knowledge.yml: {where}: every row needs a cite key from references.bib")
    cites.add(cite)
    return row["p"]


def _categorical(row: Any, states: tuple[str, ...], where: str, cites: set[str]) -> dict[str, float]:
    p = _cited(row, where, cites)
    if not isinstance(p, Mapping) or set(p) != set(states):
        raise KnowledgeError(f"knowledge.yml: {where}: states must be exactly {list(states)}, got {p!r}")
    values = {s: _probability(p[s], f"{where}.{s}") for s in states}
    if abs(sum(values.values()) - 1) > _SUM_TOLERANCE:
        raise KnowledgeError(f"knowledge.yml: {where}: state probabilities must sum to 1, got {sum(values.values())}")
    return values


def _make_term(term_id: str, label: str, p: tuple[float, ...], prior: tuple[float, ...]) -> Term:
    # Plain left-to-right sums: the JavaScript mirror repeats them in the same order.
    marginal = 0.0
    for w, q in zip(prior, p):
        marginal += w * q
    log_marginal = math.log(marginal)
    log_p = tuple(math.log(q) for q in p)
    evidence = tuple(
        Evidence(term_id, label, lp - log_marginal) if abs(lp - log_marginal) > EVIDENCE_THRESHOLD else None
        for lp in log_p
    )
    return Term(term_id, label, p, log_p, log_marginal, evidence)


def _finding_likelihoods(raw: Mapping[str, Any], vocab: Vocabulary, cites: set[str]) -> dict[str, dict[str, float]]:
    """Return {finding: {diagnosis: p}} with defaults filled in, after validation."""
    defaults = raw.get("defaults") or {}
    by_category = {
        cat: _probability(_cited(row, f"defaults.category.{cat}", cites), f"defaults.category.{cat}")
        for cat, row in (defaults.get("category") or {}).items()
    }
    by_finding = {}
    for fid, row in (defaults.get("finding") or {}).items():
        if fid not in vocab.findings:
            raise KnowledgeError(f"knowledge.yml: defaults.finding: unknown finding id {fid!r}")
        by_finding[fid] = _probability(_cited(row, f"defaults.finding.{fid}", cites), f"defaults.finding.{fid}")
    table: dict[str, dict[str, float]] = {}
    for fid, finding in vocab.findings.items():
        if fid in by_finding:
            default = by_finding[fid]
        elif finding.category == ABSENT_CATEGORY or finding.category not in by_category:
            # An absent id's default is a base rate, not a leak: it must be stated.
            raise KnowledgeError(
                f"knowledge.yml: finding {fid!r} ({finding.category}) needs a default in defaults.finding"
            )
        else:
            default = by_category[finding.category]
        table[fid] = dict.fromkeys(vocab.diagnoses, default)
    for did, entry in raw["diagnoses"].items():
        for fid, row in (entry.get("findings") or {}).items():
            where = f"diagnoses.{did}.findings.{fid}"
            if fid not in vocab.findings:
                close = vocab.closest_findings(fid)
                raise KnowledgeError(f"knowledge.yml: {where}: unknown finding id {fid!r}; closest: {close}")
            table[fid][did] = _probability(_cited(row, where, cites), where)
    return table


def _check_groups(
    raw: Mapping[str, Any], table: Mapping[str, Mapping[str, float]], vocab: Vocabulary
) -> dict[str, tuple[str, ...]]:
    groups: dict[str, tuple[str, ...]] = {}
    seen: set[str] = set()
    for name, members in (raw.get("exclusive_groups") or {}).items():
        if not isinstance(members, list) or len(members) < 2:
            raise KnowledgeError(f"knowledge.yml: exclusive group {name!r} needs at least two finding ids")
        for fid in members:
            if fid not in vocab.findings:
                raise KnowledgeError(f"knowledge.yml: exclusive group {name!r}: unknown finding id {fid!r}")
            if fid in seen:
                raise KnowledgeError(f"knowledge.yml: finding {fid!r} is in two exclusive groups")
            seen.add(fid)
        for did in vocab.diagnoses:
            total = sum(table[fid][did] for fid in members)
            if total > 1 + _SUM_TOLERANCE:
                raise KnowledgeError(
                    f"knowledge.yml: exclusive group {name!r} sums to {total:.4g} > 1 for {did!r}; "
                    "mutually exclusive findings cannot be more likely than certain"
                )
        groups[name] = tuple(members)
    return groups


def _lab_likelihoods(
    raw: Mapping[str, Any], vocab: Vocabulary, cites: set[str]
) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, Any]]:
    """Return {lab: {diagnosis: {state: p}}} and the lab_states section, after validation."""
    states_section = raw.get("lab_states") or {}
    if set(states_section) != set(LAB_STATES):
        raise KnowledgeError(f"knowledge.yml: lab_states must describe exactly {sorted(LAB_STATES)}")
    band_ids = tuple(b.id for b in _labs.lab_table().product_bands)
    if band_ids != LAB_STATES["product"]:
        raise KnowledgeError(
            f"knowledge.yml: product states {LAB_STATES['product']} differ from labs.yml bands {band_ids}"
        )
    for lab, section in states_section.items():
        if tuple(section.get("states") or ()) != LAB_STATES[lab]:
            raise KnowledgeError(f"knowledge.yml: lab_states.{lab}.states must be {list(LAB_STATES[lab])}")
    lab_defaults = raw.get("lab_defaults") or {}
    result: dict[str, dict[str, dict[str, float]]] = {}
    for lab, states in LAB_STATES.items():
        if lab not in lab_defaults:
            raise KnowledgeError(f"knowledge.yml: lab_defaults.{lab} is missing")
        default = _categorical(lab_defaults[lab], states, f"lab_defaults.{lab}", cites)
        result[lab] = dict.fromkeys(vocab.diagnoses, default)
    for did, entry in raw["diagnoses"].items():
        for lab, row in (entry.get("labs") or {}).items():
            if lab not in LAB_STATES:
                raise KnowledgeError(
                    f"knowledge.yml: diagnoses.{did}.labs: unknown lab {lab!r}; expected {sorted(LAB_STATES)}"
                )
            result[lab][did] = _categorical(row, LAB_STATES[lab], f"diagnoses.{did}.labs.{lab}", cites)
    return result, states_section


def parse_knowledge(raw: Any, vocab: Vocabulary) -> KnowledgeBase:
    """Validate the parsed YAML of a knowledge file against ``vocab`` and precompute its tables.

    Raises :class:`KnowledgeError` (a ``ValueError``) naming the first problem:
    a diagnosis missing or unknown, a finding id not in the vocabulary, a
    probability outside (0, 1), a row without ``cite``, priors or lab states
    that do not sum to 1, an exclusive group that sums above 1.
    """
    if not isinstance(raw, Mapping) or raw.get("version") != 1:
        raise KnowledgeError("knowledge.yml: expected a mapping with version: 1")
    entries = raw.get("diagnoses")
    if not isinstance(entries, Mapping) or set(entries) != set(vocab.diagnoses):
        have = set(entries or {})
        raise KnowledgeError(
            f"knowledge.yml: diagnoses must match the vocabulary; missing {sorted(set(vocab.diagnoses) - have)}, "
            f"unknown {sorted(have - set(vocab.diagnoses))}"
        )
    cites: set[str] = set()
    diagnoses = []
    for did, d in vocab.diagnoses.items():
        entry = entries[did]
        if not isinstance(entry, Mapping) or set(entry) - {
            "prior",
            "chapter",
            "findings",
            "labs",
            "label",
            "mechanism",
        }:
            raise KnowledgeError(
                f"knowledge.yml: diagnoses.{did}: expected keys prior, chapter, findings, labs, label, mechanism"
            )
        # The book's own name and taught mechanism may refine the contract's guidance labels.
        label = entry.get("label", d.label)
        mechanism = entry.get("mechanism", d.mechanism)
        if not isinstance(label, str) or not label.strip():
            raise KnowledgeError(f"knowledge.yml: diagnoses.{did}.label must be a non-empty string")
        if mechanism not in vocab.mechanisms:
            raise KnowledgeError(
                f"knowledge.yml: diagnoses.{did}.mechanism {mechanism!r} is not a vocabulary mechanism"
            )
        prior = _probability(_cited(entry.get("prior"), f"diagnoses.{did}.prior", cites), f"diagnoses.{did}.prior")
        chapter = entry.get("chapter")
        if not isinstance(chapter, str) or not _CHAPTER.match(chapter):
            raise KnowledgeError(
                f"knowledge.yml: diagnoses.{did}.chapter must look like chapters/<page>, got {chapter!r}"
            )
        diagnoses.append(DiagnosisEntry(did, label, mechanism, chapter, prior))
    total = sum(d.prior for d in diagnoses)
    if abs(total - 1) > _SUM_TOLERANCE:
        raise KnowledgeError(f"knowledge.yml: priors must sum to 1, got {total!r}")
    prior = tuple(d.prior for d in diagnoses)
    table = _finding_likelihoods(raw, vocab, cites)
    # The book's wording of a finding may refine the contract's guidance label (e.g. drop "including burns").
    finding_labels = dict(raw.get("finding_labels") or {})
    for fid, text in finding_labels.items():
        if fid not in vocab.findings or not isinstance(text, str) or not text.strip():
            raise KnowledgeError(
                f"knowledge.yml: finding_labels.{fid}: expected a vocabulary finding id and a non-empty label"
            )
    groups = _check_groups(raw, table, vocab)
    lab_p, lab_section = _lab_likelihoods(raw, vocab, cites)
    ids = tuple(vocab.diagnoses)
    findings = {
        fid: _make_term(fid, finding_labels.get(fid, f.label), tuple(table[fid][did] for did in ids), prior)
        for fid, f in vocab.findings.items()
    }
    lab_terms = {}
    for lab, states in LAB_STATES.items():
        for state in states:
            term_id = f"{lab}_{state}"
            label = lab_section[lab]["states"][state]
            lab_terms[term_id] = _make_term(term_id, label, tuple(lab_p[lab][did][state] for did in ids), prior)
    return KnowledgeBase(
        diagnoses=tuple(diagnoses),
        log_prior=tuple(math.log(p) for p in prior),
        findings=MappingProxyType(findings),
        group_of=MappingProxyType({fid: name for name, members in groups.items() for fid in members}),
        groups=MappingProxyType(groups),
        lab_terms=MappingProxyType(lab_terms),
        lab_needs=MappingProxyType({lab: tuple(lab_section[lab].get("needs") or ()) for lab in LAB_STATES}),
        cites=frozenset(cites),
    )


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """Load, validate and precompute ``data/knowledge.yml`` (cached)."""
    text = resources.files("calcifications").joinpath("data/knowledge.yml").read_text("utf-8")
    return parse_knowledge(yaml.safe_load(text), vocabulary())


# ---------------------------------------------------------------- ranking


class FindingsTypeError(TypeError, ValueError):
    """``findings`` is not an iterable of id strings (``None``, a number, or one string).

    A ``ValueError`` like every bad input of the engine, and a ``TypeError`` as Python expects.
    """


def _as_list(value: Any, where: str, items: str) -> list[Any]:
    # One check for every "list of things" argument: a string, a mapping or None is refused.
    if isinstance(value, (str, bytes)):
        raise FindingsTypeError(f"{where} must be an iterable of {items}, not a single string: use [{value!r}]")
    if isinstance(value, Mapping):
        raise FindingsTypeError(f"{where} must be an iterable of {items}, not a mapping")
    try:
        return list(value)
    except TypeError:
        raise FindingsTypeError(
            f"{where} must be an iterable of {items} (use [] for none), got {type(value).__name__}"
        ) from None


def finding_list(findings: Any, where: str = "findings") -> list[Any]:
    """Return ``findings`` as a list, refusing ``None``, a single string, a mapping and non-iterables.

    Raises :class:`FindingsTypeError` (a ``ValueError``) naming ``where``; the
    ids themselves are checked by :func:`rank`.
    """
    return _as_list(findings, where, "finding id strings")


def _finding_set(findings: Iterable[str], vocab: Vocabulary) -> frozenset[str]:
    present = set()
    for fid in finding_list(findings):
        if not isinstance(fid, str):
            raise UnknownFindingError(fid, (), f"finding ids are strings, got {type(fid).__name__}")
        if fid not in vocab.findings:
            if fid in vocab.diagnoses:
                hint = "that is a diagnosis id, not a finding"
            elif fid in vocab.labs:
                hint = "that is a lab key; pass it in labs={...} with a number"
            else:
                hint = ""
            raise UnknownFindingError(fid, vocab.closest_findings(fid), hint)
        present.add(fid)
    return frozenset(present)


def _group_term(members: tuple[str, ...], kb: KnowledgeBase) -> Term:
    # "One of these" for mutually exclusive values: the likelihoods add up.
    terms = [kb.findings[fid] for fid in members]
    p = tuple(sum(t.p[i] for t in terms) for i in range(len(kb.diagnoses)))
    prior = tuple(d.prior for d in kb.diagnoses)
    return _make_term("+".join(members), " or ".join(t.label for t in terms), p, prior)


def finding_terms(present: frozenset[str], kb: KnowledgeBase) -> list[Term]:
    """Return the evidence terms of a set of finding ids (exclusive groups merged)."""
    grouped: dict[str, list[str]] = {}
    terms = []
    for fid in present:
        group = kb.group_of.get(fid)
        if group is None:
            terms.append(kb.findings[fid])
        else:
            grouped.setdefault(group, []).append(fid)
    for members in grouped.values():
        members.sort()
        terms.append(kb.findings[members[0]] if len(members) == 1 else _group_term(tuple(members), kb))
    return terms


def lab_state_ids(values: Mapping[str, float]) -> list[str]:
    """Return the lab-state ids of normalised labs (``{analyte: value}``, mg/dL or pg/mL).

    Calcium and phosphate together give the product band; each analyte alone
    gives "high" above its upper reference limit, PTH also "suppressed" below
    its lower limit.
    """
    table = _labs.lab_table().analytes
    single = _labs.case_lab_table().single_unit
    states = []
    if "calcium" in values and "phosphate" in values:
        product = calcium_phosphate_product(values["calcium"], values["phosphate"])
        states.append("product_" + _labs.product_band(product).id)
    for analyte in ("calcium", "phosphate"):
        if analyte in values:
            high = values[analyte] > table[analyte].reference_mg_dl[1]
            states.append(f"{analyte}_{'high' if high else 'not_high'}")
    if "pth" in values:
        low, high = single["pth"].reference
        value = values["pth"]
        states.append("pth_high" if value > high else "pth_suppressed" if value < low else "pth_normal")
    if "uric_acid" in values:
        high = values["uric_acid"] > single["uric_acid"].reference[1]
        states.append(f"uric_acid_{'high' if high else 'not_high'}")
    return states


def _posterior(terms: list[Term], kb: KnowledgeBase) -> list[float]:
    scores = list(kb.log_prior)
    for term in terms:
        scores = [s + lp for s, lp in zip(scores, term.log_p)]
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = 0.0
    for w in weights:
        total += w
    return [w / total for w in weights]


def _evidence_key(e: Evidence) -> tuple[float, str]:
    return (-abs(e.weight), e.id)


def rank(findings: Iterable[str], labs: Mapping[str, float] | None = None) -> list[Candidate]:
    """Rank every diagnosis of the vocabulary for a case, most probable first.

    ``findings`` are compartment and finding ids of the vocabulary (any order,
    duplicates allowed); ``labs`` maps the vocabulary's lab keys to numbers
    (calcium and phosphate in mg/dL or mmol/L, uric acid in mg/dL, PTH in
    pg/mL). Raises :class:`UnknownFindingError` for an unknown finding id,
    :class:`FindingsTypeError` (a ``ValueError``) when ``findings`` is ``None``,
    a single string or not iterable, and ``ValueError`` for a lab entry that is unknown, not a finite positive
    plausible number, or given in both units with conflicting values.
    """
    kb = knowledge_base()
    present = _finding_set(findings, vocabulary())
    values = _labs.normalize_labs(labs)
    terms = finding_terms(present, kb) + [kb.lab_terms[s] for s in lab_state_ids(values)]
    terms.sort(key=lambda t: t.id)
    probabilities = _posterior(terms, kb)
    candidates = []
    for i, d in enumerate(kb.diagnoses):
        evidence = [t.evidence[i] for t in terms if t.evidence[i] is not None]
        evidence.sort(key=_evidence_key)
        candidates.append(Candidate(d.id, d.label, d.mechanism, probabilities[i], tuple(evidence), d.chapter))
    candidates.sort(key=lambda c: (-c.probability, c.diagnosis))
    return candidates


def mechanism_probabilities(candidates: Iterable[Candidate]) -> dict[str, float]:
    """Sum the candidates' probabilities by mechanism id (every vocabulary mechanism, in its order).

    Raises ``ValueError`` for an item that is not a :class:`Candidate` or whose
    mechanism is not in the vocabulary (nothing is silently added).
    """
    totals = dict.fromkeys(vocabulary().mechanisms, 0.0)
    if candidates is None or isinstance(candidates, (str, bytes, Mapping)):
        raise ValueError(f"candidates must be an iterable of Candidate (the result of rank), got {candidates!r}")
    for c in candidates:
        if not isinstance(c, Candidate):
            raise ValueError(f"candidates must be Candidate objects (the result of rank), got {c!r}")
        if c.mechanism not in totals:
            raise ValueError(
                f"candidate {c.diagnosis!r} has unknown mechanism {c.mechanism!r}; expected one of {list(totals)}"
            )
        totals[c.mechanism] += c.probability
    return totals


# ---------------------------------------------------------------- browser export


def _term_json(term: Term) -> dict[str, Any]:
    return {
        "id": term.id,
        "label": term.label,
        "p": list(term.p),
        "log_p": list(term.log_p),
        "log_marginal": term.log_marginal,
    }


def frontend_knowledge() -> dict[str, Any]:
    """Return the knowledge base as JSON-ready data for ``static/differential.js``.

    Logs are exported as computed here so that the browser sums exactly the
    same numbers; only groups of exclusive findings are combined in the browser.
    """
    kb = knowledge_base()
    vocab = vocabulary()
    single = _labs.case_lab_table().single_unit
    reference = {name: list(a.reference_mg_dl) for name, a in _labs.lab_table().analytes.items()}
    return {
        "version": 1,
        "evidence_threshold": EVIDENCE_THRESHOLD,
        "mechanisms": dict(vocab.mechanisms),
        "diagnoses": [
            {
                "id": d.id,
                "label": d.label,
                "mechanism": d.mechanism,
                "chapter": d.chapter,
                "prior": d.prior,
                "log_prior": lp,
            }
            for d, lp in zip(kb.diagnoses, kb.log_prior)
        ],
        "findings": {
            fid: {**_term_json(term), "category": vocab.findings[fid].category, "group": kb.group_of.get(fid)}
            for fid, term in kb.findings.items()
        },
        "groups": {name: list(members) for name, members in kb.groups.items()},
        "diagnosis_ids": list(vocab.diagnoses),
        "lab_keys": list(vocab.labs),
        "lab_terms": {tid: _term_json(term) for tid, term in kb.lab_terms.items()},
        "lab_thresholds": {
            "calcium_high_above_mg_dl": reference["calcium"][1],
            "phosphate_high_above_mg_dl": reference["phosphate"][1],
            "pth_high_above_pg_ml": single["pth"].reference[1],
            "pth_suppressed_below_pg_ml": single["pth"].reference[0],
            "uric_acid_high_above_mg_dl": single["uric_acid"].reference[1],
        },
        "labs": {**_labs.frontend_table(), **_labs.frontend_case_table()},
    }


def morphologies_by_compartment(min_compartment: float = 0.5, min_morphology: float = 0.3) -> dict[str, list[str]]:
    """Return, for each compartment, the morphologies typical of the diagnoses found there.

    A diagnosis is "found in" a compartment when P(compartment | diagnosis) is
    at least ``min_compartment``; its typical morphologies are those with
    P(morphology | diagnosis) at least ``min_morphology``. Derived from the
    knowledge base, in vocabulary order; this is the calculator's
    compartment-first step.
    """
    kb = knowledge_base()
    vocab = vocabulary()
    morphologies = [fid for fid, f in vocab.findings.items() if f.category == "morphology"]
    result = {}
    for compartment in vocab.compartments:
        found_in = [i for i, p in enumerate(kb.findings[compartment].p) if p >= min_compartment]
        result[compartment] = [m for m in morphologies if any(kb.findings[m].p[i] >= min_morphology for i in found_in)]
    return result


@dataclass(frozen=True)
class TraceStep:
    """One step of a worked example: what was added and the probabilities after it."""

    added: str
    probabilities: tuple[tuple[str, float], ...]


def update_trace(
    steps: Iterable[tuple[str, Iterable[str], Mapping[str, float] | None]], diagnoses: Iterable[str]
) -> tuple[TraceStep, ...]:
    """Rank a case step by step, adding each step's findings and labs to the ones before.

    ``steps`` are ``(description, finding ids, labs or None)``; the result
    starts with the prior and holds the probabilities of ``diagnoses`` after
    each step, so a worked example can show how each piece of evidence moves
    the ranking. Raises ``ValueError`` for a malformed step, a single string
    where a list of ids is expected, or an unknown diagnosis id.
    """
    wanted = tuple(_as_list(diagnoses, "diagnoses", "diagnosis id strings"))
    if not wanted:
        raise ValueError("update_trace needs at least one diagnosis id to follow")
    steps = _as_list(steps, "steps", "(description, finding ids, labs or None) steps")
    findings: list[str] = []
    labs: dict[str, float] = {}
    trace = []
    for n, step in enumerate((("nothing (the prior)", (), None), *steps)):
        if isinstance(step, (str, bytes, Mapping)) or not isinstance(step, Iterable) or len(step := tuple(step)) != 3:
            raise ValueError(f"step {n} must be (description, finding ids, labs or None), got {step!r}")
        description, added, added_labs = step
        findings.extend(finding_list(added, f"step {n} ({description})"))
        if added_labs is not None and not isinstance(added_labs, Mapping):
            raise ValueError(f"step {n} ({description}): labs must be a mapping or None, got {added_labs!r}")
        labs.update(added_labs or {})
        by_id = {c.diagnosis: c.probability for c in rank(findings, labs or None)}
        unknown = set(wanted) - set(by_id)
        if unknown:
            raise ValueError(f"unknown diagnosis ids {sorted(unknown)}")
        trace.append(TraceStep(description, tuple((d, by_id[d]) for d in wanted)))
    return tuple(trace)


def format_trace(trace: Iterable[TraceStep]) -> str:
    """Format a worked example as plain text: one row per diagnosis, one column (percent) per step."""
    trace = tuple(_as_list(trace, "trace", "TraceStep"))
    if not trace or not all(isinstance(step, TraceStep) for step in trace):
        raise ValueError(f"cannot format an empty trace or one of other things: pass update_trace(...), got {trace!r}")
    labels = {d.id: d.label for d in knowledge_base().diagnoses}
    lines = [f"step {n}: {'+ ' if n else ''}{step.added}" for n, step in enumerate(trace)]
    width = max(len(labels[d]) for d, _ in trace[0].probabilities) + 2
    lines.append("")
    lines.append("diagnosis".ljust(width) + "".join(f"{f'step {n}':>9}" for n in range(len(trace))))
    for row, (diagnosis, _) in enumerate(trace[0].probabilities):
        cells = "".join(f"{100 * step.probabilities[row][1]:8.1f}%" for step in trace)
        lines.append(labels[diagnosis].ljust(width) + cells)
    return "\n".join(lines)


def format_evidence(candidate: Candidate, limit: int = 8) -> str:
    """Format the evidence of one candidate as plain text: weight in nats and odds factor."""
    lines = [f"{candidate.label}: {100 * candidate.probability:.1f}%"]
    for item in candidate.evidence[:limit]:
        direction = "for" if item.weight > 0 else "against"
        lines.append(f"  {item.weight:+6.2f} nats  (x{math.exp(item.weight):7.2f})  {direction:7}  {item.label}")
    return "\n".join(lines)
