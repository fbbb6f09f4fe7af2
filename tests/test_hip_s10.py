"""Session 10, hip and buttock: the site ``include:`` mechanism, and the AP hip as readers asked.

The buttock takes the hip's bones and soft-tissue solids from ``site_hip_pelvis.yml`` with
``include:`` (SCHEMA.md) instead of a hand-kept copy. Body frame (mm): origin at the right
femoral head centre, +x medial, +y inferior, +z anterior.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest
import yaml
from scipy import ndimage

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


# ------------------------------------------------ the AP hip (session 10) ----
# Readers of session 9's fig07: "no neck and no wing seen". Measured on path lengths (mm) and
# positions (mm), which a change of display processing does not move.


@cache
def _frontal():
    data = ph.load_site(HIP)
    return data, data.views["frontal"], ph.project(data, "frontal")


def _sample(img: np.ndarray, view: ph.View, p) -> float:
    u, v = ph.project_point(view, p)
    px = view.field_mm / img.shape[0]
    return float(ndimage.map_coordinates(img, [[v / px - 0.5], [u / px - 0.5]], order=1)[0])


def _neck_axis() -> tuple[np.ndarray, np.ndarray]:
    """The femoral neck's centreline (head centre to its base: the neck sweep's first and last points)."""
    femur = next(s for s in ph.load_site(HIP).solids if s.id == "femur")
    neck = femur.parts[1]
    return np.asarray(neck.path[0], float), np.asarray(neck.path[-1], float)


def test_neck_shaft_angle_and_anteversion_are_in_the_adult_range():
    femur = next(s for s in ph.load_site(HIP).solids if s.id == "femur")
    head, base = _neck_axis()
    neck = head - base
    shaft = np.subtract(femur.axis[1], femur.axis[0])
    # coronal neck-shaft angle (the AP film's), between the neck pointing to the head and the shaft pointing distally
    n2, s2 = neck[:2], shaft[:2]
    angle = math.degrees(math.acos(n2 @ s2 / np.linalg.norm(n2) / np.linalg.norm(s2)))
    assert 125 <= angle <= 135, angle  # toogood2009femur: 129°
    # anteversion: the head forwards (+z) of the line from the shaft axis, in the transverse plane
    ante = math.degrees(math.atan2(head[2] - femur.axis[0][2], head[0] - femur.axis[0][0]))
    assert 7 <= ante <= 16, ante


def test_the_lesser_trochanter_projects_medial_to_the_shaft_on_the_ap():
    """Session 9 drew it as an ellipsoid whose tip passed the medial cortex by about 2 mm: not seen."""
    data, view, _ = _frontal()
    femur = ph.solid_path_mm(data, "frontal", "femur")
    px = view.field_mm / femur.shape[0]
    x0 = ph.project_point(view, (0, 0, 0))[0]

    def medial_edge(y: float) -> float:
        row = femur[int(ph.project_point(view, (0, y, 0))[1] / px)]
        cols = np.nonzero(row[: int((x0 + 10) / px)] > 1.0)[0]  # the femur, left of the head centre + 10 mm
        return (cols.max() + 0.5) * px - x0

    # beyond the shaft's medial edge below it (y 90-115, the field ends at 120) extrapolated upwards
    ys = np.arange(90.0, 116.0, 1.0)
    fit = np.polyfit(ys, [medial_edge(y) for y in ys], 1)
    beyond = max(medial_edge(y) - np.polyval(fit, y) for y in np.arange(55.0, 80.0, 1.0))
    assert 3.5 <= beyond <= 10.0, beyond  # session 9: 1.8 mm


def test_the_calcar_is_a_thick_dense_inferior_neck_cortex():
    """Across the mid-neck, the bone path just inside the inferior (calcar) margin exceeds the neck's
    centre and its superior margin (poole2010femoralneck: inferior cortex about 2.4 × the superior)."""
    data, view, proj = _frontal()
    bone = proj.thickness_mm["cortical_bone"]
    head, base = _neck_axis()
    d = (base - head) / np.linalg.norm(base - head)
    n = np.array([-d[1], d[0], 0.0])  # in-plane normal pointing inferomedially
    if n[1] < 0:
        n = -n
    mid = (head + base) / 2

    def band(t0: float, t1: float) -> float:
        return float(np.mean([_sample(bone, view, mid + t * n) for t in np.arange(t0, t1 + 0.01, 0.5)]))

    centre, inferior, superior = band(-4, 4), band(8, 12), band(-12, -8)
    assert inferior >= 1.25 * centre, (inferior, centre)
    assert inferior >= 1.4 * superior, (inferior, superior)


def test_fig07_shows_the_iliac_crest_inside_its_field():
    """The frontal view's top cut the crest; fig07's framing keeps the whole wing with room for the shutter."""
    from calcifications import figures

    data, view, _ = _frontal()
    ilium = ph.solid_path_mm(data, "frontal", "hip_bone_right")
    px = view.field_mm / ilium.shape[0]
    crest_y = (np.nonzero((ilium > 1.0).any(axis=1))[0].min() + 0.5) * px  # mm from the full view's top
    zoom = figures.get_spec("fig07").zoom
    assert zoom is not None and not isinstance(zoom.center, str)
    top = zoom.center[1] - zoom.field_mm / 2
    assert crest_y - top >= 20.0, (crest_y, top)
    # the hip joint and the lesser trochanter stay in the field
    bottom = zoom.center[1] + zoom.field_mm / 2
    assert ph.project_point(view, (0, 80, 0))[1] < bottom - 20
