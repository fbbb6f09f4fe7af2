"""Tests of calcifications.widgets: structure, settings and bad arguments of the calculators."""

import shutil
import subprocess

import ipywidgets as widgets
import pytest
from ipywidgets.widgets.widget_link import Link

from book_chapters import ENTITY_CHAPTERS
from calcifications import calculators, differential
from calcifications import widgets as book_widgets

CHAPTERS = list(ENTITY_CHAPTERS)


def _created_by(build):
    created = []
    widgets.Widget.on_widget_constructed(created.append)
    try:
        result = build()
    finally:
        widgets.Widget.on_widget_constructed(None)
    return result, created


def test_calcium_phosphate_calculator_is_driven_by_standard_controls_through_jslink():
    box, created = _created_by(
        lambda: book_widgets.calcium_phosphate_calculator(calcium=10, phosphate=7.5, unit="mmol/L")
    )
    new_links = [w for w in created if isinstance(w, Link)]
    unit, calcium_row, phosphate_row, result = box.children
    assert isinstance(unit, widgets.Dropdown) and unit.value == "mmol/L"
    calcium, calcium_panel = calcium_row.children
    assert isinstance(calcium, widgets.Text) and calcium.value == "10"
    assert calcium_panel.role == "calcium"
    assert result.role == "result" and result.unit_index == 1
    # A Dropdown's index (not its value) is synced to the browser: that is what is linked.
    linked = {(link.source[0].model_id, link.source[1], link.target[1]) for link in new_links}
    assert (unit.model_id, "index", "unit_index") in linked
    assert (calcium.model_id, "value", "calcium") in linked
    assert len(new_links) == 9  # three controls x three panels


def test_front_ends_are_one_module_each_with_the_shared_helpers_inlined_once():
    panel = book_widgets.LabPanel(role="result")
    source = str(panel._esm)
    assert source == book_widgets.bundled_module("lab_entry.js")
    assert "export function evaluate" in source and "export default { render }" in source
    assert source.count("export function parseNumber") == 1 and "\nimport {" not in source
    calculator = str(book_widgets.DifferentialPanel._esm)
    for name in ("parseNumber", "rankCase", "caseFromQuery", "escapeHtml"):
        assert calculator.count(f"export function {name}(") == 1, name
    assert "\nimport " not in calculator  # no import statement left


@pytest.mark.parametrize("module", ["lab_entry.js", "calculator.js"])
def test_bundled_front_end_loads_as_an_es_module(tmp_path, module):
    """Duplicate top-level names or a left-over import would make the browser refuse the module."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required for the front-end tests")
    path = tmp_path / "bundle.mjs"
    path.write_text(book_widgets.bundled_module(module), "utf-8")
    run = subprocess.run(
        [
            node,
            "--input-type=module",
            "-e",
            f"const m = await import({str(path.as_uri())!r}); console.log(typeof m.default.render)",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "function"


def test_bundler_refuses_what_it_cannot_inline(tmp_path, monkeypatch):
    (tmp_path / "a.js").write_text('import { b } from "./b.js";\nexport default { render() {} };\n')
    (tmp_path / "b.js").write_text("export function b() {}\nexport default {};\n")
    (tmp_path / "c.js").write_text('import x from "lodash";\n')
    monkeypatch.setattr(book_widgets, "static_module", lambda name: tmp_path / name)
    with pytest.raises(ValueError, match="must not have a default export"):
        book_widgets.bundled_module("a.js")
    with pytest.raises(ValueError, match="can be inlined"):
        book_widgets.bundled_module("c.js")


def test_unknown_role_and_unit_are_refused():
    with pytest.raises(Exception, match="role must be one of"):
        book_widgets.LabPanel(role="sodium")
    with pytest.raises(ValueError, match="unit must be one of"):
        book_widgets.calcium_phosphate_calculator(unit="mg/dl")


def test_full_calculator_offers_every_finding_once_as_chips_and_every_lab_box():
    from calcifications.vocabulary import vocabulary

    panel = book_widgets.differential_calculator(chapters=["chapters/approach", "chapters/metastatic"])
    config = panel.config
    listed = [fid for group in config["groups"] for fid in group["findings"]]
    assert sorted(listed) == sorted(vocabulary().findings)
    assert [g["id"] for g in config["groups"]] == list(calculators.GROUPS)
    assert [f["parameter"] for f in config["lab_fields"]] == ["ca", "p", "pth", "ua"]
    assert config["mode"] == "full" and config["by_compartment"]["vascular"]
    # Only published pages are linked, with the section anchors Sphinx writes.
    assert config["links"]["metastatic_renal"] == "chapters/metastatic.html#metastatic-renal"
    assert "atherosclerosis" not in config["links"]
    assert config["calculator"] == {
        "page": "chapters/approach.html",
        "anchor": "approach-calculator",
        "published": True,
    }


def test_full_calculator_is_prefilled_and_ranks_in_python_like_the_browser():
    case = ["periarticular", "lobulated_multicystic_mass", "site_knee", "chronic_kidney_disease"]
    panel = book_widgets.differential_calculator(case, lab_texts={"calcium": "10", "phosphate": "7,5", "pth": "1,200"})
    assert panel.findings == case and panel.lab_texts["phosphate"] == "7,5"
    findings, labs_of_case = panel.case()
    assert labs_of_case == {"calcium_mg_dl": 10.0, "phosphate_mg_dl": 7.5}  # "1,200" is ambiguous: left out
    assert panel.ranking()[0].diagnosis == "metastatic_renal"
    assert panel.knowledge["diagnosis_ids"][0] == "atherosclerosis"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_entity_chapter_has_a_calculator_preset_on_its_compartment(chapter):
    panel = book_widgets.chapter_calculator(chapter, chapters=[f"chapters/{chapter}", "chapters/approach"])
    preset = calculators.chapter_preset(chapter)
    assert panel.config["mode"] == "chapter" and panel.config["chapter"] == chapter
    assert panel.findings == list(preset.compartments)
    groups = {g["id"]: g["findings"] for g in panel.config["groups"]}
    assert set(preset.compartments) <= set(groups["compartment"])  # the preset can be changed
    assert all(groups[g] for g in ("morphology", "distribution", "clinical"))
    # Every diagnosis taught in the chapter is linked to its section.
    taught = [d["id"] for d in differential.frontend_knowledge()["diagnoses"] if d["chapter"] == f"chapters/{chapter}"]
    assert taught and all(d in panel.config["links"] for d in taught)
    # The chapter's own diagnoses can reach the top of its ranking with its own chips.
    assert panel.ranking()[0].diagnosis  # ranks with the preset alone


@pytest.mark.parametrize("chapter", ["metastatic", "idiopathic", "calcinosis-cutis"])
def test_chapters_that_use_blood_tests_have_lab_boxes(chapter):
    fields = book_widgets.chapter_calculator(chapter, chapters=[]).config["lab_fields"]
    assert {"calcium", "phosphate"} <= {f["analyte"] for f in fields}


def test_each_chapter_calculator_offers_the_findings_of_the_chapters_typical_cases():
    """The try-case links of a chapter name its typical cases: its calculator offers every finding in them."""
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for chapter in CHAPTERS:
        cells = json.loads((root / "chapters" / f"{chapter}.ipynb").read_text("utf-8"))["cells"]
        text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        used = {i for target in re.findall(r"\{try-case\}`[^`<]*<([^>?]*)", text) for i in target.split(",")}
        offered = {fid for g in calculators.frontend_config(chapter, [])["groups"] for fid in g["findings"]}
        assert used - offered == set(), chapter


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"findings": ["periarticullar"]}, "did you mean"),
        ({"findings": "periarticular"}, "must be a list of vocabulary ids"),
        ({"lab_texts": {"sodium": "140"}}, "unknown lab boxes"),
        ({"lab_texts": {"pth": 40.0}}, r"lab_texts\['pth'\] must be the text typed in the box"),
        ({"lab_texts": ["9.5"]}, "lab_texts must map lab boxes"),
        ({"unit": "mmol"}, "unit must be one of"),
        ({"top_n": 0}, "top_n must be a whole number of at least 1"),
        ({"top_n": "3"}, "top_n must be a whole number of at least 1"),
        ({"top_n": 2.5}, "top_n must be a whole number"),
        ({"chapters": "chapters/vascular"}, "chapters must be a list of page names"),
    ],
)
def test_differential_calculator_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        book_widgets.differential_calculator(**kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("vascularr",), {}, "unknown chapter 'vascularr'"),
        ((None,), {}, "unknown chapter None"),
        (("vascular",), {"lab_texts": {"calcium": "9.5"}}, "unknown lab boxes"),  # the vascular chapter has none
        (("metastatic",), {"lab_texts": {"pth": 40}}, "must be the text typed in the box"),
        (("metastatic",), {"top_n": "3"}, "top_n must be a whole number"),
    ],
)
def test_chapter_calculator_refuses_bad_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        book_widgets.chapter_calculator(*args, **kwargs)


def test_calculator_repr_is_deterministic():
    panel = book_widgets.chapter_calculator("vascular", chapters=[])
    assert repr(panel) == "DifferentialPanel('vascular', findings=['vascular'], lab_texts={})"
    assert " at 0x" not in panel._repr_mimebundle_()[0]["text/plain"]
