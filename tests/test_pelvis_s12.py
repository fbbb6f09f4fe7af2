"""The AP hip as session-12 blind readers asked for it, measured on the anatomy and the lesions.

Readers of session 11's films: dark arrowhead- or letter-like marks at the superolateral hip joint
line on all four hip films, and fig15's tumoral-calcinosis mass poking out past the soft-tissue
contour. The marks were lucent pockets: the anterior and posterior acetabular walls were thin tubes
along the rim with no bone between them and the roof, so some beams through the superolateral joint
crossed no bone at all between beams that crossed the roof and the rim tubes. A real acetabulum is a
cup: its walls are sheets from the roof to the rim.

Body frame (mm): origin at the right femoral head centre, +x medial, +y inferior, +z anterior.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy import ndimage

from calcifications import figures as fg
from calcifications import phantom as ph

SITE = "site_hip_pelvis"
STEP_MM = 0.25


@cache
def _hip_bone_paths() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Path (mm) of the right hip bone along the AP beam (z) through points at radii 25-29 mm from the
    head centre and angles -20..50 deg from straight up (+ lateral), from its signed distance."""
    bone = {b.id: b for b in ph.load_site(SITE).bones()}["hip_bone_right"]
    radii, angles = np.arange(25.0, 29.5, 1.0), np.arange(-20.0, 51.0, 5.0)
    zs = np.arange(-45.0, 45.0, STEP_MM)
    rays = [
        np.stack(
            [np.full(zs.size, -math.sin(math.radians(a)) * r), np.full(zs.size, -math.cos(math.radians(a)) * r), zs], 1
        )
        for r in radii
        for a in angles
    ]
    inside = bone.sdf(np.concatenate(rays).astype(np.float32)) < 0
    return radii, angles, inside.reshape(radii.size, angles.size, zs.size).sum(axis=2) * STEP_MM


def test_no_lucent_pocket_in_the_acetabulum_over_the_superolateral_joint():
    """Along each arc over the head, from the medial roof to the lateral lip, the hip bone's path
    along the beam has no pocket: no beam crosses less than 0.6 x the bone of the beams on both sides of
    it
    (session 11: 0 mm at 15 and 45 deg lateral between 9-26 mm on either side, the dark arrowheads)."""
    radii, angles, path = _hip_bone_paths()
    for r, row in zip(radii, path):
        for i in range(1, row.size - 1):
            rim = min(row[:i].max(), row[i + 1 :].max())
            assert row[i] >= 0.6 * rim, (r, angles[i], row.round(1))


def test_the_walls_cover_the_head_under_the_lateral_roof():
    """Over the superolateral joint (20-40 deg lateral, just outside the head) the beam crosses at
    least 10 mm of acetabulum: the roof and the posterior wall, a sheet (session 11: 0-15 mm)."""
    radii, angles, path = _hip_bone_paths()
    sector = (angles >= 20.0) & (angles <= 40.0)
    assert path[:, sector].min() >= 10.0, path[:, sector].round(1)


def test_fig15_mass_lies_inside_the_soft_tissue_contour():
    """fig15's tumoral calcinosis lies in the trochanteric bursa, deep to the subcutaneous fat: all its
    calcium at least 5 mm inside the unlifted body outline (session 11: 1-2 mm, its lateral lobes on
    the skin line, read as poking out past the soft-tissue contour)."""
    spec = next(s for s in fg.load_specs() if s.id == "fig15")
    rng = np.random.default_rng(spec.seed)
    panel = spec.panels[0]
    anatomy, shift = fg.panel_anatomy(spec, panel, (256, 256), spec.zoom)
    anatomy, lesions, _ = fg.panel_scene(spec, panel, anatomy, rng, shift)
    body = anatomy.body_mask
    px = anatomy.grid.pixel_mm
    depth = ndimage.distance_transform_edt(body) * px
    calcium = sum(
        les.thickness_mm for les in lesions if les.material not in ("skin", "adipose", "soft_tissue", "water")
    )
    assert np.asarray(calcium).any()
    assert depth[calcium > 1e-3].min() >= 5.0, depth[calcium > 1e-3].min()
