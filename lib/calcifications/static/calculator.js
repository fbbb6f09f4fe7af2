// The differential calculators (full and per chapter): the anywidget front-end of
// calcifications.widgets.DifferentialPanel.
//
// One widget draws everything: the findings as groups of labelled checkboxes shown
// as chips (keyboard: Tab and Space; touch: tap), the lab boxes with a message beside
// each, the ranking with its "why" and the mechanism bars. It ranks with the engine
// of differential.js (the mirror of calcifications.differential, kept in parity by
// tests/test_differential_js.py) from two synced traits: `findings` (vocabulary ids)
// and `lab_texts` (what the reader typed, by analyte), plus `unit`. Its settings
// (`config`: groups, lab boxes, page-address parameters, section links) come from
// calcifications.calculators.frontend_config, i.e. data/calculators.yml.
//
// The imports are inlined when Python builds the widget (calcifications.widgets.bundled_module);
// node imports this file as it is, and the pure helpers below are tested there.

import { escapeHtml, checkField } from "./common.js";
import { rankCase, mechanismProbabilities, closestIds } from "./differential.js";

// ---------------------------------------------------------------- pure helpers

/** Finding ids in the knowledge base's (vocabulary) order, without repeats or unknown ids. */
export function orderedFindings(knowledge, ids) {
  const wanted = new Set(ids);
  return Object.keys(knowledge.findings).filter((id) => wanted.has(id));
}

/** Shapes typical of the chosen compartments (full calculator), in the group's order. */
export function typicalShapes(config, compartments) {
  const typical = new Set();
  for (const c of compartments) for (const id of config.by_compartment[c] ?? []) typical.add(id);
  const shapes = config.groups.find((g) => g.id === "morphology").findings;
  return shapes.filter((id) => typical.has(id));
}

/** Check the lab boxes: {labs: {lab key: value}, fields: {analyte: {text, ok}}} (values in mg/dL, PTH in pg/mL). */
export function labsFromTexts(table, config, labTexts, unit) {
  const unitIndex = Math.max(0, table.units.indexOf(unit));
  const result = { labs: {}, fields: {} };
  for (const field of config.lab_fields) {
    const checked = checkField(table, field.analyte, labTexts?.[field.analyte] ?? "", unitIndex);
    result.fields[field.analyte] = { text: checked.text, ok: checked.ok };
    if (checked.value !== null) result.labs[field.key] = checked.value;
  }
  return result;
}

/** The engine's input for a panel's state: {findings, labs, fields}. */
export function caseFromState(knowledge, config, state) {
  const findings = orderedFindings(knowledge, state.findings ?? []);
  const { labs, fields } = labsFromTexts(knowledge.labs, config, state.lab_texts ?? {}, state.unit);
  return { findings, labs, fields };
}

/** Read a case from a page address ("?case=id,id&ca=10&unit=mmol/L"); unknown ids are returned, not dropped. */
export function caseFromQuery(knowledge, config, query) {
  const params = new URLSearchParams(query);
  const ids = (params.get("case") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const known = ids.filter((id) => Object.prototype.hasOwnProperty.call(knowledge.findings, id));
  const unknown = ids.filter((id) => !Object.prototype.hasOwnProperty.call(knowledge.findings, id));
  const labTexts = {};
  for (const field of config.lab_fields) if (params.has(field.parameter)) labTexts[field.analyte] = params.get(field.parameter);
  const unit = params.get(config.unit_parameter) === "mmol/L" ? "mmol/L" : "mg/dL";
  return { findings: orderedFindings(knowledge, known), lab_texts: labTexts, unit, unknown };
}

/** The page-address query of a case (without "?"), read back by caseFromQuery. */
export function caseQuery(knowledge, config, state) {
  const params = new URLSearchParams();
  const findings = orderedFindings(knowledge, state.findings ?? []);
  if (findings.length) params.set("case", findings.join(","));
  for (const field of config.lab_fields) {
    const text = String(state.lab_texts?.[field.analyte] ?? "").trim();
    if (text) params.set(field.parameter, text);
  }
  if (state.unit === "mmol/L" && config.lab_fields.some((f) => f.analyte === "calcium" || f.analyte === "phosphate")) {
    params.set(config.unit_parameter, "mmol/L");
  }
  return params.toString().replace(/%2C/g, ",");
}

/** Address of the full calculator with this case, from the site root `root` ("../" on a chapter page). */
export function fullCalculatorHref(knowledge, config, state, root) {
  const query = caseQuery(knowledge, config, state);
  return `${root}${config.calculator.page}${query ? "?" + query : ""}#${config.calculator.anchor}`;
}

// ---------------------------------------------------------------- drawing

function percent(p) {
  return p >= 0.001 ? `${(p * 100).toFixed(1)} %` : "<0.1 %";
}

function factor(weight) {
  const times = Math.exp(Math.abs(weight));
  const shown = times >= 10 ? times.toFixed(0) : times.toFixed(1);
  return weight >= 0 ? `×${shown}` : `÷${shown}`;
}

function evidenceHtml(evidence) {
  if (!evidence.length) return "<p class='dd-none'>Nothing in this case moves it: its prior frequency alone.</p>";
  const rows = evidence.map((e) => {
    const width = Math.min(Math.abs(e.weight) / 5, 1) * 100;
    const kind = e.weight >= 0 ? "dd-for" : "dd-against";
    return `<li class="${kind}"><span class="dd-factor">${factor(e.weight)}</span>
      <span class="dd-ev-bar" aria-hidden="true"><span style="width:${width.toFixed(0)}%"></span></span>
      <span>${e.weight >= 0 ? "for" : "against"}: ${escapeHtml(e.label)}</span></li>`;
  });
  return `<ul class="dd-evidence">${rows.join("")}</ul>`;
}

function diagnosisLink(candidate, config, root) {
  const href = config.links[candidate.diagnosis];
  if (root === undefined || !href) return escapeHtml(candidate.label);
  return `<a href="${root}${href}">${escapeHtml(candidate.label)}</a>`;
}

function resultHtml(kb, config, ranked, topN, root, described, open) {
  const rows = ranked.slice(0, topN).map((c, rank) => `
    <li class="dd-row" data-diagnosis="${c.diagnosis}">
      <span class="dd-p">${percent(c.probability)}</span>
      <span class="dd-bar" aria-hidden="true"><span style="width:${(c.probability * 100).toFixed(1)}%"></span></span>
      <span class="dd-label">${rank + 1}. ${diagnosisLink(c, config, root)}
        <span class="dd-mech">${escapeHtml(config.mechanism_labels[c.mechanism] ?? c.mechanism)}</span></span>
      <details class="dd-why"${open.has(c.diagnosis) ? " open" : ""}><summary>Why?</summary>${evidenceHtml(c.evidence)}</details>
    </li>`);
  const mechanisms = mechanismProbabilities(kb, ranked);
  const rollup = Object.entries(mechanisms).map(([id, p]) => `
    <li class="dd-row dd-mechanism"><span class="dd-p">${percent(p)}</span>
      <span class="dd-bar" aria-hidden="true"><span style="width:${(p * 100).toFixed(1)}%"></span></span>
      <span class="dd-label">${escapeHtml(config.mechanism_labels[id] ?? id)}</span></li>`);
  const heading = described ? "Most likely, for this case" : "Before anything is known (the prior)";
  return `<h3 class="dd-heading">${heading}</h3>
    <ol class="dd-list">${rows.join("")}</ol>
    <h3 class="dd-heading">By mechanism</h3>
    <ul class="dd-mechanisms">${rollup.join("")}</ul>
    <p class="dd-small">A teaching model: a naive Bayes ranking of the findings you entered,
    with likelihoods drawn from the cited literature. "Why?" lists what moved each diagnosis, as the factor by which it
    multiplies the odds (× for, ÷ against). Not for clinical decisions.</p>`;
}

let counter = 0;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function chip(id, label, prefix) {
  const wrapper = element("label", "dd-chip");
  const input = document.createElement("input");
  input.type = "checkbox";
  input.value = id;
  input.id = `${prefix}-${id}`;
  wrapper.append(input, element("span", "", label));
  return wrapper;
}

function render({ model, el }) {
  const prefix = `dd${++counter}-${Math.random().toString(36).slice(2, 7)}`;
  const kb = model.get("knowledge");
  const config = model.get("config");
  const root = document.documentElement.dataset.content_root;
  const labels = Object.fromEntries(Object.entries(kb.findings).map(([id, f]) => [id, f.label]));

  const box = element("div", `dd calc dd-${config.mode}`);
  const notice = element("p", "dd-notice");
  notice.setAttribute("role", "status");
  const controls = element("div", "dd-controls");
  const chips = {};
  let shapeLead = null, shapeTypical = null, shapeOther = null, shapeOtherList = null, shapeNote = null;
  for (const group of config.groups) {
    if (!group.findings.length) continue;
    const fieldset = element("fieldset", `dd-group dd-group-${group.id}`);
    fieldset.append(element("legend", "", group.title));
    const list = element("div", "dd-chips");
    for (const id of group.findings) list.append(chips[id] = chip(id, labels[id], prefix));
    if (group.id === "morphology" && config.mode === "full") {
      shapeLead = element("p", "dd-lead");
      shapeTypical = list;
      shapeOther = element("details", "dd-more");
      shapeOther.append(element("summary", "", "Other shapes"));
      shapeOtherList = element("div", "dd-chips");
      shapeOther.append(shapeOtherList);
      shapeNote = element("p", "dd-unusual");
      fieldset.append(shapeLead, list, shapeOther, shapeNote);
    } else {
      fieldset.append(list);
    }
    controls.append(fieldset);
  }

  const labInputs = {}, labMessages = {};
  let unitInputs = [];
  if (config.lab_fields.length) {
    const fieldset = element("fieldset", "dd-group dd-labs");
    fieldset.append(element("legend", "", "Blood tests (leave empty if unknown)"));
    if (config.lab_fields.some((f) => kb.labs.analytes[f.analyte])) {
      const units = element("div", "dd-units");
      units.setAttribute("role", "radiogroup");
      units.setAttribute("aria-label", "Unit of calcium and phosphate");
      units.append(element("span", "dd-units-title", "Unit of calcium and phosphate:"));
      unitInputs = kb.labs.units.map((unit) => {
        const label = element("label", "dd-chip dd-radio");
        const input = document.createElement("input");
        input.type = "radio";
        input.name = `${prefix}-unit`;
        input.value = unit;
        label.append(input, element("span", "", unit));
        units.append(label);
        input.addEventListener("change", () => { if (input.checked) { model.set("unit", unit); model.save_changes(); } });
        return input;
      });
      fieldset.append(units);
    }
    for (const field of config.lab_fields) {
      const row = element("div", "dd-lab");
      const id = `${prefix}-lab-${field.analyte}`;
      const label = element("label", "", field.label);
      label.htmlFor = id;
      const input = document.createElement("input");
      Object.assign(input, { type: "text", id, placeholder: field.placeholder, autocomplete: "off", spellcheck: false });
      input.setAttribute("inputmode", "decimal");
      const message = element("span", "dd-lab-msg");
      message.id = `${id}-msg`;
      message.setAttribute("aria-live", "polite");
      input.setAttribute("aria-describedby", message.id);
      input.addEventListener("input", () => {
        model.set("lab_texts", { ...model.get("lab_texts"), [field.analyte]: input.value });
        model.save_changes();
      });
      row.append(label, input, message);
      fieldset.append(row);
      labInputs[field.analyte] = input;
      labMessages[field.analyte] = message;
    }
    controls.append(fieldset);
  }

  const tools = element("p", "dd-tools");
  const clear = element("button", "dd-clear", "Clear the case");
  clear.type = "button";
  const link = element("a", config.mode === "full" ? "dd-share" : "dd-open-full",
    config.mode === "full" ? "Link to this case" : "Open this case in the full calculator");
  tools.append(clear, link);
  const output = element("div", "dd-output");
  box.append(controls, notice, output, tools);
  el.appendChild(box);

  controls.addEventListener("change", (event) => {
    const input = event.target;
    if (input.type !== "checkbox") return;
    const current = new Set(model.get("findings"));
    if (input.checked) current.add(input.value); else current.delete(input.value);
    model.set("findings", orderedFindings(kb, current));
    model.save_changes();
  });
  clear.addEventListener("click", () => {
    model.set("findings", []);
    model.set("lab_texts", {});
    model.save_changes();
  });

  let urlProblem = "";
  if (config.mode === "full") {
    const query = globalThis.location?.search ?? "";
    const params = new URLSearchParams(query);
    if (params.has("case") || config.lab_fields.some((f) => params.has(f.parameter))) {
      const found = caseFromQuery(kb, config, query);
      model.set("findings", found.findings);
      model.set("lab_texts", found.lab_texts);
      model.set("unit", found.unit);
      model.save_changes();
      if (found.unknown.length) {
        const ids = Object.keys(kb.findings);
        urlProblem = "The link named unknown findings, left out: " +
          found.unknown.map((id) => `'${id}' (did you mean ${closestIds(id, ids).join(", ") || "no close match"}?)`).join("; ");
      }
    }
  }

  const syncControls = (state) => {
    const selected = new Set(state.findings);
    for (const [id, label] of Object.entries(chips)) {
      const on = selected.has(id);
      label.firstChild.checked = on;
      label.classList.toggle("dd-on", on);
    }
    if (shapeTypical) {
      const compartments = state.findings.filter((id) => kb.findings[id].category === "compartment");
      const typical = new Set(typicalShapes(config, compartments));
      const shapes = config.groups.find((g) => g.id === "morphology").findings;
      if (!compartments.length) {
        shapeLead.textContent = "Start with the compartment: the shapes then narrow to those seen there.";
        for (const id of shapes) if (chips[id].parentNode !== shapeTypical) shapeTypical.append(chips[id]);
        shapeOther.hidden = true;
        shapeNote.textContent = "";
      } else {
        const names = compartments.map((id) => labels[id].split(" (")[0].toLowerCase()).join(" + ");
        shapeLead.textContent = `Shapes seen in ${names}:`;
        for (const id of shapes) {
          const target = typical.has(id) ? shapeTypical : shapeOtherList;
          if (chips[id].parentNode !== target) target.append(chips[id]);
        }
        shapeOther.hidden = typical.size === shapes.length;
        const unusual = shapes.filter((id) => selected.has(id) && !typical.has(id));
        shapeNote.textContent = unusual.length ? "Unusual in this compartment: " + unusual.map((id) => labels[id]).join("; ") +
          ". Check the compartment, or keep it if the image really shows it." : "";
      }
    }
    for (const [analyte, input] of Object.entries(labInputs)) {
      const text = state.lab_texts?.[analyte] ?? "";
      if (input.value !== text) input.value = text;
    }
    for (const input of unitInputs) input.checked = input.value === (state.unit || "mg/dL");
  };

  const redraw = () => {
    const state = { findings: model.get("findings"), lab_texts: model.get("lab_texts"), unit: model.get("unit") };
    syncControls(state);
    const { findings, labs, fields } = caseFromState(kb, config, state);
    for (const [analyte, message] of Object.entries(labMessages)) {
      message.textContent = fields[analyte].text;
      message.classList.toggle("calc-bad", !fields[analyte].ok);
      labInputs[analyte].setAttribute("aria-invalid", String(!fields[analyte].ok));
    }
    const open = new Set([...output.querySelectorAll("details[open]")].map((d) => d.closest(".dd-row")?.dataset.diagnosis));
    try {
      const ranked = rankCase(kb, findings, labs);
      output.innerHTML = resultHtml(kb, config, ranked, model.get("top_n"), root,
        findings.length + Object.keys(labs).length > 0, open);
      notice.textContent = urlProblem;
    } catch (error) {
      // A case the engine refuses is explained, never thrown.
      notice.textContent = `This case cannot be ranked: ${error.message}`;
    }
    if (config.mode === "full") {
      const query = caseQuery(kb, config, state);
      link.href = `${globalThis.location?.pathname ?? ""}${query ? "?" + query : ""}#${config.calculator.anchor}`;
    } else {
      link.hidden = root === undefined || !config.calculator.published;
      if (!link.hidden) link.href = fullCalculatorHref(kb, config, state, root);
    }
  };
  const names = ["findings", "lab_texts", "unit", "top_n"];
  for (const name of names) model.on(`change:${name}`, redraw);
  redraw();
  return () => {
    for (const name of names) model.off(`change:${name}`, redraw);
  };
}

export default { render };
