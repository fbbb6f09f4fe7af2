"""The engine's speed-ups give the same bits as the plain formulas they replace (issue 8, item 7)."""

from __future__ import annotations

import numpy as np
import pytest

from calcifications import anatomy as anat
from calcifications import patterns as pat
from calcifications import phantom as ph
from calcifications import radiograph as rg


def test_expanded_nonzero_equals_nonzero_of_the_fine_mask():
    rng = np.random.default_rng(7)
    for _ in range(100):
        shape = tuple(int(n) for n in rng.integers(1, 9, 3))
        active = rng.random(shape) < rng.random()
        index = [np.sort(rng.integers(0, n, int(rng.integers(1, 20)))) for n in shape]
        expected = np.nonzero(active[index[0]][:, index[1]][:, :, index[2]])
        got = ph._expanded_nonzero(active, *index)
        for e, g in zip(expected, got):
            assert g.dtype == e.dtype and np.array_equal(g, e)


def _sphere_union_plain(anatomy, spheres, blend_mm, shrink_mm=0.0):
    """The stacked formula sphere_union replaced."""
    x, y = anatomy.grid.coordinates()
    k = max(blend_mm, 1e-3)
    ds = np.stack([np.hypot(x - sx, y - sy) - (r - shrink_mm) for sx, sy, r in spheres])
    radii = np.stack([np.broadcast_to(r - shrink_mm, anatomy.grid.shape) for _, _, r in spheres])
    low = ds.min(axis=0)
    w = np.exp(-(ds - low) / k)
    d = low - k * np.log(w.sum(axis=0))
    r_eff = np.clip((w * radii).sum(axis=0) / w.sum(axis=0), 1e-3, None)
    half = np.sqrt(np.clip(-d, 0.0, None) * np.clip(2 * r_eff + d, 0.0, None))
    return 2.0 * half, d


@pytest.mark.parametrize("shrink", ["none", "scalar", "map"])
def test_sphere_union_gives_the_bits_of_the_stacked_formula(shrink):
    anatomy = anat.from_projection("site_knee", "frontal", (128, 128))
    rng = np.random.default_rng(3)
    spheres = [(float(rng.uniform(20, 120)), float(rng.uniform(20, 120)), float(rng.uniform(2, 15))) for _ in range(9)]
    amount = {"none": 0.0, "scalar": 0.7, "map": rng.uniform(0, 1, anatomy.grid.shape)}[shrink]
    (chord, dist), (chord_got, dist_got) = (
        _sphere_union_plain(anatomy, spheres, 2.0, amount),
        pat.sphere_union(anatomy, spheres, 2.0, amount),
    )
    assert np.array_equal(chord_got, chord)  # every pixel, inside the window and out
    inside = np.isfinite(dist_got)
    assert np.array_equal(dist_got[inside], dist[inside])
    assert (dist[~inside] > 0).all()  # +inf only where the outline is truly outside


def test_sphere_union_window_holds_the_whole_outline():
    """Small spheres in a corner of a large grid: the window is small, the chord is still the full formula's."""
    anatomy = anat.from_projection("site_knee", "frontal", (256, 256))
    spheres = [(30.0, 40.0, 6.0), (38.0, 44.0, 4.0), (26.0, 50.0, 3.0), (20.0, 34.0, 5.0)]
    for blend, shrink in ((1.5, 0.0), (6.0, -1.5), (3.0, 0.8)):
        (chord, dist), (chord_got, dist_got) = (
            _sphere_union_plain(anatomy, spheres, blend, shrink),
            pat.sphere_union(anatomy, spheres, blend, shrink),
        )
        assert np.array_equal(chord_got, chord)
        assert 0 < np.isfinite(dist_got).mean() < 0.5  # the window is a small part of the grid
        assert np.array_equal(dist_got[np.isfinite(dist_got)], dist[np.isfinite(dist_got)])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_checked_array_still_refuses_non_finite_values(bad):
    values = np.ones((8, 8), np.float32)
    values[3, 4] = bad
    with pytest.raises(ValueError, match="NaN or infinity"):
        rg._checked_array("map", values)


def test_checked_array_still_refuses_negative_values_when_asked():
    values = np.ones((8, 8))
    values[0, 0] = -1.0
    assert rg._checked_array("map", values) is not None
    with pytest.raises(ValueError, match="negative"):
        rg._checked_array("map", values, True)
