"""Facts about the book itself that notebooks need, read from its table of contents."""

from __future__ import annotations

from pathlib import Path

import yaml


def find_toc(start: Path | None = None) -> Path | None:
    """Return the book's ``_toc.yml``, searching ``start`` (default: the working directory) and its parents."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "_toc.yml"
        if candidate.is_file():
            return candidate
    return None


def published_pages(start: Path | None = None) -> list[str]:
    """Return the pages of the table of contents (paths without suffix), or [] outside the book."""
    toc_path = find_toc(start)
    if toc_path is None:
        return []
    toc = yaml.safe_load(toc_path.read_text("utf-8"))
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            pages.append(chapter["file"])
            pages.extend(section["file"] for section in chapter.get("sections", []))
    return pages


def section_anchor(diagnosis_id: str) -> str:
    """Return the HTML id of a diagnosis's section (Sphinx writes the label ``a_b`` as ``a-b``)."""
    return diagnosis_id.replace("_", "-")


def mechanism_compartment_matrix() -> dict[str, dict[str, list[tuple[str, str, str]]]]:
    """Return ``{mechanism: {compartment: [(diagnosis id, label, chapter)]}}`` for every vocabulary diagnosis.

    Labels and mechanisms are the book's (the knowledge base's): where the book
    teaches a mechanism other than the essay's grouping (gout), the entity sits
    under the mechanism the book teaches; see :func:`regrouped_diagnoses`.
    """
    from calcifications.differential import knowledge_base
    from calcifications.vocabulary import vocabulary

    vocab = vocabulary()
    matrix = {m: {c: [] for c in vocab.compartments} for m in vocab.mechanisms}
    for entry in knowledge_base().diagnoses:
        compartment = vocab.diagnoses[entry.id].compartment
        matrix[entry.mechanism][compartment].append((entry.id, entry.label, entry.chapter))
    return matrix


def regrouped_diagnoses() -> dict[str, tuple[str, str]]:
    """Return ``{diagnosis id: (essay's mechanism, book's mechanism)}`` where the book departs from the essay."""
    from calcifications.differential import knowledge_base
    from calcifications.vocabulary import vocabulary

    vocab = vocabulary()
    return {
        e.id: (vocab.diagnoses[e.id].mechanism, e.mechanism)
        for e in knowledge_base().diagnoses
        if e.mechanism != vocab.diagnoses[e.id].mechanism
    }


def matrix_html(pages: list[str] | None = None, from_folder: str = "chapters") -> str:
    """Return the compartment × mechanism matrix as an HTML table linking each entity to its section.

    Rows are compartments and columns mechanisms (the narrow dimension), so the
    table fits a page column. Entities whose chapter is not among ``pages`` are
    listed without a link; links are relative to pages in ``from_folder``.
    """
    from html import escape
    from posixpath import relpath

    from calcifications.vocabulary import vocabulary

    vocab = vocabulary()
    pages = set(published_pages() if pages is None else pages)
    matrix = mechanism_compartment_matrix()
    regrouped = regrouped_diagnoses()
    labels = {did: name for cells in matrix.values() for items in cells.values() for did, name, _ in items}
    header = "".join(f"<th scope='col'>{escape(label.split(' (')[0])}</th>" for label in vocab.mechanisms.values())
    rows = []
    for compartment, label in vocab.compartments.items():
        cells = []
        for mechanism in vocab.mechanisms:
            items = []
            for diagnosis, name, chapter in matrix[mechanism][compartment]:
                mark = "<sup>†</sup>" if diagnosis in regrouped else ""
                if chapter in pages:
                    href = f"{relpath(chapter, from_folder)}.html#{section_anchor(diagnosis)}"
                    items.append(f"<li><a href='{href}'>{escape(name)}</a>{mark}</li>")
                else:
                    items.append(f"<li>{escape(name)}{mark}</li>")
            for diagnosis, (essay, _) in regrouped.items():
                if essay == mechanism and vocab.diagnoses[diagnosis].compartment == compartment:
                    items.append(f"<li><em>({escape(labels[diagnosis])}: the essay's grouping)</em><sup>†</sup></li>")
            cells.append(
                f"<td><ul style='padding-left:1.1em;margin:0'>{''.join(items)}</ul></td>" if items else "<td>—</td>"
            )
        rows.append(f"<tr><th scope='row'>{escape(label.split(' (')[0])}</th>{''.join(cells)}</tr>")
    return (
        f"<div style='overflow-x:auto'><table class='matrix' style='font-size:0.88em'><caption>Entities of the book by compartment (rows) "
        f"and mechanism (columns)</caption><thead><tr><th scope='col'>Compartment</th>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{_regrouped_note(regrouped, labels, vocab)}</div>"
    )


def _regrouped_note(regrouped: dict[str, tuple[str, str]], labels: dict[str, str], vocab) -> str:
    """A footnote under the matrix for each entity the book files under another mechanism than the essay."""
    from html import escape

    def name(mechanism: str) -> str:
        return escape(vocab.mechanisms[mechanism].split(" (")[0].split(" /")[0].lower())

    notes = [
        f"{escape(labels[d])}: listed by the essay with the {name(essay)} causes; the book files it, and "
        f"the calculator counts its calcium, as {name(book)}."
        for d, (essay, book) in regrouped.items()
    ]
    return f"<p class='matrix-note' style='font-size:0.85em'><sup>†</sup> {' '.join(notes)}</p>" if notes else ""
