"""The unknown-cases front-end (static/unknown_cases.js): judging, scoring, filters and keys, under node."""

from __future__ import annotations

from node_runner import run_js

RECORD = {
    "steps": {
        "compartment": {"accept": ["muscle"]},
        "morphology": {"accept": ["zonal_peripheral", "mature_bone"]},
        "diagnosis": {"accept": ["myositis_ossificans"]},
        "next_step": {"accept": ["leave_alone", "ct"]},
    }
}
ZERO = {s: {"right": 0, "total": 0} for s in ("compartment", "morphology", "diagnosis", "next_step")}


def test_judge_right_and_wrong_answers():
    calls = [
        [RECORD, "compartment", "muscle"],
        [RECORD, "compartment", "fascial"],
        [RECORD, "morphology", "mature_bone"],
        [RECORD, "diagnosis", "calcified_hematoma"],
        [RECORD, "next_step", "ct"],
        [RECORD, "nope", "x"],
        [None, "diagnosis", "x"],
    ]
    assert run_js("unknown_cases.js", "judge", calls) == [True, False, True, False, True, False, False]


def test_score_counts_each_step_and_reset_is_zero():
    one = run_js("unknown_cases.js", "addAnswer", [[ZERO, "compartment", True]])[0]
    assert one["compartment"] == {"right": 1, "total": 1}
    two = run_js("unknown_cases.js", "addAnswer", [[one, "diagnosis", False], [one, "not_a_step", True]])
    assert two[0]["diagnosis"] == {"right": 0, "total": 1} and two[0]["compartment"] == {"right": 1, "total": 1}
    assert two[1] == one
    assert run_js("unknown_cases.js", "emptyScore", [[]]) == [ZERO]
    assert run_js("unknown_cases.js", "scoreText", [[two[0]]]) == [
        "Compartment 1/1 · Shape 0/0 · Diagnosis 0/1 · Next step 0/0"
    ]


def test_a_corrupt_stored_score_is_replaced_by_zero():
    bad = [
        [None],
        ["text"],
        [{"compartment": {"right": 3, "total": 1}}],
        [{"diagnosis": {"right": -1, "total": 2}}],
        [{"morphology": {"right": 1.5, "total": 2}}],
    ]
    assert run_js("unknown_cases.js", "cleanScore", bad) == [ZERO] * len(bad)
    good = {**ZERO, "next_step": {"right": 2, "total": 5}}
    assert run_js("unknown_cases.js", "cleanScore", [[good]]) == [good]


def test_filters():
    deck = [
        {"chapter": "chapters/muscle", "mechanism": "dystrophic", "difficulty": "easy"},
        {"chapter": "chapters/metastatic", "mechanism": "metastatic", "difficulty": "hard"},
        {"chapter": "chapters/muscle", "mechanism": "dystrophic", "difficulty": "hard"},
    ]
    calls = [
        [deck, {}],
        [deck, {"chapter": "chapters/muscle"}],
        [deck, {"difficulty": "hard"}],
        [deck, {"chapter": "chapters/muscle", "difficulty": "hard"}],
        [deck, {"mechanism": "idiopathic"}],
        [None, {}],
    ]
    assert run_js("unknown_cases.js", "filterCases", calls) == [[0, 1, 2], [0, 2], [1, 2], [2], [], []]


def test_keyboard_shortcuts():
    awaiting = {"awaiting": True, "step": "diagnosis"}
    answered = {"awaiting": False, "step": "diagnosis"}
    optional = {"awaiting": True, "step": "next_step"}
    calls = [
        ["3", awaiting],
        ["3", answered],
        ["Enter", answered],
        ["Enter", awaiting],
        ["n", awaiting],
        ["s", optional],
        ["s", awaiting],
        ["0", awaiting],
        ["x", awaiting],
    ]
    assert run_js("unknown_cases.js", "keyAction", calls) == [
        {"action": "choose", "index": 2},
        None,
        {"action": "continue"},
        None,
        {"action": "next_case"},
        {"action": "skip"},
        None,
        None,
        None,
    ]


def test_expand_case_builds_every_step_from_the_deck_labels():
    import json
    from pathlib import Path

    deck = json.loads((Path(__file__).resolve().parents[1] / "figures/deck/cases/deck.json").read_text("utf-8"))
    compact = deck["cases"][0]
    full = run_js("unknown_cases.js", "expandCase", [[compact, deck["labels"]]])[0]
    assert full["label"] == deck["labels"]["diagnosis"][compact["diagnosis"]]
    assert [o[0] for o in full["steps"]["compartment"]["options"]] == list(deck["labels"]["compartment"])
    assert full["steps"]["diagnosis"]["accept"] == [compact["diagnosis"]]
    assert full["steps"]["next_step"]["why"] == deck["labels"]["next_step_why"][compact["diagnosis"]]
    assert all(e["label"] for e in full["steps"]["diagnosis"]["evidence"])
    assert all(name for _, name in full["steps"]["morphology"]["options"])
    assert "ranks" in full["steps"]["diagnosis"]["why"]


def test_case_images_one_or_two_views_each_with_its_alt_text():
    two = {"images": [["case-001.webp", "Frontal view: bodies."], ["case-001-b.webp", "Lateral view: more bodies."]]}
    legacy = {"image": "case-002.webp", "alt": "One view."}
    calls = [[two], [legacy], [{}], [None]]
    assert run_js("unknown_cases.js", "caseImages", calls) == [
        [["case-001.webp", "Frontal view: bodies."], ["case-001-b.webp", "Lateral view: more bodies."]],
        [["case-002.webp", "One view."]],
        [],
        [],
    ]
    record = {
        **two,
        "id": "case-001",
        "diagnosis": "synovial_osteochondromatosis",
        "compartment": ["intraarticular"],
        "morphology": {"options": [], "accept": []},
        "options": [],
        "next_step": [],
    }
    full = run_js("unknown_cases.js", "expandCase", [[record, {}]])[0]
    assert full["images"] == two["images"]
