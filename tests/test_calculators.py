"""Tests of calcifications.calculators: the settings of data/calculators.yml and what the browser receives."""

import copy
from importlib import resources

import pytest
import yaml

from book_chapters import ENTITY_CHAPTERS
from calcifications import calculators
from calcifications.vocabulary import vocabulary

RAW = yaml.safe_load(resources.files("calcifications").joinpath("data/calculators.yml").read_text("utf-8"))


def test_shipped_settings_are_valid_and_cover_every_entity_chapter():
    s = calculators.settings()
    assert set(s.chapters) == set(ENTITY_CHAPTERS)
    assert calculators.url_parameters() == ("ca", "p", "pth", "ua", "unit")


def test_groups_partition_the_vocabulary():
    members = calculators.group_members()
    listed = [fid for ids in members.values() for fid in ids]
    assert sorted(listed) == sorted(vocabulary().findings)
    assert members["compartment"] == list(vocabulary().compartments)


def _broken(change) -> dict:
    raw = copy.deepcopy(RAW)
    change(raw)
    return raw


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["chapters"]["vascular"]["morphology"].append("rice_grain_typo"), "unknown, misplaced or repeated"),
        (lambda r: r["chapters"]["vascular"]["morphology"].append("along_vessel"), "unknown, misplaced or repeated"),
        (lambda r: r["chapters"]["vascular"]["site"].append("site_knee"), "unknown, misplaced or repeated"),
        (lambda r: r["chapters"]["vascular"].update(compartments=["bone"]), "compartments must be some of"),
        (lambda r: r["chapters"]["vascular"].update(labs=["sodium"]), "labs must be some of"),
        (lambda r: r["chapters"].update(glossary=r["chapters"]["vascular"]), "no diagnosis of the knowledge base"),
        (lambda r: r["lab_fields"][1].update(parameter="ca"), "parameters must be distinct"),
        (lambda r: r["lab_fields"][0].update(key="calcium_mmol_l"), "must name a lab key of its analyte"),
        (lambda r: r["mechanism_labels"].pop("idiopathic"), "mechanism_labels must name every mechanism"),
        (lambda r: r["groups"].pop("site"), "groups must be"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(change, message):
    with pytest.raises(ValueError, match=message):
        calculators.parse_settings(_broken(change))


def test_unknown_chapter_names_the_valid_ones():
    with pytest.raises(ValueError, match="expected one of .*'vascular'"):
        calculators.chapter_preset("vascularr")


def test_section_links_only_for_published_pages_with_sphinx_anchors():
    links = calculators.section_links(["chapters/vascular"])
    assert links["monckeberg_sclerosis"] == "chapters/vascular.html#monckeberg-sclerosis"
    assert all(href.startswith("chapters/vascular.html#") for href in links.values())
