"""Shoulder AP (site_shoulder.yml), session 11: what the blind readers of session 10 named. The
coracoid a "perfect thick-walled ring with a hook" (its distal part ran along the AP beam), the
acromion "a glowing disk" (a flat plate along the beam) and the humeral head "fused to the
acromion", "no scapular body outline" (the plate thinned to nothing at its medial edge), a lung
field no darker than the arm. Measured on the solids (signed distances, mm), the projected path
maps (mm) and the soft-tissue path in the lung field (mm), not on display grey levels."""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import ndimage

from calcifications import phantom as ph

SITE = "site_shoulder"


@cache
def site() -> ph.Site:
    return ph.load_site(SITE)


def bone(bone_id: str) -> ph.Solid:
    return next(b for b in site().bones() if b.id == bone_id)


def inside_points(solid: ph.Solid, xs, ys, zs) -> np.ndarray:
    """Grid points (mm, body frame) inside ``solid``."""
    X, Y, Z = np.meshgrid(xs, ys, zs, indexing="ij")
    pts = np.stack([X, Y, Z], -1).reshape(-1, 3).astype(np.float32)
    return pts[solid.sdf(pts) < 0]


def frontal_column(x_mm: float) -> int:
    view = ph.get_view(site(), "frontal")
    return int(round(ph.project_point(view, (x_mm, 0.0, 0.0))[0] / view.pixel_mm))


def frontal_row(y_mm: float) -> int:
    view = ph.get_view(site(), "frontal")
    return int(round(ph.project_point(view, (0.0, y_mm, 0.0))[1] / view.pixel_mm))


def coracoid_points() -> np.ndarray:
    """Scapula points in front of the glenoid (z > 5 mm) and above it: the coracoid's distal part."""
    return inside_points(
        bone("scapula"), np.arange(5.0, 50.0, 0.7), np.arange(-40.0, -5.0, 0.7), np.arange(5.0, 40.0, 0.7)
    )


def test_coracoid_distal_part_is_oblique_to_the_ap_beam():
    """The coracoid's horizontal part runs forwards, laterally and a little down, at 30-60 degrees
    to the AP beam, so the film shows it foreshortened into an oval, not a ring seen exactly end-on
    (session 10: 12 degrees, "a perfect thick-walled ring")."""
    pts = coracoid_points()
    assert len(pts) > 500, len(pts)
    centred = pts - pts.mean(axis=0)
    axis = np.linalg.svd(centred, full_matrices=False)[2][0]
    angle = np.degrees(np.arccos(abs(axis[2])))
    assert 30.0 <= angle <= 60.0, angle


def test_coracoid_is_about_14_mm_wide_and_10_mm_thick():
    """Across its distal part the coracoid is 11-17 mm wide and 7-11.5 mm thick (men: width 14.6,
    thickness 9.8 mm, shoulder11-thai2022coracoid; breadth 13.9, thickness 8.6 mm,
    shoulder11-osteometric-coracoid); session 10 drew it 12-13 mm thick, a round bar."""
    pts = coracoid_points()
    c = pts.mean(axis=0)
    axis = np.linalg.svd(pts - c, full_matrices=False)[2][0]
    near = pts[np.abs((pts - c) @ axis) < 1.0]  # a 2 mm slab across the process at its middle
    up = np.array([0.0, 1.0, 0.0]) - axis[1] * axis
    up /= np.linalg.norm(up)
    side = np.cross(axis, up)
    thick = np.ptp(near @ up) + 0.7
    wide = np.ptp(near @ side) + 0.7
    assert 7.0 <= thick <= 11.5, thick
    assert 11.0 <= wide <= 17.0, wide


def test_acromion_slopes_down_from_the_acromial_angle():
    """The acromion's top is at least 4 mm higher at its posterior end (the acromial angle) than at
    its anterior end, so the AP beam crosses the plate obliquely (session 10: the posterior end was
    1.5 mm lower, the plate lay along the beam and printed as a glowing disk)."""
    xs, ys = np.arange(-20.0, -4.0, 0.5), np.arange(-55.0, -25.0, 0.5)
    back = inside_points(bone("scapula"), xs, ys, np.arange(-26.0, -20.0, 0.5))[:, 1].min()
    front = inside_points(bone("scapula"), xs, ys, np.arange(8.0, 14.0, 0.5))[:, 1].min()
    assert front - back >= 4.0, (back, front)


def test_acromiohumeral_distance_is_7_5_to_12_mm_on_the_ap():
    """On the AP the gap between the top of the humeral head and the acromion's undersurface, under
    the acromion (x -16 to -8 mm), is nowhere below 7.5 mm nor above 12 mm at its narrowest (2-D AHD
    8.8 +- 1.3 mm standing: shoulder11-josr2020ahd; 7-11 mm: shoulder11-pacs-shoulder-measurements;
    session 10: 6.1 mm, read as "the head fused to the acromion")."""
    scap = ph.solid_path_mm(site(), "frontal", "scapula")
    hum = ph.solid_path_mm(site(), "frontal", "humerus")
    px = ph.get_view(site(), "frontal").pixel_mm
    gaps = []
    for x in np.arange(-16.0, -7.5, 1.0):
        c = frontal_column(x)
        head_top = np.nonzero(hum[:, c] > 0.5)[0].min()
        above = np.nonzero(scap[:head_top, c] > 0.5)[0]
        assert len(above), x
        gaps.append((head_top - above.max() - 1) * px)
    assert 7.5 <= min(gaps) <= 12.0, np.round(gaps, 1)


def test_scapular_medial_border_is_a_rim_not_a_feathered_edge():
    """Across the scapular body (20 and 40 mm below the head centre) the scapula's path along the AP
    beam (mm, from its signed distance) is at least 1.4 x longer within 3 mm of its medial edge than
    8-12 mm lateral to it: the medial border prints as a line over the ribs (session 10: the plate
    thinned to nothing at its edge and the body had no outline)."""
    scap = bone("scapula")
    xs, zs = np.arange(50.0, 115.0, 0.5), np.arange(-100.0, -30.0, 0.25)
    for y in (20.0, 40.0):
        X, Z = np.meshgrid(xs, zs, indexing="ij")
        pts = np.stack([X, np.full_like(X, y), Z], -1).reshape(-1, 3).astype(np.float32)
        path = (scap.sdf(pts) < 0).reshape(X.shape).sum(axis=1) * 0.25
        edge_x = xs[np.nonzero(path > 0.3)[0].max()]
        edge = path[xs >= edge_x - 3.0].max()
        inner = path[(xs >= edge_x - 12.0) & (xs <= edge_x - 8.0)].mean()
        assert edge >= 1.4 * inner, (y, edge_x, edge, inner)


def test_lung_field_lies_under_a_chest_wall_of_normal_thickness():
    """Where the beam crosses aerated lung (> 60 mm) and no bone, the soft tissue in front of and
    behind the lung (skin, fat, muscle) totals under 63 mm (median), so the lung field prints darker
    than the arm (session 10: 68 mm; the lung field was as grey as the deltoid)."""
    th = ph.project(site(), "frontal").thickness_mm
    field = ndimage.binary_erosion((th["lung"] > 60) & (th["cortical_bone"] < 0.05), iterations=3)
    assert field.sum() > 5000, field.sum()
    soft = sum(th[m] for m in ("skin", "soft_tissue", "adipose", "muscle"))
    assert np.median(soft[field]) < 63.0, np.median(soft[field])
