// Differential diagnosis of soft-tissue calcifications: the browser mirror of
// calcifications.differential (Python).
//
// An ES module; its only import (common.js) is inlined into the widget's front-end by
// calcifications.widgets.bundled_module (node imports it as it is). The knowledge base `kb` is
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

import { formatRange } from "./common.js";

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
