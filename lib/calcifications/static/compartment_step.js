// Compartment-first step: the browser side of calcifications.widgets.CompartmentStep.
//
// Given the compartments chosen in the calculator, list the shapes (morphology
// ids) typical of the diagnoses found there, as toggle buttons that select
// them in the "Shape" list (the `morphologies` trait is jslinked to its index).
// `choices` comes from calcifications.widgets.differential_choices().

/** Return {typical: [index...], unusual: [index...]} for the chosen compartments and shapes. */
export function narrow(choices, compartmentIndices, morphologyIndices) {
  const ids = choices.morphology.map(([id]) => id);
  const typicalIds = new Set();
  for (const i of compartmentIndices) {
    const compartment = choices.compartment[i];
    if (compartment) for (const id of choices.by_compartment[compartment[0]] ?? []) typicalIds.add(id);
  }
  const typical = ids.map((id, i) => (typicalIds.has(id) ? i : -1)).filter((i) => i >= 0);
  const unusual = compartmentIndices.length ? morphologyIndices.filter((i) => !typicalIds.has(ids[i])) : [];
  return { typical, unusual };
}

function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "cstep";
  box.style.margin = "0.3em 0 0.6em 9.5em";
  box.style.maxWidth = "40em";
  el.appendChild(box);
  const redraw = () => {
    const choices = model.get("choices");
    const compartments = model.get("compartments");
    const selected = model.get("morphologies");
    const { typical, unusual } = narrow(choices, compartments, selected);
    box.replaceChildren();
    const lead = document.createElement("p");
    lead.style.margin = "0 0 0.3em 0";
    if (!compartments.length) {
      lead.textContent = "Start with the compartment: the shapes to look for narrow to those seen there.";
      box.appendChild(lead);
      return;
    }
    const names = compartments.map((i) => choices.compartment[i][1].split(" (")[0].toLowerCase()).join(" + ");
    lead.textContent = `Shapes seen in ${names} (click to select or clear):`;
    box.appendChild(lead);
    for (const i of typical) {
      const button = document.createElement("button");
      const on = selected.includes(i);
      button.type = "button";
      button.className = "cstep-chip";
      button.textContent = choices.morphology[i][1];
      button.setAttribute("aria-pressed", String(on));
      button.style.cssText = "margin:0 0.3em 0.3em 0;padding:0.15em 0.5em;border-radius:1em;cursor:pointer;" +
        `border:1px solid #0072B2;background:${on ? "#0072B2" : "#fff"};color:${on ? "#fff" : "#0072B2"};font-size:0.85em;text-align:left`;
      button.addEventListener("click", () => {
        const current = model.get("morphologies");
        const next = current.includes(i) ? current.filter((j) => j !== i) : [...current, i].sort((a, b) => a - b);
        model.set("morphologies", next);
        model.save_changes();
      });
      box.appendChild(button);
    }
    if (unusual.length) {
      const note = document.createElement("p");
      note.className = "cstep-unusual";
      note.style.cssText = "margin:0.2em 0 0 0;color:#a04000";
      note.textContent = "Unusual in this compartment: " + unusual.map((i) => choices.morphology[i][1]).join("; ") +
        ". Check the compartment, or keep it if the image really shows it.";
      box.appendChild(note);
    }
  };
  for (const name of ["choices", "compartments", "morphologies"]) model.on(`change:${name}`, redraw);
  redraw();
  return () => {
    for (const name of ["choices", "compartments", "morphologies"]) model.off(`change:${name}`, redraw);
  };
}

export default { render };
