"""Tests of calcifications.differential: the contract, the knowledge base and the teaching cases."""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import FrozenInstanceError
from importlib import resources
from pathlib import Path

import pytest
import yaml

from book_chapters import ENTITY_CHAPTERS
from calcifications import labs
from calcifications.differential import (
    Candidate,
    KnowledgeError,
    UnknownFindingError,
    calcium_phosphate_product,
    frontend_knowledge,
    knowledge_base,
    mechanism_probabilities,
    parse_knowledge,
    rank,
)
from calcifications.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parents[1]
CASES = yaml.safe_load((Path(__file__).with_name("seed_cases.yml")).read_text("utf-8"))
VOCAB = vocabulary()
FINDINGS = list(VOCAB.findings)
DIAGNOSES = list(VOCAB.diagnoses)
MASS = ["periarticular", "lobulated_multicystic_mass"]
RAISED = {"calcium_mg_dl": 9.6, "phosphate_mg_dl": 8.0}  # product 76.8 mg²/dL²
NORMAL = {"calcium_mg_dl": 9.5, "phosphate_mg_dl": 3.5}  # product 33.25 mg²/dL²


def _raw_knowledge() -> dict:
    text = resources.files("calcifications").joinpath("data/knowledge.yml").read_text("utf-8")
    return yaml.safe_load(text)


def _by_id(candidates: list[Candidate]) -> dict[str, Candidate]:
    return {c.diagnosis: c for c in candidates}


def _assert_valid_ranking(candidates: list[Candidate]) -> None:
    assert sorted(c.diagnosis for c in candidates) == sorted(DIAGNOSES)
    probabilities = [c.probability for c in candidates]
    assert all(math.isfinite(p) and 0 <= p <= 1 for p in probabilities)
    assert abs(sum(probabilities) - 1) <= 1e-9
    keys = [(-c.probability, c.diagnosis) for c in candidates]
    assert keys == sorted(keys)


# ---------------------------------------------------------------- contract


@pytest.mark.parametrize("finding", FINDINGS)
def test_every_finding_id_is_accepted(finding):
    candidates = rank([finding])
    _assert_valid_ranking(candidates)


def test_candidates_carry_vocabulary_data_and_chapters():
    expected_chapters = {
        "atherosclerosis": "chapters/vascular",
        "phleboliths": "chapters/vascular",
        "injection_granuloma": "chapters/subcutaneous",
        "dermatomyositis_fascial": "chapters/fascial",
        "myositis_ossificans": "chapters/muscle",
        "calcific_tendinopathy": "chapters/periarticular",
        "cppd_deposition": "chapters/intraarticular",
        "metastatic_renal": "chapters/metastatic",
        "gout_tophus": "chapters/metastatic",
        "tumoral_calcinosis": "chapters/idiopathic",
        "calcinosis_circumscripta": "chapters/calcinosis-cutis",
        "calcinosis_universalis": "chapters/calcinosis-cutis",
    }
    allowed = {f"chapters/{page}" for page in ENTITY_CHAPTERS}
    # The book may reword a label and teach a mechanism other than the essay's grouping (issue 10);
    # every other diagnosis carries the vocabulary's label and mechanism unchanged.
    book_labels = {
        "cppd_deposition": "CPPD deposition disease",
        "tumoral_calcinosis": "Tumoral calcinosis",
        "dermatomyositis_fascial": "Fascial calcification in dermatomyositis",
        "monckeberg_sclerosis": "Medial calcific sclerosis (Mönckeberg)",
    }
    book_mechanisms = {"gout_tophus": "dystrophic"}
    for c in rank([]):
        d = VOCAB.diagnoses[c.diagnosis]
        assert c.label == book_labels.get(c.diagnosis, d.label)
        assert c.mechanism == book_mechanisms.get(c.diagnosis, d.mechanism)
        assert c.mechanism in VOCAB.mechanisms
        assert c.chapter in allowed
        assert c.chapter == expected_chapters.get(c.diagnosis, c.chapter)
        if d.mechanism in {"dystrophic", "iatrogenic"} and not c.diagnosis.startswith("calcinosis_"):
            # Dystrophic and iatrogenic diagnoses are taught by compartment, except Milwaukee
            # shoulder, which the book teaches with the other hydroxyapatite diseases (periarticular).
            expected = "chapters/periarticular" if c.diagnosis == "milwaukee_shoulder" else f"chapters/{d.compartment}"
            assert c.chapter == expected


def test_candidate_is_frozen():
    candidate = rank([])[0]
    with pytest.raises(FrozenInstanceError):
        candidate.probability = 1.0  # type: ignore[misc]


def test_no_findings_gives_the_prior():
    candidates = rank([])
    _assert_valid_ranking(candidates)
    priors = {d.id: d.prior for d in knowledge_base().diagnoses}
    for c in candidates:
        assert c.probability == pytest.approx(priors[c.diagnosis], abs=1e-12)
        assert c.evidence == ()
    assert rank(iter(())) == candidates
    mech = mechanism_probabilities(candidates)
    assert mech["dystrophic"] + mech["iatrogenic"] >= 0.95


def test_prior_reflects_the_seed():
    priors = {d.id: d.prior for d in knowledge_base().diagnoses}
    benign = sum(p for did, p in priors.items() if VOCAB.diagnoses[did].mechanism in {"dystrophic", "iatrogenic"})
    assert 0.95 <= benign <= 0.98
    metastatic = {did: p for did, p in priors.items() if VOCAB.diagnoses[did].mechanism == "metastatic"}
    assert max(metastatic, key=metastatic.get) == "metastatic_renal"
    assert priors["tumoral_calcinosis"] < 0.005


def test_ties_are_broken_by_diagnosis_id():
    # Several diagnoses share a prior of 0.002: with no findings they tie exactly.
    candidates = rank([])
    shared = _by_id(candidates)["tumoral_calcinosis"].probability
    tied = [c.diagnosis for c in candidates if c.probability == shared]
    assert len(tied) >= 3
    assert tied == sorted(tied)
    positions = [i for i, c in enumerate(candidates) if c.probability == shared]
    assert positions == list(range(positions[0], positions[0] + len(tied)))


def test_order_and_repetition_do_not_matter():
    findings = ["site_knee", "periarticular", "lobulated_multicystic_mass", "chronic_kidney_disease", "age_middle"]
    reference = rank(findings, RAISED)
    assert rank(list(reversed(findings)), RAISED) == reference
    assert rank(findings * 3, RAISED) == reference
    assert rank(set(findings), dict(reversed(list(RAISED.items())))) == reference


def test_calcium_phosphate_product_is_the_one_from_labs():
    assert calcium_phosphate_product is labs.calcium_phosphate_product
    assert calcium_phosphate_product(10.0, 5.0) == pytest.approx(50.0)
    assert calcium_phosphate_product(2.5, 1.5, unit="mmol/L") == pytest.approx(2.5 * 4.008 * 1.5 * 3.097)
    with pytest.raises(ValueError, match="plausible"):
        calcium_phosphate_product(100.0, 5.0)


def test_mechanism_probabilities_sum_by_mechanism():
    candidates = rank(MASS + ["chronic_kidney_disease"], RAISED)
    mech = mechanism_probabilities(candidates)
    assert list(mech) == list(VOCAB.mechanisms)
    assert sum(mech.values()) == pytest.approx(1, abs=1e-9)
    expected = sum(c.probability for c in candidates if c.mechanism == "metastatic")
    assert mech["metastatic"] == pytest.approx(expected, abs=1e-15)
    assert mechanism_probabilities([]) == dict.fromkeys(VOCAB.mechanisms, 0.0)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "bad, suggestion",
    [
        ("rice_grains", "rice_grain"),
        ("phlebolit", "phlebolith"),
        ("site_shoulders", "site_shoulder"),
        ("muscles", "muscle"),
    ],
)
def test_unknown_finding_names_the_bad_id_and_the_closest(bad, suggestion):
    with pytest.raises(UnknownFindingError) as info:
        rank(["vascular", bad])
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert repr(bad) in message and repr(suggestion) in message
    assert info.value.finding == bad and suggestion in info.value.suggestions


def test_unknown_finding_hints_at_diagnosis_and_lab_ids():
    with pytest.raises(UnknownFindingError, match="diagnosis id"):
        rank(["gout_tophus"])
    with pytest.raises(UnknownFindingError, match="lab key"):
        rank(["calcium_mg_dl"])
    with pytest.raises(UnknownFindingError, match="no close match"):
        rank(["qqqqqqqqqq"])
    with pytest.raises(UnknownFindingError, match="strings"):
        rank([3])


def test_a_single_string_is_not_a_list_of_findings():
    with pytest.raises(TypeError, match=r"\['vascular'\]"):
        rank("vascular")


@pytest.mark.parametrize(
    "bad_labs, message",
    [
        ({"calcium": 9.5}, "unknown lab key 'calcium'"),
        ({"sodium_mmol_l": 140}, "unknown lab key"),
        ({"calcium_mg_dl": float("nan")}, "finite"),
        ({"phosphate_mg_dl": float("inf")}, "finite"),
        ({"calcium_mg_dl": -9.5}, "positive"),
        ({"pth_pg_ml": -3}, "positive"),
        ({"uric_acid_mg_dl": 0}, "positive"),
        ({"calcium_mg_dl": 95}, r"plausible range 2–25 mg/dL"),
        ({"calcium_mmol_l": 9.5}, r"plausible range .* mmol/L"),
        ({"pth_pg_ml": 1e6}, "plausible range"),
        ({"uric_acid_mg_dl": 80}, "plausible range"),
        ({"calcium_mg_dl": "9.5"}, "must be a number"),
        ({"pth_pg_ml": "high"}, "must be a number"),
        ({"calcium_mg_dl": True}, "must be a number"),
        ({"calcium_mg_dl": 9.5, "calcium_mmol_l": 3.0}, "conflicting"),
        ({"phosphate_mg_dl": 4.0, "phosphate_mmol_l": 2.0}, "conflicting"),
    ],
)
def test_bad_labs_raise_value_error_saying_what_is_wrong(bad_labs, message):
    with pytest.raises(ValueError, match=message) as info:
        rank(["periarticular"], bad_labs)
    # ... and what is expected: a range with its unit, the valid keys, or one unit.
    assert re.search(r"mg/dL|mmol/L|pg/mL|expected one of", str(info.value))


def test_lab_keys_of_labs_yml_are_the_vocabulary_lab_keys():
    assert set(labs.case_lab_table().keys) == set(VOCAB.labs)


def test_labs_must_be_a_mapping():
    with pytest.raises(ValueError, match="mapping"):
        rank([], [("calcium_mg_dl", 9.5)])


def test_consistent_units_are_accepted_and_mg_dl_wins():
    both = rank(MASS, {"calcium_mg_dl": 9.6, "calcium_mmol_l": 2.4, "phosphate_mg_dl": 8.0})
    assert both == rank(MASS, RAISED)


def test_mmol_and_mg_give_the_same_ranking():
    mmol = {"calcium_mmol_l": 9.6 / 4.008, "phosphate_mmol_l": 8.0 / 3.097}
    a, b = rank(MASS, mmol), rank(MASS, RAISED)
    assert [c.diagnosis for c in a] == [c.diagnosis for c in b]
    for x, y in zip(a, b):
        assert x.probability == pytest.approx(y.probability, abs=1e-12)


# ---------------------------------------------------------------- evidence


def test_evidence_is_sorted_and_only_from_the_case():
    findings = ["muscle", "rice_grain", "multiple", "site_shoulder", "no_trauma_history"]
    candidates = rank(findings, {"uric_acid_mg_dl": 5.0, "pth_pg_ml": 30})
    allowed = set(findings) | {"uric_acid_not_high", "pth_normal"}
    for c in candidates:
        ids = [e.id for e in c.evidence]
        assert set(ids) <= allowed and len(ids) == len(set(ids))
        weights = [abs(e.weight) for e in c.evidence]
        assert weights == sorted(weights, reverse=True)
        assert all(math.isfinite(e.weight) and e.label for e in c.evidence)
    by_id = _by_id(candidates)
    rice = {e.id: e.weight for e in by_id["cysticercosis"].evidence}["rice_grain"]
    assert rice > 2
    assert {e.id: e.weight for e in by_id["atherosclerosis"].evidence}["rice_grain"] < -0.2


def test_evidence_weights_explain_the_posterior():
    # ln prior + Σ weights equals the log posterior up to one shared constant.
    findings = ["periarticular", "lobulated_multicystic_mass", "age_middle", "age_elderly", "no_kidney_disease"]
    candidates = rank(findings, {"calcium_mmol_l": 2.4, "phosphate_mmol_l": 2.6, "pth_pg_ml": 10, "uric_acid_mg_dl": 8})
    priors = {d.id: d.prior for d in knowledge_base().diagnoses}
    scores = {c.diagnosis: math.log(priors[c.diagnosis]) + sum(e.weight for e in c.evidence) for c in candidates}
    top = max(scores.values())
    total = sum(math.exp(s - top) for s in scores.values())
    for c in candidates:
        assert c.probability == pytest.approx(math.exp(scores[c.diagnosis] - top) / total, abs=1e-9)


def test_missing_findings_are_unknown_not_absent():
    for c in rank(["vascular"]):
        assert {e.id for e in c.evidence} <= {"vascular"}
    # Saying nothing about kidneys differs from saying they are normal.
    unknown = _by_id(rank(MASS))["metastatic_renal"].probability
    normal = _by_id(rank(MASS + ["no_kidney_disease"]))["metastatic_renal"].probability
    assert normal < unknown / 10


@pytest.mark.parametrize(
    "base, absent, diagnosis",
    [
        (["periarticular", "within_tendon", "mature_bone"], "no_trauma_history", "tendon_ossification"),
        (MASS, "no_kidney_disease", "metastatic_renal"),
        (MASS, "normal_calcium_phosphate", "metastatic_renal"),
        (["muscle", "curvilinear_rim", "site_leg"], "no_trauma_history", "calcific_myonecrosis"),
    ],
)
def test_absent_ids_are_evidence_against(base, absent, diagnosis):
    before = _by_id(rank(base))[diagnosis].probability
    after = _by_id(rank(base + [absent]))[diagnosis]
    # Compare odds: a diagnosis near certainty cannot halve its probability, but its odds can fall.
    assert after.probability / (1 - after.probability) < before / (1 - before) / 2
    assert {e.id: e.weight for e in after.evidence}[absent] < 0


def test_exclusive_group_counts_once_as_one_of_these():
    middle = _by_id(rank(["age_middle"]))
    elderly = _by_id(rank(["age_elderly"]))
    both = rank(["age_elderly", "age_middle"])
    for c in both:
        low, high = sorted((middle[c.diagnosis].probability, elderly[c.diagnosis].probability))
        assert low - 1e-12 <= c.probability <= high + 1e-12
        assert [e.id for e in c.evidence] in ([], ["age_elderly+age_middle"])
    assert rank(["age_elderly", "age_middle", "age_middle"]) == both


def test_labs_become_the_documented_states():
    cases = {
        ("product_above", "calcium_not_high", "phosphate_high"): RAISED,
        ("product_below", "calcium_not_high", "phosphate_not_high"): NORMAL,
        ("product_within", "calcium_high", "phosphate_not_high"): {"calcium_mg_dl": 15.0, "phosphate_mg_dl": 4.3},
        ("pth_high",): {"pth_pg_ml": 66},
        ("pth_normal",): {"pth_pg_ml": 65},
        ("pth_suppressed",): {"pth_pg_ml": 14.9},
        ("uric_acid_high",): {"uric_acid_mg_dl": 7.1},
        ("uric_acid_not_high",): {"uric_acid_mg_dl": 7.0},
    }
    for states, values in cases.items():
        ids = {e.id for c in rank([], values) for e in c.evidence}
        assert ids == set(states), values


# ---------------------------------------------------------------- what the book teaches


def test_raised_product_with_renal_failure_points_to_renal_metastatic_calcification():
    candidates = rank(MASS + ["chronic_kidney_disease"], RAISED)
    assert candidates[0].diagnosis == "metastatic_renal"
    assert mechanism_probabilities(candidates)["metastatic"] > 0.9


def test_raised_product_with_raised_pth_points_to_metastatic_calcification():
    candidates = rank(MASS, {**RAISED, "pth_pg_ml": 300})
    assert mechanism_probabilities(candidates)["metastatic"] > 0.9


@pytest.mark.parametrize(
    "extra, values",
    [
        (["primary_hyperparathyroidism"], {"calcium_mg_dl": 12.5, "phosphate_mg_dl": 6.0}),
        (["no_kidney_disease"], {"calcium_mg_dl": 12.5, "phosphate_mg_dl": 6.0, "pth_pg_ml": 250}),
        (
            ["primary_hyperparathyroidism", "no_kidney_disease"],
            {"calcium_mg_dl": 13.0, "phosphate_mg_dl": 5.5, "pth_pg_ml": 250},
        ),
    ],
)
def test_raised_product_with_primary_hyperparathyroidism(extra, values):
    candidates = rank(MASS + extra, values)
    assert candidates[0].diagnosis == "primary_hyperparathyroidism_calcification"
    assert mechanism_probabilities(candidates)["metastatic"] > 0.9


@pytest.mark.parametrize("family", [[], ["family_history_calcinosis"]])
def test_raised_product_with_normal_kidneys_and_pth_points_to_tumoral_calcinosis(family):
    candidates = rank(MASS + ["no_kidney_disease"] + family, {**RAISED, "pth_pg_ml": 40})
    assert candidates[0].diagnosis == "tumoral_calcinosis"
    assert candidates[0].probability > 0.8
    evidence = {e.id: e.weight for e in candidates[0].evidence}
    assert evidence["phosphate_high"] > 0  # the hyperphosphataemic form


def test_family_history_strengthens_tumoral_calcinosis():
    without = _by_id(rank(MASS + ["no_kidney_disease"], {**RAISED, "pth_pg_ml": 40}))["tumoral_calcinosis"]
    with_family = _by_id(rank(MASS + ["no_kidney_disease", "family_history_calcinosis"], {**RAISED, "pth_pg_ml": 40}))
    assert with_family["tumoral_calcinosis"].probability > without.probability
    weights = {e.id: e.weight for e in with_family["tumoral_calcinosis"].evidence}
    assert weights["family_history_calcinosis"] > 2


@pytest.mark.parametrize(
    "extra, values",
    [
        ([], NORMAL),
        (["fluid_calcium_levels"], {**NORMAL, "pth_pg_ml": 30}),
        (["normal_calcium_phosphate"], None),
    ],
)
def test_normal_product_and_kidneys_point_to_normophosphataemic_tumoral_calcinosis(extra, values):
    candidates = rank(MASS + ["no_kidney_disease"] + extra, values)
    assert candidates[0].diagnosis == "tumoral_calcinosis"
    mech = mechanism_probabilities(candidates)
    assert mech["metastatic"] < 0.1
    assert mech["idiopathic"] > mech["metastatic"] * 5


def test_the_same_mass_without_context_is_metastatic_first():
    # Appearance alone cannot separate them; the commoner cause (ESRD) leads.
    candidates = rank(MASS + ["fluid_calcium_levels"])
    assert candidates[0].diagnosis == "metastatic_renal"
    assert candidates[1].diagnosis == "tumoral_calcinosis"


def test_myositis_ossificans_stages():
    # Errata: floccular calcification at 3-4 weeks, mature peripheral rim (zonal) at 6-8 weeks.
    early = rank(["muscle", "amorphous_cloud", "trauma_recent", "site_thigh"])
    mature = rank(["muscle", "zonal_peripheral", "trauma_recent", "site_thigh"])
    assert early[0].diagnosis == mature[0].diagnosis == "myositis_ossificans"
    assert _by_id(mature)["myositis_ossificans"].probability > _by_id(early)["myositis_ossificans"].probability


def test_dystrophic_unless_told_otherwise():
    candidates = rank(["periarticular", "amorphous_cloud", "site_shoulder"], NORMAL)
    mech = mechanism_probabilities(candidates)
    assert mech["dystrophic"] + mech["iatrogenic"] > 0.95


# ---------------------------------------------------------------- the seed and the textbook


def test_seed_cases_cover_all_seventeen_figures():
    numbers = {re.match(r"\d+", c["figure"]).group() for c in CASES["figures"]}
    assert numbers == {str(n) for n in range(1, 18)}
    assert set(CASES["textbook"]) == set(DIAGNOSES)


@pytest.mark.parametrize("case", CASES["figures"], ids=lambda c: f"figure-{c['figure']}")
def test_each_seed_figure_ranks_its_diagnosis_first(case):
    candidates = rank(case["findings"], case.get("labs"))
    _assert_valid_ranking(candidates)
    assert candidates[0].diagnosis == case["diagnosis"], [
        (c.diagnosis, round(c.probability, 3)) for c in candidates[:3]
    ]


@pytest.mark.parametrize("diagnosis", DIAGNOSES)
def test_each_diagnosis_ranks_first_for_its_textbook_presentation(diagnosis):
    case = CASES["textbook"][diagnosis]
    candidates = rank(case["findings"], case.get("labs"))
    assert candidates[0].diagnosis == diagnosis, [(c.diagnosis, round(c.probability, 3)) for c in candidates[:3]]
    assert candidates[0].probability > 0.5


# ---------------------------------------------------------------- the knowledge file


def test_every_cite_key_is_in_references_bib():
    bib = (ROOT / "references.bib").read_text("utf-8")
    keys = set(re.findall(r"^@\w+\{([^,\s]+),", bib, flags=re.MULTILINE))
    cites = knowledge_base().cites
    assert cites and cites <= keys, sorted(cites - keys)


def test_references_bib_parses_and_every_entry_has_a_title():
    # the book build parses it strictly; a missing brace there fails the whole build, found late
    from pybtex.database import parse_file

    entries = parse_file(str(ROOT / "references.bib")).entries
    assert len(entries) > 100
    assert all("title" in entry.fields for entry in entries.values()), [
        k for k, e in entries.items() if "title" not in e.fields
    ]


def test_knowledge_file_rows_all_have_cites():
    text = resources.files("calcifications").joinpath("data/knowledge.yml").read_text("utf-8")
    rows = [line for line in text.splitlines() if re.search(r"\{p:", line)]
    assert len(rows) > 400
    assert all("cite:" in line for line in rows)


def _mutations():
    def setp(path, value):
        def mutate(raw):
            node = raw
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value

        return mutate

    return [
        (
            setp(["diagnoses", "gout_tophus", "findings", "hyperuricemia_gout"], {"p": 1.0, "cite": "faria2020"}),
            r"\(0, 1\)",
        ),
        (setp(["diagnoses", "gout_tophus", "findings", "hyperuricemia_gout"], {"p": 0.9}), "cite"),
        (
            setp(["diagnoses", "gout_tophus", "findings", "urate_crystals"], {"p": 0.9, "cite": "x"}),
            "unknown finding id",
        ),
        (setp(["diagnoses", "gout_tophus", "prior"], {"p": 0.5, "cite": "x"}), "sum to 1"),
        (setp(["diagnoses", "gout_tophus", "chapter"], "metastatic.md"), "chapter"),
        (
            setp(["diagnoses", "gout_tophus", "labs", "uric_acid"], {"p": {"high": 0.9, "not_high": 0.2}, "cite": "x"}),
            "sum to 1",
        ),
        (setp(["diagnoses", "gout_tophus", "labs", "sodium"], {"p": {"high": 0.5}, "cite": "x"}), "unknown lab"),
        (setp(["diagnoses", "gout_tophus", "findings", "age_child"], {"p": 0.9, "cite": "x"}), "exclusive group"),
        (lambda raw: raw["diagnoses"].pop("gout_tophus"), "missing"),
        (lambda raw: raw["defaults"]["finding"].pop("no_trauma_history"), "needs a default"),
        (setp(["exclusive_groups", "bad"], ["diffuse", "no_such_finding"]), "unknown finding"),
        (setp(["exclusive_groups", "bad"], ["diffuse", "age_child"]), "two exclusive groups"),
        (setp(["lab_defaults", "pth"], {"p": {"high": 0.5, "normal": 0.5}, "cite": "x"}), "states"),
        (setp(["version"], 2), "version"),
        (setp(["diagnoses", "gout_tophus", "mechanism"], "crystalline"), "not a vocabulary mechanism"),
        (setp(["diagnoses", "gout_tophus", "label"], " "), "non-empty"),
        (setp(["finding_labels", "no_such_finding"], "Anything"), "finding_labels"),
    ]


@pytest.mark.parametrize("mutate, message", _mutations())
def test_malformed_knowledge_is_rejected_with_a_clear_message(mutate, message):
    raw = copy.deepcopy(_raw_knowledge())
    mutate(raw)
    with pytest.raises(KnowledgeError, match=message):
        parse_knowledge(raw, VOCAB)


def test_knowledge_base_is_cached():
    assert knowledge_base() is knowledge_base()


def test_frontend_knowledge_is_json_ready_and_matches_python():
    kb = frontend_knowledge()
    text = json.dumps(kb, allow_nan=False)
    back = json.loads(text)
    assert [d["id"] for d in back["diagnoses"]] == DIAGNOSES
    assert set(back["findings"]) == set(FINDINGS)
    assert back["labs"]["analytes"]["calcium"]["mg_dl_per_mmol_l"] == 4.008
    assert back["labs"]["keys"]["pth_pg_ml"] == {"analyte": "pth", "unit": "pg/mL"}
    py = knowledge_base()
    assert back["findings"]["rice_grain"]["log_p"] == list(py.findings["rice_grain"].log_p)
    assert back["lab_terms"]["product_above"]["log_marginal"] == py.lab_terms["product_above"].log_marginal


# ---------------------------------------------------------------- bad input of the helpers (issue 12)


@pytest.mark.parametrize("bad", [None, 3, 2.5, object()])
def test_findings_that_are_not_a_list_give_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="findings must be an iterable of finding id strings"):
        rank(bad)


def test_a_single_string_is_also_a_value_error():
    with pytest.raises(ValueError, match=r"\['vascular'\]"):
        rank("vascular")


def _trace_steps() -> list:
    return [("a mass", ["periarticular", "lobulated_multicystic_mass"], None), ("labs", [], RAISED)]


@pytest.mark.parametrize(
    "steps, diagnoses, message",
    [
        ([("a mass", "periarticular", None)], ["tumoral_calcinosis"], r"step 1 .*\['periarticular'\]"),
        ("periarticular", ["tumoral_calcinosis"], "steps must be"),
        ([("a mass", ["periarticular"])], ["tumoral_calcinosis"], "step 1 .*description, finding ids, labs"),
        ([("a mass", None, None)], ["tumoral_calcinosis"], "step 1 .*finding id"),
        (_trace_steps(), "tumoral_calcinosis", r"diagnoses must be .*\['tumoral_calcinosis'\]"),
        (_trace_steps(), [], "at least one diagnosis"),
        (_trace_steps(), ["gout"], "unknown diagnosis ids"),
    ],
)
def test_update_trace_refuses_strings_and_malformed_steps(steps, diagnoses, message):
    from calcifications.differential import update_trace

    with pytest.raises(ValueError, match=message):
        update_trace(steps, diagnoses)


def test_update_trace_and_format_trace_on_a_good_case():
    from calcifications.differential import format_trace, update_trace

    trace = update_trace(_trace_steps(), ["tumoral_calcinosis", "metastatic_renal"])
    assert [step.added for step in trace] == ["nothing (the prior)", "a mass", "labs"]
    text = format_trace(trace)
    assert "step 2: + labs" in text and "Tumoral calcinosis" in text


@pytest.mark.parametrize("bad", [(), []])
def test_format_trace_of_nothing_is_a_clear_value_error(bad):
    from calcifications.differential import format_trace

    with pytest.raises(ValueError, match="empty trace"):
        format_trace(bad)


def test_mechanism_probabilities_refuses_an_unknown_mechanism():
    from dataclasses import replace

    candidates = rank([])
    bad = [replace(candidates[0], mechanism="magical"), *candidates[1:]]
    with pytest.raises(ValueError, match="unknown mechanism 'magical'"):
        mechanism_probabilities(bad)


def test_mechanism_probabilities_refuses_what_is_not_a_candidate():
    with pytest.raises(ValueError, match="Candidate"):
        mechanism_probabilities(["dystrophic"])
    with pytest.raises(ValueError, match="Candidate"):
        mechanism_probabilities(None)


@pytest.mark.parametrize("bad", ["vascular", None, 7])
def test_the_calculator_refuses_findings_that_are_a_string_or_not_a_list(bad):
    # The calculator validates its findings at the boundary, with the engine's own check behind it.
    from calcifications.widgets import differential_calculator

    with pytest.raises(ValueError, match="findings must be"):
        differential_calculator(findings=bad)


# ---------------------------------------------------------------- expert review (issue 10): contradictions


CHONDROCALCINOSIS = ["intraarticular", "linear_stratified", "within_cartilage", "site_knee"]
DIALYSIS_LABS = {"calcium_mg_dl": 9.8, "phosphate_mg_dl": 7.2, "pth_pg_ml": 450.0}


def test_dialysis_with_chondrocalcinosis_is_not_settled_by_the_image():
    """Chondrocalcinosis also occurs in the metastatic calcification of end-stage renal disease (chapter
    intraarticular, question 3): on the image and dialysis alone the renal cause stays a real contender,
    and the blood tests of renal failure put it first."""
    alone = _by_id(rank(CHONDROCALCINOSIS + ["chronic_kidney_disease"]))
    assert alone["metastatic_renal"].probability > 0.05
    assert alone["cppd_deposition"].probability < 0.99
    with_labs = rank(CHONDROCALCINOSIS + ["chronic_kidney_disease"], DIALYSIS_LABS)
    assert with_labs[0].diagnosis == "metastatic_renal"
    normal = rank(CHONDROCALCINOSIS + ["no_kidney_disease", "age_elderly"], NORMAL)
    assert normal[0].diagnosis == "cppd_deposition"


def test_primary_hyperparathyroidism_with_a_normal_pth_and_low_phosphate_still_leads():
    """Normohormonal primary hyperparathyroidism: high calcium, low phosphate, PTH within the reference range."""
    labs = {"calcium_mg_dl": 11.8, "phosphate_mg_dl": 2.2, "pth_pg_ml": 55.0}
    case = ["periarticular", "amorphous_cloud", "multiple", "primary_hyperparathyroidism", "no_kidney_disease"]
    assert rank(case, labs)[0].diagnosis == "primary_hyperparathyroidism_calcification"


def test_primary_hyperparathyroidism_rarely_raises_the_product():
    kb = knowledge_base()
    term = kb.lab_terms["product_above"]
    i = [d.id for d in kb.diagnoses].index("primary_hyperparathyroidism_calcification")
    assert term.p[i] + kb.lab_terms["product_within"].p[i] <= 0.3  # was 0.5 before the review
    assert kb.lab_terms["phosphate_high"].p[i] <= 0.15
    assert kb.lab_terms["pth_normal"].p[i] >= 0.05  # normohormonal primary hyperparathyroidism


def test_gout_is_taught_as_urate_crystals_with_dystrophic_calcium():
    """The essay lists gout with the metastatic causes; the calculator's mechanism bars count its calcium as dystrophic."""
    candidates = rank(
        [
            "subcutaneous",
            "periarticular",
            "punctate_in_soft_tissue_mass",
            "bone_erosion_overhanging_edge",
            "site_ankle_foot",
            "hyperuricemia_gout",
        ],
        {"uric_acid_mg_dl": 9.5},
    )
    assert candidates[0].diagnosis == "gout_tophus"
    assert candidates[0].mechanism == "dystrophic"
    assert mechanism_probabilities(candidates)["metastatic"] < 0.05
    assert frontend_knowledge()["diagnoses"][DIAGNOSES.index("gout_tophus")]["mechanism"] == "dystrophic"


@pytest.mark.parametrize(
    "findings, expected",
    [
        # A defining history cannot rescue a shape the disease never shows.
        (["muscle", "rice_grain", "multiple", "dermatomyositis"], "cysticercosis"),
        (["muscle", "rice_grain", "multiple", "trauma_recent"], "cysticercosis"),
        (CHONDROCALCINOSIS + ["hyperuricemia_gout", "age_elderly"], "cppd_deposition"),
        (
            ["subcutaneous", "dense_homogeneous_nodules", "fingertips", "site_hand", "dermatomyositis"],
            "calcinosis_circumscripta",
        ),
        (["vascular", "phlebolith", "multiple", "chronic_kidney_disease"], "phleboliths"),
        (
            [
                "intraarticular",
                "rounded_bodies_ring_arc",
                "within_joint",
                "multiple",
                "site_knee",
                "chronic_kidney_disease",
            ],
            "synovial_osteochondromatosis",
        ),
    ],
)
def test_an_impossible_shape_outweighs_a_suggestive_history(findings, expected):
    assert rank(findings)[0].diagnosis == expected


def test_book_labels_follow_the_glossary_nomenclature():
    labels = {d.id: d.label for d in knowledge_base().diagnoses}
    assert labels["cppd_deposition"] == "CPPD deposition disease"
    assert labels["tumoral_calcinosis"] == "Tumoral calcinosis"
    assert "polymyositis" not in labels["dermatomyositis_fascial"]
    assert "burns" not in knowledge_base().findings["trauma_recent"].label


# ---------------------------------------------------------------- expert review (issue 10): morphology review

MORPHOLOGIES = [f for f, x in VOCAB.findings.items() if x.category == "morphology"]
COMPARTMENTS = list(VOCAB.compartments)
REVIEW = _raw_knowledge()["morphology_review"]
MORPHOLOGY_LEAK = 0.0003
COMPARTMENT_LEAK = 0.03
# Clinical findings that are history (not image, not age, not symptoms).
HISTORY = [
    f
    for f, x in VOCAB.findings.items()
    if x.category == "clinical"
    and not f.startswith("age_")
    and f
    not in {"asymptomatic", "local_pain_acute", "bone_erosion_overhanging_edge", "joint_destruction", "joint_effusion"}
]


def _column(diagnosis: str) -> int:
    return DIAGNOSES.index(diagnosis)


def _strongest_history(diagnosis: str) -> str:
    """The history finding that favours ``diagnosis`` most (largest weight against the prior mix)."""
    kb, i = knowledge_base(), _column(diagnosis)
    return max(HISTORY, key=lambda f: kb.findings[f].log_p[i] - kb.findings[f].log_marginal)


def _never_shown(diagnosis: str) -> list[str]:
    named = {m for shapes in REVIEW[diagnosis]["stages"].values() for m in shapes}
    return [m for m in MORPHOLOGIES if m not in named]


def _home_compartment(morphology: str) -> str:
    """The compartment of the diagnosis that shows ``morphology`` most typically."""
    kb = knowledge_base()
    best = max(range(len(DIAGNOSES)), key=lambda k: (kb.findings[morphology].p[k], -k))
    return max(COMPARTMENTS, key=lambda c: kb.findings[c].p[best])


def test_the_review_covers_every_diagnosis_with_cited_stages():
    bib = (ROOT / "references.bib").read_text("utf-8")
    assert set(REVIEW) == set(DIAGNOSES)
    for did, entry in REVIEW.items():
        assert entry["stages"] and all(entry["stages"].values()), did
        assert set(entry["compartments"]) <= set(COMPARTMENTS), did
        assert f"{{{entry['cite']}," in bib, did
        named = [m for shapes in entry["stages"].values() for m in shapes]
        assert set(named) <= set(MORPHOLOGIES), did


@pytest.mark.parametrize("diagnosis", DIAGNOSES)
def test_likelihoods_follow_the_morphology_review(diagnosis):
    """A shape the review names for a stage is possible (above the leak); any other shape is never shown: the leak."""
    kb, i = knowledge_base(), _column(diagnosis)
    never = _never_shown(diagnosis)
    for m in MORPHOLOGIES:
        p = kb.findings[m].p[i]
        if m in never:
            assert p <= MORPHOLOGY_LEAK, (m, p)
        else:
            assert p >= 0.02, (m, p)
    for c in COMPARTMENTS:
        p = kb.findings[c].p[i]
        assert (p > COMPARTMENT_LEAK) == (c in REVIEW[diagnosis]["compartments"]), (c, p)


def test_morphology_leak_is_the_default_for_unlisted_shapes():
    kb = knowledge_base()
    raw = _raw_knowledge()
    assert raw["defaults"]["category"]["morphology"]["p"] == MORPHOLOGY_LEAK
    for fid in ("lobulated_multicystic_mass", "fluid_calcium_levels"):
        assert raw["defaults"]["finding"][fid]["p"] == MORPHOLOGY_LEAK
    assert max(kb.findings[m].p[_column(d)] for d in DIAGNOSES for m in _never_shown(d)) <= MORPHOLOGY_LEAK


SWEEP = [(d, m) for d in DIAGNOSES for m in _never_shown(d)]


@pytest.mark.parametrize("diagnosis, shape", SWEEP, ids=[f"{d}-{m}" for d, m in SWEEP])
def test_a_never_shown_shape_outweighs_the_most_suggestive_history(diagnosis, shape):
    """Every diagnosis, every shape it never shows: its most suggestive history, the shape and the shape's own
    compartment do not put it first, and leave it well under even odds."""
    case = [_strongest_history(diagnosis), shape, _home_compartment(shape)]
    candidates = rank(case)
    assert candidates[0].diagnosis != diagnosis, case
    assert _by_id(candidates)[diagnosis].probability < 0.2, case


@pytest.mark.parametrize("diagnosis", DIAGNOSES)
def test_the_same_history_with_a_possible_shape_still_fits(diagnosis):
    """The counterpart that makes the sweep above able to fail: with a shape of its own, the history helps."""
    kb, i = knowledge_base(), _column(diagnosis)
    own = max(MORPHOLOGIES, key=lambda m: kb.findings[m].p[i])
    history = _strongest_history(diagnosis)
    never = _never_shown(diagnosis)[0]
    fits = _by_id(rank([history, own, _home_compartment(own)]))[diagnosis].probability
    misfits = _by_id(rank([history, never, _home_compartment(never)]))[diagnosis].probability
    assert fits > 20 * misfits


@pytest.mark.parametrize(
    "findings, labs, not_first, expected",
    [
        # Trauma and a tram-track along an artery: a vessel, not myositis ossificans.
        (
            ["vascular", "tubular_parallel_lines", "along_vessel", "site_thigh", "trauma_recent"],
            None,
            "myositis_ossificans",
            {"atherosclerosis", "monckeberg_sclerosis"},
        ),
        # Dialysis and ring-and-arc bodies in the knee: synovial osteochondromatosis, not renal metastatic calcium.
        (
            ["intraarticular", "rounded_bodies_ring_arc", "within_joint", "site_knee", "chronic_kidney_disease"],
            None,
            "metastatic_renal",
            {"synovial_osteochondromatosis"},
        ),
        # The same with the blood tests of dialysis (high phosphate, product and PTH).
        (
            ["intraarticular", "rounded_bodies_ring_arc", "within_joint", "site_knee", "chronic_kidney_disease"],
            DIALYSIS_LABS,
            "metastatic_renal",
            {"synovial_osteochondromatosis"},
        ),
        # Known gout and rice grains in the thigh muscles: cysticercosis.
        (
            ["muscle", "rice_grain", "site_thigh", "hyperuricemia_gout"],
            {"uric_acid_mg_dl": 9.0},
            "gout_tophus",
            {"cysticercosis"},
        ),
        # Scleroderma and fascial sheets: dermatomyositis-type fascial calcium, not calcinosis circumscripta.
        (
            ["fascial", "sheet_leaf_linear", "along_fascial_planes", "scleroderma"],
            None,
            "calcinosis_circumscripta",
            {"dermatomyositis_fascial", "calcinosis_universalis"},
        ),
        # A family history of calcified masses and thin lines in the meniscus: CPPD, not tumoral calcinosis.
        (
            CHONDROCALCINOSIS + ["family_history_calcinosis"],
            NORMAL,
            "tumoral_calcinosis",
            {"cppd_deposition"},
        ),
        # Injections into the buttock and a bridge of bone across the hip: heterotopic ossification, not a granuloma.
        (
            ["periarticular", "bridging_ossification", "site_hip_pelvis", "local_injections"],
            None,
            "injection_granuloma",
            {"tendon_ossification", "fibrodysplasia_ossificans_progressiva"},
        ),
        # A raised product and a zonal lesion in muscle after a fall: myositis ossificans, not metastatic calcium.
        (
            ["muscle", "zonal_peripheral", "solitary", "trauma_recent"],
            RAISED,
            "metastatic_renal",
            {"myositis_ossificans"},
        ),
        # Trauma and a cloud in a shoulder tendon: calcific tendinopathy; the tissue is wrong for myositis ossificans.
        (
            ["periarticular", "amorphous_cloud", "within_tendon", "site_shoulder", "trauma_recent"],
            None,
            "myositis_ossificans",
            {"calcific_tendinopathy"},
        ),
    ],
)
def test_history_does_not_rescue_a_shape_the_disease_never_shows(findings, labs, not_first, expected):
    candidates = rank(findings, labs)
    assert candidates[0].diagnosis != not_first
    assert candidates[0].diagnosis in expected, [(c.diagnosis, round(c.probability, 3)) for c in candidates[:3]]


def test_tenosynovial_chondromatosis_ranks_synovial_osteochondromatosis_first():
    """Chapter intraarticular: ring-and-arc bodies along a tendon sheath of the foot or hand (walker2010)."""
    for site in ("site_ankle_foot", "site_hand"):
        case = ["periarticular", "rounded_bodies_ring_arc", "within_tendon", "multiple", site]
        assert rank(case)[0].diagnosis == "synovial_osteochondromatosis"
