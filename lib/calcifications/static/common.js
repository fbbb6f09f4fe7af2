// Helpers shared by the book's browser modules (lab_entry.js, differential.js, calculator.js).
//
// An ES module with no imports. Node tests import it directly; a widget's front-end
// (anywidget `_esm`, one module per widget) gets it inlined by
// calcifications.widgets.bundled_module, which replaces the `import ... from "./common.js"`
// line of a module with this file, once.
//
// Reading a lab box follows calcifications.labs.read_number_text and parse_lab_text:
// a decimal comma is accepted ("9,5" is 9.5), a comma that may group thousands is
// refused ("1,200": 1200 or 1.2?), and so are two separators ("1.200,5").

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const GROUPED = /^[+-]?[1-9]\d{0,2},\d{3}$/;

/** Escape text for HTML. */
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

/** A plausible range as shown to a reader, e.g. "2–25 mg/dL" or "0.50–6.24 mmol/L". */
export function formatRange(low, high, unit, perMmol) {
  if (unit === "mmol/L") return `${(low / perMmol).toFixed(2)}–${(high / perMmol).toFixed(2)} mmol/L`;
  return `${low}–${high} ${unit}`;
}

/** Parse the text of an input box; returns {value} or {message} (the messages of labs.read_number_text). */
export function parseNumber(text) {
  let trimmed = String(text ?? "").trim();
  if (trimmed === "") return { message: "Enter a value." };
  if (trimmed.includes(",")) {
    if (trimmed.split(",").length > 2 || trimmed.includes(".")) {
      return { message: "Not a number: use one decimal separator and no thousands separator, e.g. 1200 or 9.5." };
    }
    if (GROUPED.test(trimmed)) {
      const [whole, decimals] = trimmed.split(",");
      return { message: `Ambiguous: ${trimmed} could be ${whole}${decimals} or ${whole}.${decimals}; ` +
        `type ${whole}${decimals} (no thousands separator) or ${whole}.${decimals}.` };
    }
    trimmed = trimmed.replace(",", ".");
  }
  if (!NUMBER.test(trimmed)) return { message: "Not a number: type digits, e.g. 9.5." };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { message: "Not a finite number." };
  return { value };
}

/**
 * Check one analyte's text in `unit` ("mg/dL" or "mmol/L"; analytes measured in one
 * unit only, such as PTH, ignore it). Returns {value, unit, mg_dl?} or {message}.
 */
export function checkAnalyte(table, name, text, unit) {
  const parsed = parseNumber(text);
  if (parsed.message) return { message: parsed.message };
  if (parsed.value <= 0) return { message: "Must be positive." };
  const single = table.single_unit[name];
  if (single) {
    const [low, high] = single.plausible;
    if (parsed.value < low || parsed.value > high) {
      return { message: `Implausible: expected ${formatRange(low, high, single.unit)}. Check the value and the unit.` };
    }
    return { value: parsed.value, unit: single.unit };
  }
  const analyte = table.analytes[name];
  const perMmol = analyte.mg_dl_per_mmol_l;
  const mgDl = unit === "mmol/L" ? parsed.value * perMmol : parsed.value;
  const [low, high] = analyte.plausible_mg_dl;
  if (mgDl < low || mgDl > high) {
    return { message: `Implausible: expected ${formatRange(low, high, unit, perMmol)}. Check the value and the unit.` };
  }
  return { value: mgDl, unit: "mg/dL", mg_dl: mgDl, mg_dl_per_mmol_l: perMmol };
}

/** "= 2.37 mmol/L" beside a valid calcium or phosphate typed in mg/dL (and the reverse). */
export function converted(field, shownUnit) {
  if (!field.mg_dl_per_mmol_l) return "";
  return shownUnit === "mmol/L" ? `= ${field.mg_dl.toFixed(2)} mg/dL` : `= ${(field.mg_dl / field.mg_dl_per_mmol_l).toFixed(2)} mmol/L`;
}

/** The message and checked value of an optional lab box (empty means "not given"). */
export function checkField(table, analyte, text, unitIndex) {
  if (String(text ?? "").trim() === "") return { value: null, text: "not given", ok: true };
  const unit = table.units[unitIndex] ?? table.units[0];
  const field = checkAnalyte(table, analyte, text, unit);
  if (field.message) return { value: null, text: `${field.message} Not used until corrected.`, ok: false };
  return { value: field.value, text: converted(field, unit) || "ok", ok: true };
}
