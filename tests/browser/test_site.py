"""Browser tests of the built static site: every page, the light widget runtime, then the calculator with no kernel."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

from local_browser import page_weight

SITE = Path(__file__).resolve().parents[2] / "_build" / "html"

pytestmark = pytest.mark.browser

# What the stock `jupyter-book create` book's notebook page (notebooks.html) downloads, built with
# the same pinned jupyter-book (1.0.4.post1) and weighed with local_browser.page_weight like ours:
# 2,702,368 bytes as stored (2,639 KiB; measured by benchmarks/bench_pages.py, 2026-11-30).
# Issue 9: every page with widgets weighs at most half of it.
STOCK_PAGE_BYTES = 2_702_368
WIDGET_PAGE_BUDGET = STOCK_PAGE_BYTES // 2


def widget_pages() -> list[str]:
    """The built pages that carry widgets (the light runtime's placeholders)."""
    return [p for p in built_pages() if 'class="lw-view"' in (SITE / p).read_text("utf-8")]


def built_pages() -> list[str]:
    """Every HTML page of the built book, as paths relative to the site root."""
    skip = {"genindex.html", "search.html"}
    pages = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html"))
    return [p for p in pages if Path(p).name not in skip and not p.startswith("_")]


@dataclass
class PageRecord:
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)

    def assert_clean(self, where: str = "the page") -> None:
        """No 404, no page or console error, no request outside 127.0.0.1."""
        assert self.not_found == [], f"404s on {where}: {self.not_found}"
        assert self.page_errors == [], f"page errors on {where}: {self.page_errors}"
        assert self.console_errors == [], f"console errors on {where}: {self.console_errors}"
        assert self.outside_requests == [], f"requests leaving 127.0.0.1 from {where}: {self.outside_requests}"


def open_page(browser, url: str, width: int = 1280, reveal: bool = True, **context_options):
    """Open ``url`` in a fresh context, recording errors and every request.

    ``context_options`` are Playwright context options such as ``has_touch``. Images load and
    widgets are drawn when they come near the viewport: with ``reveal`` (the default) the page is
    scrolled to the end and each widget drawn before this returns, and the page scrolled back up.
    """
    context = browser.new_context(viewport={"width": width, "height": 900}, service_workers="block", **context_options)
    page = context.new_page()
    record = PageRecord()
    # Errors, and warnings from the book's own widgets (anywidget prefixes them), fail a page.
    page.on(
        "console",
        lambda m: (
            (m.type == "error" or (m.type == "warning" and "[anywidget]" in m.text))
            and record.console_errors.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: record.page_errors.append(str(e)))

    def on_request(request) -> None:
        host = urlparse(request.url).hostname
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if host != "127.0.0.1":
            record.outside_requests.append(request.url)

    page.on("request", on_request)
    page.on("response", lambda r: r.status == 404 and record.not_found.append(r.url))
    page.on("request", lambda r: record.requests.append(r.url))
    page.goto(url, wait_until="networkidle")
    if reveal:
        reveal_widgets(page)
    return context, page, record


READ_THROUGH = """async () => {
  for (let y = 0; y < document.body.scrollHeight; y += innerHeight) {
    scrollTo(0, y);
    await new Promise((r) => setTimeout(r, 20));
  }
}"""


def reveal_widgets(page) -> None:
    """Read the page to the end (lazy images load), draw every widget, and scroll back to the top."""
    page.evaluate(READ_THROUGH)
    page.wait_for_load_state("networkidle")
    views = page.locator(".lw-view")
    for n in range(views.count()):
        views.nth(n).scroll_into_view_if_needed()
        page.wait_for_function(
            "v => ['ready', 'failed'].includes(v.dataset.lwState)", arg=views.nth(n).element_handle(), timeout=20_000
        )
    page.evaluate("scrollTo(0, 0)")


def wait_for_widgets(page) -> None:
    """Wait until every widget of the page is drawn (pages without widgets return at once)."""
    page.wait_for_function(
        "[...document.querySelectorAll('.lw-view')].every(v => v.dataset.lwState === 'ready')", timeout=20_000
    )


@pytest.mark.parametrize("path", built_pages())
def test_page_is_clean(browser, site_url, screenshots, path):
    context, page, record = open_page(browser, f"{site_url}/{path}")
    try:
        wait_for_widgets(page)
        page.wait_for_timeout(300)
        name = path.replace("/", "__").removesuffix(".html")
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.getAttribute('alt')])")
        svg_roles = page.eval_on_selector_all(
            "svg[role=img]:not([aria-hidden=true])",
            "els => els.map(e => e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')"
            " || (e.querySelector('title') || {}).textContent || '')",
        )
    finally:
        context.close()
    record.assert_clean(path)
    missing_alt = [src for src, alt in images if not (alt or "").strip()]
    assert missing_alt == [], f"images without alt text on {path}"
    assert all(label.strip() for label in svg_roles), f"SVG images without a label on {path}"


@pytest.mark.parametrize("path", built_pages())
def test_page_fits_a_phone(browser, site_url, path):
    """At 375 px nothing pushes the page sideways (a long word in a heading once did by 33 px)."""
    context, page, _ = open_page(browser, f"{site_url}/{path}", width=375, has_touch=True)
    try:
        wait_for_widgets(page)
        widths = page.evaluate("[document.scrollingElement.scrollWidth, document.documentElement.clientWidth]")
    finally:
        context.close()
    assert widths[0] <= widths[1], f"{path} is {widths[0] - widths[1]} px wider than a 375 px screen"


def test_calculator_updates_without_kernel(browser, site_url, screenshots):
    context, page, record = open_page(browser, f"{site_url}/chapters/classification.html")
    try:
        page.wait_for_selector(".capp-result", timeout=20_000)
        result = page.locator(".capp-result")
        assert "38.0" in result.inner_text()  # 9.5 × 4.0 mg²/dL²

        calcium = page.get_by_label("Calcium")
        phosphate = page.get_by_label("Phosphate")
        calcium.fill("10")
        phosphate.fill("7.5")
        page.wait_for_function("document.querySelector('.capp-result').innerText.includes('75.0')")
        assert "above 70" in result.inner_text()

        page.get_by_label("Unit").select_option("mmol/L")
        calcium.fill("2.5")
        phosphate.fill("2,6")  # decimal comma
        page.wait_for_function("document.querySelector('.capp-result').innerText.includes('80.7')")

        calcium.fill("abc")
        message = page.locator(".capp-calcium")
        page.wait_for_function("document.querySelector('.capp-calcium').innerText.includes('Not a number')")
        assert "waiting" in result.inner_text()
        calcium.fill("-3")
        page.wait_for_function("document.querySelector('.capp-calcium').innerText.includes('positive')")
        calcium.fill("95")
        page.wait_for_function("document.querySelector('.capp-calcium').innerText.includes('Implausible')")
        calcium.fill("")
        page.wait_for_function("document.querySelector('.capp-calcium').innerText.includes('Enter a value')")
        assert message.is_visible()
        page.screenshot(
            path=str(screenshots / "calculator-bad-input.png"),
            full_page=False,
            clip=_clip(page, ".cell_output .widget-vbox"),
        )
    finally:
        context.close()
    record.assert_clean("the Classification page")


def test_controls_have_labels(browser, site_url):
    context, page, _ = open_page(browser, f"{site_url}/chapters/classification.html")
    try:
        page.wait_for_selector(".capp-result", timeout=20_000)
        unlabelled = page.eval_on_selector_all(
            ".jupyter-widgets input, .jupyter-widgets select",
            """els => els.filter(e => {
                 const byFor = e.id && document.querySelector(`label[for="${e.id}"]`);
                 return !(byFor || e.getAttribute('aria-label') || e.closest('label'));
               }).map(e => e.outerHTML)""",
        )
    finally:
        context.close()
    assert unlabelled == []


def test_theme_icons_are_drawn_by_the_vendored_font(browser, site_url):
    """The theme's icons come from Font Awesome's CSS and fonts, not from its 1.5 MB script."""
    context, page, record = open_page(browser, f"{site_url}/chapters/index.html")
    try:
        page.evaluate("document.fonts.ready")
        icons = page.eval_on_selector_all(
            ".fa-magnifying-glass",
            """els => els.map(e => ({font: getComputedStyle(e, '::before').fontFamily,
                                   glyph: getComputedStyle(e, '::before').content,
                                   width: e.getBoundingClientRect().width}))""",
        )
        icon = max(icons, key=lambda i: i["width"])
        scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.getAttribute('src'))")
        loaded = page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    finally:
        context.close()
    assert "Font Awesome" in icon["font"] and icon["glyph"] not in ("none", "normal", "")
    assert icon["width"] > 0
    assert any("Font Awesome" in family for family in loaded)
    assert not any("fontawesome.js" in src for src in scripts)
    assert record.not_found == []


def test_the_book_has_widget_pages():
    """The runtime tests below cover these pages; they must not silently find none."""
    assert {"chapters/approach.html", "chapters/classification.html", "chapters/atlas.html"} <= set(widget_pages())


@pytest.mark.parametrize("path", widget_pages())
def test_widget_pages_load_the_light_runtime_only(browser, site_url, path):
    context, page, record = open_page(browser, f"{site_url}/{path}")
    try:
        wait_for_widgets(page)
        state_in_page = page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count()
        drawn = page.locator(".lw-view .jupyter-widgets, .lw-view .widget-box, .lw-view .lm-Widget").count()
    finally:
        context.close()
    record.assert_clean(path)
    names = [urlparse(u).path.rsplit("/", 1)[-1] for u in record.requests]
    assert "loader.js" in names and "runtime.js" in names
    assert not [n for n in names if re.search(r"require|embed-amd|html-manager|thebe|searchtools|searchindex", n)]
    assert state_in_page == 0  # the state is a fetched file, not a <head> script
    assert any(u.endswith(".json") and "/_widgets/" in u for u in record.requests)
    assert drawn > 0


@pytest.mark.parametrize("path", widget_pages())
def test_widget_pages_weigh_at_most_half_the_stock_page(browser, site_url, path):
    weight = page_weight(browser, site_url, SITE, path)
    assert weight.outside == ()
    assert weight.raw <= WIDGET_PAGE_BUDGET, (
        f"{path} downloads {weight.raw / 1024:.0f} KiB, over half the stock page ({WIDGET_PAGE_BUDGET / 1024:.0f} KiB)"
    )


@pytest.mark.parametrize("path", widget_pages())
def test_widget_pages_read_to_the_end_weigh_at_most_half_the_stock_page(browser, site_url, path):
    """Scrolled to the bottom (every lazy image and widget fetched), still half the stock page."""
    weight = page_weight(browser, site_url, SITE, path, read_to_end=True)
    assert weight.raw <= WIDGET_PAGE_BUDGET, (
        f"{path} read to the end downloads {weight.raw / 1024:.0f} KiB, "
        f"over half the stock page ({WIDGET_PAGE_BUDGET / 1024:.0f} KiB)"
    )


def test_static_fallback_is_readable_before_the_runtime_arrives(browser, site_url):
    """With the runtime held back, the calculator's saved state is on the page as plain text."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    held = []
    context.route("**/widgets/runtime.js*", lambda route: held.append(route))
    page = context.new_page()
    try:
        page.goto(f"{site_url}/chapters/classification.html", wait_until="domcontentloaded")
        fallback = page.locator(".lw-view .lw-fallback").first
        fallback.scroll_into_view_if_needed()
        assert fallback.is_visible()
        text = fallback.inner_text()
        assert "Calcium" in text and "9.5" in text and "mg/dL" in text
        assert page.locator(".capp-result").count() == 0
        page.wait_for_function("() => document.querySelector('.lw-view').dataset.lwState === 'loading'")
        assert held, "the runtime was not requested once the widget came into view"
        for route in held:
            route.continue_()
        page.wait_for_selector(".capp-result", timeout=20_000)
        assert page.locator(".lw-view .lw-fallback").count() == 0
    finally:
        context.close()


def test_widgets_are_drawn_and_work_after_scrolling(browser, site_url):
    context, page, record = open_page(browser, f"{site_url}/chapters/classification.html", reveal=False)
    try:
        view = page.locator(".lw-view").first
        page.wait_for_timeout(500)
        below_the_fold = view.bounding_box()["y"] > 900
        if below_the_fold:
            assert view.get_attribute("data-lw-state") is None  # not drawn before it is needed
        view.scroll_into_view_if_needed()
        page.wait_for_selector(".capp-result", timeout=20_000)
        page.get_by_label("Calcium").fill("10")
        page.get_by_label("Phosphate").fill("7.5")
        page.wait_for_function("document.querySelector('.capp-result').innerText.includes('75.0')")
    finally:
        context.close()
    assert below_the_fold, "the classification calculator is expected below the first screen"
    record.assert_clean("the Classification page")


def test_head_scripts_are_deferred_and_search_scripts_only_on_the_search_page():
    for path in ("chapters/approach.html", "chapters/index.html", "search.html"):
        head = (SITE / path).read_text("utf-8").split("</head>", 1)[0]
        scripts = re.findall(r"<script\b([^>]*)>", head)
        blocking = [a for a in scripts if "src=" in a and "defer" not in a and "async" not in a]
        search = [a for a in scripts if re.search(r"searchtools|language_data|searchindex", a)]
        assert not [a for a in scripts + re.findall(r"<link\b([^>]*)>", head) if "thebe" in a], path
        if path == "search.html":
            assert len(search) == 3
        else:
            assert search == [], path
            assert [re.search(r'src="([^"]+)"', a).group(1).split("?")[0] for a in blocking] == [
                "../_static/documentation_options.js"
            ], path


def test_no_search_bar_above_the_header_at_desktop_width(browser, site_url):
    context, page, record = open_page(browser, f"{site_url}/chapters/index.html")
    try:
        stray = page.eval_on_selector_all(
            ".search-button-field",
            "els => els.filter(e => e.getBoundingClientRect().width > 0 && !e.closest('#pst-primary-sidebar'))"
            ".map(e => e.outerHTML.slice(0, 80))",
        )
        header = page.locator("#pst-header")
        header_height = header.bounding_box()["height"] if header.count() and header.is_visible() else 0
    finally:
        context.close()
    assert stray == []
    assert header_height == 0
    record.assert_clean()


def _clip(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    return {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]}
