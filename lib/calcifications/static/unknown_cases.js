// Unknown cases: the browser side of calcifications.case_widgets.UnknownCases.
//
// On the book's website (no kernel) the widget fetches the committed deck once
// (`deck_url`, relative to the book root, a same-origin JSON file) and shows its
// images as files. In a live kernel (no book root on the page) it asks Python
// for a fresh case (`model.send({type: "new_case"})`) and shows the case that
// Python puts in `live_case`. Either way the reader commits to a compartment,
// a shape, a diagnosis and (optionally) a next step, each before its reveal;
// the running score per step is kept in localStorage and can be reset.

export const STEPS = ["compartment", "morphology", "diagnosis", "next_step"];
export const STORE_KEY = "calcifications.unknown-cases.v1";
const QUESTIONS = {
  compartment: "Step 1 of 4. In which compartment is the calcification?",
  morphology: "Step 2 of 4. What is its shape?",
  diagnosis: "Step 3 of 4. What is the most likely diagnosis?",
  next_step: "Step 4 of 4 (optional). What would you do next?",
};
const SHORT = { compartment: "Compartment", morphology: "Shape", diagnosis: "Diagnosis", next_step: "Next step" };
const KERNEL_WAIT_MS = 15000;

/** A score of zero for every step. */
export function emptyScore() {
  return Object.fromEntries(STEPS.map((s) => [s, { right: 0, total: 0 }]));
}

/** Return a clean score object from anything (a stored value that may be missing or corrupt). */
export function cleanScore(raw) {
  const score = emptyScore();
  if (raw && typeof raw === "object") {
    for (const step of STEPS) {
      const right = Number(raw[step]?.right);
      const total = Number(raw[step]?.total);
      if (Number.isInteger(right) && Number.isInteger(total) && right >= 0 && total >= right) {
        score[step] = { right, total };
      }
    }
  }
  return score;
}

/** Read the score from a Storage-like object (getItem); never throws. */
export function loadScore(store) {
  try {
    return cleanScore(JSON.parse(store?.getItem(STORE_KEY) ?? "null"));
  } catch {
    return emptyScore();
  }
}

/** Write the score; returns false if the storage refused (private mode, quota). */
export function saveScore(store, score) {
  try {
    store.setItem(STORE_KEY, JSON.stringify(cleanScore(score)));
    return true;
  } catch {
    return false;
  }
}

/** Is `choice` an accepted answer of `step` of the case record? */
export function judge(record, step, choice) {
  const accept = record?.steps?.[step]?.accept ?? [];
  return accept.includes(choice);
}

/** Return a new score with one answer of `step` counted. */
export function addAnswer(score, step, right) {
  const next = cleanScore(score);
  if (!STEPS.includes(step)) return next;
  next[step] = { right: next[step].right + (right ? 1 : 0), total: next[step].total + 1 };
  return next;
}

/** Indices of the cases that pass the filters ({chapter, mechanism, difficulty}; "" = any). */
export function filterCases(cases, filters) {
  const f = filters ?? {};
  const out = [];
  (cases ?? []).forEach((c, i) => {
    if (f.chapter && c.chapter !== f.chapter) return;
    if (f.mechanism && c.mechanism !== f.mechanism) return;
    if (f.difficulty && c.difficulty !== f.difficulty) return;
    out.push(i);
  });
  return out;
}

/** The one-line score text, e.g. "Compartment 2/3 · Shape 1/3 · ...". */
export function scoreText(score) {
  const s = cleanScore(score);
  return STEPS.map((step) => `${SHORT[step]} ${s[step].right}/${s[step].total}`).join(" · ");
}

/** What a key press means at this point: {action, index} or null. */
export function keyAction(key, stage) {
  if (/^[1-9]$/.test(key) && stage.awaiting) return { action: "choose", index: Number(key) - 1 };
  if (key === "Enter" && !stage.awaiting) return { action: "continue" };
  if (key === "n" || key === "N") return { action: "next_case" };
  if ((key === "s" || key === "S") && stage.step === "next_step" && stage.awaiting) return { action: "skip" };
  return null;
}

/** The case's radiographs as [[url, alt], ...]: `images` (one or two views), or the older single `image` and `alt`. */
export function caseImages(c) {
  if (Array.isArray(c?.images) && c.images.length) return c.images.map(([src, alt]) => [String(src), String(alt ?? "")]);
  return c?.image ? [[String(c.image), String(c.alt ?? "")]] : [];
}

/**
 * Expand a compact case record (ids only, as in deck.json) with the deck's labels into
 * {id, diagnosis, label, ..., steps: {compartment|morphology|diagnosis|next_step: {options: [[id, name]], accept, why}}}.
 */
export function expandCase(c, labels) {
  const L = labels ?? {};
  const name = (table, id) => L[table]?.[id] ?? id;
  const pairs = (table, ids) => ids.map((id) => [id, name(table, id)]);
  const engine = c.engine ?? {};
  const label = name("diagnosis", c.diagnosis);
  const rankText = engine.rank === 1 ? "first" : `number ${engine.rank}`;
  return {
    id: c.id, diagnosis: c.diagnosis, label, difficulty: c.difficulty, chapter: c.chapter,
    chapter_title: name("chapter", c.chapter), mechanism: c.mechanism, href: c.href, images: caseImages(c),
    vignette: c.vignette,
    steps: {
      compartment: {
        options: pairs("compartment", Object.keys(L.compartment ?? {})),
        accept: c.compartment,
        why: name("compartment_why", c.compartment[0]) +
          (c.compartment.length > 1 ? ` It also involves: ${c.compartment.slice(1).map((id) => name("compartment", id).toLowerCase()).join(", ")}.` : ""),
      },
      morphology: {
        options: pairs("morphology", c.morphology.options),
        accept: c.morphology.accept,
        why: "",
      },
      diagnosis: {
        options: pairs("diagnosis", c.options),
        accept: [c.diagnosis],
        why: `From this case's findings the book's engine ranks ${label} ${rankText}, at ${engine.p}; ` +
          `next comes ${name("diagnosis", engine.runner)} at ${engine.runner_p}.`,
        evidence: (engine.evidence ?? []).map(([id, weight]) => ({ label: name("evidence", id), weight })),
      },
      next_step: {
        options: pairs("next_step", Object.keys(L.next_step ?? {})),
        accept: c.next_step,
        why: name("next_step_why", c.diagnosis),
      },
    },
  };
}

function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

const CSS = `
.ucases{max-width:44em;margin:0.5em 0;font-size:0.95em;color:inherit}
.ucases .uc-bar{display:flex;flex-wrap:wrap;gap:0.4em 1em;align-items:end;margin-bottom:0.5em}
.ucases label{display:flex;flex-direction:column;font-size:0.85em;gap:0.1em}
.ucases select,.ucases button{font:inherit;color:inherit;background:transparent;border:1px solid var(--pst-color-border,#8888);border-radius:0.3em;padding:0.25em 0.5em}
.ucases select option{color:#000;background:#fff}
.ucases button{cursor:pointer}
.ucases button:focus-visible,.ucases select:focus-visible{outline:2px solid #0072B2;outline-offset:2px}
.ucases .uc-score{font-size:0.85em;margin:0.2em 0 0.6em}
.ucases .uc-status{min-height:1.2em;margin:0.2em 0;font-weight:bold}
.ucases figure{margin:0.4em 0}
.ucases img{display:block;max-width:100%;height:auto;background:#000}
.ucases .uc-views{display:flex;flex-wrap:wrap;gap:0.4em}
.ucases .uc-views-2 img{flex:1 1 16em;min-width:0;width:calc(50% - 0.2em)}
.ucases .uc-meta{font-size:0.85em;margin:0.2em 0}
.ucases .uc-caption{font-size:0.85em;margin:0.2em 0;color:inherit;text-align:left}
.ucases .uc-question{font-weight:bold;margin:0.8em 0 0.4em}
.ucases .uc-options{display:flex;flex-wrap:wrap;gap:0.35em}
.ucases .uc-option{text-align:left;flex:1 1 14em;min-height:2.2em}
.ucases .uc-option .uc-key{display:inline-block;min-width:1.4em;font-weight:bold;opacity:0.75}
.ucases .uc-option[data-verdict=right]{border:2px solid #0072B2;background:rgba(0,114,178,0.14)}
.ucases .uc-option[data-verdict=wrong]{border:2px dashed #D55E00;background:rgba(213,94,0,0.14)}
.ucases .uc-feedback{margin:0.5em 0;padding:0.5em 0.7em;border-left:4px solid var(--pst-color-border,#8888)}
.ucases .uc-feedback[data-verdict=right]{border-left-color:#0072B2}
.ucases .uc-feedback[data-verdict=wrong]{border-left-color:#D55E00}
.ucases .uc-feedback ul{margin:0.3em 0;padding-left:1.2em}
.ucases .uc-actions{display:flex;flex-wrap:wrap;gap:0.5em;margin:0.5em 0}
.ucases .uc-primary{font-weight:bold;border-width:2px}
@media (max-width:480px){.ucases .uc-option{flex-basis:100%}.ucases .uc-bar label{flex:1 1 40%}}
`;

function select(label, name, options) {
  const wrap = document.createElement("label");
  wrap.textContent = label;
  const box = document.createElement("select");
  box.name = name;
  box.className = `uc-filter-${name}`;
  for (const [value, text] of [["", "All"], ...options]) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = text;
    box.appendChild(option);
  }
  wrap.appendChild(box);
  return { wrap, box };
}

function localStore() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "ucases";
  // JupyterLab: keys pressed inside the widget answer it, never run notebook shortcuts ("1" = heading).
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  const style = document.createElement("style");
  style.textContent = CSS;
  const bar = document.createElement("div");
  bar.className = "uc-bar";
  const status = document.createElement("p");
  status.className = "uc-status";
  status.setAttribute("role", "status");
  const scoreLine = document.createElement("p");
  scoreLine.className = "uc-score";
  const scoreText_ = document.createElement("span");
  scoreText_.setAttribute("aria-live", "polite");
  const reset = document.createElement("button");
  reset.type = "button";
  reset.className = "uc-reset";
  reset.textContent = "Reset score";
  reset.style.marginLeft = "0.8em";
  scoreLine.append("Your score: ", scoreText_, reset);
  const body = document.createElement("div");
  body.className = "uc-case";
  root.append(style, bar, scoreLine, status, body);
  el.appendChild(root);

  const contentRoot = globalThis.document?.documentElement?.dataset?.content_root;
  const kernelMode = contentRoot === undefined;
  const store = localStore();
  let score = loadScore(store);
  let deck = null;
  let order = [];
  let position = 0;
  let record = null;
  let stepIndex = 0;
  let awaiting = true;
  let waiting = null;
  const filters = { chapter: "", mechanism: "", difficulty: "" };
  const boxes = {};

  const showScore = () => {
    scoreText_.textContent = scoreText(score);
  };
  const say = (text) => {
    status.textContent = text;
  };

  const labels = () => deck ?? model.get("labels") ?? {};

  function buildFilters() {
    bar.replaceChildren();
    const l = labels();
    const specs = [
      ["Chapter", "chapter", l.chapters ?? []],
      ["Mechanism", "mechanism", l.mechanisms ?? []],
      ["Difficulty", "difficulty", (l.difficulties ?? []).map((d) => [d, d])],
    ];
    for (const [label, name, options] of specs) {
      const { wrap, box } = select(label, name, options);
      box.value = filters[name];
      box.addEventListener("change", () => {
        filters[name] = box.value;
        applyFilters();
      });
      boxes[name] = box;
      bar.appendChild(wrap);
    }
  }

  function imageUrl(image) {
    if (String(image).startsWith("data:")) return image;
    const url = model.get("deck_url");
    const folder = url.includes("/") ? url.slice(0, url.lastIndexOf("/") + 1) : "";
    return `${contentRoot ?? ""}${folder}${image}`;
  }

  function sectionLink(rec) {
    if (!kernelMode && rec.href) {
      return `<a href="${escapeHtml(contentRoot + rec.href)}">Read the section on ${escapeHtml(rec.label)}</a>`;
    }
    return `Read the section on ${escapeHtml(rec.label)} in the chapter ${escapeHtml(rec.chapter_title)}.`;
  }

  function showCase(rec, where) {
    record = rec;
    stepIndex = 0;
    awaiting = true;
    body.replaceChildren();
    const meta = document.createElement("p");
    meta.className = "uc-meta";
    meta.textContent = `${where} · difficulty: ${rec.difficulty}`;
    const figure = document.createElement("figure");
    const views = document.createElement("div");
    views.className = `uc-views uc-views-${rec.images.length}`;
    for (const [src, alt] of rec.images) {
      const img = document.createElement("img");
      img.width = 512;
      img.height = 512;
      img.alt = alt;
      img.src = imageUrl(src);
      img.decoding = "async";
      views.appendChild(img);
    }
    const caption = document.createElement("figcaption");
    caption.className = "uc-caption";
    caption.textContent = rec.images.length > 1
      ? `Synthetic radiographs (not a patient): ${rec.images.length} views of the same deposits.`
      : "Synthetic radiograph (not a patient).";
    figure.append(views, caption);
    const vignette = document.createElement("p");
    vignette.className = "uc-vignette";
    vignette.textContent = rec.vignette;
    const steps = document.createElement("div");
    steps.className = "uc-steps";
    body.append(meta, figure, vignette, steps);
    showStep();
  }

  function stepBox() {
    return body.querySelector(".uc-steps");
  }

  function showStep() {
    const step = STEPS[stepIndex];
    const spec = record.steps[step];
    const box = document.createElement("div");
    box.className = `uc-step uc-step-${step}`;
    const question = document.createElement("p");
    question.className = "uc-question";
    question.id = `uc-q-${step}`;
    question.textContent = QUESTIONS[step];
    const options = document.createElement("div");
    options.className = "uc-options";
    options.setAttribute("role", "group");
    options.setAttribute("aria-labelledby", question.id);
    spec.options.forEach(([id, text], i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "uc-option";
      button.dataset.id = id;
      button.innerHTML = `<span class="uc-key" aria-hidden="true">${i + 1}</span> ${escapeHtml(text)}`;
      button.setAttribute("aria-keyshortcuts", String(i + 1));
      button.addEventListener("click", () => choose(id));
      options.appendChild(button);
    });
    box.append(question, options);
    if (step === "next_step") {
      const skip = document.createElement("button");
      skip.type = "button";
      skip.className = "uc-skip";
      skip.textContent = "Skip this step (S)";
      skip.style.marginTop = "0.4em";
      skip.addEventListener("click", () => finish(true));
      box.appendChild(skip);
    }
    stepBox().appendChild(box);
    awaiting = true;
  }

  function feedbackHtml(step, right) {
    const spec = record.steps[step];
    const names = Object.fromEntries(spec.options);
    const accepted = spec.accept.filter((id) => id in names).map((id) => names[id]);
    let html = `<p><strong>${right ? "Right." : "Not quite."}</strong> `;
    if (step === "diagnosis") {
      html += `It is <strong>${escapeHtml(record.label)}</strong>. ${escapeHtml(spec.why)}</p>`;
      if (spec.evidence?.length) {
        html += "<p>The evidence that moved it (odds factor):</p><ul>" + spec.evidence.map((e) =>
          `<li>${e.weight >= 0 ? "for" : "against"} ×${Math.exp(e.weight).toFixed(e.weight >= 0 ? 1 : 2)}: ${escapeHtml(e.label)}</li>`).join("") + "</ul>";
      }
      html += `<p>${sectionLink(record)}</p>`;
    } else {
      if (accepted.length) html += `Accepted: ${accepted.map(escapeHtml).join("; ")}. `;
      html += `${escapeHtml(spec.why)}</p>`;
      if (step === "next_step") html += `<p>${sectionLink(record)}</p>`;
    }
    return html;
  }

  function choose(id) {
    if (!awaiting || !record) return;
    const step = STEPS[stepIndex];
    const right = judge(record, step, id);
    awaiting = false;
    score = addAnswer(score, step, right);
    saveScore(store, score);
    showScore();
    const box = stepBox().lastElementChild;
    for (const button of box.querySelectorAll(".uc-option")) {
      const accepted = record.steps[step].accept.includes(button.dataset.id);
      if (accepted) {
        button.dataset.verdict = "right";
        button.insertAdjacentText("beforeend", " ✓");
      } else if (button.dataset.id === id) {
        button.dataset.verdict = "wrong";
        button.insertAdjacentText("beforeend", " ✗ (your answer)");
      }
      button.disabled = true;
      button.setAttribute("aria-disabled", "true");
    }
    box.querySelector(".uc-skip")?.remove();
    const feedback = document.createElement("div");
    feedback.className = "uc-feedback";
    feedback.dataset.verdict = right ? "right" : "wrong";
    feedback.setAttribute("aria-live", "polite");
    feedback.innerHTML = feedbackHtml(step, right);
    box.appendChild(feedback);
    const actions = document.createElement("div");
    actions.className = "uc-actions";
    const go = document.createElement("button");
    go.type = "button";
    go.className = "uc-continue uc-primary";
    const last = stepIndex === STEPS.length - 1;
    go.textContent = last ? "Next case (Enter)" : "Continue (Enter)";
    go.addEventListener("click", () => (last ? nextCase() : advance()));
    actions.appendChild(go);
    box.appendChild(actions);
    go.focus({ preventScroll: true });
  }

  function advance() {
    if (awaiting || !record) return;
    stepBox().lastElementChild.querySelector(".uc-actions")?.remove();
    stepIndex += 1;
    if (stepIndex < STEPS.length) showStep();
  }

  function finish(skipped) {
    if (!record) return;
    const box = stepBox().lastElementChild;
    if (skipped) {
      awaiting = false;
      for (const button of box.querySelectorAll(".uc-option")) button.disabled = true;
      box.querySelector(".uc-skip")?.remove();
      const feedback = document.createElement("div");
      feedback.className = "uc-feedback";
      const spec = record.steps.next_step;
      const names = Object.fromEntries(spec.options);
      feedback.innerHTML = `<p>Skipped. Suggested: ${spec.accept.map((id) => escapeHtml(names[id])).join("; ")}. ` +
        `${escapeHtml(spec.why)}</p><p>${sectionLink(record)}</p>`;
      box.appendChild(feedback);
      const actions = document.createElement("div");
      actions.className = "uc-actions";
      const go = document.createElement("button");
      go.type = "button";
      go.className = "uc-continue uc-primary";
      go.textContent = "Next case (Enter)";
      go.addEventListener("click", nextCase);
      actions.appendChild(go);
      box.appendChild(actions);
      go.focus({ preventScroll: true });
    }
  }

  function showDeckCase() {
    if (!order.length) {
      record = null;
      body.replaceChildren();
      say("No case matches these filters: choose “All” in one of them.");
      return;
    }
    say("");
    position = ((position % order.length) + order.length) % order.length;
    const rec = expandCase(deck.cases[order[position]], deck.labels);
    showCase(rec, `Case ${position + 1} of ${order.length} (${rec.id})`);
  }

  function requestLiveCase() {
    say("Drawing a new case in Python…");
    try {
      model.send({ type: "new_case", filters: { ...filters } });
    } catch (error) {
      say(`The Python kernel did not answer (${error.message}).`);
      return;
    }
    clearTimeout(waiting);
    // The first case of a session can take a while (the 3-D anatomy is built once): say so, don't give up.
    waiting = setTimeout(() => say("Still waiting for Python (the first case can take a minute). If nothing comes, " +
      "run this cell in a live kernel, or use the deck on the book's website."), KERNEL_WAIT_MS);
  }

  function nextCase() {
    if (kernelMode) requestLiveCase();
    else if (deck) {
      position += 1;
      showDeckCase();
    }
  }

  function applyFilters() {
    if (kernelMode) {
      requestLiveCase();
      return;
    }
    if (!deck) return;
    order = filterCases(deck.cases, filters);
    position = 0;
    showDeckCase();
  }

  const onLive = () => {
    const live = model.get("live_case");
    if (!live?.case) return;
    clearTimeout(waiting);
    say("");
    showCase(expandCase(live.case, live.labels), "A fresh case drawn in Python");
  };
  const onError = () => {
    const message = model.get("error");
    if (message) {
      clearTimeout(waiting);
      say(message);
    }
  };

  reset.addEventListener("click", () => {
    score = emptyScore();
    saveScore(store, score);
    showScore();
    say("Score reset.");
  });

  const onKey = (event) => {
    if (!root.isConnected || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    // In Jupyter the page's keys belong to the notebook: only keys pressed inside the widget are ours.
    if (kernelMode && !root.contains(event.target)) return;
    const tag = event.target?.tagName ?? "";
    if (["INPUT", "SELECT", "TEXTAREA"].includes(tag) || event.target?.isContentEditable) return;
    if (event.key === "Enter" && ["BUTTON", "A"].includes(tag)) return;
    const action = keyAction(event.key, { awaiting, step: STEPS[stepIndex] });
    if (!action || (!record && action.action !== "next_case")) return;
    if (action.action === "choose") {
      const options = record.steps[STEPS[stepIndex]].options;
      if (action.index >= options.length) return;
      choose(options[action.index][0]);
    } else if (action.action === "continue") {
      if (stepIndex === STEPS.length - 1) nextCase();
      else advance();
    } else if (action.action === "next_case") nextCase();
    else if (action.action === "skip") finish(true);
    event.preventDefault();
  };
  globalThis.document?.addEventListener("keydown", onKey);

  showScore();
  buildFilters();
  model.on("change:live_case", onLive);
  model.on("change:error", onError);

  if (kernelMode) {
    if (model.get("live_case")?.case) onLive();
    else requestLiveCase();
  } else {
    say("Loading the cases…");
    fetch(`${contentRoot}${model.get("deck_url")}`)
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.json();
      })
      .then((data) => {
        deck = data;
        buildFilters();
        order = filterCases(deck.cases, filters);
        showDeckCase();
      })
      .catch((error) => say(`The cases could not be loaded (${error.message}). Reload the page to try again.`));
  }

  return () => {
    globalThis.document?.removeEventListener("keydown", onKey);
    model.off("change:live_case", onLive);
    model.off("change:error", onError);
    clearTimeout(waiting);
  };
}

export default { render };
