// Frame viewer: the browser side of calcifications.atlas_widgets.FrameViewer.
//
// Python pre-renders a few frames of one synthetic radiograph while a teaching
// parameter varies (weeks since trauma, phase, count...) and sends them once,
// as WebP data URIs, with their parameter values, caption lines and alt texts.
// The viewer shows one frame, chosen client-side, so it works on the static
// site with no kernel:
//   mode "index": the frame at the synced `index` (a Dropdown's or a
//                 SelectionSlider's `index`, jslinked);
//   mode "value": the frame whose value is nearest the synced `value` (a
//                 FloatSlider's or IntSlider's `value`, jslinked). In a live
//                 kernel, Python renders the exact value and publishes it in
//                 `live` ({value, src, label, alt}); the viewer shows it while
//                 it matches the current value.
// Pure functions (`clampIndex`, `nearestIndex`, `frameView`) do the choosing
// and never throw, so node tests them and bad state shows a short message.

/** An index clamped to 0..count-1 (rounded; non-numbers give 0); -1 when there are no frames. */
export function clampIndex(index, count) {
  const n = Number.isFinite(Number(count)) ? Math.max(0, Math.floor(Number(count))) : 0;
  if (n === 0) return -1;
  const i = Number(index);
  if (index === null || index === undefined || index === "" || !Number.isFinite(i)) return 0;
  return Math.min(n - 1, Math.max(0, Math.round(i)));
}

/** Index of the numeric entry of `values` nearest `value` (the lower one on a tie); -1 if none. */
export function nearestIndex(values, value) {
  if (!Array.isArray(values) || values.length === 0) return -1;
  const v = Number(value);
  if (value === null || value === undefined || value === "" || !Number.isFinite(v)) return 0;
  let best = -1;
  let bestDistance = Infinity;
  values.forEach((candidate, i) => {
    const c = Number(candidate);
    if (candidate === null || !Number.isFinite(c)) return;
    const distance = Math.abs(c - v);
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  return best === -1 ? 0 : best;
}

function formatValue(value) {
  const v = Number(value);
  if (!Number.isFinite(v)) return String(value);
  return String(Math.round(v * 100) / 100);
}

function text(list, i, fallback) {
  const item = Array.isArray(list) ? list[i] : undefined;
  return typeof item === "string" && item.trim() !== "" ? item : fallback;
}

/**
 * What to show for a viewer state {frames, values, labels, alts, index, value, mode, unit, live}:
 * {index, src, alt, caption, counter, message, live}. `message` is non-empty (and `src` empty)
 * when there is nothing valid to show.
 */
export function frameView(state) {
  const s = state && typeof state === "object" ? state : {};
  const frames = Array.isArray(s.frames) ? s.frames : [];
  const values = Array.isArray(s.values) ? s.values : [];
  const unit = typeof s.unit === "string" ? s.unit : "";
  const live = s.live && typeof s.live === "object" ? s.live : {};
  const empty = { index: -1, src: "", alt: "", caption: "", counter: "", live: false };
  if (s.mode === "value" && typeof live.src === "string" && live.src.startsWith("data:image/")
      && live.value !== undefined && live.value !== null && Number(live.value) === Number(s.value)) {
    return {
      index: -1, src: live.src, live: true, message: "", counter: "rendered for this exact value",
      alt: text([live.alt], 0, "Synthetic radiograph rendered for the chosen value."),
      caption: text([live.label], 0, `${formatValue(live.value)} ${unit}`.trim()),
    };
  }
  if (frames.length === 0) return { ...empty, message: "No frames to show." };
  const index = s.mode === "value" ? clampIndex(nearestIndex(values, s.value), frames.length)
    : clampIndex(s.index, frames.length);
  const src = frames[index];
  if (typeof src !== "string" || !src.startsWith("data:image/")) {
    return { ...empty, index, message: `Frame ${index + 1} is missing.` };
  }
  let caption = text(s.labels, index, `Frame ${index + 1} of ${frames.length}`);
  if (s.mode === "value" && values.length > index && Number.isFinite(Number(s.value))
      && Number(values[index]) !== Number(s.value)) {
    caption += ` (nearest pre-rendered frame to ${formatValue(s.value)}${unit ? ` ${unit}` : ""})`;
  }
  return {
    index, src, caption, live: false, message: "",
    alt: text(s.alts, index, `Synthetic radiograph, frame ${index + 1} of ${frames.length}.`),
    counter: `Frame ${index + 1} of ${frames.length}`,
  };
}

const NAMES = ["frames", "values", "labels", "alts", "index", "value", "mode", "unit", "live"];

function render({ model, el }) {
  const figure = document.createElement("figure");
  figure.className = "frame-viewer";
  figure.style.margin = "0.5em 0";
  const img = document.createElement("img");
  img.className = "frame-viewer-image";
  img.style.maxWidth = "100%";
  img.style.height = "auto";
  img.style.background = "#000";
  const caption = document.createElement("figcaption");
  caption.className = "frame-viewer-caption";
  caption.setAttribute("aria-live", "polite");
  const counter = document.createElement("div");
  counter.className = "frame-viewer-counter";
  counter.style.fontSize = "0.85em";
  counter.style.color = "#555";
  const message = document.createElement("p");
  message.className = "frame-viewer-message";
  message.setAttribute("role", "status");
  message.style.color = "#a00000";
  figure.append(img, caption, counter);
  el.append(figure, message);
  const redraw = () => {
    const state = Object.fromEntries(NAMES.map((name) => [name, model.get(name)]));
    const view = frameView(state);
    message.textContent = view.message;
    message.hidden = !view.message;
    img.hidden = !view.src;
    if (view.src) {
      if (img.getAttribute("src") !== view.src) img.setAttribute("src", view.src);
      img.setAttribute("alt", view.alt);
      img.dataset.index = String(view.index);
    } else {
      img.removeAttribute("src");
      img.setAttribute("alt", "");
    }
    caption.textContent = view.caption;
    counter.textContent = view.counter;
  };
  for (const name of NAMES) model.on(`change:${name}`, redraw);
  redraw();
  return () => {
    for (const name of NAMES) model.off(`change:${name}`, redraw);
  };
}

export default { render };
