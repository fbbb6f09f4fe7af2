"""Tests of calcifications.vocabulary: loading, validation and the contract copy."""

from __future__ import annotations

import copy
import os
from dataclasses import FrozenInstanceError
from importlib import resources
from pathlib import Path

import pytest
import yaml

from calcifications.vocabulary import (
    ABSENT_CATEGORY,
    COMPARTMENT_CATEGORY,
    VocabularyError,
    parse_vocabulary,
    vocabulary,
)

ROOT = Path(__file__).resolve().parents[1]
# The shared contract lives beside the repository (shared/spec/ next to the clone); a clone made
# elsewhere on the project's machine (as CI's fresh clone may be) finds it at its fixed place.
_CANDIDATES = [ROOT.parent / "shared" / "spec" / "vocabulary.yml", Path("/work/shared/spec/vocabulary.yml")]
SHARED_SPEC = next((p for p in _CANDIDATES if p.exists()), _CANDIDATES[0])


def in_ci() -> bool:
    """True when running in CI (the CI environment variable is set to true)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _raw() -> dict:
    text = resources.files("calcifications").joinpath("data/vocabulary.yml").read_text("utf-8")
    return yaml.safe_load(text)


def test_package_copy_is_verbatim_copy_of_the_contract():
    if not SHARED_SPEC.exists():
        message = f"the shared contract {SHARED_SPEC} is missing (expected shared/spec/ beside the repository)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    packaged = resources.files("calcifications").joinpath("data/vocabulary.yml").read_bytes()
    assert packaged == SHARED_SPEC.read_bytes()


def test_counts_and_known_ids():
    vocab = vocabulary()
    assert list(vocab.mechanisms) == ["dystrophic", "iatrogenic", "metastatic", "idiopathic"]
    assert len(vocab.compartments) == 6
    assert len(vocab.diagnoses) == 26
    assert len(vocab.labs) == 6
    raw = _raw()
    declared = {fid for members in raw["findings"].values() for fid in members}
    assert set(vocab.findings) == declared | set(raw["compartments"])


def test_compartments_are_findings_with_their_own_category():
    vocab = vocabulary()
    for cid in vocab.compartments:
        assert vocab.findings[cid].category == COMPARTMENT_CATEGORY
    absent = {f.id for f in vocab.findings.values() if f.category == ABSENT_CATEGORY}
    assert absent == {"normal_calcium_phosphate", "no_trauma_history", "no_kidney_disease"}


def test_diagnoses_reference_declared_mechanisms_and_compartments():
    vocab = vocabulary()
    assert vocab.diagnoses["gout_tophus"].mechanism == "metastatic"
    assert vocab.diagnoses["tumoral_calcinosis"].mechanism == "idiopathic"
    for d in vocab.diagnoses.values():
        assert d.mechanism in vocab.mechanisms and d.compartment in vocab.compartments


def test_vocabulary_is_cached_and_immutable():
    vocab = vocabulary()
    assert vocabulary() is vocab
    with pytest.raises(FrozenInstanceError):
        vocab.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        vocab.findings["new"] = None  # type: ignore[index]


def test_closest_findings_suggests_near_misses():
    vocab = vocabulary()
    assert vocab.closest_findings("rice_grains")[0] == "rice_grain"
    assert "phlebolith" in vocab.closest_findings("phlebolit")
    assert vocab.closest_findings("zzzzzzzz") == []


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda raw: raw.update(version=2), "version"),
        (lambda raw: raw.pop("diagnoses"), "diagnoses"),
        (lambda raw: raw["diagnoses"]["gout_tophus"].update(mechanism="magic"), "unknown mechanism"),
        (lambda raw: raw["diagnoses"]["gout_tophus"].update(compartment="bone"), "unknown compartment"),
        (lambda raw: raw["findings"]["site"].update(rice_grain="again"), "declared twice"),
        (lambda raw: raw["findings"]["site"].update({"Bad-Id": "x"}), "lower_snake_case"),
        (lambda raw: raw["findings"]["site"].update(site_hand=""), "label"),
        (lambda raw: raw["findings"].update(empty={}), "empty"),
    ],
)
def test_malformed_vocabularies_are_rejected_with_a_clear_message(mutate, message):
    raw = copy.deepcopy(_raw())
    mutate(raw)
    with pytest.raises(VocabularyError, match=message):
        parse_vocabulary(raw)


def test_the_packaged_file_parses():
    assert parse_vocabulary(_raw()) == vocabulary()
