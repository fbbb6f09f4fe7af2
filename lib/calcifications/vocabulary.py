"""The controlled vocabulary: mechanisms, compartments, findings, labs and diagnoses.

``data/vocabulary.yml`` is a contract shared with the book, its calculators and
outside evaluators: a verbatim copy of ``spec/vocabulary.yml`` in the project's
shared folder beside the repository (``tests/test_vocabulary.py`` compares the
two), whose ids :func:`calcifications.differential.rank` accepts. This module loads it once,
checks that it is well formed and returns it as frozen dataclasses, so that a
typo in the file fails loudly at import time instead of silently changing a
differential.

Compartment ids (``vascular``, ``muscle``...) are findings too: a case may say
"the calcification is in the muscle compartment". They are returned among the
findings with the category ``"compartment"``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
COMPARTMENT_CATEGORY = "compartment"
ABSENT_CATEGORY = "absent"


@dataclass(frozen=True)
class Finding:
    """One finding id a case can carry, with its label and vocabulary category."""

    id: str
    label: str
    category: str


@dataclass(frozen=True)
class Diagnosis:
    """One diagnosis id, with its label, mechanism id and typical compartment id."""

    id: str
    label: str
    mechanism: str
    compartment: str


@dataclass(frozen=True)
class Vocabulary:
    """The validated vocabulary; mappings are read-only and keep the file's order."""

    version: int
    mechanisms: Mapping[str, str]
    compartments: Mapping[str, str]
    findings: Mapping[str, Finding]
    labs: Mapping[str, str]
    diagnoses: Mapping[str, Diagnosis]

    def closest_findings(self, wrong: str, n: int = 3) -> list[str]:
        """Return up to ``n`` valid finding ids that look like ``wrong`` (best first)."""
        return difflib.get_close_matches(str(wrong), list(self.findings), n=n, cutoff=0.5)


class VocabularyError(ValueError):
    """The vocabulary file is malformed."""


def _label(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise VocabularyError(f"vocabulary: {where} needs a non-empty text label, got {value!r}")
    return value


def _id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise VocabularyError(f"vocabulary: {where}: {value!r} is not a lower_snake_case id")
    return value


def _section(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = raw.get(name)
    if not isinstance(section, Mapping) or not section:
        raise VocabularyError(f"vocabulary: section {name!r} is missing or empty")
    return section


def parse_vocabulary(raw: Any) -> Vocabulary:
    """Validate the parsed YAML of a vocabulary file and return it as a :class:`Vocabulary`.

    Raises :class:`VocabularyError` (a ``ValueError``) naming the first problem:
    a missing section, a malformed id, an id used twice, an empty label, or a
    diagnosis whose mechanism or compartment is not declared.
    """
    if not isinstance(raw, Mapping):
        raise VocabularyError("vocabulary: the file must be a mapping of sections")
    if raw.get("version") != 1:
        raise VocabularyError(f"vocabulary: unsupported version {raw.get('version')!r}; expected 1")
    mechanisms = {_id(k, "mechanisms"): _label(v, f"mechanism {k}") for k, v in _section(raw, "mechanisms").items()}
    compartments = {
        _id(k, "compartments"): _label(v, f"compartment {k}") for k, v in _section(raw, "compartments").items()
    }
    findings: dict[str, Finding] = {
        cid: Finding(cid, label, COMPARTMENT_CATEGORY) for cid, label in compartments.items()
    }
    for category, members in _section(raw, "findings").items():
        if not isinstance(members, Mapping) or not members:
            raise VocabularyError(f"vocabulary: finding category {category!r} is empty")
        for fid, label in members.items():
            _id(fid, f"findings.{category}")
            if fid in findings:
                raise VocabularyError(f"vocabulary: finding id {fid!r} is declared twice")
            findings[fid] = Finding(fid, _label(label, f"finding {fid}"), category)
    labs = {_id(k, "labs"): _label(v, f"lab {k}") for k, v in _section(raw, "labs").items()}
    diagnoses = {}
    for did, row in _section(raw, "diagnoses").items():
        _id(did, "diagnoses")
        if not isinstance(row, Mapping):
            raise VocabularyError(f"vocabulary: diagnosis {did!r} must be a mapping")
        if row.get("mechanism") not in mechanisms:
            raise VocabularyError(f"vocabulary: diagnosis {did!r} has unknown mechanism {row.get('mechanism')!r}")
        if row.get("compartment") not in compartments:
            raise VocabularyError(f"vocabulary: diagnosis {did!r} has unknown compartment {row.get('compartment')!r}")
        diagnoses[did] = Diagnosis(
            did, _label(row.get("label"), f"diagnosis {did}"), row["mechanism"], row["compartment"]
        )
    clash = set(diagnoses) & set(findings)
    if clash:
        raise VocabularyError(f"vocabulary: ids used both as finding and diagnosis: {sorted(clash)}")
    return Vocabulary(
        version=1,
        mechanisms=MappingProxyType(mechanisms),
        compartments=MappingProxyType(compartments),
        findings=MappingProxyType(findings),
        labs=MappingProxyType(labs),
        diagnoses=MappingProxyType(diagnoses),
    )


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """Load and validate ``data/vocabulary.yml`` shipped with the package (cached)."""
    text = resources.files("calcifications").joinpath("data/vocabulary.yml").read_text("utf-8")
    return parse_vocabulary(yaml.safe_load(text))
