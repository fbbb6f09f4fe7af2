"""The morphology atlas on the static site: 18 labelled tiles, and frame viewers that switch
pre-rendered frames in the browser, with no kernel."""

from __future__ import annotations

import pytest
from test_site import open_page

pytestmark = pytest.mark.browser


@pytest.fixture()
def atlas(browser, site_url):
    context, page, record = open_page(browser, f"{site_url}/chapters/atlas.html")
    page.wait_for_selector(".frame-viewer-caption", timeout=20_000)
    yield page, record
    context.close()
    record.assert_clean("the atlas")


def test_every_morphology_has_a_labelled_tile(atlas):
    page, _ = atlas
    tiles = page.eval_on_selector_all(
        ".atlas-grid figure.atlas-tile",
        """els => els.map(e => ({alt: e.querySelector('img').alt, width: e.querySelector('img').naturalWidth,
                                 name: e.querySelector('.atlas-name')?.innerText,
                                 feature: e.querySelector('.atlas-feature')?.innerText}))""",
    )
    assert len(tiles) == 18
    for tile in tiles:
        assert tile["width"] == 256 and tile["alt"].startswith("Synthetic image.") and len(tile["alt"]) > 40
        assert tile["name"] and tile["feature"]
    assert page.locator('.atlas-suggests a[href="muscle.html#myositis-ossificans"]').count() >= 1


def test_myositis_viewer_matures_with_the_weeks_on_the_static_page(atlas):
    page, _ = atlas
    viewer = page.locator(".frame-viewer").first
    caption = viewer.locator(".frame-viewer-caption")
    image = viewer.locator("img.frame-viewer-image")
    assert caption.inner_text().startswith("7 weeks after trauma")
    first_src, first_alt = image.get_attribute("src"), image.get_attribute("alt")
    slider = page.locator(".widget-slider").first.locator(".ui-slider-handle, [role=slider]").first
    slider.focus()
    page.keyboard.press("Home")
    page.wait_for_function("el => el.innerText.startsWith('1 week after trauma')", arg=caption.element_handle())
    assert image.get_attribute("src") != first_src and image.get_attribute("alt") != first_alt
    assert image.get_attribute("src").startswith("data:image/webp")


def test_phase_viewer_switches_with_a_dropdown(atlas):
    page, _ = atlas
    viewer = page.locator(".frame-viewer").nth(1)
    before = viewer.locator("img.frame-viewer-image").get_attribute("src")
    page.locator(".widget-dropdown select").first.select_option(label="Resorptive phase")
    page.wait_for_function(
        "el => el.innerText.startsWith('Resorptive phase')",
        arg=viewer.locator(".frame-viewer-caption").element_handle(),
    )
    assert viewer.locator("img.frame-viewer-image").get_attribute("src") != before
