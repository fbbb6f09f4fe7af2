"""Every entity chapter's calculator on the static site: the chips change the ranking (mouse, touch
and keyboard), bad input gets a message, the "open the full calculator" link carries the case, and the
page works at 375 px with no horizontal scroll and no console error."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from test_differential_page import calculator_page, lab_message, ranking
from test_site import reveal_widgets

from calcifications import calculators
from calcifications.differential import rank

pytestmark = pytest.mark.browser
CHAPTERS = list(calculators.chapter_names())
BAD_INPUT = [
    ("", "not given"),
    ("NaN", "Not a number"),
    ("-2", "Must be positive"),
    ("1,200", "Ambiguous"),
    ("abc", "Not a number"),
]


def _checked(page) -> list[str]:
    return page.eval_on_selector_all(".dd-controls input[type=checkbox]:checked", "els => els.map(e => e.value)")


def _no_horizontal_scroll(page) -> None:
    """Nothing of the calculator reaches past the viewport, so it never makes the page scroll sideways.

    (The page as a whole is not checked here: a long heading of the prose can overflow a phone on its own.)
    """
    overflowing = page.eval_on_selector_all(
        ".dd, .dd *",
        "els => els.filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5"
        " || e.getBoundingClientRect().left < -0.5).map(e => e.className || e.tagName)",
    )
    assert overflowing == []
    assert page.evaluate("document.querySelector('.dd').scrollWidth <= document.querySelector('.dd').clientWidth")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_calculator_ranks_links_and_fits_a_phone(browser, site_url, screenshots, chapter):
    preset = calculators.chapter_preset(chapter)
    with calculator_page(browser, site_url, page_path=f"chapters/{chapter}.html", width=375, has_touch=True) as page:
        assert page.locator(".dd").count() == 1  # one calculator, one knowledge base per page
        assert _checked(page) == list(preset.compartments)
        assert ranking(page) == [c.diagnosis for c in rank(preset.compartments)][: len(ranking(page))]
        _no_horizontal_scroll(page)
        # Touch: tap the chapter's first shape; the ranking follows the engine.
        shape = preset.findings["morphology"][0]
        page.locator(f".dd-controls input[value='{shape}']").tap()
        case = [*preset.compartments, shape]
        page.wait_for_function(
            "ids => [...document.querySelectorAll('.dd-controls input[type=checkbox]:checked')].length === ids.length",
            arg=case,
        )
        assert ranking(page) == [c.diagnosis for c in rank(case)][: len(ranking(page))]
        # Keyboard alone: focus the first clinical item and press Space.
        clinical = preset.findings["clinical"][0]
        page.locator(f".dd-controls input[value='{clinical}']").focus()
        page.keyboard.press("Space")
        case.append(clinical)
        assert set(_checked(page)) == set(case)
        assert ranking(page) == [c.diagnosis for c in rank(case)][: len(ranking(page))]
        # Every control is labelled by its visible text.
        unlabelled = page.eval_on_selector_all(
            ".dd input",
            "els => els.filter(e => !(e.closest('label') || (e.id && document.querySelector("
            '`label[for="${e.id}"]`)))).map(e => e.outerHTML)',
        )
        assert unlabelled == []
        # Bad input in each lab box: a message beside it, the ranking stays.
        for field in [f for f in calculators.settings().lab_fields if f.analyte in preset.labs]:
            box = page.get_by_label(field.label, exact=True)
            for text, message in BAD_INPUT:
                box.fill(text)
                assert message in lab_message(page, field.label), (field.label, text)
            box.fill("")
        if "calcium" in preset.labs:
            page.get_by_role("radio", name="mmol/L").check()
            page.get_by_label("Calcium", exact=True).fill("9.5")  # mg/dL typed while the unit says mmol/L
            assert "Implausible" in lab_message(page, "Calcium")
            page.get_by_role("radio", name="mg/dL").check()
            assert "Implausible" not in lab_message(page, "Calcium")
        _no_horizontal_scroll(page)
        page.locator(".dd").screenshot(path=str(screenshots / f"calculator-{chapter}-375.png"))
        # The ranked diagnoses link to their sections, and the last link opens the full calculator with the case.
        assert page.locator(".dd-list .dd-label a").count() >= 1
        href = page.locator(".dd-open-full").get_attribute("href")
        query = parse_qs(urlparse(href).query)
        assert set(query["case"][0].split(",")) == set(case)
        if "calcium" in preset.labs:
            assert query["ca"] == ["9.5"]
        expected = ranking(page)
        page.locator(".dd-open-full").click()
        page.wait_for_url("**/approach.html?*")
        reveal_widgets(page)  # the light runtime draws a widget as it nears the viewport
        page.wait_for_selector(".dd-full .dd-list .dd-row", timeout=20_000)
        assert set(_checked(page)) == set(case)
        assert ranking(page)[:3] == expected[:3]


def test_chapter_calculator_at_desktop_width(browser, site_url, screenshots):
    with calculator_page(browser, site_url, page_path="chapters/metastatic.html") as page:
        _no_horizontal_scroll(page)
        rows = page.eval_on_selector_all(
            ".dd-list .dd-row",
            "rows => rows.map(r => [r.querySelector('.dd-p').getBoundingClientRect().top,"
            " r.querySelector('.dd-label').getBoundingClientRect().top])",
        )
        # The percentage and the name of each candidate sit on the same line.
        assert all(abs(p - label) < 12 for p, label in rows), rows
        page.locator(".dd").screenshot(path=str(screenshots / "calculator-metastatic-1280.png"))


def _contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two computed colours ("rgb(r, g, b)")."""

    def luminance(colour: str) -> float:
        channels = [int(v) / 255 for v in colour[colour.index("(") + 1 :].rstrip(")").split(",")[:3]]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


COLOURS = """() => {
  const page = getComputedStyle(document.body).backgroundColor;
  const pairs = [];
  for (const selector of ['.dd-chip:not(.dd-on) span', '.dd-chip.dd-on span', '.dd-lab-msg', '.dd-mech', '.dd-small',
                          '.dd-heading', '.dd-clear', '.dd-lab input']) {
    const e = document.querySelector(selector);
    let back = e, colour = 'rgba(0, 0, 0, 0)';
    while (back && (colour === 'rgba(0, 0, 0, 0)' || colour === 'transparent')) {
      colour = getComputedStyle(back).backgroundColor; back = back.parentElement;
    }
    pairs.push([selector, getComputedStyle(e).color, colour === 'rgba(0, 0, 0, 0)' ? page : colour]);
  }
  return pairs;
}"""


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_text_stays_readable_in_light_and_dark_mode(browser, site_url, screenshots, mode):
    """The theme's switch (stored in localStorage as the reader left it) sets html[data-theme]."""
    script = f'localStorage.setItem("mode", "{mode}"); localStorage.setItem("theme", "{mode}");'
    with calculator_page(browser, site_url, "?", page_path="chapters/idiopathic.html") as page:
        page.context.add_init_script(script)
        page.reload(wait_until="networkidle")
        reveal_widgets(page)  # the light runtime draws a widget as it nears the viewport
        page.wait_for_selector(".dd-list .dd-row", timeout=20_000)
        page.get_by_role("checkbox", name="Relatives with periarticular calcified masses").check()
        assert page.evaluate("document.documentElement.dataset.theme") == mode
        pairs = page.evaluate(COLOURS)
        page.locator(".dd").screenshot(path=str(screenshots / f"calculator-idiopathic-{mode}.png"))
    low = [(s, fg, bg, round(_contrast(fg, bg), 2)) for s, fg, bg in pairs if _contrast(fg, bg) < 4.5]
    assert low == []


@pytest.mark.parametrize("chapter", [*CHAPTERS, "approach"])
def test_the_knowledge_base_is_carried_once_per_page(chapter):
    from test_site import SITE

    # The light runtime moves a page's widget state out of the HTML into one fetched file.
    html = (SITE / "chapters" / f"{chapter}.html").read_text("utf-8")
    state = (SITE / "_widgets" / "chapters" / f"{chapter}.json").read_text("utf-8")
    assert html.count('"diagnosis_ids"') == 0
    assert state.count('"diagnosis_ids"') == 1


def test_calcium_phosphate_calculator_on_a_phone(browser, site_url):
    with calculator_page(
        browser, site_url, page_path="chapters/classification.html", width=375, ready=".capp-result"
    ) as page:
        calcium = page.get_by_label("Calcium", exact=True)
        calcium.fill("1,200")
        page.wait_for_function("document.querySelector('.capp-calcium').innerText.includes('Ambiguous')")
        assert "waiting" in page.locator(".capp-result").inner_text()
        calcium.fill("9,5")
        page.wait_for_function("document.querySelector('.capp-result').innerText.includes('38.0')")
        widths = page.evaluate("[document.querySelector('.cell_output .widget-vbox').scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1]
