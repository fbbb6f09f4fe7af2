"""The book teaches every entity of the essay: one section per diagnosis, with a synthetic figure and a
"try it" case that ranks it first, every seed figure in the chapter where the essay places it, citations
on every page and questions at the end of every entity chapter."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

import book_roles
from calcifications.book import published_pages
from calcifications.differential import knowledge_base, rank
from calcifications.figures import load_specs, seed_specs
from calcifications.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parents[1]
ENTITY_CHAPTERS = sorted({d.chapter for d in knowledge_base().diagnoses})
# Where the essay shows each of its figures (its sections, mapped to the book's chapters).
SEED_FIGURE_CHAPTERS = {
    "fig01": "vascular",
    "fig02": "vascular",
    "fig03": "fascial",
    "fig04": "muscle",
    "fig05": "muscle",
    "fig06": "muscle",
    "fig07": "muscle",
    "fig08": "periarticular",
    "fig09": "periarticular",
    "fig10": "periarticular",
    "fig11": "intraarticular",
    "fig12": "intraarticular",
    "fig13": "metastatic",
    "fig14": "metastatic",
    "fig15": "idiopathic",
    "fig16": "calcinosis-cutis",
    "fig17": "calcinosis-cutis",
}
TRY_CASE = re.compile(r"\{try-case\}`(?:[^`<]*<)?([^`>]+)>?`")
LAB_KEYS = {"ca": "calcium", "p": "phosphate", "pth": "pth_pg_ml", "ua": "uric_acid_mg_dl"}


def cells(page: str) -> list[dict]:
    path = ROOT / f"{page}.ipynb"
    if path.is_file():
        return json.loads(path.read_text("utf-8"))["cells"]
    return [{"cell_type": "markdown", "source": (ROOT / f"{page}.md").read_text("utf-8")}]


def text(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def sections(page: str) -> dict[str, list[dict]]:
    """The cells of each diagnosis section of an entity chapter, keyed by the section's label."""
    result, current = {}, None
    for cell in cells(page):
        body = text(cell)
        if cell["cell_type"] == "markdown":
            labels = re.findall(r"^\(([a-z0-9_]+)\)=\s*$", body, flags=re.M)
            if labels:
                current = labels[-1]
                result[current] = []
            if re.search(r"^## (Summary|Check yourself)", body, flags=re.M):
                current = None
        if current:
            result[current].append(cell)
    return result


def case_labs(query: str) -> tuple[list[str], dict[str, float]]:
    ids_part, _, labs_part = query.partition("?")
    params = dict(parse_qsl(labs_part))
    unit = "mmol_l" if params.pop("unit", "mg/dL") == "mmol/L" else "mg_dl"
    labs = {}
    for key, value in params.items():
        name = LAB_KEYS[key]
        labs[f"{name}_{unit}" if name in {"calcium", "phosphate"} else name] = float(value.replace(",", "."))
    return [i.strip() for i in ids_part.split(",") if i.strip()], labs


def test_every_entity_chapter_is_published():
    assert set(ENTITY_CHAPTERS) <= set(published_pages(ROOT))


@pytest.mark.parametrize("diagnosis", knowledge_base().diagnoses, ids=lambda d: d.id)
def test_every_diagnosis_has_a_section_with_figure_and_a_try_case_that_ranks_it_first(diagnosis):
    section = sections(diagnosis.chapter).get(diagnosis.id)
    assert section, f"no section labelled ({diagnosis.id})= in {diagnosis.chapter}"
    code = "".join(text(c) for c in section if c["cell_type"] == "code")
    assert "show_figure(" in code, f"{diagnosis.id}: no synthetic figure"
    prose = "".join(text(c) for c in section if c["cell_type"] == "markdown")
    assert "{cite" in prose, f"{diagnosis.id}: no citation"
    cases = TRY_CASE.findall(prose)
    assert cases, f"{diagnosis.id}: no try-case link"
    findings, labs = case_labs(cases[0])
    assert rank(findings, labs or None)[0].diagnosis == diagnosis.id, (
        f"{diagnosis.id}: its typical case ranks another first"
    )


@pytest.mark.parametrize("figure", [s.id for s in seed_specs()])
def test_every_seed_figure_is_shown_in_the_chapter_where_the_essay_places_it(figure):
    page = f"chapters/{SEED_FIGURE_CHAPTERS[figure]}"
    outputs = json.dumps([c.get("outputs", []) for c in cells(page)])
    assert any(f'show_figure("{figure}")' in text(c) for c in cells(page) if c["cell_type"] == "code")
    assert f"figure-{figure}" in outputs, f"{figure} is not rendered in {page} (re-execute the notebook)"


@pytest.mark.parametrize("page", published_pages(ROOT))
def test_every_page_cites_a_reference(page):
    assert any("{cite" in text(c) for c in cells(page)), f"{page} cites nothing"


@pytest.mark.parametrize("page", ENTITY_CHAPTERS)
def test_entity_chapters_end_with_questions_whose_answers_link_back(page):
    body = "\n".join(text(c) for c in cells(page))
    assert "## Check yourself" in body
    questions = body.split("## Check yourself", 1)[1]
    answers = questions.count(":::{dropdown}")
    assert answers >= 3, f"{page}: fewer than 3 questions"
    assert questions.count("](") + questions.count("{ref}") + questions.count("{doc}") >= answers


# ---------------------------------------------------------------- expert review (issue 10)

GLOSSARY = book_roles.glossary_terms((ROOT / "chapters" / "glossary.md").read_text("utf-8"))
# The glossary's name of each diagnosis that the glossary defines: the label shown anywhere in the book
# (calculator, atlas, matrix, reasoning outputs) must use it.
GLOSSARY_NAME = {
    "cppd_deposition": "CPPD deposition disease",
    "tumoral_calcinosis": "Tumoral calcinosis",
    "myositis_ossificans": "Myositis ossificans",
    "panniculitis_ossificans": "Panniculitis ossificans",
    "calcinosis_circumscripta": "Calcinosis circumscripta",
    "calcinosis_universalis": "Calcinosis universalis",
    "fibrodysplasia_ossificans_progressiva": "Fibrodysplasia ossificans progressiva",
    "milwaukee_shoulder": "Milwaukee shoulder",
    "milk_alkali": "Milk-alkali syndrome",
    "synovial_osteochondromatosis": "Synovial osteochondromatosis",
    "calcific_myonecrosis": "Calcific myonecrosis",
    "injection_granuloma": "Injection-site granuloma",
    "monckeberg_sclerosis": "Medial calcific sclerosis",
    "gout_tophus": "Tophus",
    "phleboliths": "Phlebolith",
    "metastatic_renal": "Metastatic calcification",
    "primary_hyperparathyroidism_calcification": "Metastatic calcification",
}
# Words the glossary defines as something else: they must not stand in a label as a synonym.
NOT_SYNONYMS = ["chondrocalcinosis", "pseudogout", "familial or sporadic", "polymyositis", "burns"]


def _normal(text: str) -> str:
    return text.lower().replace("–", "-").replace("ö", "o")


def test_every_diagnosis_label_follows_the_glossary_nomenclature():
    terms = {_normal(t) for t in GLOSSARY}
    for diagnosis in knowledge_base().diagnoses:
        label = _normal(diagnosis.label)
        for word in NOT_SYNONYMS:
            assert word not in label, f"{diagnosis.id}: label {diagnosis.label!r} uses {word!r}"
        name = GLOSSARY_NAME.get(diagnosis.id)
        if name:
            assert _normal(name) in terms, f"glossary has no term {name!r}"
            assert re.search(rf"(^|\W){re.escape(_normal(name))}", label), (diagnosis.id, diagnosis.label, name)


def _outputs(page: str) -> str:
    return json.dumps([c.get("outputs", []) for c in cells(page)], ensure_ascii=False)


@pytest.mark.parametrize("page", ["chapters/approach", "chapters/atlas", "chapters/matrix", "chapters/reasoning"])
def test_rendered_outputs_show_the_book_labels_not_the_superseded_ones(page):
    """The calculator (approach), atlas, matrix and reasoning outputs show the knowledge base's labels."""
    book = {d.id: d.label for d in knowledge_base().diagnoses}
    superseded = [d.label for did, d in vocabulary().diagnoses.items() if d.label != book[did]]
    assert superseded, "the book relabels at least the CPPD and tumoral calcinosis entries"
    shown = _outputs(page)
    for label in superseded:
        assert label not in shown, f"{page} still shows {label!r} (re-execute the notebook)"


NEW_SECTIONS = [
    "ho-beyond",
    "ho-brooker",
    "pellegrini-stieda",
    "mo-or-sarcoma",
    "mimics-not-calcium",
    "mimics-next-step",
    "cppd_deposition-distribution",
    "synovial_osteochondromatosis-extraarticular",
    "calcific_tendinopathy-atypical",
    "calcinosis_circumscripta-bones",
    "metastatic_renal-bones",
    "phleboliths-pelvis",
    "phleboliths-venous-stasis",
]


def _all_markdown() -> dict[str, str]:
    return {
        page: "\n".join(text(c) for c in cells(page) if c["cell_type"] == "markdown") for page in published_pages(ROOT)
    }


def test_new_sections_exist_once():
    labels = [m for body in _all_markdown().values() for m in re.findall(r"^\(([\w-]+)\)=\s*$", body, flags=re.M)]
    for section in NEW_SECTIONS:
        assert labels.count(section) == 1, section


@pytest.mark.parametrize("section", NEW_SECTIONS)
def test_new_sections_are_reachable_from_the_matrix(section):
    assert f"]({section})" in _all_markdown()["chapters/matrix"] or (
        section.startswith("mimics") and "{doc}`mimics`" in _all_markdown()["chapters/matrix"]
    ), section


def test_new_pages_are_reachable_from_the_glossary_and_the_calculator_page():
    glossary = (ROOT / "chapters" / "glossary.md").read_text("utf-8")
    for target in [
        "{doc}`heterotopic`",
        "{ref}`ho-brooker`",
        "{ref}`pellegrini-stieda`",
        "{ref}`mo-or-sarcoma`",
        "<synovial_osteochondromatosis-extraarticular>`",
        "<mimics-not-calcium>`",
    ]:
        assert target in glossary, target
    approach = _all_markdown()["chapters/approach"]
    assert "{doc}`mimics`" in approach and "{doc}`heterotopic`" in approach


@pytest.mark.parametrize("spec", [s for s in load_specs() if s.id.startswith("review_")], ids=lambda s: s.id)
def test_every_review_figure_is_shown_and_rendered(spec):
    shown = [
        p
        for p in published_pages(ROOT)
        if any(f'show_figure("{spec.id}")' in text(c) for c in cells(p) if c["cell_type"] == "code")
    ]
    assert shown, f"{spec.id} is not shown on any page"
    assert f"figure-{spec.id}" in _outputs(shown[0]), f"{spec.id} not rendered in {shown[0]} (re-execute)"
    assert spec.caption.startswith("Synthetic illustration.") and len(spec.alt) >= 40


def test_marked_notes_say_where_the_book_departs_from_the_essay():
    body = _all_markdown()
    notes = {page: b.count("Where the book departs from the essay") for page, b in body.items()}
    for page in ["chapters/muscle", "chapters/fascial", "chapters/metastatic"]:
        assert notes[page] >= 1, page
    assert "the essay's grouping" in _outputs("chapters/matrix")


# ---------------------------------------------------------------- end-of-chapter questions (issue 11)

QUIZ_PAGES = [*ENTITY_CHAPTERS, *(f"chapters/{p}" for p in ("approach", "classification", "reasoning", "atlas"))]
QUESTION = re.compile(r"^\*\*\d+\.\*\*", flags=re.M)
NEXT_STEP = re.compile(r"\s*\*(Next step|Report):\*")  # how a stem (after its **N.**) starts
ENTITY_LINK = re.compile(r"\]\(([a-z0-9_-]+)\)|\{ref\}`([a-z0-9_-]+)`")
LABELS = {d.id: d.label for d in knowledge_base().diagnoses}


def questions(page: str) -> list[tuple[str, str]]:
    """(stem, answer) of each "Check yourself" question: the markdown of the section, split at **N.**."""
    body = "\n".join(text(c) for c in cells(page) if c["cell_type"] == "markdown")
    section = body.split("## Check yourself", 1)[1]
    pairs = []
    for block in QUESTION.split(section)[1:]:
        stem, _, answer = block.partition(":::{dropdown} Answer")
        pairs.append((stem, answer.split("\n:::", 1)[0]))
    return pairs


def answer_diagnosis(answer: str) -> str | None:
    """The diagnosis an answer names: the first section of a diagnosis it links to."""
    for match in ENTITY_LINK.finditer(answer):
        target = match.group(1) or match.group(2)
        if target in LABELS:
            return target
    return None


@pytest.mark.parametrize("page", QUIZ_PAGES)
def test_every_check_yourself_asks_for_a_next_step_or_a_report_sentence(page):
    pairs = questions(page)
    assert pairs and all(answer.strip() for _, answer in pairs), f"{page}: a question without a hidden answer"
    assert any(NEXT_STEP.match(stem) for stem, _ in pairs), f"{page}: no question starts with *Next step:* or *Report:*"


@pytest.mark.parametrize("page", QUIZ_PAGES)
def test_no_question_stem_names_the_diagnosis_of_its_answer(page):
    for stem, answer in questions(page):
        diagnosis = answer_diagnosis(answer)
        if diagnosis:
            assert _normal(LABELS[diagnosis]) not in _normal(stem), (
                f"{page}: the stem gives away {diagnosis}: {stem[:80]}"
            )


@pytest.mark.parametrize("page", QUIZ_PAGES)
def test_image_questions_show_unknown_cases_not_the_page_s_own_figures(page):
    all_cells = cells(page)
    start = next(i for i, c in enumerate(all_cells) if "## Check yourself" in text(c))
    shown_before = {m for c in all_cells[:start] for m in re.findall(r'show_figure\("(\w+)"\)', text(c))}
    in_quiz = [m for c in all_cells[start:] for m in re.findall(r'show_figure\("(\w+)"\)', text(c))]
    specs = {s.id: s for s in load_specs()}
    for figure in in_quiz:
        assert figure not in shown_before, f"{page}: question image {figure} is already captioned on the page"
        assert not any(_normal(label) in _normal(specs[figure].caption) for label in LABELS.values()), (
            f"{page}: the caption of {figure} names a diagnosis"
        )


def test_the_matrix_links_the_mimics_sections_directly():
    matrix = _all_markdown()["chapters/matrix"]
    for section in ("mimics-not-calcium", "mimics-next-step", "synovial_osteochondromatosis-extraarticular"):
        assert f"]({section})" in matrix, section


def test_tenosynovial_chondromatosis_is_taught_with_its_figure_and_a_case_the_calculator_agrees_with():
    """Issue 10: ring-and-arc bodies along a tendon sheath, outside the joint (walker2010)."""
    page = cells("chapters/intraarticular")
    start = next(i for i, c in enumerate(page) if "(synovial_osteochondromatosis-extraarticular)=" in text(c))
    after = page[start : start + 3]
    assert "walker2010" in text(after[0])
    assert any(
        'show_figure("review_tenosynovial_chondromatosis")' in text(c) for c in after if c["cell_type"] == "code"
    )
    cases = [q for c in after if c["cell_type"] == "markdown" for q in TRY_CASE.findall(text(c))]
    assert cases
    for query in cases:
        findings, labs = case_labs(query)
        assert "intraarticular" not in findings and "within_joint" not in findings, query
        assert rank(findings, labs or None)[0].diagnosis == "synovial_osteochondromatosis", query


def test_lipiodol_and_the_tumoral_calcinosis_sites_are_cited():
    mimics = (ROOT / "chapters" / "mimics.md").read_text("utf-8")
    paragraph = next(p for p in mimics.split("\n\n") if p.startswith("**Oily contrast.**"))
    assert "haraguchi2016" in paragraph and "pieper2019" in paragraph
    idiopathic = _all_markdown()["chapters/idiopathic"]
    assert re.search(r"knee[^.]*\{cite:p\}`xu2014`", idiopathic)
    assert "sobhani2015" in idiopathic
