"""Upper-limb joint shapes the blind readers could not believe (session 7): finger joints with a
concave base cupping a rounded head across an even joint space, phalangeal shafts narrower than
their ends, fingers fuller over the joints than over the shafts, the back of the proximal ulna
continuing the back of the olecranon (no heel), and fig01's ulnar artery a thin, faint tram-track
rather than a third bone."""

from functools import cache

import numpy as np
import pytest
import yaml

from calcifications import figures
from calcifications import phantom as ph

STEP = 0.25  # mm: sampling step of the small bones


def _grid(lo, hi, step):
    axes = [np.arange(lo[i], hi[i] + step, step) for i in range(3)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float32)


@cache
def _site(name: str) -> ph.Site:
    return ph.load_site(name)


def _inside(site: ph.Site, bone: str, step: float = STEP) -> np.ndarray:
    """Points (mm) inside ``bone`` as the engine sees it (joint clearance applied)."""
    solid = {b.id: b for b in site.bones()}[bone]
    lo, hi = solid.bounds()
    pts = _grid(lo, hi, step)
    return pts[solid.sdf(pts) < 0]


def _axis_frame(site_name: str, bone: str):
    """Origin, unit vector along the bone (distal) and across it in the coronal plane."""
    data = yaml.safe_load(ph.site_files(site_name)[0].read_text(encoding="utf-8"))
    a, b = (np.asarray(p, float) for p in next(s["axis"] for s in data["solids"] if s["id"] == bone))
    along = (b - a) / np.linalg.norm(b - a)
    across = np.cross(along, [0.0, 0.0, 1.0])
    return a, along, across / np.linalg.norm(across)


def joint_profile(site: ph.Site, proximal: str, distal: str, offsets=(0.0, 3.0, 4.0), site_name="site_hand"):
    """Along the distal bone's axis, in its mid-coronal slab: the distal end of ``proximal`` and
    the proximal end of ``distal`` at each offset across the axis (mm), and the gap between them."""
    origin, along, across = _axis_frame(site_name, distal)
    out = {}
    for name, pick in ((proximal, np.max), (distal, np.min)):
        p = _inside(site, name) - origin
        u, w = p @ along, p @ across
        slab = np.abs(p[:, 2]) < 0.6  # the mid-coronal slab through the axis
        out[name] = {}
        for off in offsets:
            sel = slab & (np.abs(np.abs(w) - off) < 0.35) if off else slab & (np.abs(w) < 0.35)
            if name == proximal:
                sel &= u > -12  # the head, not the far end of the bone
            out[name][off] = float(pick(u[sel])) if sel.any() else np.nan
    gaps = {off: out[distal][off] - out[proximal][off] for off in offsets}
    return out[proximal], out[distal], gaps


FINGER_JOINTS = [
    (f"phalanx_{f}_{a}", f"phalanx_{f}_{b}")
    for f in (2, 3, 4, 5)
    for a, b in (("proximal", "middle"), ("middle", "distal"))
]


@pytest.mark.parametrize("proximal,distal", FINGER_JOINTS)
def test_finger_joint_base_cups_a_rounded_head_across_an_even_space(proximal, distal):
    """Interphalangeal joints (eforensics2024phalanges, kumc1997phalanx): the base of the distal
    phalanx is concave and reaches back round the head of the proximal one, across a thin joint
    space of even width (1.5-2.5 mm in the hand, SCHEMA.md), not a wide flat slot between two blocks."""
    head, base, gaps = joint_profile(_site("site_hand"), proximal, distal)
    pip = "middle" in distal
    lip = 4.0 if pip else 3.0
    assert base[0.0] - base[lip] >= (1.1 if pip else 0.6), (
        base,
        "the base must be concave: its lips reach back past its centre",
    )
    assert abs(gaps[0.0] - gaps[3.0]) <= 0.5, (gaps, "the joint space must follow the head (congruent)")
    assert 1.2 <= gaps[0.0] <= 2.1, gaps


def _width_profile(site: ph.Site, bone: str, site_name="site_hand"):
    origin, along, across = _axis_frame(site_name, bone)
    p = _inside(site, bone) - origin
    u, w = p @ along, p @ across
    lo, hi = u.min(), u.max()

    def width(f):
        sel = np.abs(u - (lo + f * (hi - lo))) < 0.5
        return float(w[sel].max() - w[sel].min())

    return width


@pytest.mark.parametrize("finger", [2, 3, 4, 5])
def test_phalangeal_shafts_are_narrower_than_their_ends(finger):
    """A proximal base, a narrowed shaft and a distal head (anatomic_phalanges): the waist of the
    middle phalanx is at most 55 % of the width of its base and well narrower than its head."""
    width = _width_profile(_site("site_hand"), f"phalanx_{finger}_middle")
    waist = min(width(f) for f in (0.4, 0.5, 0.6))
    base = max(width(f) for f in (0.04, 0.08, 0.12))
    head = max(width(f) for f in (0.85, 0.9))
    assert waist <= 0.55 * base and waist < head - 1.5, (waist, base, head)


def test_fingers_are_fuller_over_the_joints_than_over_the_shafts():
    """The skin outline of each finger swells over the PIP and DIP joints and tapers into the pulp;
    a uniform tube read as synthetic."""
    data = yaml.safe_load(ph.site_files("site_hand")[0].read_text(encoding="utf-8"))
    fingers = [p["sweep"] for p in data["body"]["envelope"] if "sweep" in p and p["sweep"].get("caps") == [4, 6.5]]
    assert len(fingers) == 5
    for sweep in fingers:
        width = [s[0] for s in sweep["sections"]]
        bulges = [i for i in range(1, len(width) - 1) if width[i] > width[i - 1] and width[i] > width[i + 1]]
        assert bulges, width  # at least one joint swelling between slimmer stretches
        assert width[-1] < 0.9 * max(width[1:-1]), width  # the pulp tapers


def test_proximal_ulna_back_continues_the_olecranon():
    """The subcutaneous (posterior) border of the ulna runs on from the back of the olecranon: the
    ulna is about 17 mm deep 5 cm down (erdem_proximalulna), with no heel-like step behind the notch."""
    p = _inside(_site("site_elbow"), "ulna", 0.5)

    def back(y):
        return float(p[np.abs(p[:, 1] - y) < 0.5][:, 2].min())

    def depth(y):
        band = p[np.abs(p[:, 1] - y) < 0.5][:, 2]
        return float(band.max() - band.min())

    assert back(22) - back(6) <= 6.5, (back(6), back(22))
    assert 14.5 <= depth(30) <= 19.5, depth(30)


def _spec(fig_id: str):
    return next(s for s in figures.load_specs() if s.id == fig_id)


def test_fig01_ulnar_artery_is_a_thin_faint_tram_track():
    """A 3.6 mm tube with 0.6 mm walls of 2.0 g/cm3 between the radius and ulna read as a third bone:
    medial calcification is a fine line pair, fainter than a cortex."""
    spec = _spec("fig01")
    params = next(p.params for panel in spec.panels for p in panel.patterns if p.id == "circumferential_ring_vessel")
    assert params["wall_mm"] <= 0.4 and params["mineral_g_cm3"] <= 1.8 and params["size_mm"] <= 3.2, params


def test_elbow_lateral_quiz_shows_the_forearm_and_humeral_shafts():
    """At 90 mm the lateral was a ball on a block; the forearm bones' necks and the humeral shaft
    must stay in the field."""
    spec = _spec("quiz_intraarticular_q2")
    assert spec.zoom is not None and spec.zoom.field_mm >= 110, spec.zoom
