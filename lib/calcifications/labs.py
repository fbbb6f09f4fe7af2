"""Serum chemistry: unit conversion, validation and the calcium-phosphate product.

The numbers (conversion factors, plausible ranges, product bands) live in
``data/labs.yml``; the browser calculator receives the same table through
:func:`frontend_table`, so both sides judge an entry the same way.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

UNITS: tuple[str, ...] = ("mg/dL", "mmol/L")


@dataclass(frozen=True)
class Analyte:
    """One serum analyte: its name, unit conversion and plausible range (mg/dL)."""

    name: str
    label: str
    mg_dl_per_mmol_l: float
    plausible_mg_dl: tuple[float, float]
    reference_mg_dl: tuple[float, float]


@dataclass(frozen=True)
class ProductBand:
    """A band of the calcium-phosphate product; ``upper`` is exclusive, in mg²/dL²."""

    id: str
    upper: float
    label: str


@dataclass(frozen=True)
class LabTable:
    """The validated contents of ``data/labs.yml``."""

    analytes: dict[str, Analyte]
    product_bands: tuple[ProductBand, ...]


@lru_cache(maxsize=1)
def lab_table() -> LabTable:
    """Load and validate the lab table shipped with the package."""
    raw = yaml.safe_load(resources.files("calcifications").joinpath("data/labs.yml").read_text("utf-8"))
    if tuple(raw["units"]) != UNITS:
        raise ValueError(f"data/labs.yml: units must be {UNITS}, found {raw['units']}")
    analytes = {}
    for name, row in raw["analytes"].items():
        low, high = (float(v) for v in row["plausible_mg_dl"])
        if not 0 < low < high:
            raise ValueError(f"data/labs.yml: bad plausible range for {name}: {row['plausible_mg_dl']}")
        analytes[name] = Analyte(
            name=name,
            label=row["label"],
            mg_dl_per_mmol_l=float(row["mg_dl_per_mmol_l"]),
            plausible_mg_dl=(low, high),
            reference_mg_dl=tuple(float(v) for v in row["reference_mg_dl"]),
        )
    bands = tuple(ProductBand(b["id"], float(b["upper"]), b["label"]) for b in raw["product_bands_mg2_dl2"])
    uppers = [b.upper for b in bands]
    if uppers != sorted(uppers) or not math.isinf(uppers[-1]):
        raise ValueError("data/labs.yml: product bands must rise and end at .inf")
    return LabTable(analytes=analytes, product_bands=bands)


def _analyte(name: str) -> Analyte:
    table = lab_table()
    if name not in table.analytes:
        raise ValueError(f"unknown analyte {name!r}; expected one of {sorted(table.analytes)}")
    return table.analytes[name]


def _as_number(value: Any) -> Any:
    """``value`` as a Python float if it is a real number (numpy scalars included), else unchanged.

    Every numeric entry point (:func:`to_mg_dl`, :func:`product_band`,
    :func:`normalize_labs`) goes through here, so they accept the same things.
    A bool (Python's or numpy's) is not a lab value even though ``True == 1``:
    it stays as it is and is refused by the caller.
    """
    return float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool) else value


def _check_unit(unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected 'mg/dL' or 'mmol/L'")


def _format_range(analyte: Analyte, unit: str) -> str:
    low, high = analyte.plausible_mg_dl
    if unit == "mmol/L":
        low, high = low / analyte.mg_dl_per_mmol_l, high / analyte.mg_dl_per_mmol_l
        return f"{low:.2f}–{high:.2f} mmol/L"
    return f"{low:g}–{high:g} mg/dL"


def to_mg_dl(value: Any, analyte: str, unit: str = "mg/dL") -> float:
    """Return a serum concentration in mg/dL after checking it is a plausible number.

    ``value`` is in ``unit`` ("mg/dL" or "mmol/L"): a Python or numpy real
    number (not a bool). Raises ``ValueError`` for a value that is not a finite number, is not positive, or lies outside the
    plausible range of the analyte (almost always a typo or a unit mix-up).
    """
    spec = _analyte(analyte)
    _check_unit(unit)
    number = _as_number(value)
    if not isinstance(number, float):
        raise ValueError(f"{analyte} must be a number in {unit}, got {value!r}")
    if not math.isfinite(number):
        raise ValueError(f"{analyte} must be a finite number in {unit}, got {value!r}")
    if number <= 0:
        raise ValueError(f"{analyte} must be positive, got {number:g} {unit}")
    mg_dl = number * spec.mg_dl_per_mmol_l if unit == "mmol/L" else number
    low, high = spec.plausible_mg_dl
    if not low <= mg_dl <= high:
        raise ValueError(
            f"{analyte} of {number:g} {unit} is outside the plausible range "
            f"{_format_range(spec, unit)}; check the value and the unit"
        )
    return mg_dl


# ASCII digits only, as in the browser (JavaScript's \d matches no other script's digits).
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$", re.ASCII)
# "1,200" or "12,500": a comma before exactly three digits may group thousands (1200) or mark
# decimals (1.2): refused as ambiguous rather than guessed.
_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2},\d{3}$", re.ASCII)


def read_number_text(text: Any) -> float:
    """Return the number typed in a lab box, accepting a decimal comma ("9,5" is 9.5).

    Raises ``ValueError`` with a short reader-facing message for an empty box,
    text that is not a plain number, a comma that may group thousands
    ("1,200": 1200 or 1.2?), two separators ("1.200,5", "2,5,1") or a value
    that is not finite. ``static/common.js`` (``parseNumber``) applies the same rules.
    """
    stripped = str(text).strip()
    if not stripped:
        raise ValueError("Enter a value.")
    if "," in stripped:
        if stripped.count(",") > 1 or "." in stripped:
            raise ValueError("Not a number: use one decimal separator and no thousands separator, e.g. 1200 or 9.5.")
        if _GROUPED.match(stripped):
            whole, _, decimals = stripped.partition(",")
            raise ValueError(
                f"Ambiguous: {stripped} could be {whole}{decimals} or {whole}.{decimals}; "
                f"type {whole}{decimals} (no thousands separator) or {whole}.{decimals}."
            )
        stripped = stripped.replace(",", ".")
    if not _NUMBER.match(stripped):
        raise ValueError("Not a number: type digits, e.g. 9.5.")
    value = float(stripped)
    if not math.isfinite(value):
        raise ValueError("Not a finite number.")
    return value


def parse_lab_text(text: str, analyte: str, unit: str = "mg/dL") -> float:
    """Return the value of a lab entry typed as text (as in a calculator box).

    The value is in mg/dL, except for analytes measured in one unit only
    (PTH in pg/mL), for which ``unit`` is ignored. Accepts a decimal comma
    ("9,5") and refuses a comma that may group thousands ("1,200"), see
    :func:`read_number_text`. Raises ``ValueError`` with a short,
    reader-facing message for empty, non-numeric, ambiguous or implausible entries.
    The browser calculators (static/common.js) apply the same rules.
    """
    if not isinstance(text, str):
        raise ValueError(f"{analyte}: a lab entry is text as typed in a box, got {type(text).__name__} {text!r}")
    try:
        value = read_number_text(text)
    except ValueError as error:
        message = str(error)
        raise ValueError(f"{analyte}: {message[0].lower()}{message[1:]}") from None
    single = case_lab_table().single_unit.get(analyte)
    if single is not None:
        return _single_unit_value(value, single, analyte)
    return to_mg_dl(value, analyte, unit)


def calcium_phosphate_product(calcium: float, phosphate: float, unit: str = "mg/dL") -> float:
    """Return the calcium-phosphate product in mg²/dL².

    ``calcium`` is total serum calcium and ``phosphate`` serum inorganic
    phosphate, both in ``unit`` ("mg/dL" or "mmol/L"). Raises ``ValueError``
    for values that are not finite, not positive or not plausible.
    """
    return to_mg_dl(calcium, "calcium", unit) * to_mg_dl(phosphate, "phosphate", unit)


def product_band(product_mg2_dl2: float) -> ProductBand:
    """Return the band (below, within or above the essay's 60-70 range) of a product in mg²/dL²."""
    product = _as_number(product_mg2_dl2)
    if not isinstance(product, float):
        raise ValueError(f"product must be a number in mg²/dL², got {product_mg2_dl2!r}")
    if not math.isfinite(product) or product < 0:
        raise ValueError(f"product must be a finite, non-negative number, got {product_mg2_dl2!r}")
    return next(band for band in lab_table().product_bands if product < band.upper)


def frontend_table() -> dict[str, Any]:
    """Return the lab table as plain JSON-ready data for the browser calculators."""
    table = lab_table()
    return {
        "units": list(UNITS),
        "analytes": {
            name: {
                "label": a.label,
                "mg_dl_per_mmol_l": a.mg_dl_per_mmol_l,
                "plausible_mg_dl": list(a.plausible_mg_dl),
            }
            for name, a in table.analytes.items()
        },
        # Analytes read in one unit only (uric acid, PTH), for the differential calculator's boxes.
        "single_unit": {
            name: {"label": a.label, "unit": a.unit, "plausible": list(a.plausible)}
            for name, a in case_lab_table().single_unit.items()
        },
        # JSON has no infinity: the last band is open-ended (null).
        "product_bands": [
            {"id": b.id, "upper": None if math.isinf(b.upper) else b.upper, "label": b.label}
            for b in table.product_bands
        ],
    }


# ---- Lab entries of a case (the vocabulary's lab keys) ----------------------
# Added for calcifications.differential; the functions above are unchanged.


@dataclass(frozen=True)
class SingleUnitAnalyte:
    """An analyte read in one unit only (uric acid, PTH): plausible and reference ranges."""

    name: str
    label: str
    unit: str
    plausible: tuple[float, float]
    reference: tuple[float, float]


@dataclass(frozen=True)
class LabKey:
    """One lab key of the vocabulary, such as ``calcium_mmol_l``: its analyte and unit."""

    key: str
    analyte: str
    unit: str


@dataclass(frozen=True)
class CaseLabTable:
    """The parts of ``data/labs.yml`` that judge the lab entries of a case."""

    single_unit: dict[str, SingleUnitAnalyte]
    keys: dict[str, LabKey]
    conflict_tolerance: float


@lru_cache(maxsize=1)
def case_lab_table() -> CaseLabTable:
    """Load and validate the lab keys, single-unit analytes and unit-conflict tolerance."""
    raw = yaml.safe_load(resources.files("calcifications").joinpath("data/labs.yml").read_text("utf-8"))
    single = {}
    for name, row in raw["single_unit_analytes"].items():
        plausible = tuple(float(v) for v in row["plausible"])
        reference = tuple(float(v) for v in row["reference"])
        if not (0 < plausible[0] < reference[0] < reference[1] < plausible[1]):
            raise ValueError(f"data/labs.yml: ranges of {name} must nest inside each other and be positive")
        single[name] = SingleUnitAnalyte(name, row["label"], row["unit"], plausible, reference)
    two_unit = lab_table().analytes
    keys = {}
    for key, row in raw["lab_keys"].items():
        analyte, unit = row["analyte"], row["unit"]
        if analyte in two_unit:
            _check_unit(unit)
        elif analyte not in single or single[analyte].unit != unit:
            raise ValueError(f"data/labs.yml: lab key {key} names an unknown analyte or unit: {row}")
        keys[key] = LabKey(key, analyte, unit)
    tolerance = float(raw["unit_conflict_relative_tolerance"])
    if not 0 < tolerance < 0.5:
        raise ValueError("data/labs.yml: unit_conflict_relative_tolerance must lie in (0, 0.5)")
    return CaseLabTable(single_unit=single, keys=keys, conflict_tolerance=tolerance)


def _check_entry(value: Any, key: str, unit: str, expected: str) -> float:
    # Name the key and the expected range in every message, whatever went wrong.
    if not isinstance(value, float):
        raise ValueError(f"{key} must be a number in {unit} (plausible {expected}), got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{key} must be a finite number in {unit} (plausible {expected}), got {value!r}")
    if value <= 0:
        raise ValueError(f"{key} must be positive (plausible {expected}), got {value:g} {unit}")
    return value


def _single_unit_value(value: Any, spec: SingleUnitAnalyte, key: str) -> float:
    low, high = spec.plausible
    expected = f"{low:g}–{high:g} {spec.unit}"
    value = _check_entry(value, key, spec.unit, expected)
    if not low <= value <= high:
        raise ValueError(
            f"{key} of {value:g} {spec.unit} is outside the plausible range {expected}; check the value and the unit"
        )
    return value


def normalize_labs(labs: Any) -> dict[str, float]:
    """Return a case's labs as ``{analyte: value}`` in mg/dL (PTH in pg/mL).

    ``labs`` maps the vocabulary's lab keys (``calcium_mg_dl``,
    ``calcium_mmol_l``, ``phosphate_mg_dl``, ``phosphate_mmol_l``,
    ``uric_acid_mg_dl``, ``pth_pg_ml``) to numbers; ``None`` means no labs.
    Raises ``ValueError`` for an unknown key, a value that is not a finite,
    positive, plausible number, or calcium or phosphate given in both units
    with values that disagree. When both units agree, the mg/dL entry is used.
    """
    if labs is None:
        return {}
    if not hasattr(labs, "items"):
        raise ValueError(f"labs must be a mapping from lab keys to numbers, got {type(labs).__name__}")
    table = case_lab_table()
    two_unit = lab_table().analytes
    readings: dict[str, list[tuple[LabKey, float]]] = {}
    for key, raw_value in labs.items():
        if key not in table.keys:
            raise ValueError(f"unknown lab key {key!r}; expected one of {sorted(table.keys)}")
        spec = table.keys[key]
        value = _as_number(raw_value)
        if spec.analyte in two_unit:
            _check_entry(value, key, spec.unit, _format_range(two_unit[spec.analyte], spec.unit))
            mg_dl = to_mg_dl(value, spec.analyte, spec.unit)
        else:
            mg_dl = _single_unit_value(value, table.single_unit[spec.analyte], key)
        readings.setdefault(spec.analyte, []).append((spec, mg_dl))
    return {analyte: _reconcile(analyte, entries, table.conflict_tolerance) for analyte, entries in readings.items()}


def _reconcile(analyte: str, entries: list[tuple[LabKey, float]], tolerance: float) -> float:
    # Only calcium and phosphate have two keys; a case may give both if they agree.
    if len(entries) == 1:
        return entries[0][1]
    by_unit = {spec.unit: value for spec, value in entries}
    mg_dl, from_mmol = by_unit["mg/dL"], by_unit["mmol/L"]
    if abs(mg_dl - from_mmol) > tolerance * max(mg_dl, from_mmol):
        raise ValueError(
            f"{analyte} is given twice with conflicting values: {mg_dl:g} mg/dL and "
            f"{from_mmol:.4g} mg/dL from the mmol/L entry (more than {tolerance:.0%} apart); "
            "give it in one unit, mg/dL or mmol/L"
        )
    return mg_dl


def frontend_case_table() -> dict[str, Any]:
    """Return the lab keys and the unit-conflict tolerance as JSON-ready data.

    The analytes themselves (units, plausible ranges) are in :func:`frontend_table`,
    which the browser receives alongside this.
    """
    table = case_lab_table()
    return {
        "keys": {k.key: {"analyte": k.analyte, "unit": k.unit} for k in table.keys.values()},
        "conflict_tolerance": table.conflict_tolerance,
    }
