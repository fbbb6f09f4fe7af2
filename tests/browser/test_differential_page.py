"""The differential calculator on the static site: it ranks with no kernel, takes cases from
the page address, and answers every kind of bad input with a message, never a traceback."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from calcifications.differential import rank
from test_site import open_page

pytestmark = pytest.mark.browser
PAGE = "chapters/approach.html"


@contextmanager
def calculator_page(browser, site_url, query: str = ""):
    """Open the calculator page (with an optional case in the address); on leaving, require a clean page."""
    context, page, record = open_page(browser, f"{site_url}/{PAGE}{query}")
    try:
        page.wait_for_selector(".dd-list .dd-row", timeout=20_000)
        yield page
    finally:
        context.close()
    record.assert_clean()


def _ranking(page) -> list[str]:
    return page.eval_on_selector_all(".dd-row", "rows => rows.map(r => r.dataset.diagnosis)")


def test_static_ranking_matches_python_and_follows_the_controls(browser, site_url):
    with calculator_page(browser, site_url) as page:
        prior = _ranking(page)
        assert prior == [c.diagnosis for c in rank([])][: len(prior)]
        page.get_by_label("Compartment").select_option(label="Fascial planes")
        page.wait_for_selector(".cstep-chip")
        page.get_by_role("button", name="Long linear, sheet-like or leaf-like calcification").click()
        page.get_by_label("Clinical setting").select_option(label="Dermatomyositis or polymyositis")
        page.wait_for_function("document.querySelector('.dd-row').dataset.diagnosis === 'dermatomyositis_fascial'")
        expected = [c.diagnosis for c in rank(["fascial", "sheet_leaf_linear", "dermatomyositis"])]
        assert _ranking(page) == expected[: len(_ranking(page))]
        assert page.get_by_label("Shape").evaluate("s => [...s.selectedOptions].map(o => o.text.replace(/\\u00a0/g, ' '))") == [
            "Long linear, sheet-like or leaf-like calcification"]
        page.get_by_role("button", name="Clear the case").click()
        page.wait_for_function("document.querySelector('.dd-heading').innerText.includes('prior')")


def test_a_case_in_the_address_fills_the_calculator(browser, site_url):
    query = "?case=periarticular,lobulated_multicystic_mass,fluid_calcium_levels,chronic_kidney_disease&ca=10&p=7.5"
    with calculator_page(browser, site_url, query) as page:
        page.wait_for_function("document.querySelector('.dd-row').dataset.diagnosis === 'metastatic_renal'")
        assert page.get_by_label("Calcium").input_value() == "10"
        share = page.locator(".dd-share").get_attribute("href")
        assert "case=" in share and "lobulated_multicystic_mass" in share and "ca=10" in share


def test_an_unknown_id_in_the_address_is_reported_not_dropped(browser, site_url):
    with calculator_page(browser, site_url, "?case=periarticular,lobulated_mass") as page:
        notice = page.locator(".dd-notice").inner_text()
    assert "lobulated_mass" in notice and "did you mean" in notice


BAD_LABS = [
    ("Calcium", "", "not given"),
    ("Calcium", "abc", "Not a number"),
    ("Calcium", "NaN", "Not a number"),
    ("Calcium", "-3", "Must be positive"),
    ("Calcium", "95", "Implausible"),
    ("Phosphate", "1e400", "Not a finite number"),
    ("PTH (pg/mL)", "99999", "Implausible"),
    ("Uric acid (mg/dL)", "9..5", "Not a number"),
]


@pytest.mark.parametrize(("box", "text", "message"), BAD_LABS)
def test_bad_lab_entries_get_a_message_beside_the_box(browser, site_url, box, text, message):
    with calculator_page(browser, site_url) as page:
        page.get_by_label(box).fill(text)
        field = page.get_by_label(box).locator("xpath=ancestor::div[contains(@class,'widget-hbox')][1]")
        page.wait_for_function("m => [...document.querySelectorAll('.capp-field')].some(e => e.innerText.includes(m))",
                               arg=message)
        assert message in field.inner_text()
        assert page.locator(".dd-row").count() > 0  # the ranking stays on the page


def test_mixed_units_are_caught(browser, site_url):
    """Values typed in mg/dL while the unit says mmol/L are implausible, and said so."""
    with calculator_page(browser, site_url) as page:
        page.get_by_label("Unit").select_option("mmol/L")
        page.get_by_label("Calcium").fill("9.5")
        page.wait_for_function("[...document.querySelectorAll('.capp-field')].some(e => e.innerText.includes('mmol/L'))")
        messages = page.eval_on_selector_all(".capp-field", "els => els.map(e => e.innerText)")
    assert any("Implausible" in m and "0.50–6.24 mmol/L" in m for m in messages)


def test_contradictory_findings_are_ranked_not_refused(browser, site_url):
    query = "?case=chronic_kidney_disease,no_kidney_disease,age_child,age_elderly,periarticular"
    with calculator_page(browser, site_url, query) as page:
        assert page.locator(".dd-notice").inner_text() == ""
        expected = [c.diagnosis for c in rank(
            ["chronic_kidney_disease", "no_kidney_disease", "age_child", "age_elderly", "periarticular"])]
        assert _ranking(page) == expected[: len(_ranking(page))]


def test_each_ranked_diagnosis_links_to_its_section(browser, site_url):
    with calculator_page(browser, site_url, "?case=muscle,zonal_peripheral,trauma_recent") as page:
        links = page.eval_on_selector_all(".dd-row .dd-label a", "els => els.map(a => a.href)")
        assert len(links) == page.locator(".dd-row").count() >= 8
        for href in links[:8]:
            target = page.context.new_page()
            target.goto(href, wait_until="domcontentloaded")
            anchor = href.split("#", 1)[1]
            assert target.locator(f"[id='{anchor}']").count() == 1, href
            target.close()
