// Lab entry: the browser side of calcifications.widgets.LabPanel.
//
// Pure functions (`parseNumber`, `checkAnalyte`, `evaluate`) read, check and
// multiply serum values with the lab table that Python sends
// (calcifications.labs.frontend_table(), from data/labs.yml), so the static
// site and a live kernel judge an entry exactly as calcifications.labs does.
// `render` draws one panel, by role:
//   "calcium", "phosphate": the message beside that box of the calcium-phosphate calculator;
//   "result": the calcium-phosphate product and its gauge;
//   "field": the message beside one optional lab box of the differential
//            calculator; it also publishes the checked value (trait `value`,
//            mg/dL, PTH in pg/mL, null when empty or invalid) for jsdlink.

const GAUGE_MAX_MG2_DL2 = 120;

/** Parse the text of an input box; returns {value} or {message}. */
export function parseNumber(text) {
  const trimmed = String(text ?? "").trim();
  if (trimmed === "") return { message: "Enter a value." };
  // Accept a decimal comma ("9,5"), common in laboratory reports.
  const normalised = /^[^.]*,[^,]*$/.test(trimmed) ? trimmed.replace(",", ".") : trimmed;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(normalised)) {
    return { message: "Not a number: type digits, e.g. 9.5." };
  }
  const value = Number(normalised);
  if (!Number.isFinite(value)) return { message: "Not a finite number." };
  return { value };
}

function formatRange(low, high, unit, perMmol) {
  if (unit === "mmol/L") return `${(low / perMmol).toFixed(2)}–${(high / perMmol).toFixed(2)} mmol/L`;
  return `${low}–${high} ${unit}`;
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

/** Evaluate both inputs; the product is in mg²/dL² and null unless both are valid. */
export function evaluate(table, calciumText, phosphateText, unitIndex) {
  const unit = table.units[unitIndex] ?? table.units[0];
  const calcium = checkAnalyte(table, "calcium", calciumText, unit);
  const phosphate = checkAnalyte(table, "phosphate", phosphateText, unit);
  if (calcium.message || phosphate.message) return { unit, calcium, phosphate, product: null, band: null };
  const product = calcium.mg_dl * phosphate.mg_dl;
  const band = table.product_bands.find((b) => b.upper === null || product < b.upper);
  return { unit, calcium, phosphate, product, band };
}

function gaugeSvg(product) {
  const x = (v) => (Math.min(v, GAUGE_MAX_MG2_DL2) / GAUGE_MAX_MG2_DL2) * 300;
  const ticks = [0, 30, 60, 70, 90, 120]
    .map((t) => `<text x="${x(t) + 10}" y="44" font-size="10" text-anchor="middle">${t}</text>`)
    .join("");
  const marker = product === null ? "" :
    `<path d="M ${x(product) + 10} 8 l -5 -7 h 10 z" fill="#000"><title>${product.toFixed(1)} mg²/dL²</title></path>`;
  return `<svg class="capp-gauge" viewBox="0 0 320 50" width="320" height="50" role="img"
      aria-label="Gauge from 0 to ${GAUGE_MAX_MG2_DL2} mg²/dL² with the 60 to 70 band shaded${product === null ? "" : `; marker at ${product.toFixed(1)}`}">
    <rect x="10" y="10" width="300" height="18" fill="#f2f2f2" stroke="#666"/>
    <rect x="${x(60) + 10}" y="10" width="${x(70) - x(60)}" height="18" fill="#E69F00"/>
    <rect x="${x(70) + 10}" y="10" width="${x(GAUGE_MAX_MG2_DL2) - x(70)}" height="18" fill="#D55E00" fill-opacity="0.35"/>
    ${marker}${ticks}
  </svg>`;
}

function converted(field, shownUnit) {
  if (!field.mg_dl_per_mmol_l) return "";
  return shownUnit === "mmol/L" ? `= ${field.mg_dl.toFixed(2)} mg/dL` : `= ${(field.mg_dl / field.mg_dl_per_mmol_l).toFixed(2)} mmol/L`;
}

function resultHtml(result) {
  if (result.product === null) {
    return `<p class="capp-summary capp-wait">Product: waiting for two valid values.</p>${gaugeSvg(null)}`;
  }
  return `<p class="capp-summary"><strong>Ca × P = ${result.product.toFixed(1)} mg²/dL²</strong>
      — ${result.band.label} (band: ${result.band.id}).</p>${gaugeSvg(result.product)}`;
}

function showMessage(box, text, ok) {
  box.textContent = text;
  box.style.color = ok ? "#555" : "#a00000";
  box.style.fontWeight = ok ? "normal" : "bold";
}

/** The message and published value of an optional lab box (empty means "not given"). */
export function checkField(table, analyte, text, unitIndex) {
  if (String(text ?? "").trim() === "") return { value: null, text: "not given", ok: true };
  const unit = table.units[unitIndex] ?? table.units[0];
  const field = checkAnalyte(table, analyte, text, unit);
  if (field.message) return { value: null, text: `${field.message} Not used until corrected.`, ok: false };
  return { value: field.value, text: converted(field, unit) || "ok", ok: true };
}

function render({ model, el }) {
  const role = model.get("role");
  const box = document.createElement("div");
  box.className = `capp capp-${role}`;
  box.setAttribute("aria-live", "polite");
  el.appendChild(box);
  const names = role === "field" ? ["text", "unit_index", "lab_table"] : ["calcium", "phosphate", "unit_index", "lab_table"];
  const redraw = () => {
    const table = model.get("lab_table");
    if (role === "field") {
      const field = checkField(table, model.get("analyte"), model.get("text"), model.get("unit_index"));
      showMessage(box, field.text, field.ok);
      if (model.get("value") !== field.value) {
        model.set("value", field.value);
        model.save_changes();
      }
      return;
    }
    const result = evaluate(table, model.get("calcium"), model.get("phosphate"), model.get("unit_index"));
    if (role === "result") {
      box.innerHTML = resultHtml(result);
    } else {
      const field = result[role];
      showMessage(box, field.message ?? converted(field, result.unit), !field.message);
    }
  };
  for (const name of names) model.on(`change:${name}`, redraw);
  redraw();
  return () => {
    for (const name of names) model.off(`change:${name}`, redraw);
  };
}

export default { render };
