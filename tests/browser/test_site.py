"""Browser tests of the built static site: every page, then the calculator with no kernel."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

SITE = Path(__file__).resolve().parents[2] / "_build" / "html"

pytestmark = pytest.mark.browser


def built_pages() -> list[str]:
    """Every HTML page of the built book, as paths relative to the site root."""
    skip = {"genindex.html", "search.html"}
    pages = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html"))
    return [p for p in pages if Path(p).name not in skip and not p.startswith("_")]


@dataclass
class PageRecord:
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


def open_page(browser, url: str, width: int = 1280):
    """Open ``url`` in a fresh context, recording errors and every request."""
    context = browser.new_context(viewport={"width": width, "height": 900}, service_workers="block")
    page = context.new_page()
    record = PageRecord()
    # Errors, and warnings from the book's own widgets (anywidget prefixes them), fail a page.
    page.on("console", lambda m: (m.type == "error" or (m.type == "warning" and "[anywidget]" in m.text))
            and record.console_errors.append(m.text))
    page.on("pageerror", lambda e: record.page_errors.append(str(e)))

    def on_request(request) -> None:
        host = urlparse(request.url).hostname
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if host != "127.0.0.1":
            record.outside_requests.append(request.url)

    page.on("request", on_request)
    page.on("response", lambda r: r.status == 404 and record.not_found.append(r.url))
    page.goto(url, wait_until="networkidle")
    return context, page, record


def wait_for_widgets(page) -> None:
    """Wait until the embedded widgets have rendered (pages without widgets return at once)."""
    if page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count():
        page.wait_for_selector(".capp, .dd, .cstep, .frame-viewer, .ucases", timeout=20_000)


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
            " || (e.querySelector('title') || {}).textContent || '')")
    finally:
        context.close()
    record.assert_clean(path)
    missing_alt = [src for src, alt in images if not (alt or "").strip()]
    assert missing_alt == [], f"images without alt text on {path}"
    assert all(label.strip() for label in svg_roles), f"SVG images without a label on {path}"


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
        page.screenshot(path=str(screenshots / "calculator-bad-input.png"), full_page=False,
                        clip=_clip(page, ".cell_output .widget-vbox"))
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
                                   width: e.getBoundingClientRect().width}))""")
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


def _clip(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    return {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]}
