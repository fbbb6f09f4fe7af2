"""Front-end helpers of the differential calculators (static/calculator.js, common.js), run under node
against Python's answers and the settings of data/calculators.yml."""

from __future__ import annotations

import random
from urllib.parse import parse_qs, urlencode

import pytest

from calcifications import calculators, labs
from calcifications.differential import frontend_knowledge, morphologies_by_compartment
from calcifications.vocabulary import vocabulary
from node_runner import run_js

KB = frontend_knowledge()
FULL = calculators.frontend_config(None, ["chapters/approach"])
IDS = list(vocabulary().findings)


def _random_case(rng: random.Random) -> dict:
    findings = rng.sample(IDS, rng.randint(0, 6))
    texts = {
        f["analyte"]: rng.choice(["", "9,5", "10", "1,200", "abc", "4.5", "300", "-2"])
        for f in FULL["lab_fields"]
        if rng.random() < 0.5
    }
    return {"findings": findings, "lab_texts": texts, "unit": rng.choice(labs.UNITS)}


def test_case_query_round_trips_and_uses_the_parameters_of_the_settings():
    rng = random.Random(7)
    states = [_random_case(rng) for _ in range(150)]
    queries = run_js("calculator.js", "caseQuery", [[KB, FULL, s] for s in states])
    back = run_js("calculator.js", "caseFromQuery", [[KB, FULL, "?" + q] for q in queries])
    parameters = set(calculators.url_parameters()) | {"case"}
    for state, query, parsed in zip(states, queries, back):
        assert set(parse_qs(query)) <= parameters
        assert parsed["findings"] == [i for i in IDS if i in state["findings"]]
        assert parsed["lab_texts"] == {k: v.strip() for k, v in state["lab_texts"].items() if v.strip()}
        assert parsed["unknown"] == []


def test_an_address_with_unknown_ids_reports_them_and_reads_the_labs():
    query = "?" + urlencode({"case": "periarticular,lobulated_mass", "ca": "9,5", "pth": "1200", "unit": "mmol/L"})
    [parsed] = run_js("calculator.js", "caseFromQuery", [[KB, FULL, query]])
    assert parsed == {
        "findings": ["periarticular"],
        "lab_texts": {"calcium": "9,5", "pth": "1200"},
        "unit": "mmol/L",
        "unknown": ["lobulated_mass"],
    }


def test_the_full_calculator_link_of_a_chapter_carries_the_case():
    config = calculators.frontend_config("metastatic", ["chapters/approach", "chapters/metastatic"])
    state = {
        "findings": ["chronic_kidney_disease", "periarticular"],
        "lab_texts": {"calcium": "10", "pth": "450"},
        "unit": "mg/dL",
    }
    [href] = run_js("calculator.js", "fullCalculatorHref", [[KB, config, state, "../"]])
    assert (
        href == "../chapters/approach.html?case=periarticular,chronic_kidney_disease&ca=10&pth=450#approach-calculator"
    )


def test_lab_boxes_feed_the_engine_only_valid_values_with_the_python_parser():
    rng = random.Random(3)
    texts = [
        "",
        "9,5",
        "9.5",
        "1200",
        "1,200",
        "12,500",
        "0,125",
        "1.200,5",
        "2,5,1",
        "NaN",
        "-1",
        "abc",
        "95",
        "4",
        "300",
        "8",
    ]
    cases = []
    for _ in range(120):
        lab_texts = {f["analyte"]: rng.choice(texts) for f in FULL["lab_fields"]}
        cases.append([KB["labs"], FULL, lab_texts, rng.choice(labs.UNITS)])
    for (_, _, lab_texts, unit), got in zip(cases, run_js("calculator.js", "labsFromTexts", cases)):
        want = {}
        for field in calculators.settings().lab_fields:
            text = lab_texts[field.analyte]
            try:
                want[field.key] = labs.parse_lab_text(text, field.analyte, unit)
            except ValueError:
                assert not text.strip() or not got["fields"][field.analyte]["ok"], text
        assert got["labs"].keys() == want.keys()
        for key, value in want.items():
            assert got["labs"][key] == pytest.approx(value, rel=1e-12)


def test_typical_shapes_follow_the_knowledge_base():
    typical = morphologies_by_compartment()
    rng = random.Random(11)
    compartments = list(vocabulary().compartments)
    cases, wanted = [], []
    shapes = next(g["findings"] for g in FULL["groups"] if g["id"] == "morphology")
    for _ in range(60):
        chosen = rng.sample(compartments, rng.randint(0, 3))
        union = {m for c in chosen for m in typical[c]}
        cases.append([FULL, chosen])
        wanted.append([m for m in shapes if m in union])
    assert run_js("calculator.js", "typicalShapes", cases) == wanted


@pytest.mark.parametrize("analyte", ["pth", "uric_acid", "calcium"])
def test_optional_lab_boxes_agree_with_python(analyte):
    rng = random.Random(analyte)
    texts = ["", " ", "abc", "NaN", "-4", "0", "1e400", "3,5", "1,200", "1200"] + [
        f"{rng.uniform(-5, 6000):.1f}" for _ in range(80)
    ]
    cases = [[labs.frontend_table(), analyte, text, rng.randint(0, 1)] for text in texts]
    for (_table, _, text, unit_index), got in zip(cases, run_js("common.js", "checkField", cases)):
        if not text.strip():
            assert got == {"value": None, "text": "not given", "ok": True}
            continue
        try:
            want = labs.parse_lab_text(text, analyte, labs.UNITS[unit_index])
        except ValueError:
            assert got["value"] is None and not got["ok"], text
        else:
            assert got["ok"] and got["value"] == pytest.approx(want, rel=1e-12), text
