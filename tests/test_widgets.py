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
