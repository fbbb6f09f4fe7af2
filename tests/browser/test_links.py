"""Links of the built site: every local link and anchor resolves, no page is orphaned,
and every diagnosis of the vocabulary links to a section that exists (once its chapter is published)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from calcifications.book import published_pages
from calcifications.differential import knowledge_base

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
pytestmark = pytest.mark.browser


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text("utf-8"))
    return page


@pytest.fixture(scope="module")
def pages() -> dict[str, _Page]:
    if not (SITE / "index.html").is_file():
        pytest.fail("no built site: run the book build first")
    return {
        p.relative_to(SITE).as_posix(): _parse(p)
        for p in SITE.rglob("*.html")
        if not p.relative_to(SITE).as_posix().startswith("_")
    }


def test_every_local_link_and_anchor_resolves(pages):
    broken = []
    for name, page in pages.items():
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("mailto:", "//", "javascript:")):
                continue
            target = urlsplit(urljoin(name, parts.path)).path if parts.path else name
            if target.endswith("/"):
                target += "index.html"
            if not (SITE / target).is_file():
                broken.append(f"{name}: {href}")
                continue
            anchor = unquote(parts.fragment)
            if anchor and target in pages and anchor not in pages[target].ids:
                broken.append(f"{name}: {href} (no #{anchor})")
    assert broken == []


def test_no_page_is_orphaned(pages):
    toc_pages = {f"{p}.html" for p in published_pages(ROOT)}
    built = {name for name in pages if name.startswith("chapters/")}
    assert built == toc_pages
    linked = {urlsplit(urljoin(name, href)).path for name, page in pages.items() for href in page.links}
    assert toc_pages - {"chapters/index.html"} <= linked


def test_published_diagnosis_sections_exist(pages):
    published = set(published_pages(ROOT))
    missing = []
    for diagnosis in knowledge_base().diagnoses:
        if diagnosis.chapter not in published:
            continue
        anchor = re.sub("_", "-", diagnosis.id)
        if anchor not in pages[f"{diagnosis.chapter}.html"].ids:
            missing.append(f"{diagnosis.id} in {diagnosis.chapter}")
    assert missing == []


def test_every_page_links_the_glossary_terms_it_uses(pages):
    glossary = SITE / "chapters" / "glossary.html"
    term_ids = sorted(i for i in pages["chapters/glossary.html"].ids if i.startswith("term-"))
    missing = []
    for name in published_pages(ROOT):
        if name in {"chapters/glossary", "chapters/bibliography"}:
            continue
        html = (SITE / f"{name}.html").read_text("utf-8")
        article = html.split('<article class="bd-article">', 1)[1].split("</article>", 1)[0]
        # Text that is not linked on purpose: links, headings, captions, code and notebook outputs.
        for element in ("a", "h[1-6]", "figcaption", "caption", "pre", "code", "script", 'span class="caption-text'):
            tag = element.split()[0]
            article = re.sub(rf"<{element}\b.*?</{tag}>", " ", article, flags=re.S)
        body = re.sub(r"<[^>]+>", " ", article)
        for term_id in term_ids:
            words = term_id.removeprefix("term-").replace("-", "[-– ]?")
            if re.search(rf"\b{words}", body, flags=re.I) and f'glossary.html#{term_id}"' not in html:
                missing.append(f"{name}: {term_id}")
    assert glossary.is_file() and missing == []
