"""The full differential calculator on the static site: it ranks with no kernel, takes cases from
the page address, and answers every kind of bad input with a message, never a traceback."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from test_site import open_page

from calcifications.differential import rank

pytestmark = pytest.mark.browser
PAGE = "chapters/approach.html"


@contextmanager
def calculator_page(
    browser,
    site_url,
    query: str = "",
    page_path: str = PAGE,
    width: int = 1280,
    ready: str = ".dd-list .dd-row",
    **context_options,
):
    """Open a calculator page (with an optional case in the address); on leaving, require a clean page."""
    context, page, record = open_page(browser, f"{site_url}/{page_path}{query}", width=width, **context_options)
    try:
        page.wait_for_selector(ready, timeout=20_000)
        yield page
    finally:
        context.close()
    record.assert_clean(page_path)


def ranking(page) -> list[str]:
    return page.eval_on_selector_all(".dd-list .dd-row", "rows => rows.map(r => r.dataset.diagnosis)")


def wait_for_top(page, diagnosis: str) -> None:
    page.wait_for_function("d => document.querySelector('.dd-list .dd-row')?.dataset.diagnosis === d", arg=diagnosis)


def lab_message(page, label: str) -> str:
    box = page.get_by_label(label, exact=True)
    return page.locator(f"#{box.get_attribute('aria-describedby')}").inner_text()


def test_static_ranking_matches_python_and_follows_the_chips(browser, site_url):
    with calculator_page(browser, site_url) as page:
        prior = ranking(page)
        assert prior == [c.diagnosis for c in rank([])][: len(prior)]
        page.get_by_role("checkbox", name="Fascial planes", exact=True).check()
        # The shapes seen in the compartment come first; the others wait under "Other shapes".
        page.wait_for_function("document.querySelector('.dd-lead').innerText.includes('fascial planes')")
        page.get_by_role("checkbox", name="Long linear, sheet-like or leaf-like calcification").check()
        page.get_by_role("checkbox", name="Dermatomyositis or polymyositis").check()
        wait_for_top(page, "dermatomyositis_fascial")
        expected = [c.diagnosis for c in rank(["fascial", "sheet_leaf_linear", "dermatomyositis"])]
        assert ranking(page) == expected[: len(ranking(page))]
        page.get_by_role("button", name="Clear the case").click()
        page.wait_for_function("document.querySelector('.dd-heading').innerText.includes('prior')")
        assert page.locator(".dd-controls input[type=checkbox]:checked").count() == 0


def test_no_list_box_needs_ctrl_click(browser, site_url):
    with calculator_page(browser, site_url) as page:
        assert page.locator("select[multiple]").count() == 0
        assert page.locator(".dd-controls input[type=checkbox]").count() > 60


def test_a_case_in_the_address_fills_the_calculator(browser, site_url):
    query = "?case=periarticular,lobulated_multicystic_mass,fluid_calcium_levels,chronic_kidney_disease&ca=10&p=7.5"
    with calculator_page(browser, site_url, query) as page:
        wait_for_top(page, "metastatic_renal")
        assert page.get_by_label("Calcium", exact=True).input_value() == "10"
        assert page.get_by_role("checkbox", name="End-stage renal disease or chronic dialysis").is_checked()
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
    ("PTH (pg/mL)", "1,200", "Ambiguous: 1,200 could be 1200 or 1.200"),
    ("Uric acid (mg/dL)", "9..5", "Not a number"),
]


def test_bad_lab_entries_get_a_message_beside_the_box(browser, site_url):
    with calculator_page(browser, site_url) as page:
        before = ranking(page)
        for box, text, message in BAD_LABS:
            page.get_by_label(box, exact=True).fill(text)
            assert message in lab_message(page, box), (box, text)
            assert ranking(page) == before  # an invalid or empty box is not used, and the ranking stays
            if text:
                assert page.get_by_label(box, exact=True).get_attribute("aria-invalid") == "true"
            page.get_by_label(box, exact=True).fill("")


def test_pth_1200_is_read_and_decimal_comma_accepted(browser, site_url):
    with calculator_page(browser, site_url) as page:
        page.get_by_label("PTH (pg/mL)", exact=True).fill("1200")
        page.get_by_label("Calcium", exact=True).fill("9,5")
        assert lab_message(page, "PTH (pg/mL)") == "ok"
        assert "mmol/L" in lab_message(page, "Calcium")  # 9.5 mg/dL = 2.37 mmol/L
        expected = [c.diagnosis for c in rank([], {"pth_pg_ml": 1200.0, "calcium_mg_dl": 9.5})]
        assert ranking(page) == expected[: len(ranking(page))]


def test_mixed_units_are_caught(browser, site_url):
    """Values typed in mg/dL while the unit says mmol/L are implausible, and said so."""
    with calculator_page(browser, site_url) as page:
        page.get_by_role("radio", name="mmol/L").check()
        page.get_by_label("Calcium", exact=True).fill("9.5")
        message = lab_message(page, "Calcium")
    assert "Implausible" in message and "0.50–6.24 mmol/L" in message


def test_contradictory_findings_are_ranked_not_refused(browser, site_url):
    query = "?case=chronic_kidney_disease,no_kidney_disease,age_child,age_elderly,periarticular"
    with calculator_page(browser, site_url, query) as page:
        assert page.locator(".dd-notice").inner_text() == ""
        expected = [
            c.diagnosis
            for c in rank(["chronic_kidney_disease", "no_kidney_disease", "age_child", "age_elderly", "periarticular"])
        ]
        assert ranking(page) == expected[: len(ranking(page))]


def test_each_ranked_diagnosis_links_to_its_section(browser, site_url):
    with calculator_page(browser, site_url, "?case=muscle,zonal_peripheral,trauma_recent") as page:
        links = page.eval_on_selector_all(".dd-list .dd-row .dd-label a", "els => els.map(a => a.href)")
        assert len(links) == page.locator(".dd-list .dd-row").count() >= 8
        for href in links[:8]:
            target = page.context.new_page()
            target.goto(href, wait_until="domcontentloaded")
            anchor = href.split("#", 1)[1]
            assert target.locator(f"[id='{anchor}']").count() == 1, href
            target.close()
