"""Tests of calcifications.book and of the book's try-case role (tools/book_roles.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import book_roles
from calcifications.book import find_toc, published_pages

ROOT = Path(__file__).resolve().parents[1]


def test_published_pages_are_found_from_a_chapter_folder():
    pages = published_pages(ROOT / "chapters")
    assert pages[0] == "chapters/index"
    assert "chapters/approach" in pages and "chapters/classification" in pages
    assert find_toc(ROOT / "chapters") == ROOT / "_toc.yml"


def test_outside_the_book_no_page_is_published(tmp_path):
    assert published_pages(tmp_path) == []


def test_try_case_query_encodes_ids_and_labs():
    query = book_roles.case_query("periarticular, lobulated_multicystic_mass?ca=10&p=7.5")
    assert query == "case=periarticular,lobulated_multicystic_mass&ca=10&p=7.5"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("periarticular,lobulated_mass", "unknown finding ids"),
        ("periarticular?sodium=140", "unknown lab parameters"),
        ("periarticular?ca", "bad query"),
    ],
)
def test_try_case_query_refuses_typos(target, message):
    with pytest.raises(ValueError, match=message):
        book_roles.case_query(target)


def test_glossary_terms_are_read_from_the_glossary_block():
    source = "# Glossary\n\n```{glossary}\n:sorted:\n\nPhlebolith\n  A calcified thrombus.\n\nCREST\n  A form.\n```\n"
    assert book_roles.glossary_terms(source) == ["Phlebolith", "CREST"]
    real = book_roles.glossary_terms((ROOT / "chapters" / "glossary.md").read_text("utf-8"))
    assert "Calcium-phosphate product" in real and "Tumoral calcinosis" in real and len(real) >= 25


def test_term_pattern_matches_plurals_and_prefers_longer_terms():
    pattern = book_roles._term_pattern(
        ["Tumoral calcinosis", "Hyperphosphataemic familial tumoral calcinosis", "Phlebolith"]
    )
    assert pattern.search("two phleboliths").group(1).lower() == "phlebolith"
    assert pattern.search("in hyperphosphataemic familial tumoral calcinosis").group(1).startswith("hyper")
    assert pattern.search("phlebolithic") is None


def test_term_pattern_treats_hyphen_and_en_dash_alike():
    pattern = book_roles._term_pattern(["Calcium-phosphate product"])
    assert pattern.search("the calcium–phosphate product").group(1) == "calcium–phosphate product"
