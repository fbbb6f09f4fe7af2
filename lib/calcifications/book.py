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
