"""Tests of calcifications.widgets: structure and links of the calculators."""

import ipywidgets as widgets
from ipywidgets.widgets.widget_link import Link
import pytest

from calcifications import widgets as book_widgets


def test_calculator_is_driven_by_standard_controls_through_jslink():
    created = []
    widgets.Widget.on_widget_constructed(created.append)
    try:
        box = book_widgets.calcium_phosphate_calculator(calcium=10, phosphate=7.5, unit="mmol/L")
    finally:
        widgets.Widget.on_widget_constructed(None)
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


def test_panel_front_end_is_the_packaged_module():
    panel = book_widgets.LabPanel(role="result")
    source = book_widgets.static_module("lab_entry.js").read_text("utf-8")
    assert str(panel._esm) == source
    assert "export function evaluate" in source and "export default { render }" in source


def test_unknown_role_and_unit_are_refused():
    with pytest.raises(Exception, match="role must be one of"):
        book_widgets.LabPanel(role="sodium")
    with pytest.raises(ValueError, match="unit must be one of"):
        book_widgets.calcium_phosphate_calculator(unit="mg/dl")


def _created_by(build):
    created = []
    widgets.Widget.on_widget_constructed(created.append)
    try:
        result = build()
    finally:
        widgets.Widget.on_widget_constructed(None)
    return result, created


def test_differential_choices_cover_every_finding_once():
    from calcifications.vocabulary import vocabulary

    choices = book_widgets.differential_choices()
    listed = [fid for key in (*book_widgets.MULTI_CHOICE, "site") for fid, _ in choices[key]]
    assert sorted(listed) == sorted(vocabulary().findings)
    assert set(choices["by_compartment"]) == set(vocabulary().compartments)


def test_differential_calculator_is_prefilled_and_linked():
    case = ["periarticular", "lobulated_multicystic_mass", "site_knee", "chronic_kidney_disease", "no_trauma_history"]
    box, created = _created_by(lambda: book_widgets.differential_calculator(
        case, lab_texts={"calcium": "10", "phosphate": "7,5"}, chapters=["chapters/metastatic"]))
    panel = next(w for w in created if isinstance(w, book_widgets.DifferentialPanel))
    choices = panel.choices
    selected = {choices[c][i][0] for c, trait in (("compartment", "compartments"), ("morphology", "morphologies"),
                                                 ("clinical", "clinical")) for i in getattr(panel, trait)}
    assert selected == {"periarticular", "lobulated_multicystic_mass", "chronic_kidney_disease", "no_trauma_history"}
    assert choices["site"][panel.site - 1][0] == "site_knee"
    assert panel.chapters == ["chapters/metastatic"]
    links = [w for w in created if isinstance(w, Link)]
    directional = [w for w in created if type(w).__name__ == "DirectionalLink"]
    assert len(directional) == 4  # each lab box publishes its checked value
    assert {link.target[1] for link in links} >= {"compartments", "morphologies", "distributions", "clinical", "site",
                                                  "unit_index", "calcium_text", "text"}
    fields = [w for w in created if isinstance(w, book_widgets.LabPanel)]
    assert [f.analyte for f in fields] == ["calcium", "phosphate", "pth", "uric_acid"]
    assert fields[1].text == "7,5"
    assert panel.knowledge["diagnosis_ids"][0] == "atherosclerosis"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"findings": ["periarticullar"]}, "did you mean"),
        ({"lab_texts": {"sodium": "140"}}, "unknown lab boxes"),
        ({"unit": "mmol"}, "unit must be one of"),
        ({"top_n": 0}, "top_n must be at least 1"),
    ],
)
def test_differential_calculator_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        book_widgets.differential_calculator(**kwargs)
