"""The frame viewer's front-end (static/frame_viewer.js) clamps, picks and labels frames without throwing."""

from __future__ import annotations

from calcifications.atlas_widgets import viewer_state
from node_runner import run_js

PNG = "data:image/png;base64,iVBORw0KGgo="


def test_clamp_index():
    cases = [
        [0, 3],
        [2, 3],
        [3, 3],
        [99, 3],
        [-1, 3],
        [1.6, 3],
        [None, 3],
        ["2", 3],
        ["x", 3],
        [1, 0],
        [0, -2],
        [1, "three"],
        [1e308, 4],
    ]
    assert run_js("frame_viewer.js", "clampIndex", cases) == [0, 2, 2, 2, 0, 2, 0, 2, 0, -1, -1, -1, 3]


def test_nearest_index():
    weeks = [1, 3.5, 7, 16]
    cases = [
        [weeks, 0],
        [weeks, 2.2],
        [weeks, 2.25],
        [weeks, 5.5],
        [weeks, 12],
        [weeks, 100],
        [weeks, None],
        [weeks, "x"],
        [[], 3],
        [None, 3],
        [["formative", "resorptive"], 1],
        [[None, 2, 4], 3.9],
    ]
    assert run_js("frame_viewer.js", "nearestIndex", cases) == [0, 0, 0, 2, 3, 3, 0, 0, -1, -1, 0, 2]


def state(**overrides):
    base = {
        "frames": [PNG, PNG, PNG],
        "values": [1, 3.5, 7],
        "labels": ["one", "three and a half", "seven"],
        "alts": ["alt one", "alt two", "alt three"],
        "index": 0,
        "value": None,
        "mode": "index",
        "unit": "weeks",
        "live": {},
    }
    return {**base, **overrides}


def test_frame_view_index_mode_clamps_and_labels():
    views = run_js(
        "frame_viewer.js", "frameView", [[state(index=1)], [state(index=7)], [state(index=-4)], [state(index=None)]]
    )
    assert [(v["index"], v["caption"], v["alt"], v["message"]) for v in views] == [
        (1, "three and a half", "alt two", ""),
        (2, "seven", "alt three", ""),
        (0, "one", "alt one", ""),
        (0, "one", "alt one", ""),
    ]
    assert views[0]["counter"] == "Frame 2 of 3" and views[0]["src"] == PNG


def test_frame_view_value_mode_says_when_the_frame_is_the_nearest():
    views = run_js(
        "frame_viewer.js",
        "frameView",
        [[state(mode="value", value=7)], [state(mode="value", value=5.5)], [state(mode="value", value=100)]],
    )
    assert views[0]["caption"] == "seven"
    assert views[1]["caption"] == "seven (nearest pre-rendered frame to 5.5 weeks)"
    assert views[2]["index"] == 2


def test_frame_view_live_frame_only_while_it_matches_the_value():
    live = {"value": 5.5, "src": PNG + "live", "label": "5.5 weeks after trauma: live", "alt": "live alt"}
    views = run_js(
        "frame_viewer.js",
        "frameView",
        [
            [state(mode="value", value=5.5, live=live)],
            [state(mode="value", value=6, live=live)],
            [state(mode="index", index=0, live=live)],
        ],
    )
    assert (views[0]["live"], views[0]["caption"], views[0]["alt"]) == (True, live["label"], "live alt")
    assert views[1]["live"] is False and views[1]["caption"].startswith("seven (nearest")
    assert views[2]["live"] is False and views[2]["caption"] == "one"


def test_frame_view_never_throws_on_bad_state():
    bad = [
        [None],
        [{}],
        [state(frames=[])],
        [state(frames="nope")],
        [state(frames=[None, 3])],
        [state(labels=[], alts=None)],
        [state(mode="value", values=[], value=2)],
        [7],
    ]
    views = run_js("frame_viewer.js", "frameView", bad)
    assert all("thrown" not in v for v in views)
    assert [v["message"] for v in views] == [
        "No frames to show.",
        "No frames to show.",
        "No frames to show.",
        "No frames to show.",
        "Frame 1 is missing.",
        "",
        "",
        "No frames to show.",
    ]
    assert views[5]["caption"] == "Frame 1 of 3" and views[5]["alt"] == "Synthetic radiograph, frame 1 of 3."
    assert views[6]["src"] == PNG and views[6]["index"] == 0


def test_frame_view_shows_python_labels_unchanged():
    real = viewer_state("amorphous_cloud", "phase", ["formative", "resorptive"], size=128)
    views = run_js(
        "frame_viewer.js", "frameView", [[{**real, "index": i, "mode": "index", "live": {}}] for i in (0, 1)]
    )
    assert [v["caption"] for v in views] == real["labels"]
    assert [v["alt"] for v in views] == real["alts"]
    assert [v["src"] for v in views] == real["frames"]
