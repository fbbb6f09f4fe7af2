"""The other way the book is used: a chapter opened in JupyterLab with a live kernel.

JupyterLab runs on 127.0.0.1 from the project's environment, on a copy of a chapter (so that its
autosave never touches the committed notebook); the test runs every cell, ticks a finding of the
chapter's calculator and sees the ranking change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from live_lab import jupyterlab, open_and_run_all

from calcifications.differential import rank

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
CHAPTER = "vascular"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "chapters" / f"{CHAPTER}.ipynb", folder)
    with jupyterlab(folder) as (url, token):
        yield url, token


def test_chapter_calculator_works_in_jupyterlab(browser, lab, screenshots):
    url, token = lab
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        open_and_run_all(page, url, token, f"{CHAPTER}.ipynb")
        try:
            page.wait_for_selector(".jp-OutputArea .dd-list .dd-row", state="attached", timeout=180_000)
        finally:
            page.screenshot(path=str(screenshots / "jupyterlab-chapter.png"))
        calculator = page.locator(".jp-OutputArea .dd").first
        calculator.scroll_into_view_if_needed()
        ranking = "el => [...el.querySelectorAll('.dd-list .dd-row')].map(r => r.dataset.diagnosis)"
        assert calculator.evaluate(ranking) == [c.diagnosis for c in rank(["vascular"])][:6]
        calculator.get_by_role(
            "checkbox", name="Small round or oval calcification with lucent centre or laminations"
        ).check()
        page.wait_for_function(
            "top => document.querySelector('.jp-OutputArea .dd-list .dd-row').dataset.diagnosis === top",
            arg=rank(["vascular", "phlebolith"])[0].diagnosis,
            timeout=10_000,
        )
        assert calculator.evaluate(ranking) == [c.diagnosis for c in rank(["vascular", "phlebolith"])][:6]
    finally:
        context.close()
