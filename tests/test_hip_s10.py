"""Session 10, hip and buttock: the site ``include:`` mechanism, and the AP hip as readers asked.

The buttock takes the hip's bones and soft-tissue solids from ``site_hip_pelvis.yml`` with
``include:`` (SCHEMA.md) instead of a hand-kept copy. Body frame (mm): origin at the right
femoral head centre, +x medial, +y inferior, +z anterior.
"""

from __future__ import annotations

import pytest
import yaml

from calcifications import phantom as ph

HIP = "site_hip_pelvis"
BUTTOCK = "site_buttock"

# A minimal site of one bone and one muscle, to include from (texts served by a fake reader).
_BASE = """
site: site_knee
grid: {eval_mm: 1.0}
body:
  envelope:
  - ellipsoid: {center: [0, 0, 0], radii: [60, 80, 60]}
solids:
- id: bone_a
  kind: bone
  axis: [[0, -40, 0], [0, 40, 0]]
  parts:
  - ellipsoid: {center: [0, 0, 0], radii: [10, 40, 10]}
- id: muscle_a
  kind: muscle
  parts:
  - ellipsoid: {center: [20, 0, 0], radii: [15, 50, 15]}
joints:
- {name: one, center: [0, 40, 0], periarticular_radius_mm: 20}
- {name: two, center: [0, -40, 0], periarticular_radius_mm: 20}
landmarks:
  artery: [[0, -50, 10], [0, 50, 10]]
  muscle_center: [20, 0, 0]
views:
  frontal: {column: [1, 0, 0], row: [0, 1, 0], field_mm: 200}
"""


def _own(include: str, extra: str = "") -> str:
    """A site_leg file that includes from the fake 'site_knee' base."""
    return f"""
site: site_leg
include:
{include}
body:
  envelope:
  - ellipsoid: {{center: [0, 0, 0], radii: [70, 90, 70]}}
{extra}
views:
  frontal: {{column: [1, 0, 0], row: [0, 1, 0], field_mm: 220}}
"""


def _read(texts: dict[str, str]):
    def read(site: str) -> list[str]:
        if site not in texts:
            raise ValueError(f"no anatomy data file for {site!r}")
        return [texts[site]]

    return read


def test_include_takes_the_named_solids_landmarks_and_joints():
    site = ph.parse_site(
        [_own("- site: site_knee\n  solids: [bone_a]\n  landmarks: all\n  joints: [two]")],
        read=_read({"site_knee": _BASE}),
    )
    assert [s.id for s in site.solids] == ["bone_a"]
    assert set(site.landmarks) == {"artery", "muscle_center"}
    assert [j.name for j in site.joints] == ["two"]
    assert site.views["frontal"].field_mm == 220  # views are the including file's own


def test_an_own_solid_replaces_the_included_one_in_place_and_own_landmarks_win():
    extra = """solids:
- id: extra
  kind: muscle
  parts:
  - ellipsoid: {center: [-20, 0, 0], radii: [10, 40, 10]}
- id: bone_a
  kind: bone
  cortex_mm: 3.5
  axis: [[0, -40, 0], [0, 40, 0]]
  parts:
  - ellipsoid: {center: [0, 0, 0], radii: [12, 40, 12]}
landmarks:
  muscle_center: [-20, 0, 0]"""
    site = ph.parse_site(
        [_own("- site: site_knee\n  landmarks: all", extra)],
        read=_read({"site_knee": _BASE}),
    )
    assert [s.id for s in site.solids] == ["bone_a", "muscle_a", "extra"]
    assert site.solids[0].parts[0].radii == (12.0, 40.0, 12.0)
    assert list(site.landmarks["muscle_center"]) == [-20, 0, 0]


def test_included_text_is_part_of_the_cache_key():
    own = [_own("- site: site_knee")]
    first = ph.parse_site(own, read=_read({"site_knee": _BASE}))
    edited = ph.parse_site(own, read=_read({"site_knee": _BASE.replace("radii: [10, 40, 10]", "radii: [11, 40, 10]")}))
    assert first.digest != edited.digest
    assert first.solids[0].parts != edited.solids[0].parts


@pytest.mark.parametrize(
    "include, message",
    [
        ("- site: site_nose", "no anatomy data file"),
        ("- solids: all", r"include\[0\]: needs site"),
        ("  site: site_knee", "include: a list"),
        ("- site: site_knee\n  solids: [bone_b]", r"include\[0\]\.solids: unknown \['bone_b'\]"),
        ("- site: site_knee\n  landmarks: [nowhere]", r"landmarks: unknown \['nowhere'\]"),
        ("- site: site_knee\n  joints: three", "'all' or a list of joints names"),
        ("- site: site_knee\n  colour: red", r"unknown key\(s\) \['colour'\]"),
        ("- site: [site_knee]", "a site id"),
    ],
)
def test_bad_includes_are_refused_with_a_clear_message(include, message):
    with pytest.raises(ValueError, match=message):
        ph.parse_site([_own(include)], read=_read({"site_knee": _BASE}), where="test")


def test_an_include_cycle_is_refused():
    knee = _BASE.replace("solids:\n", "include:\n- site: site_leg\nsolids:\n", 1)
    leg = _own("- site: site_knee")
    with pytest.raises(ValueError, match="include cycle site_leg -> site_knee -> site_leg"):
        ph.parse_site([leg], read=_read({"site_knee": knee, "site_leg": leg}))


def test_the_buttock_takes_the_hips_solids_from_the_hip_file():
    """No hand-kept copy: the buttock file has no solids of its own, and the parsed solids are the hip's."""
    text = ph.site_files(BUTTOCK)[0].read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    assert not raw.get("solids") and raw["include"][0]["site"] == HIP
    hip, buttock = ph.load_site(HIP), ph.load_site(BUTTOCK)
    assert [s.id for s in buttock.solids] == [s.id for s in hip.solids]
    assert buttock.solids == hip.solids
    assert [j.name for j in buttock.joints] == ["hip"]
    assert buttock.landmarks["femoral_head"] == hip.landmarks["femoral_head"]
    assert buttock.landmarks["muscle_center"] != hip.landmarks["muscle_center"]
    assert "injection_sites" in buttock.landmarks and "injection_sites" not in hip.landmarks
    # the buttock keeps its own envelope (the thick gluteal fat) and body settings
    assert len(buttock.envelope.parts) == len(hip.envelope.parts) + 1
    assert buttock.subcutaneous_min_mm > hip.subcutaneous_min_mm
