"""Tests of calcifications.labs: conversion, validation and the calcium-phosphate product."""

import math

import pytest

from calcifications import labs


def test_product_in_mg_dl_is_the_plain_product():
    assert labs.calcium_phosphate_product(10.0, 7.0) == pytest.approx(70.0)


def test_product_in_mmol_l_converts_each_analyte_by_its_molar_mass():
    # 2.5 mmol/L calcium = 10.02 mg/dL; 2.0 mmol/L phosphate = 6.194 mg/dL.
    assert labs.calcium_phosphate_product(2.5, 2.0, "mmol/L") == pytest.approx(2.5 * 4.008 * 2.0 * 3.097)


def test_the_same_sample_gives_the_same_product_in_both_units():
    mg = labs.calcium_phosphate_product(9.2, 4.1, "mg/dL")
    mmol = labs.calcium_phosphate_product(9.2 / 4.008, 4.1 / 3.097, "mmol/L")
    assert mmol == pytest.approx(mg, rel=1e-12)


@pytest.mark.parametrize(
    ("product", "band"),
    [(0.0, "below"), (59.99, "below"), (60.0, "within"), (69.99, "within"), (70.0, "above"), (500.0, "above")],
)
def test_product_bands_follow_the_essay_60_to_70(product, band):
    assert labs.product_band(product).id == band


@pytest.mark.parametrize(
    ("calcium", "phosphate", "unit", "fragment"),
    [
        (float("nan"), 4.0, "mg/dL", "finite"),
        (float("inf"), 4.0, "mg/dL", "finite"),
        (-9.5, 4.0, "mg/dL", "positive"),
        (0, 4.0, "mg/dL", "positive"),
        (9.5, 95.0, "mg/dL", "plausible range 0.3–25 mg/dL"),
        (95.0, 4.0, "mg/dL", "plausible range 2–25 mg/dL"),
        (9.5, 4.0, "mmol/L", "plausible range 0.50–6.24 mmol/L"),  # mg/dL values typed as mmol/L
        ("9.5", 4.0, "mg/dL", "must be a number"),
        (True, 4.0, "mg/dL", "must be a number"),
        (9.5, 4.0, "mg/dl", "unknown unit"),
    ],
)
def test_bad_values_raise_a_clear_value_error(calcium, phosphate, unit, fragment):
    with pytest.raises(ValueError, match=fragment):
        labs.calcium_phosphate_product(calcium, phosphate, unit)


@pytest.mark.parametrize(
    ("text", "expected"), [("9.5", 9.5), (" 9,5 ", 9.5), ("1e1", 10.0), ("+8", 8.0), (".9e1", 9.0)]
)
def test_parse_lab_text_accepts_usual_spellings(text, expected):
    assert labs.parse_lab_text(text, "calcium") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "enter a value"),
        ("  ", "enter a value"),
        ("abc", "not a number"),
        ("9.5.1", "not a number"),
        ("1,2,3", "not a number"),
        ("9 5", "not a number"),
        ("-1", "positive"),
        ("1e400", "finite"),
        ("NaN", "not a number"),
    ],
)
def test_parse_lab_text_rejects_bad_entries(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        labs.parse_lab_text(text, "calcium")


def test_unknown_analyte_is_named():
    with pytest.raises(ValueError, match="unknown analyte 'sodium'"):
        labs.to_mg_dl(140, "sodium")


@pytest.mark.parametrize("value", [float("nan"), -1.0, "60"])
def test_product_band_rejects_non_products(value):
    with pytest.raises(ValueError):
        labs.product_band(value)


def test_frontend_table_is_json_ready_and_matches_the_data_file():
    import json

    table = labs.frontend_table()
    assert json.loads(json.dumps(table, allow_nan=False)) == table
    assert table["units"] == ["mg/dL", "mmol/L"]
    assert table["product_bands"][-1]["upper"] is None
    assert [b["upper"] for b in table["product_bands"][:-1]] == [60.0, 70.0]
    assert math.isclose(table["analytes"]["calcium"]["mg_dl_per_mmol_l"], 40.078 / 10, rel_tol=1e-3)
    assert math.isclose(table["analytes"]["phosphate"]["mg_dl_per_mmol_l"], 30.974 / 10, rel_tol=1e-3)


# numpy scalars are numbers: every numeric entry point takes them alike (issue 12).
NUMPY_SCALARS = pytest.mark.parametrize("kind", ["float32", "float64", "int64", "int32"])


@NUMPY_SCALARS
def test_to_mg_dl_accepts_numpy_scalars(kind):
    np = pytest.importorskip("numpy")
    value = labs.to_mg_dl(np.dtype(kind).type(10), "calcium")
    assert value == pytest.approx(10.0) and type(value) is float
    assert labs.to_mg_dl(np.dtype(kind).type(2), "phosphate", "mmol/L") == pytest.approx(2 * 3.097, rel=1e-3)


@NUMPY_SCALARS
def test_product_band_and_product_accept_numpy_scalars(kind):
    np = pytest.importorskip("numpy")
    assert labs.product_band(np.dtype(kind).type(65)).id == "within"
    product = labs.calcium_phosphate_product(np.dtype(kind).type(10), np.dtype(kind).type(5))
    assert product == pytest.approx(50.0) and type(product) is float


@NUMPY_SCALARS
def test_normalize_labs_accepts_numpy_scalars_like_to_mg_dl(kind):
    np = pytest.importorskip("numpy")
    value = np.dtype(kind).type(10)
    assert labs.normalize_labs({"calcium_mg_dl": value}) == {"calcium": labs.to_mg_dl(value, "calcium")}


@pytest.mark.parametrize("value", [True, "10", None, [10.0]])
def test_numeric_entry_points_refuse_the_same_non_numbers(value):
    np = pytest.importorskip("numpy")
    for bad in (value, np.bool_(True)):
        with pytest.raises(ValueError):
            labs.to_mg_dl(bad, "calcium")
        with pytest.raises(ValueError):
            labs.product_band(bad)
        with pytest.raises(ValueError):
            labs.normalize_labs({"calcium_mg_dl": bad})
