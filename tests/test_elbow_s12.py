"""Session 12: the elbow films a blind read scored 1/5 (session 11: "the distal humerus is a ball on
a rod, the ulna a flat block ... no olecranon"). Physical checks on the posed 90-degree lateral.

Flexed frame of the lateral: b mm behind and d mm below the flexion axis (the centre of the trochlea,
body y -8, z 4 of site_elbow.yml); a posed body point is y = -8 + d, z = 4 - b.
"""

from functools import cache

import numpy as np

from calcifications import phantom as ph

_AXIS_Y, _AXIS_Z = -8.0, 4.0


@cache
def _posed_lateral() -> dict[str, ph.Solid]:
    site = ph.load_site("site_elbow")
    return {s.id: s for s in ph.posed(site, ph.get_view(site, "lateral")).bones()}


def _inside(bone: str, x: float, b: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Whether the posed bone holds the flexed-frame points (x, b, d) (mm)."""
    solid = _posed_lateral()[bone]
    pts = np.stack([np.full(b.size, x), _AXIS_Y + d.ravel(), _AXIS_Z - b.ravel()], 1).astype(np.float32)
    return (solid.sdf(pts) < 0).reshape(b.shape)


def test_flexed_olecranon_is_a_thick_process_behind_the_trochlea():
    """Six mm below its tip the olecranon is solid bone at least 10 mm from front (the notch) to back
    (the triceps insertion), about as the 16.7 mm from the tip's anterior point to the most posterior
    point of the olecranon (erdem_proximalulna) allows above the notch; session 11's hook was 2-7 mm
    thick and vanished behind the trochlea."""
    b = np.arange(8.0, 32.0, 0.25)
    d_all = np.arange(-8.0, 10.0, 0.25)
    bb, dd = np.meshgrid(b, d_all, indexing="ij")
    inside = _inside("ulna", 9.0, bb, dd)
    tip = float(dd[inside].min())
    for d in (tip + 6.0, tip + 9.0):
        row = _inside("ulna", 9.0, b, np.full_like(b, d))
        assert row.sum() * 0.25 >= 10.0, (d, row.sum() * 0.25)


def test_flexed_olecranon_back_lies_behind_the_posterior_humeral_cortex():
    """On a 90-degree lateral the olecranon is the most posterior bone of the elbow: its back lies
    behind the posterior cortex of the distal humeral shaft (here at least 2 mm), not tucked under
    the humerus as in session 11."""
    x = np.arange(-25.0, 30.0, 1.0)
    b = np.arange(-10.0, 40.0, 0.25)
    xx, bb = np.meshgrid(x, b, indexing="ij")
    humerus = _posed_lateral()["humerus"]
    pts = np.stack([xx.ravel(), np.full(xx.size, _AXIS_Y - 45.0), _AXIS_Z - bb.ravel()], 1).astype(np.float32)
    hum_back = float(bb.ravel()[humerus.sdf(pts) < 0].max())  # 45 mm above the axis
    d = np.arange(0.0, 20.0, 0.5)
    x2, b2, d2 = np.meshgrid(np.arange(0.0, 20.0, 1.0), b, d, indexing="ij")
    ulna = _posed_lateral()["ulna"]
    pts = np.stack([x2.ravel(), _AXIS_Y + d2.ravel(), _AXIS_Z - b2.ravel()], 1).astype(np.float32)
    ole_back = float(b2.ravel()[ulna.sdf(pts) < 0].max())
    assert ole_back >= hum_back + 2.0, (ole_back, hum_back)


def test_flexed_ulna_has_no_seam_under_the_radial_head():
    """Below the radial head the ulna's thickness along the lateral beam varies smoothly from front to
    back: no slab 1-2 mm wide where it drops by a quarter (session 11: the joint clearance of the radial
    head's flat 0.6 mm cap cut 4 mm out of the ulna there, a dark line across it on the lateral)."""
    x = np.arange(-5.0, 25.0, 0.25)
    for d in (8.0, 10.0, 12.0, 14.0, 16.0):
        thick = [_ml_path(x, b, d) for b in (-13.5, -11.5, -9.5)]
        assert thick[1] >= 0.9 * min(thick[0], thick[2]), (d, thick)


def _ml_path(x: np.ndarray, b: float, d: float) -> float:
    """Ulna along the lateral beam (mm of x) at the flexed-frame point (b, d)."""
    solid = _posed_lateral()["ulna"]
    pts = np.stack([x, np.full(x.size, _AXIS_Y + d), np.full(x.size, _AXIS_Z - b)], 1).astype(np.float32)
    return float((solid.sdf(pts) < 0).sum() * (x[1] - x[0]))
