"""Front-end helpers of the differential calculator, run under node against Python's answers."""

from __future__ import annotations

import random
from urllib.parse import urlencode

import pytest
from node_runner import run_js

from calcifications import labs
from calcifications.differential import morphologies_by_compartment
from calcifications.widgets import MULTI_CHOICE, differential_choices

TRAITS = {"compartment": "compartments", "morphology": "morphologies", "distribution": "distributions",
          "clinical": "clinical"}




def _random_selection(rng: random.Random, choices: dict) -> tuple[dict, set[str]]:
    state, ids = {"choices": choices, "site": 0}, set()
    for category in MULTI_CHOICE:
        picked = sorted(rng.sample(range(len(choices[category])), rng.randint(0, 3)))
        state[TRAITS[category]] = picked
        ids |= {choices[category][i][0] for i in picked}
    if rng.random() < 0.5:
        state["site"] = rng.randint(1, len(choices["site"]))
        ids.add(choices["site"][state["site"] - 1][0])
    return state, ids


def test_case_from_state_and_query_round_trip():
    choices = differential_choices()
    rng = random.Random(7)
    states, expected, queries = [], [], []
    for _ in range(200):
        state, ids = _random_selection(rng, choices)
        state.update(calcium_mg_dl=rng.choice([None, 9.5]), pth_pg_ml=rng.choice([None, 120.0]))
        states.append([state])
        expected.append(ids)
        queries.append(",".join(sorted(ids)))
    for state, ids, result in zip(states, expected, run_js("differential.js", "caseFromState", states)):
        assert set(result["findings"]) == ids
        assert ("calcium_mg_dl" in result["labs"]) == (state[0]["calcium_mg_dl"] is not None)
    # The same ids through a page address give back the same selection, and unknown ids are reported.
    queries = [[choices, "?" + urlencode({"case": ",".join(sorted(ids) + ["not_a_finding"]), "ca": "9,5",
                                          "unit": "mmol/L"})] for ids in expected]
    for ids, parsed in zip(expected, run_js("differential.js", "caseFromQuery", queries)):
        assert parsed["unknown"] == ["not_a_finding"]
        assert parsed["traits"]["calcium_text"] == "9,5" and parsed["traits"]["unit_index"] == 1
        states.append([{"choices": choices, "site": 0, **parsed["traits"]}])
    round_trip = run_js("differential.js", "caseFromState", states[len(expected):])
    assert [set(r["findings"]) for r in round_trip] == expected


def test_compartment_step_narrows_like_the_knowledge_base():
    choices = differential_choices()
    typical = morphologies_by_compartment()
    morph_ids = [fid for fid, _ in choices["morphology"]]
    compartment_ids = [fid for fid, _ in choices["compartment"]]
    rng = random.Random(11)
    cases, wanted = [], []
    for _ in range(100):
        chosen = sorted(rng.sample(range(len(compartment_ids)), rng.randint(0, 3)))
        shapes = sorted(rng.sample(range(len(morph_ids)), rng.randint(0, 4)))
        union = {m for i in chosen for m in typical[compartment_ids[i]]}
        cases.append([choices, chosen, shapes])
        wanted.append(([i for i, m in enumerate(morph_ids) if m in union],
                       [i for i in shapes if morph_ids[i] not in union] if chosen else []))
    for (typ, unusual), got in zip(wanted, run_js("compartment_step.js", "narrow", cases)):
        assert got == {"typical": typ, "unusual": unusual}


@pytest.mark.parametrize("analyte", ["pth", "uric_acid", "calcium"])
def test_optional_lab_boxes_agree_with_python(analyte):
    rng = random.Random(analyte)
    texts = ["", " ", "abc", "NaN", "-4", "0", "1e400", "3,5"] + [f"{rng.uniform(-5, 6000):.1f}" for _ in range(80)]
    cases = [[labs.frontend_table(), analyte, text, rng.randint(0, 1)] for text in texts]
    for (table, _, text, unit_index), got in zip(cases, run_js("lab_entry.js", "checkField", cases)):
        if not text.strip():
            assert got == {"value": None, "text": "not given", "ok": True}
            continue
        try:
            want = labs.parse_lab_text(text, analyte, labs.UNITS[unit_index])
        except ValueError:
            assert got["value"] is None and not got["ok"], text
        else:
            assert got["ok"] and got["value"] == pytest.approx(want, rel=1e-12), text
