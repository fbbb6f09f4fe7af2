"""The unknown-cases widget in a live kernel: JupyterLab draws fresh cases in Python, endlessly.

JupyterLab runs on 127.0.0.1 from the project's environment (as in test_live_kernel.py) on a
scratch notebook that calls ``unknown_cases(seed=SEED)``. The test runs it, sees the first case
drawn in Python (the generator's own ``random_case(SEED)``, not a deck case), commits a
compartment and sees the feedback and the score change, answers the other steps with the keys
(which must not reach JupyterLab's own shortcuts), then asks for the next case and sees a new
image and vignette; a filter draws a case of the chosen difficulty.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from live_lab import jupyterlab, open_and_run_all

from calcifications.case_widgets import diagnoses_for
from calcifications.cases import case_record, random_case

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
DECK = json.loads((ROOT / "figures" / "deck" / "cases" / "deck.json").read_text("utf-8"))
SEED = 4132
"""Its first case has two views (synovial osteochondromatosis, frontal and lateral), the next one view."""
NOTEBOOK = "live-cases.ipynb"
SCORE = ".jp-OutputArea .ucases .uc-score span"
VIGNETTE = ".jp-OutputArea .ucases .uc-vignette"
DRAW_MS = 120_000
"""A case is drawn and rendered in Python (a few seconds; the first one builds the 3-D anatomy)."""


def _scratch_notebook(folder: Path) -> None:
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": ["from calcifications.case_widgets import unknown_cases\n", f"unknown_cases(seed={SEED})"],
    }
    notebook = {
        "cells": [cell],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (folder / NOTEBOOK).write_text(json.dumps(notebook), "utf-8")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab-cases")
    _scratch_notebook(folder)
    try:
        with jupyterlab(folder) as (url, token):
            yield url, token, folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_vignette(page, text: str) -> None:
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel)?.textContent === text",
        arg=[VIGNETTE, text],
        timeout=DRAW_MS,
    )
    page.wait_for_function(
        "() => { const i = document.querySelector('.jp-OutputArea .ucases figure img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=DRAW_MS,
    )


def _image_sources(page) -> list[str]:
    return page.eval_on_selector_all(".jp-OutputArea .ucases figure img", "els => els.map(e => e.src)")


def test_unknown_cases_draws_fresh_cases_in_jupyterlab(browser, lab, screenshots):
    url, token, _folder = lab
    # What the kernel draws: seeds SEED, SEED + 1, ... among every diagnosis, the filters applied.
    first, second = (random_case(SEED + k, diagnoses_for()) for k in range(2))
    hard = random_case(SEED + 2, diagnoses_for(), ["hard"])
    deck_vignettes = {c["vignette"] for c in DECK["cases"]}
    assert first.vignette not in deck_vignettes and second.vignette not in deck_vignettes
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        open_and_run_all(page, url, token, NOTEBOOK)
        try:
            _wait_for_vignette(page, first.vignette)
        finally:
            page.screenshot(path=str(screenshots / "jupyterlab-unknown-cases.png"))
        widget = page.locator(".jp-OutputArea .ucases")
        assert widget.locator(".uc-meta").inner_text().startswith("A fresh case drawn in Python")
        images = _image_sources(page)
        assert len(first.specs) == 2 and len(images) == 2
        assert all(src.startswith("data:image/webp;base64,") for src in images)
        alts = widget.locator("figure img").evaluate_all("els => els.map(e => e.alt)")
        assert alts == list(first.alts)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-OutputArea .ucases figure img')]"
            ".every(i => i.complete && i.naturalWidth > 0)",
            timeout=DRAW_MS,
        )
        page.screenshot(path=str(screenshots / "jupyterlab-unknown-cases-two-views.png"))
        assert page.inner_text(SCORE) == "Compartment 0/0 · Shape 0/0 · Diagnosis 0/0 · Next step 0/0"

        # Commit a compartment with the mouse: judged, explained, counted.
        compartment = case_record(first, [""] * len(first.specs))["compartment"][0]
        widget.locator(f".uc-step:last-child .uc-option[data-id='{compartment}']").click()
        assert "Right." in widget.locator(".uc-feedback").first.inner_text()
        assert page.inner_text(SCORE) == "Compartment 1/1 · Shape 0/0 · Diagnosis 0/0 · Next step 0/0"
        widget.locator(".uc-continue").click()

        # The keys answer inside the widget and never reach JupyterLab (which would turn the cell into
        # a heading on "1" or "2").
        widget.locator(".uc-step:last-child .uc-option").first.focus()
        page.keyboard.press("1")
        page.wait_for_function(
            "sel => document.querySelector(sel).textContent.includes('Shape 0/1') ||"
            " document.querySelector(sel).textContent.includes('Shape 1/1')",
            arg=SCORE,
            timeout=5_000,
        )
        page.keyboard.press("Enter")
        assert widget.locator(".uc-step").count() == 3
        widget.locator(f".uc-step:last-child .uc-option[data-id='{first.diagnosis}']").click()
        feedback = widget.locator(".uc-step:last-child .uc-feedback").inner_text()
        assert "Right." in feedback and "engine ranks" in feedback
        assert "Diagnosis 1/1" in page.inner_text(SCORE)
        assert page.locator(".jp-Notebook .jp-Cell.jp-MarkdownCell").count() == 0, "a key reached JupyterLab"
        page.screenshot(path=str(screenshots / "jupyterlab-unknown-cases-answered.png"))

        # The next case is a new one, drawn in Python: a new vignette and a new image.
        widget.locator(".uc-continue").click()
        widget.locator(".uc-skip").click()
        widget.locator(".uc-continue").click()
        _wait_for_vignette(page, second.vignette)
        assert len(_image_sources(page)) == len(second.specs) == 1 and _image_sources(page) != images
        assert "Skipped." not in widget.inner_text()

        # A filter draws the next case with it.
        page.select_option(".jp-OutputArea .ucases .uc-filter-difficulty", "hard")
        _wait_for_vignette(page, hard.vignette)
        assert widget.locator(".uc-meta").inner_text().endswith("difficulty: hard")
        # Keys pressed elsewhere in the notebook are JupyterLab's, not the widget's.
        page.locator(".jp-Cell .jp-InputPrompt").first.click()
        page.keyboard.press("n")
        assert "Drawing a new case" not in widget.locator(".uc-status").inner_text()
        assert widget.locator(".uc-vignette").inner_text() == hard.vignette
        assert errors == [], f"page errors in JupyterLab: {errors}"
    finally:
        context.close()
