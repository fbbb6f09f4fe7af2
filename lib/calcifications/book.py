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
    """Return ``{mechanism: {compartment: [(diagnosis id, label, chapter)]}}`` for every vocabulary diagnosis."""
    from calcifications.differential import knowledge_base
    from calcifications.vocabulary import vocabulary

    vocab = vocabulary()
    chapters = {d.id: d.chapter for d in knowledge_base().diagnoses}
    matrix = {m: {c: [] for c in vocab.compartments} for m in vocab.mechanisms}
    for diagnosis in vocab.diagnoses.values():
        matrix[diagnosis.mechanism][diagnosis.compartment].append(
            (diagnosis.id, diagnosis.label, chapters[diagnosis.id])
        )
    return matrix


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
    header = "".join(f"<th scope='col'>{escape(label.split(' (')[0])}</th>" for label in vocab.mechanisms.values())
    rows = []
    for compartment, label in vocab.compartments.items():
        cells = []
        for mechanism in vocab.mechanisms:
            items = []
            for diagnosis, name, chapter in matrix[mechanism][compartment]:
                if chapter in pages:
                    href = f"{relpath(chapter, from_folder)}.html#{section_anchor(diagnosis)}"
                    items.append(f"<li><a href='{href}'>{escape(name)}</a></li>")
                else:
                    items.append(f"<li>{escape(name)}</li>")
            cells.append(
                f"<td><ul style='padding-left:1.1em;margin:0'>{''.join(items)}</ul></td>" if items else "<td>—</td>"
            )
        rows.append(f"<tr><th scope='row'>{escape(label.split(' (')[0])}</th>{''.join(cells)}</tr>")
    return (
        f"<div style='overflow-x:auto'><table class='matrix' style='font-size:0.88em'><caption>Entities of the book by compartment (rows) "
        f"and mechanism (columns)</caption><thead><tr><th scope='col'>Compartment</th>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
