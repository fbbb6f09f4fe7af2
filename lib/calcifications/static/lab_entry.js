// Lab entry: the browser side of calcifications.widgets.LabPanel.
//
// Pure functions (`evaluate` here; `parseNumber`, `checkAnalyte`, `checkField` in
// common.js, inlined into the widget's module at build time) read, check and
// multiply serum values with the lab table that Python sends
// (calcifications.labs.frontend_table(), from data/labs.yml), so the static
// site and a live kernel judge an entry exactly as calcifications.labs does.
// `render` draws one panel, by role:
//   "calcium", "phosphate": the message beside that box of the calcium-phosphate calculator;
//   "result": the calcium-phosphate product and its gauge.
// (The differential calculators draw their own lab boxes: calculator.js.)

import { checkAnalyte, converted } from "./common.js";

const GAUGE_MAX_MG2_DL2 = 120;

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

/** The limits of the product bands that have one (mg²/dL²), from the lab table: [60, 70]. */
export function bandLimits(table) {
  return table.product_bands.map((b) => b.upper).filter((u) => u !== null);
}

function gaugeSvg(table, product) {
  const x = (v) => (Math.min(v, GAUGE_MAX_MG2_DL2) / GAUGE_MAX_MG2_DL2) * 300;
  const [low, high] = bandLimits(table);
  const ticks = [0, 30, low, high, 90, 120]
    .map((t) => `<text x="${x(t) + 10}" y="44" font-size="10" text-anchor="middle" fill="currentColor">${t}</text>`)
    .join("");
  const marker = product === null ? "" :
    `<path d="M ${x(product) + 10} 8 l -5 -7 h 10 z" fill="currentColor"><title>${product.toFixed(1)} mg²/dL²</title></path>`;
  return `<svg class="capp-gauge" viewBox="0 0 320 50" width="320" height="50" role="img"
      aria-label="Gauge from 0 to ${GAUGE_MAX_MG2_DL2} mg²/dL² with the ${low} to ${high} band shaded${product === null ? "" : `; marker at ${product.toFixed(1)}`}">
    <rect x="10" y="10" width="300" height="18" class="calc-track" stroke="currentColor"/>
    <rect x="${x(low) + 10}" y="10" width="${x(high) - x(low)}" height="18" fill="#E69F00"/>
    <rect x="${x(high) + 10}" y="10" width="${x(GAUGE_MAX_MG2_DL2) - x(high)}" height="18" fill="#D55E00" fill-opacity="0.35"/>
    ${marker}${ticks}
  </svg>`;
}

function resultHtml(table, result) {
  if (result.product === null) {
    return `<p class="capp-summary capp-wait">Product: waiting for two valid values.</p>${gaugeSvg(table, null)}`;
  }
  return `<p class="capp-summary"><strong>Ca × P = ${result.product.toFixed(1)} mg²/dL²</strong>
      — ${result.band.label} (band: ${result.band.id}).</p>${gaugeSvg(table, result.product)}`;
}

function showMessage(box, text, ok) {
  box.textContent = text;
  box.classList.toggle("calc-bad", !ok);
}

function render({ model, el }) {
  const role = model.get("role");
  const box = document.createElement("div");
  box.className = `capp capp-${role} calc`;
  box.setAttribute("aria-live", "polite");
  el.appendChild(box);
  const names = ["calcium", "phosphate", "unit_index", "lab_table"];
  const redraw = () => {
    const table = model.get("lab_table");
    const result = evaluate(table, model.get("calcium"), model.get("phosphate"), model.get("unit_index"));
    if (role === "result") {
      box.innerHTML = resultHtml(table, result);
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
