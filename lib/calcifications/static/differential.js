// Differential diagnosis of soft-tissue calcifications: the browser mirror of
// calcifications.differential (Python).
//
// An ES module with no imports and no build step. The knowledge base `kb` is
// the JSON of calcifications.differential.frontend_knowledge(): Python has
// already validated data/knowledge.yml and computed every logarithm, so the
// browser sums exactly the same numbers in the same order and ranks a case
// exactly as Python does (same order, probabilities within 1e-9, same
// evidence). tests/test_differential_js.py checks this under node.
//
// Errors: like Python, rankCase THROWS. An unknown finding id throws an
// UnknownFindingError (name "UnknownFindingError"), a bad lab entry a
// LabValueError (name "ValueError"), a single string instead of a list a
// TypeError. Messages say what was wrong and what is expected; a widget
// should catch them and show `error.message` beside the input.

/** An unknown finding id; `.finding` is the id, `.suggestions` the closest valid ids. */
export class UnknownFindingError extends Error {
  constructor(finding, suggestions, hint) {
    const closest = suggestions.length
      ? "did you mean " + suggestions.map((s) => `'${s}'`).join(", ") + "?"
      : "no close match; the valid ids are the compartments and findings of vocabulary.yml";
    super(`unknown finding id ${JSON.stringify(finding)}: ${hint ? hint + "; " : ""}${closest}`);
    this.name = "UnknownFindingError";
    this.finding = finding;
    this.suggestions = suggestions;
  }
}

/** A lab entry that is unknown, not a finite positive plausible number, or given twice in conflict. */
export class LabValueError extends Error {
  constructor(message) {
    super(message);
    this.name = "ValueError";
  }
}

// ---------------------------------------------------------------- close matches
// Ratcliff-Obershelp similarity, as Python's difflib.SequenceMatcher.ratio(); the suggestions
// match difflib.get_close_matches in most but not all cases (difflib breaks ties
// between equally long matching blocks its own way). Only the message differs.

function matchingCharacters(a, b) {
  let best = 0, ai = 0, bi = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      let k = 0;
      while (i + k < a.length && j + k < b.length && a[i + k] === b[j + k]) k++;
      if (k > best) { best = k; ai = i; bi = j; }
    }
  }
  if (best === 0) return 0;
  return best
    + matchingCharacters(a.slice(0, ai), b.slice(0, bi))
    + matchingCharacters(a.slice(ai + best), b.slice(bi + best));
}

/** Return up to `n` ids that look like `wrong`, best first (difflib.get_close_matches, cutoff 0.5). */
export function closestIds(wrong, ids, n = 3) {
  const text = String(wrong);
  return ids
    .map((id) => ({ id, score: (2 * matchingCharacters(text, id)) / (text.length + id.length) }))
    .filter((m) => m.score >= 0.5)
    .sort((x, y) => y.score - x.score || (x.id < y.id ? 1 : -1)) // ties: like difflib, larger id first
    .slice(0, n)
    .map((m) => m.id);
}

// ---------------------------------------------------------------- findings

function findingSet(kb, findings) {
  if (typeof findings === "string") {
    throw new TypeError(`findings must be an iterable of id strings, not a single string: use ['${findings}']`);
  }
  const present = new Set();
  for (const id of findings ?? []) {
    if (typeof id !== "string") {
      throw new UnknownFindingError(id, [], `finding ids are strings, got ${typeof id}`);
    }
    if (!Object.prototype.hasOwnProperty.call(kb.findings, id)) {
      let hint = "";
      if (kb.diagnosis_ids.includes(id)) hint = "that is a diagnosis id, not a finding";
      else if (kb.lab_keys.includes(id)) hint = "that is a lab key; pass it in labs={...} with a number";
      throw new UnknownFindingError(id, closestIds(id, Object.keys(kb.findings)), hint);
    }
    present.add(id);
  }
  return present;
}

function makeTerm(kb, id, label, p) {
  // Same left-to-right sums as Python's _make_term.
  let marginal = 0.0;
  kb.diagnoses.forEach((d, i) => { marginal += d.prior * p[i]; });
  return { id, label, p, log_p: p.map(Math.log), log_marginal: Math.log(marginal) };
}

function groupTerm(kb, members) {
  // "One of these" for mutually exclusive values: the likelihoods add up.
  const terms = members.map((id) => kb.findings[id]);
  const p = kb.diagnoses.map((_, i) => {
    let sum = 0;
    for (const t of terms) sum += t.p[i];
    return sum;
  });
  return makeTerm(kb, members.join("+"), terms.map((t) => t.label).join(" or "), p);
}

function findingTerms(kb, present) {
  const grouped = new Map();
  const terms = [];
  for (const id of present) {
    const group = kb.findings[id].group;
    if (group === null || group === undefined) terms.push(kb.findings[id]);
    else {
      if (!grouped.has(group)) grouped.set(group, []);
      grouped.get(group).push(id);
    }
  }
  for (const members of grouped.values()) {
    members.sort();
    terms.push(members.length === 1 ? kb.findings[members[0]] : groupTerm(kb, members));
  }
  return terms;
}

// ---------------------------------------------------------------- labs

function formatRange(low, high, unit, factor) {
  if (unit === "mmol/L") return `${(low / factor).toFixed(2)}–${(high / factor).toFixed(2)} mmol/L`;
  return `${low}–${high} ${unit}`;
}

function checkNumber(value, key, unit, expected) {
  // Name the key and the expected range in every message, whatever went wrong.
  if (typeof value !== "number") {
    throw new LabValueError(`${key} must be a number in ${unit} (plausible ${expected}), got ${JSON.stringify(value)}`);
  }
  if (!Number.isFinite(value)) throw new LabValueError(`${key} must be a finite number in ${unit} (plausible ${expected}), got ${value}`);
  if (value <= 0) throw new LabValueError(`${key} must be positive (plausible ${expected}), got ${value} ${unit}`);
}

/** Return {analyte: value} in mg/dL (PTH in pg/mL), as calcifications.labs.normalize_labs. */
export function normalizeLabs(kb, labs) {
  if (labs === null || labs === undefined) return {};
  if (typeof labs !== "object" || Array.isArray(labs)) {
    throw new LabValueError(`labs must be a mapping from lab keys to numbers, got ${Array.isArray(labs) ? "list" : typeof labs}`);
  }
  const table = kb.labs;
  const readings = {};
  for (const key of Object.keys(labs)) {
    const spec = table.keys[key];
    if (!spec) {
      throw new LabValueError(`unknown lab key '${key}'; expected one of ${JSON.stringify(Object.keys(table.keys).sort())}`);
    }
    const value = labs[key];
    let normalised;
    const twoUnit = table.analytes[spec.analyte];
    if (twoUnit) {
      const [low, high] = twoUnit.plausible_mg_dl;
      const expected = formatRange(low, high, spec.unit, twoUnit.mg_dl_per_mmol_l);
      checkNumber(value, key, spec.unit, expected);
      normalised = spec.unit === "mmol/L" ? value * twoUnit.mg_dl_per_mmol_l : value;
      if (!(low <= normalised && normalised <= high)) {
        throw new LabValueError(
          `${spec.analyte} of ${value} ${spec.unit} is outside the plausible range ${expected}; check the value and the unit`);
      }
    } else {
      const single = table.single_unit[spec.analyte];
      const [low, high] = single.plausible;
      const expected = `${low}–${high} ${single.unit}`;
      checkNumber(value, key, single.unit, expected);
      if (!(low <= value && value <= high)) {
        throw new LabValueError(`${key} of ${value} ${single.unit} is outside the plausible range ${expected}; check the value and the unit`);
      }
      normalised = value;
    }
    (readings[spec.analyte] ??= []).push({ unit: spec.unit, value: normalised });
  }
  const values = {};
  for (const [analyte, entries] of Object.entries(readings)) {
    if (entries.length === 1) { values[analyte] = entries[0].value; continue; }
    const mg = entries.find((e) => e.unit === "mg/dL").value;
    const fromMmol = entries.find((e) => e.unit === "mmol/L").value;
    if (Math.abs(mg - fromMmol) > table.conflict_tolerance * Math.max(mg, fromMmol)) {
      throw new LabValueError(
        `${analyte} is given twice with conflicting values: ${mg} mg/dL and ${fromMmol.toPrecision(4)} mg/dL ` +
        `from the mmol/L entry (more than ${Math.round(table.conflict_tolerance * 100)}% apart); give it in one unit, mg/dL or mmol/L`);
    }
    values[analyte] = mg;
  }
  return values;
}

/** Return the lab-state ids (e.g. "product_above", "pth_suppressed") of normalised labs. */
export function labStateIds(kb, values) {
  const t = kb.lab_thresholds;
  const states = [];
  if ("calcium" in values && "phosphate" in values) {
    const product = values.calcium * values.phosphate;
    const band = kb.labs.product_bands.find((b) => b.upper === null || product < b.upper);
    states.push("product_" + band.id);
  }
  if ("calcium" in values) states.push(values.calcium > t.calcium_high_above_mg_dl ? "calcium_high" : "calcium_not_high");
  if ("phosphate" in values) states.push(values.phosphate > t.phosphate_high_above_mg_dl ? "phosphate_high" : "phosphate_not_high");
  if ("pth" in values) {
    const v = values.pth;
    states.push(v > t.pth_high_above_pg_ml ? "pth_high" : v < t.pth_suppressed_below_pg_ml ? "pth_suppressed" : "pth_normal");
  }
  if ("uric_acid" in values) states.push(values.uric_acid > t.uric_acid_high_above_mg_dl ? "uric_acid_high" : "uric_acid_not_high");
  return states;
}

// ---------------------------------------------------------------- ranking

const byId = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Rank every diagnosis for a case, most probable first (the mirror of Python's rank()).
 *
 * kb: frontend_knowledge() JSON; findings: array of finding ids; labs: object
 * of lab keys to numbers, or null. Returns an array of
 * {diagnosis, label, mechanism, probability, evidence: [{id, label, weight}], chapter}.
 * Throws on bad input (see the top of this file).
 */
export function rankCase(kb, findings, labs = null) {
  const present = findingSet(kb, findings);
  const values = normalizeLabs(kb, labs);
  const terms = findingTerms(kb, present).concat(labStateIds(kb, values).map((id) => kb.lab_terms[id]));
  terms.sort((a, b) => byId(a.id, b.id));

  let scores = kb.diagnoses.map((d) => d.log_prior);
  for (const term of terms) scores = scores.map((s, i) => s + term.log_p[i]);
  const top = Math.max(...scores);
  const weights = scores.map((s) => Math.exp(s - top));
  let total = 0.0;
  for (const w of weights) total += w;

  const candidates = kb.diagnoses.map((d, i) => {
    const evidence = [];
    for (const term of terms) {
      const weight = term.log_p[i] - term.log_marginal;
      if (Math.abs(weight) > kb.evidence_threshold) evidence.push({ id: term.id, label: term.label, weight });
    }
    evidence.sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || byId(a.id, b.id));
    return {
      diagnosis: d.id, label: d.label, mechanism: d.mechanism,
      probability: weights[i] / total, evidence, chapter: d.chapter,
    };
  });
  candidates.sort((a, b) => b.probability - a.probability || byId(a.diagnosis, b.diagnosis));
  return candidates;
}

/** Sum the candidates' probabilities by mechanism id (every mechanism of kb, in its order). */
export function mechanismProbabilities(kb, candidates) {
  const totals = {};
  for (const id of Object.keys(kb.mechanisms)) totals[id] = 0.0;
  for (const c of candidates) totals[c.mechanism] = (totals[c.mechanism] ?? 0.0) + c.probability;
  return totals;
}

// ---------------------------------------------------------------- widget
// The anywidget front-end of calcifications.widgets.DifferentialPanel: a thin
// layer over rankCase. The controls (jslinked) set the option indices and the
// lab panels publish checked lab values; `caseFromModel` turns them into ids
// and lab keys, rankCase ranks, `render` draws. A case can also arrive in the
// page address (?case=id,id&ca=10&p=7.5&unit=mg/dL&pth=300&ua=9), which is how
// the book's "try it" links open the calculator already filled in.

const MULTI = [["compartments", "compartment"], ["morphologies", "morphology"],
  ["distributions", "distribution"], ["clinical", "clinical"]];
const LAB_TRAITS = [["calcium_mg_dl", "calcium_mg_dl"], ["phosphate_mg_dl", "phosphate_mg_dl"],
  ["pth_pg_ml", "pth_pg_ml"], ["uric_acid_mg_dl", "uric_acid_mg_dl"]];
const URL_LABS = [["ca", "calcium_text"], ["p", "phosphate_text"], ["pth", "pth_text"], ["ua", "uric_acid_text"]];

/** The finding ids and lab keys selected by the option indices and lab values of a panel's state. */
export function caseFromState(state) {
  const choices = state.choices;
  const findings = [];
  for (const [trait, category] of MULTI) {
    for (const i of state[trait] ?? []) if (choices[category][i]) findings.push(choices[category][i][0]);
  }
  if (state.site > 0 && choices.site[state.site - 1]) findings.push(choices.site[state.site - 1][0]);
  const labs = {};
  for (const [trait, key] of LAB_TRAITS) {
    if (typeof state[trait] === "number") labs[key] = state[trait];
  }
  return { findings, labs };
}

/** Turn a page address's query ("?case=id,id&ca=10") into panel trait values; unknown ids are returned, not dropped. */
export function caseFromQuery(choices, query) {
  const params = new URLSearchParams(query);
  const traits = {};
  const unknown = [];
  const ids = (params.get("case") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const id of ids) {
    let placed = false;
    for (const [trait, category] of MULTI) {
      const i = choices[category].findIndex(([fid]) => fid === id);
      if (i >= 0) { (traits[trait] ??= []).push(i); placed = true; }
    }
    const site = choices.site.findIndex(([fid]) => fid === id);
    if (site >= 0) { traits.site = site + 1; placed = true; }
    if (!placed) unknown.push(id);
  }
  for (const [trait] of MULTI) if (traits[trait]) traits[trait].sort((a, b) => a - b);
  for (const [param, trait] of URL_LABS) if (params.has(param)) traits[trait] = params.get(param);
  if (params.get("unit") === "mmol/L") traits.unit_index = 1;
  return { traits, unknown };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

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
    const colour = e.weight >= 0 ? "#0072B2" : "#D55E00";
    return `<li><span class="dd-factor" style="color:${colour}">${factor(e.weight)}</span>
      <span class="dd-ev-bar" style="display:inline-block;width:4em;height:0.6em;background:#eee;margin:0 0.4em">
      <span style="display:block;height:100%;width:${width.toFixed(0)}%;background:${colour}"></span></span>${escapeHtml(e.label)}</li>`;
  });
  return `<ul class="dd-evidence" style="list-style:none;padding-left:0.5em;margin:0.2em 0">${rows.join("")}</ul>`;
}

function chapterLink(candidate, chapters) {
  const root = document.documentElement.dataset.content_root;
  if (root === undefined || !chapters.includes(candidate.chapter)) return escapeHtml(candidate.label);
  // Sphinx turns the label "my_id" into the HTML id "my-id".
  return `<a href="${root}${candidate.chapter}.html#${candidate.diagnosis.replace(/_/g, "-")}">${escapeHtml(candidate.label)}</a>`;
}

function shortMechanism(kb, id) {
  return kb.mechanisms[id].split(" (")[0].split(" / ")[0];
}

function resultHtml(kb, ranked, topN, chapters, described) {
  const rows = ranked.slice(0, topN).map((c, rank) => `
    <li class="dd-row" data-diagnosis="${c.diagnosis}" style="margin:0.35em 0">
      <div style="display:flex;align-items:center;gap:0.5em;flex-wrap:wrap">
        <span class="dd-p" style="min-width:4.2em;text-align:right;font-variant-numeric:tabular-nums">${percent(c.probability)}</span>
        <span class="dd-bar" aria-hidden="true" style="flex:0 0 8em;height:0.8em;background:#eee">
          <span style="display:block;height:100%;width:${(c.probability * 100).toFixed(1)}%;background:#0072B2"></span></span>
        <span class="dd-label">${rank + 1}. ${chapterLink(c, chapters)}</span>
        <span class="dd-mech" style="font-size:0.8em;color:#555">${escapeHtml(shortMechanism(kb, c.mechanism))}</span>
      </div>
      <details style="margin-left:4.7em"><summary style="cursor:pointer;font-size:0.9em">Why?</summary>${evidenceHtml(c.evidence)}</details>
    </li>`);
  const mechanisms = mechanismProbabilities(kb, ranked);
  const rollup = Object.entries(mechanisms).map(([id, p]) => `
    <li style="display:flex;align-items:center;gap:0.5em"><span style="min-width:4.2em;text-align:right">${percent(p)}</span>
      <span aria-hidden="true" style="flex:0 0 8em;height:0.8em;background:#eee"><span style="display:block;height:100%;width:${(p * 100).toFixed(1)}%;background:#E69F00"></span></span>
      ${escapeHtml(shortMechanism(kb, id))}</li>`);
  const heading = described ? "Most likely, for this case" : "Before anything is known (the prior)";
  return `<h4 class="dd-heading" style="margin:0.6em 0 0.2em 0">${heading}</h4>
    <ol class="dd-list" style="list-style:none;padding-left:0;margin:0">${rows.join("")}</ol>
    <h4 style="margin:0.8em 0 0.2em 0">By mechanism</h4>
    <ul class="dd-mechanisms" style="list-style:none;padding-left:0;margin:0">${rollup.join("")}</ul>
    <p style="font-size:0.85em;color:#555;margin-top:0.6em">A teaching model: a naive Bayes ranking of the findings you entered,
    with likelihoods drawn from the cited literature. "Why?" lists what moved each diagnosis, as the factor by which it
    multiplies the odds (blue for, vermillion against). Not for clinical decisions.</p>`;
}

function caseQuery(choices, state) {
  const { findings } = caseFromState(state);
  const params = new URLSearchParams();
  if (findings.length) params.set("case", findings.join(","));
  for (const [param, trait] of URL_LABS) if (String(state[trait] ?? "").trim()) params.set(param, state[trait].trim());
  if (state.unit_index === 1) params.set("unit", "mmol/L");
  return params.toString();
}

const STATE_TRAITS = ["knowledge", "choices", "compartments", "morphologies", "distributions", "clinical", "site",
  "unit_index", "calcium_mg_dl", "phosphate_mg_dl", "pth_pg_ml", "uric_acid_mg_dl", "calcium_text", "phosphate_text",
  "pth_text", "uric_acid_text", "chapters", "top_n"];

function readState(model) {
  return Object.fromEntries(STATE_TRAITS.map((name) => [name, model.get(name)]));
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "dd";
  const notice = document.createElement("p");
  notice.className = "dd-notice";
  notice.setAttribute("role", "status");
  notice.style.cssText = "color:#a00000;font-weight:bold;margin:0.3em 0";
  const output = document.createElement("div");
  output.className = "dd-output";
  output.setAttribute("aria-live", "polite");
  const tools = document.createElement("p");
  tools.style.margin = "0.6em 0";
  const clear = document.createElement("button");
  clear.type = "button";
  clear.textContent = "Clear the case";
  clear.className = "dd-clear";
  const share = document.createElement("a");
  share.className = "dd-share";
  share.textContent = "Link to this case";
  share.style.marginLeft = "1em";
  tools.append(clear, share);
  root.append(notice, output, tools);
  el.appendChild(root);

  let urlProblem = "";
  const query = globalThis.location?.search ?? "";
  const params = new URLSearchParams(query);
  if (params.has("case") || URL_LABS.some(([p]) => params.has(p))) {
    const { traits, unknown } = caseFromQuery(model.get("choices"), query);
    for (const name of ["compartments", "morphologies", "distributions", "clinical"]) traits[name] ??= [];
    traits.site ??= 0;
    for (const [name, value] of Object.entries(traits)) model.set(name, value);
    model.save_changes();
    if (unknown.length) {
      const ids = Object.keys(model.get("knowledge").findings);
      urlProblem = "The link named unknown findings, left out: " +
        unknown.map((id) => `'${id}' (did you mean ${closestIds(id, ids).join(", ") || "no close match"}?)`).join("; ");
    }
  }

  const redraw = () => {
    const state = readState(model);
    const { findings, labs } = caseFromState(state);
    try {
      const ranked = rankCase(state.knowledge, findings, labs);
      output.innerHTML = resultHtml(state.knowledge, ranked, state.top_n, state.chapters, findings.length + Object.keys(labs).length > 0);
      notice.textContent = urlProblem;
    } catch (error) {
      // A case the engine refuses (e.g. calcium in both units that disagree) is explained, never thrown.
      notice.textContent = `This case cannot be ranked: ${error.message}`;
    }
    const query = caseQuery(state.choices, state);
    share.href = `${globalThis.location?.pathname ?? ""}${query ? "?" + query : ""}`;
  };
  clear.addEventListener("click", () => {
    for (const name of ["compartments", "morphologies", "distributions", "clinical"]) model.set(name, []);
    model.set("site", 0);
    for (const [, trait] of URL_LABS) model.set(trait, "");
    model.save_changes();
  });
  for (const name of STATE_TRAITS) model.on(`change:${name}`, redraw);
  redraw();
  return () => {
    for (const name of STATE_TRAITS) model.off(`change:${name}`, redraw);
  };
}

export default { render };
