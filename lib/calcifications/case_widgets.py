"""The unknown-cases widget: the committed deck on the static site, fresh cases in a live kernel.

:class:`UnknownCases` (front-end ``static/unknown_cases.js``) carries no case
in its saved state: on the book's website it fetches the committed deck once
(``deck_url``, a same-origin JSON file relative to the book root, written by
``python -m calcifications.cases --deck``) and shows its images as files. In
a live kernel the front-end asks Python for a case (a custom message) and
:func:`unknown_cases` answers with a new one from
:func:`calcifications.cases.random_case`, endlessly, honouring the reader's
filters; the image then travels in ``live_case`` as a data URI.
"""

from __future__ import annotations

import base64
from typing import Any

import anywidget
import traitlets

from calcifications import cases
from calcifications.book import published_pages
from calcifications.vocabulary import vocabulary
from calcifications.widgets import static_module

DECK_URL = "cases/deck.json"
"""Where the built site serves the deck, relative to the book root (``html_extra_path``: ``figures/deck``)."""


class UnknownCases(anywidget.AnyWidget):
    """Walks the reader through unknown cases: compartment, shape, diagnosis, next step, each before its reveal."""

    _esm = static_module("unknown_cases.js")
    deck_url = traitlets.Unicode(DECK_URL).tag(sync=True)
    labels = traitlets.Dict().tag(sync=True)
    live_case = traitlets.Dict().tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __repr__(self) -> str:
        # No memory address: notebook outputs must not change between runs.
        return f"UnknownCases(deck_url={self.deck_url!r})"


def filter_labels() -> dict[str, Any]:
    """The options of the three filters: chapters, mechanisms, difficulties (ids and names)."""
    table, vocab = cases.case_table(), vocabulary()
    return {
        "chapters": [[k, v] for k, v in table.chapters.items()],
        "mechanisms": [[k, v.split(" (")[0].split(" / ")[0]] for k, v in vocab.mechanisms.items()],
        "difficulties": list(cases.DIFFICULTIES),
    }


def diagnoses_for(chapter: str = "", mechanism: str = "") -> list[str]:
    """Diagnosis ids taught in ``chapter`` (e.g. 'chapters/muscle') with ``mechanism`` ('' = any); ValueError if none."""
    from calcifications.differential import knowledge_base

    chosen = [
        d.id
        for d in knowledge_base().diagnoses
        if (not chapter or d.chapter == chapter) and (not mechanism or d.mechanism == mechanism)
    ]
    if not chosen:
        raise ValueError(
            f"no diagnosis is taught in {chapter or 'any chapter'} with mechanism {mechanism or 'any'}: "
            "widen the filters"
        )
    return chosen


def live_record(seed: int, chapter: str = "", mechanism: str = "", difficulty: str = "") -> dict[str, Any]:
    """A fresh case for the widget: ``{labels, case}``, its radiographs (one or two views) as WebP data URIs."""
    case = cases.random_case(seed, diagnoses_for(chapter, mechanism), [difficulty] if difficulty else None)
    uris = ["data:image/webp;base64," + base64.b64encode(data).decode("ascii") for data in cases.encode_images(case)]
    record = {"id": f"live-{seed}", **cases.case_record(case, uris, published_pages() or None)}
    return {"labels": cases.record_labels([record]), "case": record}


def unknown_cases(seed: int = 1, deck_url: str = DECK_URL) -> UnknownCases:
    """Build the unknown-cases widget.

    On the website it reads the deck at ``deck_url`` (relative to the book
    root). In a live kernel each "next case" draws a new case in Python from
    seeds ``seed``, ``seed + 1``, ...; the reader's filters (chapter,
    mechanism, difficulty) choose what is drawn. A filter that leaves nothing
    is explained next to the controls, never raised.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    widget = UnknownCases(deck_url=deck_url, labels=filter_labels())
    counter = {"next": seed}

    def on_message(_widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "new_case":
            return
        filters = content.get("filters") or {}
        try:
            record = live_record(
                counter["next"],
                str(filters.get("chapter") or ""),
                str(filters.get("mechanism") or ""),
                str(filters.get("difficulty") or ""),
            )
        except ValueError as error:
            widget.error = ""
            widget.error = str(error)
            return
        counter["next"] += 1
        widget.error = ""
        widget.live_case = record

    widget.on_msg(on_message)
    return widget
