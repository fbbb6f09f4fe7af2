"""The book's entity chapters, one source for every test that needs them.

An entity chapter is a page of the table of contents (``_toc.yml``) that shows a chapter
calculator (its notebook calls ``chapter_calculator(...)``); they are named as in
``data/calculators.yml`` ("vascular", "calcinosis-cutis"...), in the order of the book.
Derived from the book's pages, not from the settings the tests check.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def entity_chapters() -> tuple[str, ...]:
    """Names of the entity chapters in table-of-contents order ("vascular", ...)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text("utf-8"))
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    notebooks = [ROOT / f"{file}.ipynb" for file in files]
    found = tuple(
        path.stem for path in notebooks if path.is_file() and "chapter_calculator(" in path.read_text("utf-8")
    )
    if not found:
        raise RuntimeError("no page of _toc.yml shows a chapter calculator")
    return found


ENTITY_CHAPTERS: tuple[str, ...] = entity_chapters()
