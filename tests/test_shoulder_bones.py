"""Shoulder bones on the AP of the body (site_shoulder.yml): the proximal humerus with its
greater tuberosity, anatomic-neck sulcus and thick shaft cortex; the glenoid a concave,
pear-shaped socket (not a convex-edged lens); an open acromioclavicular joint at the level of
the clavicle; the coracoid seen end-on over the upper glenoid neck; the scapular spine below
the clavicle (no doubled clavicular contour); a smooth lateral scapular border (no beads)."""

from __future__ import annotations

from functools import cache

import numpy as np

from calcifications import phantom as ph

SITE = "site_shoulder"
GLENOID_VERSION_DEG = 34.0  # the glenoid face turned from the coronal plane (site file header)
GLENOID_TILT_DEG = 5.0  # session 10: the face tilted to look 5 degrees upwards (superior inclination)


@cache
def site() -> ph.Site:
    return ph.load_site(SITE)


def bone(s: ph.Site, bone_id: str) -> ph.Solid:
    return next(b for b in s.bones() if b.id == bone_id)


def frontal_path(s: ph.Site, solid_id: str) -> np.ndarray:
    return ph.solid_path_mm(s, "frontal", solid_id)


def pixel(s: ph.Site, p) -> tuple[int, int]:
    """(row, column) of body point ``p`` on the frontal view."""
    view = ph.get_view(s, "frontal")
    x, y = ph.project_point(view, p)
    return int(round(y / view.pixel_mm)), int(round(x / view.pixel_mm))


def projected_mask(solid: ph.Solid, xs, ys, zs) -> np.ndarray:
    """Inside-mask of ``solid`` projected along z (the AP beam) on the (x, y) grid."""
    X, Y, Z = np.meshgrid(xs, ys, zs, indexing="ij")
    pts = np.stack([X, Y, Z], -1).reshape(-1, 3).astype(np.float32)
    return (solid.sdf(pts) < 0).reshape(X.shape).any(axis=2)


# ---------------------------------------------------------------- humerus ----


def humerus_top_outline(s: ph.Site) -> tuple[np.ndarray, np.ndarray]:
    """Top of the humerus on the AP (smallest y, mm) per column x from lateral to the head top."""
    xs = np.arange(-40.0, 2.0, 0.5)
    ys = np.arange(-30.0, 20.0, 0.5)
    inside = projected_mask(bone(s, "humerus"), xs, ys, np.arange(-26.0, 26.0, 1.0))
    top = np.array([ys[np.argmax(col)] if col.any() else np.nan for col in inside])
    return xs, top


def check_greater_tuberosity(s: ph.Site) -> None:
    xs, top = humerus_top_outline(s)
    ok = ~np.isnan(top)
    xs, top = xs[ok], top[ok]
    head_top = top.min()
    lateral = xs.min()
    head_r = s.landmarks["humeral_head_radius_mm"]
    # the greater tuberosity is the lateral-most prominence, well beyond the head's own outline
    assert lateral < -head_r - 6, lateral
    # ... with its own summit 6-12 mm below the top of the head (eorif_humeral_head: 8-10 mm)
    gt = (xs < -22) & (xs > lateral + 3)
    gt_top = top[gt].min()
    assert 6 <= gt_top - head_top <= 12, (gt_top, head_top)
    # ... and a sulcus (the anatomic neck) between its summit and the articular surface: the
    # outline dips going medially from the tuberosity before it rises over the head
    gt_x = xs[gt][np.argmin(top[gt])]
    between = (xs > gt_x) & (xs < -12)
    dip = top[between].max() - gt_top
    assert dip >= 0.8, dip  # not a smooth dome from the head down to the shaft


def test_greater_tuberosity_is_a_lateral_prominence_with_a_sulcus_under_the_head_top():
    check_greater_tuberosity(site())


def check_shaft_cortex(s: ph.Site) -> None:
    hum = bone(s, "humerus")
    (p0, p1) = (np.asarray(p, float) for p in hum.axis)
    s_of = lambda y: (y - p0[1]) / (p1[1] - p0[1])  # noqa: E731 (axis runs along y)
    cortex = np.asarray(hum.cortex_mm, float).reshape(-1, 2) if not np.isscalar(hum.cortex_mm) else None
    assert cortex is not None
    trab = np.asarray(hum.trabecular_fraction, float).reshape(-1, 2)
    shaft = hum.parts[1]
    for y in (80.0, 120.0, 160.0):
        c = float(np.interp(s_of(y), cortex[:, 0], cortex[:, 1]))
        radius = float(np.interp(y, [p[1] for p in shaft.path], [sec[0] for sec in shaft.sections]))
        assert c >= 4.5, (y, c)  # a thick diaphyseal cortex, not a thin double line
        assert radius - c >= 6.0, (y, radius, c)  # ... round an open medullary canal
        assert float(np.interp(s_of(y), trab[:, 0], trab[:, 1])) == 0.0  # a smooth canal
    # the metaphysis keeps a thin cortex (the head is cancellous bone under a thin shell)
    assert float(np.interp(s_of(0.0), cortex[:, 0], cortex[:, 1])) < 1.5


def test_humeral_shaft_has_a_thick_cortex_round_a_medullary_canal():
    check_shaft_cortex(site())


def test_humeral_shaft_cortex_projects_as_thick_walls():
    """On the AP the shaft's cortical walls are several mm wide (the cortical-bone path peaks
    near each edge and falls in the middle over the canal)."""
    from calcifications import anatomy as an

    a = an.build(SITE, "frontal")
    cort = a.thickness_mm["cortical_bone"]
    px = a.grid.pixel_mm
    r, _ = pixel(site(), (0.0, 110.0, 0.0))
    row = cort[r]
    cols = np.nonzero(row > 1.0)[0]
    hx = pixel(site(), (-13.0, 110.0, 0.0))[1]
    cols = cols[np.abs(cols - hx) < 20 / px]  # the shaft only
    assert len(cols)
    prof = row[cols[0] : cols[-1] + 1]
    width = len(prof) * px
    assert 18 <= width <= 30, width
    mid = prof[len(prof) // 3 : 2 * len(prof) // 3]
    assert mid.min() < 0.75 * prof.max()  # a canal: the middle is less dense than the walls
    walls = np.nonzero(prof > 0.5 * prof.max())[0]
    left = walls[walls < len(prof) // 2]
    assert len(left) * px >= 2.5, len(left) * px  # each wall a band of several mm


# ---------------------------------------------------------------- glenoid ----


def glenoid_face_depth(s: ph.Site, u: float, v: float) -> float:
    """Distance (mm) from the head centre along the glenoid axis to the articular surface, at
    offset u (in the glenoid plane, + anterior) and v (+ inferior) from the glenoid centre."""
    a, b = np.radians(GLENOID_VERSION_DEG), np.radians(GLENOID_TILT_DEG)
    n = np.array([np.cos(a) * np.cos(b), np.sin(b), -np.sin(a) * np.cos(b)])  # from the head into the glenoid
    t = np.array([np.sin(a), 0.0, np.cos(a)])
    down = np.cross(t, n)  # in the face, inferior
    centre = np.asarray(s.landmarks["glenoid"], float)
    centre = centre - np.dot(centre, n) * n  # the glenoid axis through the head centre
    depth = np.arange(12.0, 45.0, 0.1)
    pts = (depth[:, None] * n + u * t + (centre + v * down)).astype(np.float32)
    inside = bone(s, "scapula").sdf(pts) < 0
    return float(depth[np.argmax(inside)]) if inside.any() else float("nan")


def check_glenoid_socket(s: ph.Site) -> None:
    centre = glenoid_face_depth(s, 0.0, 0.0)
    up, down = glenoid_face_depth(s, 0.0, -11.0), glenoid_face_depth(s, 0.0, 11.0)
    front, back = glenoid_face_depth(s, 7.0, 0.0), glenoid_face_depth(s, -7.0, 0.0)
    # concave: the rims stand nearer the head than the centre of the face (bony depth a few mm
    # superoinferiorly, less anteroposteriorly), not a convex lens whose edges fall away
    assert centre - up >= 1.2 and centre - down >= 1.2, (centre, up, down)
    assert centre - front >= 0.5 and centre - back >= 0.5, (centre, front, back)

    # pear-shaped: wider below than above (chen2023glenoid: 19.5 mm above, 26 mm below)
    def width(v: float) -> float:
        us = np.arange(-16.0, 16.01, 0.5)
        d = np.array([glenoid_face_depth(s, u, v) for u in us])
        ok = us[d < centre + 0.5]  # the face: the concave surface, not the rim's outer slopes
        return float(ok.max() - ok.min()) if len(ok) else 0.0

    upper, lower = width(-8.0), width(8.0)
    assert lower > upper + 2, (upper, lower)
    assert 16 <= upper <= 26 and 21 <= lower <= 31, (upper, lower)
    # ... and 35-39 mm tall (chen2023glenoid: 35 mm)
    vs = np.arange(-26.0, 26.01, 0.5)
    d = np.array([glenoid_face_depth(s, 0.0, v) for v in vs])
    tall = vs[d < centre + 0.5]
    assert 30 <= tall.max() - tall.min() <= 42, tall.max() - tall.min()


def test_glenoid_is_a_concave_pear_shaped_socket():
    check_glenoid_socket(site())


# ----------------------------------------------------- AC joint, clavicle ----


def check_ac_joint(s: ph.Site) -> None:
    scap, clav = frontal_path(s, "scapula"), frontal_path(s, "clavicle")
    view = ph.get_view(s, "frontal")
    px = view.pixel_mm
    ac = next(j.center for j in s.joints if j.name == "acromioclavicular")
    r, c = pixel(s, ac)
    # the clavicle's lateral end and the acromion's medial margin at the same level with a
    # lucent joint between them on the AP (~3-5 mm; no posterior acromion laid over it)
    rows = slice(r - int(2 / px), r + int(2 / px) + 1)
    cols = slice(c - int(8 / px), c + int(8 / px) + 1)
    both = scap[rows, cols] + clav[rows, cols]
    lucent = (both < 0.25 * both.max()).all(axis=0)  # the rounded joint ends leave a few mm of bone
    run = best = 0
    for v in lucent:
        run = run + 1 if v else 0
        best = max(best, run)
    assert best * px >= 1.5, best * px
    assert (scap[rows, cols] > 3).any() and (clav[rows, cols] > 3).any()  # both bones reach it
    # inferior borders aligned within a few mm (the joint not stepped): the lowest point of each
    # bone within 9 mm of the joint centre, in front of the scapular spine (z > 5)
    step = 0.5
    g = np.stack(np.meshgrid(*[np.arange(q - 9, q + 9.01, step) for q in ac], indexing="ij"), -1)
    pts = g.reshape(-1, 3).astype(np.float32)
    pts = pts[(np.linalg.norm(pts - np.asarray(ac, np.float32), axis=1) < 9) & (pts[:, 2] > 5)]
    acro = pts[bone(s, "scapula").sdf(pts) < 0]
    clavicle = pts[bone(s, "clavicle").sdf(pts) < 0]
    assert len(acro) and len(clavicle)
    assert abs(acro[:, 1].max() - clavicle[:, 1].max()) <= 4.0, (acro[:, 1].max(), clavicle[:, 1].max())
    # ... and 2.5-6 mm apart in 3-D (AC joint about 3-5 mm wide)
    d = np.min(np.linalg.norm(acro[::3, None, :] - clavicle[None, ::3, :], axis=2))
    assert 2.0 <= d <= 6.5, d


def test_acromioclavicular_joint_is_open_and_level():
    check_ac_joint(site())


def check_spine_below_clavicle(s: ph.Site) -> None:
    """The scapular spine runs below the clavicle on the AP (no second, parallel 'clavicle')."""
    scap, clav = frontal_path(s, "scapula"), frontal_path(s, "clavicle")
    px = ph.get_view(s, "frontal").pixel_mm
    for x in (45.0, 60.0, 75.0):
        _, c = pixel(s, (x, 0.0, 0.0))
        rows = np.nonzero(clav[:, c] > 2)[0]
        assert len(rows), x
        low = rows.max()
        band = scap[low + 1 : low + 1 + int(7 / px), c]
        assert band.max() < 12, (x, band.max())  # only the thin superior border, not the spine


def test_scapular_spine_runs_below_the_clavicle():
    check_spine_below_clavicle(site())


def check_coracoid(s: ph.Site) -> None:
    v = bone(s, "scapula")
    xs, ys, zs = np.arange(12.0, 50.0, 0.7), np.arange(-50.0, 0.0, 0.7), np.arange(10.0, 45.0, 0.7)
    tip = projected_mask(v, xs, ys, zs)  # the anterior scapula: the coracoid's distal part
    assert tip.any()
    area = tip.sum() * 0.7**2
    # seen end-on as an oval ring over a centimetre across, not a blob (session 10: 120, was 180 when
    # the distal process curled sideways and its projection was smeared along its path)
    assert area >= 120, area
    xi, yi = np.nonzero(tip)
    cx, cy = xs[xi].mean(), ys[yi].mean()
    g = s.landmarks["glenoid"]
    assert abs(cx - g[0]) < 12, (cx, g)  # over the upper glenoid / scapular neck ...
    assert -40 < cy < g[1] - 15, (cy, g)  # ... above the glenoid, below the clavicle


def test_coracoid_seen_end_on_over_the_upper_glenoid_neck():
    check_coracoid(site())


def check_lateral_border_smooth(s: ph.Site) -> None:
    """No beads: the scapula's projected path along its lateral border varies smoothly."""
    scap = frontal_path(s, "scapula")
    px = ph.get_view(s, "frontal").pixel_mm
    a, b = np.array([44.0, 42.0, -31.3]), np.array([71.8, 88.0, -57.0])
    profile = []
    for f in np.linspace(0, 1, 80):
        r, c = pixel(s, a + f * (b - a))
        profile.append(scap[r, c - int(6 / px) : c + int(6 / px) + 1].max())
    profile = np.asarray(profile)
    k = 9
    smooth = np.convolve(np.pad(profile, k // 2, mode="edge"), np.ones(k) / k, mode="valid")
    assert (profile > 5).all(), profile.min()  # a continuous thick border
    assert np.abs(profile - smooth).max() < 0.15 * smooth.mean(), np.abs(profile - smooth).max()


def test_lateral_scapular_border_is_a_smooth_thick_edge():
    check_lateral_border_smooth(s=site())
