"""Session 10 (elbow10): the forearm's wrist is site_hand.yml's, and the elbow AP and lateral read
as a distal humerus, not a block or a lollipop (blind read of session 9: the elbow AP was the worst
film, realism 1/5).

Tests on physical quantities (solid shapes, projected bone path lengths in mm, positions), not
display grey levels, so they survive a change of the display processing.
"""

from dataclasses import replace
from functools import cache

import numpy as np
import pytest

from calcifications import phantom as ph

# The hand frame's origin (third MCP joint) in the forearm frame; the two frames share their axes.
HAND_TO_FOREARM = np.array([-5.0, 349.5, 1.0])


@cache
def _site(name: str) -> ph.Site:
    return ph.load_site(name)


def _solids(name: str) -> dict[str, ph.Solid]:
    return {s.id: s for s in _site(name).solids}


def _moved(part, d: np.ndarray):
    """A part moved rigidly by ``d`` (mm)."""
    if isinstance(part, ph.EllipsoidPart):
        return replace(part, center=tuple(float(c) for c in np.asarray(part.center) + d))
    return replace(part, path=tuple(tuple(float(c) for c in np.asarray(p) + d) for p in part.path))


def _same_part(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, ph.EllipsoidPart):
        return (
            np.allclose(a.center, b.center, atol=0.05)
            and np.allclose(a.radii, b.radii)
            and np.allclose(a.rotate_deg, b.rotate_deg)
        )
    return (
        np.allclose(a.path, b.path, atol=0.05)
        and np.allclose(a.sections, b.sections)
        and np.allclose(a.section_axis, b.section_axis)
        and a.caps == b.caps
    )


@pytest.mark.parametrize("solid_id", ["scaphoid", "lunate", "triquetrum", "pisiform", "radiocarpal_joint", "tfcc"])
def test_forearm_wrist_solids_are_copies_of_site_hand(solid_id):
    """The forearm's carpal bones and wrist joint solids are site_hand.yml's, moved by HAND_TO_FOREARM
    (session 9 had left the forearm an old, oversized proximal row: a 21 mm-tall lunate ellipsoid)."""
    hand, arm = _solids("site_hand")[solid_id], _solids("site_forearm")[solid_id]
    assert arm.kind == hand.kind
    assert len(arm.parts) == len(hand.parts) and len(arm.carve) == len(hand.carve)
    for a, h in zip(arm.parts + arm.carve, hand.parts + hand.carve, strict=True):
        assert _same_part(a, _moved(h, HAND_TO_FOREARM)), (solid_id, a, h)
    if hand.kind == "bone":
        assert arm.cortex_mm == hand.cortex_mm and arm.trabecular_fraction == hand.trabecular_fraction
        assert np.allclose(np.asarray(arm.axis) - HAND_TO_FOREARM, hand.axis, atol=0.05)


def _grid(lo, hi, step: float = 0.6) -> np.ndarray:
    axes = [np.arange(lo[i], hi[i] + step, step) for i in range(3)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float32)


@pytest.mark.parametrize(
    "bone, y0, y1",
    [("radius", 222.0, 262.0), ("ulna", 226.0, 256.0)],
)
def test_forearm_distal_radius_and_ulna_match_site_hand(bone, y0, y1):
    """Where the two sites overlap (the distal metaphysis and styloid of the radius, the ulnar head and
    styloid), the forearm's bone is the hand's moved by HAND_TO_FOREARM: the two solids share at least
    90 % of their volume there (intersection over union), so the wrist cannot drift between the
    forearm film and the hand film again."""
    hand_bone = _solids("site_hand")[bone]
    hand_bone = replace(
        hand_bone,
        parts=tuple(_moved(p, HAND_TO_FOREARM) for p in hand_bone.parts),
        carve=tuple(_moved(p, HAND_TO_FOREARM) for p in hand_bone.carve),
        avoid=(),
    )
    arm_bone = replace(_solids("site_forearm")[bone], avoid=())
    pts = _grid((-40.0, y0, -20.0), (30.0, y1, 20.0))
    a, h = arm_bone.sdf(pts) < 0, hand_bone.sdf(pts) < 0
    assert h.sum() > 1000
    iou = float((a & h).sum() / (a | h).sum())
    assert iou >= 0.9, iou
