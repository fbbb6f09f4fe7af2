"""The browser calculator (static/lab_entry.js) judges entries exactly as calcifications.labs."""

import random

import pytest

from calcifications import labs
from node_runner import run_js


def _texts(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        return f"{rng.uniform(-1, 30):.{rng.randint(0, 3)}f}"
    if kind < 0.65:
        return f"{rng.uniform(0.1, 7):.2f}".replace(".", ",")
    return rng.choice(["", " ", "abc", "9..5", "1e400", "NaN", "-0", "0", "2,5,1", ".5", "1e1", "+3", "12 ", "٣"])


def test_front_end_accepts_rejects_and_multiplies_like_python():
    rng = random.Random(20261125)
    table = labs.frontend_table()
    cases, expected = [], []
    for _ in range(600):
        calcium, phosphate, unit_index = _texts(rng), _texts(rng), rng.randint(0, 1)
        cases.append([table, calcium, phosphate, unit_index])
        unit = labs.UNITS[unit_index]
        try:
            ca = labs.parse_lab_text(calcium, "calcium", unit)
            p = labs.parse_lab_text(phosphate, "phosphate", unit)
        except ValueError:
            expected.append(None)
        else:
            expected.append((ca * p, labs.product_band(ca * p).id))
    results = run_js("lab_entry.js", "evaluate", cases)
    valid = 0
    for case, want, got in zip(cases, expected, results):
        if want is None:
            assert got["product"] is None, case[1:]
        else:
            valid += 1
            assert got["product"] == pytest.approx(want[0], rel=1e-12, abs=1e-12), case[1:]
            assert got["band"]["id"] == want[1], case[1:]
    assert valid > 100  # the random cases exercise both paths


@pytest.mark.parametrize(
    ("calcium", "phosphate", "unit_index", "calcium_message"),
    [
        ("", "4", 0, "Enter a value"),
        ("abc", "4", 0, "Not a number"),
        ("-2", "4", 0, "positive"),
        ("95", "4", 0, "Implausible"),
        ("9.5", "4", 1, "Implausible"),
    ],
)
def test_front_end_explains_each_bad_entry(calcium, phosphate, unit_index, calcium_message):
    [result] = run_js("lab_entry.js", "evaluate", [[labs.frontend_table(), calcium, phosphate, unit_index]])
    assert calcium_message in result["calcium"]["message"]
    assert result["product"] is None


@pytest.mark.parametrize(
    ("text", "value", "fragment"),
    [
        ("9,5", 9.5, None),
        ("1200", 1200.0, None),
        ("0,125", 0.125, None),
        ("9,50", 9.5, None),
        ("1,200", None, "Ambiguous: 1,200 could be 1200 or 1.200"),
        ("12,500", None, "type 12500"),
        ("1.200,5", None, "one decimal separator"),
        ("2,5,1", None, "one decimal separator"),
        ("", None, "Enter a value"),
        ("NaN", None, "Not a number"),
        ("1e400", None, "Not a finite number"),
    ],
)
def test_decimal_comma_is_read_and_a_grouping_comma_refused_in_both_languages(text, value, fragment):
    [got] = run_js("common.js", "parseNumber", [[text]])
    if fragment is None:
        assert got == {"value": value}
        assert labs.read_number_text(text) == value
        return
    assert fragment in got["message"]
    with pytest.raises(ValueError) as error:
        labs.read_number_text(text)
    assert str(error.value) == got["message"]  # the same words in Python and in the browser


def test_pth_typed_with_a_grouping_comma_is_refused_not_read_as_suppressed():
    with pytest.raises(ValueError, match="pth: ambiguous"):
        labs.parse_lab_text("1,200", "pth")
    assert labs.parse_lab_text("1200", "pth") == 1200.0
    [field] = run_js("common.js", "checkField", [[labs.frontend_table(), "pth", "1,200", 0]])
    assert field["value"] is None and "Ambiguous" in field["text"]


def test_gauge_band_limits_come_from_the_lab_table():
    table = labs.frontend_table()
    [limits] = run_js("lab_entry.js", "bandLimits", [[table]])
    assert limits == [b.upper for b in labs.lab_table().product_bands[:-1]]
