"""The unknown-cases page on the static site: the deck loads with no kernel, answers are judged and
scored, the score persists and resets, the keys work, the filters filter, and the page stays light."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from test_site import open_page, reveal_widgets

pytestmark = pytest.mark.browser
PAGE = "chapters/unknown-cases.html"
ROOT = Path(__file__).resolve().parents[2]
DECK = json.loads((ROOT / "figures" / "deck" / "cases" / "deck.json").read_text("utf-8"))
OWN_BUDGET = 450 * 1024
"""Bytes of the page itself, its deck file and the images it shows (the vendored widget runtime aside)."""
PAGE_BUDGET = 1.3 * 1024 * 1024


def _open(browser, site_url, width=1280):
    context, page, record = open_page(browser, f"{site_url}/{PAGE}", width)
    page.wait_for_selector(".ucases .uc-option", timeout=30_000)
    return context, page, record


def _images(case: dict) -> list[list[str]]:
    """A deck case's radiographs as [[file, alt], ...] (one or two views)."""
    return case.get("images") or [[case["image"], case["alt"]]]


def _score(page) -> str:
    return page.inner_text(".ucases .uc-score span")


def _click_option(page, option_id: str) -> None:
    page.click(f".ucases .uc-step:last-child .uc-option[data-id='{option_id}']")


def _wrong(options: list[str], accept: list[str]) -> str:
    return next(o for o in options if o not in accept)


def test_walk_through_a_case_with_right_and_wrong_answers(browser, site_url, screenshots):
    context, page, record = _open(browser, site_url)
    try:
        first = DECK["cases"][0]
        assert page.inner_text(".ucases .uc-meta").startswith(f"Case 1 of {len(DECK['cases'])}")
        alts = page.locator(".ucases figure img").evaluate_all("els => els.map(e => e.alt)")
        assert alts == [alt for _, alt in _images(first)]
        page.wait_for_function("document.querySelector('.ucases figure img').naturalWidth > 0")
        assert _score(page) == "Compartment 0/0 · Shape 0/0 · Diagnosis 0/0 · Next step 0/0"
        # Nothing is revealed before the reader commits.
        assert page.locator(".ucases .uc-feedback").count() == 0
        _click_option(page, first["compartment"][0])
        assert "Right." in page.inner_text(".ucases .uc-feedback")
        assert page.locator(".ucases .uc-option[data-verdict=right]").count() >= 1
        page.click(".ucases .uc-continue")
        _click_option(page, _wrong(first["morphology"]["options"], first["morphology"]["accept"]))
        assert "Not quite." in page.inner_text(".ucases .uc-step:last-child .uc-feedback")
        assert page.locator(".ucases .uc-step:last-child .uc-option[data-verdict=wrong]").count() == 1
        page.click(".ucases .uc-continue")
        _click_option(page, first["diagnosis"])
        feedback = page.locator(".ucases .uc-step:last-child .uc-feedback")
        assert DECK["labels"]["diagnosis"][first["diagnosis"]] in feedback.inner_text()
        link = feedback.locator("a").get_attribute("href")
        assert link.endswith(first["href"]) and "#" in link
        page.screenshot(path=str(screenshots / "unknown-cases-1280.png"), full_page=True)
        assert _score(page) == "Compartment 1/1 · Shape 0/1 · Diagnosis 1/1 · Next step 0/0"
        # The score survives a reload, and resets to zero.
        page.reload(wait_until="networkidle")
        reveal_widgets(page)  # the light runtime draws a widget as it nears the viewport
        page.wait_for_selector(".ucases .uc-option", timeout=30_000)
        assert _score(page) == "Compartment 1/1 · Shape 0/1 · Diagnosis 1/1 · Next step 0/0"
        page.click(".ucases .uc-reset")
        assert _score(page) == "Compartment 0/0 · Shape 0/0 · Diagnosis 0/0 · Next step 0/0"
    finally:
        context.close()
    record.assert_clean("the unknown-cases page")


def test_keyboard_walks_a_case_and_moves_on(browser, site_url):
    context, page, record = _open(browser, site_url)
    try:
        first = DECK["cases"][0]
        page.evaluate("document.activeElement && document.activeElement.blur()")
        ids = list(DECK["labels"]["compartment"])
        right = ids.index(first["compartment"][0])
        page.keyboard.press(str(right + 1))
        assert "Right." in page.inner_text(".ucases .uc-feedback")
        page.evaluate("document.activeElement && document.activeElement.blur()")
        page.keyboard.press("Enter")
        assert page.locator(".ucases .uc-step").count() == 2
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.keyboard.press("2")
        page.keyboard.press("Enter")
        assert page.locator(".ucases .uc-step-next_step").count() == 1
        page.keyboard.press("s")
        assert "Skipped." in page.inner_text(".ucases .uc-step:last-child .uc-feedback")
        page.keyboard.press("Enter")
        assert page.inner_text(".ucases .uc-meta").startswith(f"Case 2 of {len(DECK['cases'])}")
        totals = _score(page)
        assert "Compartment 1/1" in totals and "Next step 0/0" in totals
        assert "/1" in totals.split("·")[1] and "/1" in totals.split("·")[2]
        page.keyboard.press("n")
        assert page.inner_text(".ucases .uc-meta").startswith("Case 3 of")
    finally:
        context.close()
    record.assert_clean("the unknown-cases page (keyboard)")


def test_filters_choose_the_cases(browser, site_url):
    context, page, record = _open(browser, site_url)
    try:
        page.select_option(".ucases .uc-filter-difficulty", "hard")
        hard = [c for c in DECK["cases"] if c["difficulty"] == "hard"]
        assert page.inner_text(".ucases .uc-meta").startswith(f"Case 1 of {len(hard)}")
        assert page.inner_text(".ucases .uc-meta").endswith("difficulty: hard")
        page.select_option(".ucases .uc-filter-chapter", "chapters/fascial")
        page.select_option(".ucases .uc-filter-mechanism", "metastatic")
        assert "No case matches" in page.inner_text(".ucases .uc-status")
        for name in ("chapter", "mechanism", "difficulty"):
            assert page.locator(f".ucases label:has(select.uc-filter-{name})").count() == 1
    finally:
        context.close()
    record.assert_clean("the unknown-cases page (filters)")


def test_works_at_375_px(browser, site_url, screenshots):
    context, page, record = _open(browser, site_url, width=375)
    try:
        page.screenshot(path=str(screenshots / "unknown-cases-375.png"), full_page=True)
        overflow = page.evaluate(
            "document.querySelector('.ucases').scrollWidth - document.querySelector('.ucases').clientWidth"
        )
        assert overflow <= 1
        box = page.locator(".ucases figure img").bounding_box()
        assert box["width"] <= 375
    finally:
        context.close()
    record.assert_clean("the unknown-cases page at 375 px")


def test_page_weight(browser, site_url):
    sizes: dict[str, int] = {}
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()

    def on_response(response) -> None:
        with contextlib.suppress(Exception):  # redirects and aborted requests have no body
            sizes[response.url] = len(response.body())

    page.on("response", on_response)
    try:
        page.goto(f"{site_url}/{PAGE}", wait_until="networkidle")
        reveal_widgets(page)
        page.wait_for_selector(".ucases .uc-option", timeout=30_000)
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    own = sum(n for url, n in sizes.items() if url.endswith(PAGE) or "/cases/" in url)
    assert any(url.endswith("/cases/deck.json") for url in sizes), "the deck was not fetched"
    shown = len(_images(DECK["cases"][0]))
    assert sum(url.endswith(".webp") and "/cases/" in url for url in sizes) == shown, (
        "only the shown case's images load"
    )
    assert own <= OWN_BUDGET, f"page + deck + image weigh {own / 1024:.0f} KB"
    total = sum(sizes.values())
    assert total <= PAGE_BUDGET, f"the page weighs {total / 1e6:.2f} MB"


def test_a_two_view_case_shows_both_radiographs_each_with_its_alt_text(browser, site_url, screenshots):
    two_views = [i for i, c in enumerate(DECK["cases"]) if len(_images(c)) == 2]
    assert two_views, "no case of the deck has two views: regenerate it (`python -m calcifications.cases --deck`)"
    position = two_views[0]
    case = DECK["cases"][position]
    for width in (1280, 375):
        context, page, record = _open(browser, site_url, width)
        try:
            page.evaluate("document.activeElement && document.activeElement.blur()")
            for _ in range(position):
                page.keyboard.press("n")
            assert page.inner_text(".ucases .uc-meta").startswith(f"Case {position + 1} of")
            images = page.locator(".ucases figure img")
            assert images.evaluate_all("els => els.map(e => e.alt)") == [alt for _, alt in case["images"]]
            assert [src.rsplit("/", 1)[-1] for src in images.evaluate_all("els => els.map(e => e.src)")] == [
                name for name, _ in case["images"]
            ]
            page.wait_for_function(
                "[...document.querySelectorAll('.ucases figure img')].every(i => i.complete && i.naturalWidth > 0)"
            )
            assert "2 views" in page.inner_text(".ucases figcaption")
            overflow = page.evaluate(
                "document.querySelector('.ucases').scrollWidth - document.querySelector('.ucases').clientWidth"
            )
            assert overflow <= 1
            boxes = [images.nth(i).bounding_box() for i in range(2)]
            assert all(b["width"] >= 150 for b in boxes)
            if width == 1280:
                assert abs(boxes[0]["y"] - boxes[1]["y"]) < 2, "side by side on a wide screen"
            page.locator(".ucases figure").screenshot(path=str(screenshots / f"unknown-cases-two-views-{width}.png"))
        finally:
            context.close()
        record.assert_clean(f"the unknown-cases page, a two-view case at {width} px")
