"""Parity of static/differential.js with calcifications.differential, run under node."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from calcifications.differential import UnknownFindingError, frontend_knowledge, rank
from calcifications.vocabulary import vocabulary

NODE = shutil.which("node")
RUNNER = Path(__file__).with_name("differential_runner.mjs")
MODULE = Path(str(resources.files("calcifications").joinpath("static/differential.js")))
VOCAB = vocabulary()
FINDINGS = sorted(VOCAB.findings)
SEED = 20260101
N_CASES = 600


@pytest.fixture(autouse=True)
def _node_is_required():
    # A missing node is a failure, never a skip: the parity of the browser engine must be checked.
    if NODE is None:
        pytest.fail("node is required for the parity tests of static/differential.js")


def _random_labs(rng: np.random.Generator) -> dict[str, float] | None:
    """Random labs, in either unit, sometimes in both (agreeing)."""
    if rng.random() < 0.4:
        return None
    labs: dict[str, float] = {}
    for analyte, low, high, factor in (("calcium", 5.0, 16.0, 4.008), ("phosphate", 1.0, 12.0, 3.097)):
        if rng.random() < 0.75:
            mg = float(rng.uniform(low, high))
            unit = rng.integers(3)
            if unit in (0, 2):
                labs[f"{analyte}_mg_dl"] = round(mg, 2)
            if unit in (1, 2):
                labs[f"{analyte}_mmol_l"] = round(mg / factor, 3)
    if rng.random() < 0.5:
        labs["pth_pg_ml"] = round(float(np.exp(rng.uniform(np.log(2), np.log(1500)))), 1)
    if rng.random() < 0.4:
        labs["uric_acid_mg_dl"] = round(float(rng.uniform(1.0, 14.0)), 1)
    return labs


def _random_cases(rng: np.random.Generator, n: int) -> list[dict]:
    cases = []
    for _ in range(n):
        k = int(rng.integers(0, 21))
        findings = [str(f) for f in rng.choice(FINDINGS, size=k, replace=True)]
        labs = _random_labs(rng)
        roll = rng.random()
        if roll < 0.03:  # a few invalid cases: both sides must refuse them
            findings.append(str(rng.choice(FINDINGS)) + "x")
        elif roll < 0.06:
            labs = {**(labs or {}), "calcium_mg_dl": float(rng.choice([-1.0, 0.0, 40.0, 1e9]))}
        elif roll < 0.08:
            labs = {"phosphate_mg_dl": 4.0, "phosphate_mmol_l": 2.5}
        cases.append({"findings": findings, "labs": labs})
    return cases


def _python(case: dict) -> dict:
    try:
        return {"ok": rank(case["findings"], case["labs"])}
    except UnknownFindingError as error:
        return {"error": {"name": "UnknownFindingError", "message": str(error)}}
    except ValueError as error:
        return {"error": {"name": "ValueError", "message": str(error)}}


def _node(cases: list[dict]) -> list[dict]:
    payload = json.dumps({"kb": frontend_knowledge(), "cases": cases}, allow_nan=False)
    done = subprocess.run(
        [NODE, str(RUNNER), MODULE.as_uri()], input=payload, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _compare(case: dict, py: dict, js: dict) -> None:
    if "error" in py:
        assert "error" in js, (case, py)
        assert js["error"]["name"] == py["error"]["name"], (case, py, js)
        return
    assert "ok" in js, (case, js)
    ranked_py, ranked_js = py["ok"], js["ok"]
    assert [c.diagnosis for c in ranked_py] == [c["diagnosis"] for c in ranked_js], case
    for c, j in zip(ranked_py, ranked_js):
        assert abs(c.probability - j["probability"]) <= 1e-9, (case, c.diagnosis)
        assert (c.label, c.mechanism, c.chapter) == (j["label"], j["mechanism"], j["chapter"])
        assert [e.id for e in c.evidence] == [e["id"] for e in j["evidence"]], (case, c.diagnosis)
        for e, f in zip(c.evidence, j["evidence"]):
            assert abs(e.weight - f["weight"]) <= 1e-9 and e.label == f["label"]


def test_javascript_ranks_random_cases_exactly_like_python():
    cases = _random_cases(np.random.default_rng(SEED), N_CASES)
    results = _node(cases)
    assert len(results) == len(cases)
    valid = sum("ok" in r for r in results)
    assert valid >= 500  # the bulk of the cases are valid rankings
    for case, js in zip(cases, results):
        _compare(case, _python(case), js)


def test_javascript_handles_the_teaching_cases_and_edges():
    cases = [
        {"findings": [], "labs": None},
        {"findings": ["age_middle", "age_elderly", "age_middle"], "labs": None},
        {"findings": ["chronic_kidney_disease", "no_kidney_disease", "solitary", "multiple"], "labs": None},
        {
            "findings": ["periarticular", "lobulated_multicystic_mass", "no_kidney_disease"],
            "labs": {"calcium_mg_dl": 9.6, "phosphate_mg_dl": 8.0, "pth_pg_ml": 40},
        },
        {"findings": ["periarticular"], "labs": {"calcium_mg_dl": 10.0, "phosphate_mg_dl": 6.0}},  # product exactly 60
        {"findings": ["periarticular"], "labs": {"calcium_mg_dl": 10.0, "phosphate_mg_dl": 7.0}},  # exactly 70
        {"findings": ["periarticular"], "labs": {"calcium_mg_dl": 10.5, "phosphate_mg_dl": 4.5, "pth_pg_ml": 15}},
        {"findings": ["periarticular"], "labs": {"calcium_mg_dl": 9.5, "calcium_mmol_l": 2.37}},
        {"findings": ["rice_grains"], "labs": None},
        {"findings": ["gout_tophus"], "labs": None},
        {"findings": [], "labs": {"calcium": 9.5}},
        {"findings": [], "labs": {"uric_acid_mg_dl": 0.1}},
        {"findings": [], "labs": {"pth_pg_ml": "high"}},
        {"findings": [], "labs": {"calcium_mg_dl": True}},
    ]
    results = _node(cases)
    for case, js in zip(cases, results):
        _compare(case, _python(case), js)
    assert "'rice_grain'" in results[8]["error"]["message"]
    assert "diagnosis id" in results[9]["error"]["message"]
    assert "plausible range 0.5–30 mg/dL" in results[11]["error"]["message"]
