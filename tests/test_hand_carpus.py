"""The wrist of the hand PA film (site_hand): carpal bones shaped, sized and overlapping as on a
real posteroanterior film, the radial and ulnar styloids, the carpal height (session 9: blind
readers called the old carpals "cobblestones" and saw "no styloids")."""

from functools import cache

import numpy as np
import pytest

from calcifications import phantom as ph

STEP = 0.5  # mm: sampling step of the bone solids
SITE = "site_hand"


def _grid(lo: np.ndarray, hi: np.ndarray, step: float) -> np.ndarray:
    axes = [np.arange(lo[i], hi[i] + step, step) for i in range(3)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3).astype(np.float32)


@cache
def _bones() -> dict[str, ph.Solid]:
    return {b.id: b for b in ph.load_site(SITE).bones()}


@cache
def voxels(bone: str) -> np.ndarray:
    """Points (mm, body frame) inside the bone as the engine sees it (joint clearance applied)."""
    solid = _bones()[bone]
    lo, hi = solid.bounds()
    pts = _grid(lo, hi, STEP)
    return pts[solid.sdf(pts) < 0]


def footprint(*bones: str) -> set[tuple[int, int]]:
    """Cells (STEP mm) the bones cover on the PA film (projection along z)."""
    cells: set[tuple[int, int]] = set()
    for b in bones:
        cells |= set(map(tuple, np.round(voxels(b)[:, :2] / STEP).astype(int)))
    return cells


def volume(bone: str) -> float:
    """Volume (mm³)."""
    return len(voxels(bone)) * STEP**3


def test_radial_styloid_is_a_tapering_tip_on_the_radial_side():
    r = voxels("radius")
    tip = r[np.argmax(r[:, 1])]
    assert tip[0] < r[:, 0].min() + 4  # the most distal point of the radius is its radial corner
    # 3 mm short of the tip the styloid is a narrow process (about 8 mm: the 22 degree articular
    # surface and the radial border converge), not the full width of a blunt block (old: 13.5 mm)
    band = r[(np.abs(r[:, 1] - (tip[1] - 3.0)) < 0.5) & (r[:, 0] < tip[0] + 15)]
    cols = np.unique(np.round(band[:, 0] / STEP).astype(int))
    run = 1 + int(np.argmax(np.diff(cols) > 1)) if np.any(np.diff(cols) > 1) else len(cols)
    assert run * STEP <= 11.0, run * STEP
    # the styloid reaches the level of the scaphoid's proximal half, radial to it
    s = voxels("scaphoid")
    assert tip[1] > s[:, 1].min() + 4


def test_carpal_height_ratio_is_normal():
    """Youm: carpal height (base of the third metacarpal to the radius, on its axis) / its length
    0.51-0.57 (hand9-radiopaedia-carpalheight); the old carpus was 0.59, too tall."""
    r = voxels("radius")
    mc3 = voxels("metacarpal_3")
    radius_surface = r[np.abs(r[:, 0]) < 0.5][:, 1].max()
    height = mc3[:, 1].min() - radius_surface
    ratio = height / (mc3[:, 1].max() - mc3[:, 1].min())
    assert 0.51 <= ratio <= 0.57, ratio
    assert 30 <= height <= 40, height  # men 34.6 +- 4.4 mm (hand9-fuentes2006carpal)


def test_scaphoid_is_elongated_oblique_with_a_waist():
    s = voxels("scaphoid")[:, :2]
    c = s - s.mean(axis=0)
    _, vecs = np.linalg.eigh(np.cov(c.T))
    along, across = c @ vecs[:, -1], c @ vecs[:, 0]
    length = along.max() - along.min()
    width = []
    for f in (0.2, 0.5, 0.8):
        m = np.abs(along - (along.min() + f * length)) < 1.0
        width.append(across[m].max() - across[m].min())
    proximal, waist, distal = width
    assert waist < min(proximal, distal) - 0.8, width  # a waist (old: an ellipsoid, widest in the middle)
    assert length / waist >= 2.2, (length, waist)
    angle = np.degrees(np.arctan2(abs(vecs[0, -1]), abs(vecs[1, -1])))
    assert 30 <= angle <= 60, angle  # oblique, distal pole radial, on the PA film


def test_overlapping_carpal_bones_project_over_each_other():
    # the palmar distal pole of the scaphoid overlaps the trapezium and trapezoid (old: 8 mm²)
    assert len(footprint("scaphoid") & footprint("trapezium", "trapezoid")) * STEP**2 >= 15
    # the pisiform is superimposed on the triquetrum
    pis = footprint("pisiform")
    assert len(pis & footprint("triquetrum")) >= 0.5 * len(pis)
    # the hook of the hamate points palmarly, over its body: seen end-on (a ring)
    h = voxels("hamate")
    assert h[:, 2].max() - np.median(h[:, 2]) >= 10


def test_carpal_bones_in_the_order_of_size():
    """patterson1995carpal: capitate, hamate, scaphoid, trapezium, lunate, trapezoid, triquetrum,
    pisiform (trapezium and lunate close, either way here)."""
    v = {b: volume(b) for b in ("capitate", "hamate", "scaphoid", "trapezium", "lunate", "trapezoid", "triquetrum")}
    v["pisiform"] = volume("pisiform")
    assert v["capitate"] > v["hamate"] > v["scaphoid"] > max(v["lunate"], v["trapezium"]), v
    assert min(v["lunate"], v["trapezium"]) > v["trapezoid"] > v["triquetrum"] > v["pisiform"], v


def test_ulnar_styloid_is_slender_and_points_distally():
    u = voxels("ulna")
    tip = u[np.argmax(u[:, 1])]
    dome = u[np.abs(u[:, 0] - 13.0) < 3.0][:, 1].max()
    assert 3.0 <= tip[1] - dome <= 8.0, tip[1] - dome
    near_tip = u[np.abs(u[:, 1] - (tip[1] - 2.0)) < 0.5]
    assert near_tip[:, 0].max() - near_tip[:, 0].min() <= 3.0  # slender (old: 3.5 mm)
    assert tip[0] > np.median(u[:, 0]) + 4  # on the ulnar side of the head


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("scaphoid", "trapezium"),
        ("scaphoid", "trapezoid"),
        ("trapezium", "trapezoid"),
        ("trapezoid", "capitate"),
        ("trapezoid", "metacarpal_2"),
        ("hamate", "metacarpal_4"),
        ("lunate", "hamate"),
        ("ulna", "radius"),
    ],
)
def test_carpal_joint_spaces_are_even_and_narrow(a, b):
    """Neighbours face each other across 1-3 mm (SCHEMA.md: 1.5-2.5 mm in hand and foot)."""
    sa, sb = _bones()[a], _bones()[b]
    lo = np.maximum(sa.bounds()[0], sb.bounds()[0]) - 3
    hi = np.minimum(sa.bounds()[1], sb.bounds()[1]) + 3
    pts = _grid(lo, hi, 0.5)
    g = 2.0 * float(np.min(np.maximum(sa.sdf(pts), sb.sdf(pts))))
    assert 1.0 <= g <= 3.0, (a, b, g)


def test_trapezium_has_no_false_slot():
    """The flat base of a metacarpal (a sweep cap) under-estimates distances beside its rim: a bone
    cut against it got a thin false slot (a white line across the trapezium on the film)."""
    t = _bones()["trapezium"]
    xs, ys, zs = np.arange(-26, -18, 0.5), np.arange(-76, -66, 0.5), np.arange(-8, 14, 0.25)
    x, y, z = np.meshgrid(xs, ys, zs, indexing="ij")
    pts = np.stack([x, y, z], axis=-1).reshape(-1, 3).astype(np.float32)
    path = (t.sdf(pts).reshape(x.shape) < 0).sum(axis=2) * 0.25  # mm of bone along the beam
    # along each column (fixed x) the path may fall towards the bone's end but not dip and recover
    for col in path:
        inside = col[col > 0]
        if len(inside) < 3:
            continue
        left = np.maximum.accumulate(inside)
        right = np.maximum.accumulate(inside[::-1])[::-1]
        assert (np.minimum(left, right) - inside).max() <= 3.0
