"""Shoulder AP (site_shoulder.yml), session 9: the proximal humerus a head facing up-medially on
a broad metaphysis (no "mushroom"); the ribs clear of the scapula (not cut by it) and sloping down
laterally; the lung field darker than the axilla; an open acromioclavicular joint with no
sliver of soft tissue narrow enough to print a bright tick."""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import ndimage

from calcifications import anatomy as an
from calcifications import phantom as ph

SITE = "site_shoulder"
# effective linear attenuation at about 30 keV (1/mm; radiograph-physics guide, ICRU-44 densities)
MU_PER_MM = {
    "adipose": 0.306 * 0.95 / 10,
    "muscle": 0.378 * 1.05 / 10,
    "soft_tissue": 0.376 * 1.03 / 10,
    "skin": 0.376 * 1.09 / 10,
    "lung": 0.376 * 0.26 / 10,
    "blood": 0.376 * 1.06 / 10,
}


@cache
def site() -> ph.Site:
    return ph.load_site(SITE)


@cache
def frontal() -> an.Anatomy:
    return an.build(SITE, "frontal")


def bone(solid_id: str) -> ph.Solid:
    return next(b for b in site().bones() if b.id == solid_id)


def pixel(p) -> tuple[int, int]:
    """(row, column) of body point ``p`` on the frontal view."""
    view = ph.get_view(site(), "frontal")
    x, y = ph.project_point(view, p)
    return int(round(y / view.pixel_mm)), int(round(x / view.pixel_mm))


def humerus_outline(ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lateral and medial edges (x, mm) of the humerus projected along the AP beam, per level y."""
    hum = bone("humerus")
    xs = np.arange(-45.0, 35.0, 0.5)
    zs = np.arange(-28.0, 28.0, 1.0)
    X, Y, Z = np.meshgrid(xs, ys, zs, indexing="ij")
    pts = np.stack([X, Y, Z], -1).reshape(-1, 3).astype(np.float32)
    inside = (hum.sdf(pts) < 0).reshape(X.shape).any(axis=2)  # (x, y)
    lat = np.array([xs[np.argmax(inside[:, j])] for j in range(len(ys))])
    med = np.array([xs[len(xs) - 1 - np.argmax(inside[::-1, j])] for j in range(len(ys))])
    return lat, med


def test_humeral_head_is_not_a_mushroom_on_a_stalk():
    """Below the articular surface the outline narrows gradually to the shaft: the metaphysis under
    the tuberosities is nearly as wide as head and tuberosity together, and the head's lower
    half does not overhang the neck (the old full sphere was 49 mm wide over a 34 mm neck)."""
    ys = np.array([0.0, 10.0, 20.0, 30.0, 45.0, 60.0])
    lat, med = humerus_outline(ys)
    width = med - lat
    assert 50 <= width[0] <= 62, width  # head + greater tuberosity at the head's centre level
    assert width[2] >= 0.62 * width[0], width  # no stalk under a cap 10-20 mm below the centre
    assert np.all(np.diff(width) <= 1.0), width  # narrows steadily towards the surgical neck ...
    assert 22 <= width[-1] <= 27, width  # ... into the 24 mm shaft
    # the medial outline steps in from the head to the calcar by no more than 18 mm between
    # 10 and 30 mm below the head's centre (a sphere's lower half overhangs a 24 mm neck by 25)
    assert med[1] - med[3] <= 18, med


def test_head_faces_up_and_medially():
    """The articular surface's top is medial to the shaft axis and the head's medial-most point
    lies above its lowest medial point: a head axis about 45 degrees above the horizontal."""
    hum = bone("humerus")
    head = hum.parts[0]
    assert isinstance(head, ph.EllipsoidPart)
    radii = np.asarray(head.radii)
    short = int(np.argmin(radii))
    rot = ph._rotation(head.rotate_deg)
    axis = rot[:, short]
    axis = axis if axis[1] < 0 else -axis  # the direction the dome faces (superior is -y)
    elevation = np.degrees(np.arctan2(-axis[1], axis[0]))  # above the medial horizontal
    retro = np.degrees(np.arctan2(-axis[2], axis[0]))  # in the axial plane, from the coronal
    assert 40 <= elevation <= 50, elevation  # neck-shaft angle 130-140 degrees
    assert 15 <= retro <= 30, retro  # retroversion about 20 degrees


def test_ribs_clear_the_scapula():
    """Every rib stays more than the joint clearance (1.5 mm) from the scapula, so none is cut
    back by it (session 8: ribs 4-8 touched the scapular body and were cut, leaving bars that
    stopped short under the scapula: a "ladder")."""
    scap = bone("scapula")
    clearance = 1.5  # body.joint_clearance_mm (SCHEMA default; not set in the site file)
    for k in range(1, 10):
        rib = bone(f"rib_{k}")
        pts = np.asarray(rib.parts[0].samples()[0], np.float32).reshape(-1, 3)
        near = pts[scap.sdf(pts) < 15]
        if not len(near):
            continue
        lo, hi = near.min(0) - 8, near.max(0) + 8
        axes = [np.arange(a, b, 0.7) for a, b in zip(lo, hi)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3).astype(np.float32)
        inside = grid[rib.sdf(grid) < 0]  # the rib's own voxels
        gap = float(scap.sdf(inside).min())
        assert gap >= clearance + 0.25, (rib.id, gap)


def test_posterior_rib_arcs_slope_down_laterally():
    """From the angle towards the lateral chest wall a posterior arc descends at least 24 degrees on
    the AP (session 8's arcs, 17-19 degrees there, read as a ladder of horizontal bars)."""
    for k in range(3, 9):
        path = np.asarray(bone(f"rib_{k}").parts[0].path, float)
        angle = path[2]
        lateral = path[np.argmin(path[:, 0])]
        mid = path[(path[:, 0] < angle[0] - 30) & (path[:, 2] < -20)]
        assert len(mid)
        p = mid[0]
        slope = np.degrees(np.arctan2(p[1] - angle[1], angle[0] - p[0]))
        assert slope >= 24, (k, slope)
        assert lateral[1] > angle[1] + 25, k


def attenuation(a: an.Anatomy, rc: tuple[int, int]) -> float:
    r, c = rc
    return sum(MU_PER_MM.get(m, 0.0) * float(t[r, c]) for m, t in a.thickness_mm.items())


def test_lung_field_attenuates_less_than_the_axilla():
    """Between the ribs the lung field (aerated lung under a chest wall of normal thickness)
    lets more through than the axilla's soft tissue: it must print darker."""
    a = frontal()
    ribs = sum(ph.solid_path_mm(site(), "frontal", f"rib_{k}") for k in range(1, 10))
    lung_mu = []
    for y in (40.0, 60.0, 90.0):
        r, c0 = pixel((115.0, y, 0.0))
        cols = [c for c in range(c0 - 20, c0 + 20) if ribs[r, c] < 0.1 and not a.bone_mask[r, c]]
        lung_mu += [attenuation(a, (r, c)) for c in cols]
    axilla_mu = [attenuation(a, pixel((30.0, y, 0.0))) for y in (60.0, 75.0, 90.0)]
    assert lung_mu and np.median(lung_mu) < np.median(axilla_mu) - 0.2, (np.median(lung_mu), axilla_mu)


def test_acromioclavicular_joint_leaves_no_soft_tissue_sliver():
    """The AC joint space is 2.5-5 mm on the AP at the joint's level, and the soft tissue left in
    it once the display's 1 mm bone margin is removed is never a one-pixel line (which printed as
    a bright tick)."""
    a = frontal()
    px = a.grid.pixel_mm
    acro = ph.solid_path_mm(site(), "frontal", "scapula") > 0.5
    clav = ph.solid_path_mm(site(), "frontal", "clavicle") > 0.5
    joint = next(j for j in site().joints if j.name == "acromioclavicular")
    r0, c0 = pixel(joint.center)
    for r in range(r0 - 4, r0 + 2):
        cl = np.nonzero(clav[r, c0 - 30 : c0 + 30])[0]
        ac = np.nonzero(acro[r, c0 - 30 : c0 + 30])[0]
        ac = ac[ac < cl.min()]
        gap = (cl.min() - ac.max() - 1) * px
        assert 2.5 <= gap <= 5.5, (r, gap)
    win = (slice(r0 - 20, r0 + 20), slice(c0 - 20, c0 + 20))
    grown = ndimage.binary_dilation(a.bone_mask, iterations=max(1, round(1.0 / px)))[win]
    soft = a.body_mask[win] & ~grown
    thin = soft & ~ndimage.binary_opening(soft, np.ones((2, 2), bool))
    assert thin.sum() <= 2, np.argwhere(thin)
