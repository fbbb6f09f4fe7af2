"""Ankle lateral, session 12 (data/anatomy/site_ankle_foot.ankle.yml): the blind readers of
session 11 saw "a talus with a hole" and "a calcaneus that is a block". The sinus tarsi must be a
slit between the talar neck and the calcaneus (not a round lucency ringed by cortex), the
sustentaculum tali a ledge joined to the calcaneal body under the talar neck, the back of the
tuberosity convex and the plantar surface concave between the tuberosity processes and the
anterior tubercle. Quantities are path lengths and positions in mm (display independent)."""

import numpy as np
import pytest

from calcifications import phantom as ph


@pytest.fixture(scope="module")
def foot():
    data = ph.load_site("site_ankle_foot")
    return data, {s.id: s for s in data.solids}


def _line(solid: ph.Solid, x: float, z: float, lo: float = -80.0, hi: float = 40.0) -> np.ndarray:
    """Body y (mm) of the points of ``solid`` on the vertical line (x, z), 0.1 mm apart."""
    ys = np.arange(lo, hi, 0.1)
    p = np.stack([np.full_like(ys, x), ys, np.full_like(ys, z)], 1).astype(np.float32)
    return ys[solid.sdf(p) < 0]


def _column(data, z: float) -> int:
    view = data.views["lateral"]
    return int(round(ph.project_point(view, (-35.0, 0.0, z))[0] / view.pixel_mm))


def test_sinus_tarsi_is_a_slit_not_a_hole(foot):
    """Between the talar neck and the calcaneus, in front of the posterior facet, the rows with no
    bone at all along the beam (the lucent sinus tarsi) span at most 6 mm (it was about 12 mm: a
    black oval read as a hole in the talus)."""
    data, _ = foot
    view = data.views["lateral"]
    px = view.pixel_mm
    bone = sum(ph.solid_path_mm(data, "lateral", b.id) for b in data.bones())
    y_top = ph.project_point(view, (-35.0, -45.0, -135.0))[1] / px
    y_bot = ph.project_point(view, (-35.0, -5.0, -135.0))[1] / px
    worst = 0.0
    for z in np.arange(-142.0, -121.0, 2.0):
        col = bone[int(y_top) : int(y_bot), _column(data, z)] < 1.0
        runs = np.diff(np.flatnonzero(np.diff(np.r_[0, col.astype(int), 0])))[::2] if col.any() else [0]
        worst = max(worst, float(np.max(runs)) * px)
    assert worst <= 6.0, worst


def test_sustentaculum_is_a_ledge_joined_to_the_body(foot):
    """In a medial sagittal line the calcaneus runs without a gap from the top of the
    sustentaculum (just under the talar neck, the middle facet) down into the body."""
    _, s = foot
    for z in (-136.0, -131.0, -126.0):
        ys = _line(s["calcaneus"], -22.0, z)
        assert ys.size and ys.min() <= -20.0, z  # the ledge's top under the neck
        assert np.all(np.diff(ys) < 0.15), z  # one run: joined to the body, no lucent gap
        if z == -136.0:
            continue  # behind the middle facet
        tal = _line(s["talus"], -22.0, z)
        assert tal.size and 1.0 <= ys.min() - tal.max() <= 4.0, (z, ys.min() - tal.max())  # the middle facet


def test_tuberosity_back_is_convex(foot):
    _, s = foot
    cal = s["calcaneus"]
    # back of the tuberosity: furthest back below mid-height, receding towards the upper corner
    zs = np.arange(-205.0, -170.0, 0.1)

    def back_z(y: float) -> float:
        p = np.stack([np.full_like(zs, -31.0), np.full_like(zs, y), zs], 1).astype(np.float32)
        return float(zs[cal.sdf(p) < 0].min())

    assert back_z(-10.0) >= back_z(5.0) + 1.5
    assert back_z(20.0) >= back_z(5.0) + 3.0
