"""Session 12 (display12): no dark halo round a deposit, and the faster display chain's equivalences.

The halo tests work on synthetic log images (line integrals) and compare the display with and
without the deposit, so they measure what the deposit alone does to its surroundings whatever the
tone curve: before session 12 the detail bands printed a ring 1-3 mm outside every dense deposit
1-6 grey levels darker than the same soft tissue without it.
"""

from __future__ import annotations

import numpy as np
import pytest

from calcifications import radiograph as rg

PIXEL_MM = 0.4
N = 480


def _limb() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A round limb 170 mm across (soft tissue μ 0.02/mm, chord profile) with a 24 mm bone at its
    axis: (row mm, column mm, log image, bone mask), centred on the grid."""
    yy, xx = (np.mgrid[0:N, 0:N] - N / 2) * PIXEL_MM
    soft = 0.02 * 2 * np.sqrt(np.clip(85.0**2 - xx**2, 0, None))
    bone_path = 2 * np.sqrt(np.clip(12.0**2 - xx**2, 0, None))
    return yy, xx, (soft + 0.11 * bone_path).astype(np.float32), bone_path > 0.5


def _with_and_without(radius_mm: float, excess: float, noise: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Displays (grey levels 0-255) of the limb with a calcified sphere (``excess`` log units through
    its centre) in the subcutaneous fat 50 mm from the axis, and without it; distance (mm) to its centre."""
    yy, xx, base, bone = _limb()
    if noise:
        base = base + np.random.default_rng(3).normal(0.0, noise, base.shape).astype(np.float32)
    d = np.hypot(yy, xx + 50.0)
    sphere = (excess * np.sqrt(np.clip(1 - (d / radius_mm) ** 2, 0, 1))).astype(np.float32)
    window = rg.Window.dr()
    with_it = rg.apply_window(base + sphere, window, PIXEL_MM, bone) * 255
    without = rg.apply_window(base, window, PIXEL_MM, bone) * 255
    return with_it, without, d


@pytest.mark.parametrize(("radius_mm", "excess"), [(1.5, 0.6), (2.0, 0.6), (3.0, 1.0), (5.0, 1.5)])
def test_a_calcified_nodule_in_fat_has_no_dark_rim(radius_mm, excess):
    """The ring 1-3 mm outside the nodule is not darker than the same fat without the nodule (by
    more than half a grey level on average, 1.5 at any one place), and the nodule itself is bright.
    The old chain: -0.7 / -1.3 / -2.5 / -4.1 grey levels on average (min -1.1 / -1.6 / -2.9 / -4.7)."""
    with_it, without, d = _with_and_without(radius_mm, excess)
    change = with_it - without
    ring = change[(d > radius_mm + 1.0) & (d < radius_mm + 3.0)]
    assert ring.mean() > -0.5, f"ring {ring.mean():+.2f} grey levels"
    assert ring.min() > -1.5, f"darkest ring pixel {ring.min():+.2f} grey levels"
    assert change[d < radius_mm / 2].mean() > 60  # the deposit stands out


def test_a_noisy_nodule_has_no_dark_rim_either():
    """With quantum-like noise (σ 0.03 log units) the ring round a 5 mm-radius nodule averages
    within half a grey level of the fat without it (old chain: -4 grey levels)."""
    with_it, without, d = _with_and_without(5.0, 1.5, noise=0.03)
    ring = (with_it - without)[(d > 6.0) & (d < 8.0)]
    assert ring.mean() > -0.5, f"ring {ring.mean():+.2f} grey levels"


def test_the_deposit_zone_finds_nodules_not_ramps_or_bone():
    """The white top-hat flags the nodule and not the limb's thickening from the skin (a steep ramp:
    0 to 1 log unit over 10 mm) nor the soft tissue beside the bone."""
    yy, xx, base, bone = _limb()
    d = np.hypot(yy, xx + 50.0)
    log_img = base + np.where(d < 2.0, np.float32(0.6), np.float32(0.0))
    soft = (log_img > 0.02) & ~bone
    core, zone, background = rg._deposit_zone(log_img, soft, PIXEL_MM)
    assert core[d < 1.5].all() and not core[d > 2.5].any()
    assert zone[(d > 2.5) & (d < 4.0)].all() and not zone[d > 6.0].any()
    assert background[d < 1.0].max() < base[d < 1.0].max() + 0.05  # the fat beneath, not the deposit


def test_bad_input_to_the_display_is_a_clear_value_error():
    with pytest.raises(ValueError, match="NaN or infinity"):
        rg.apply_window(np.full((20, 20), np.nan, np.float32), rg.Window.dr(), 0.4)
    with pytest.raises(ValueError, match="pixel_mm"):
        rg.apply_window(np.ones((20, 20), np.float32), rg.Window.dr(), 0.0)


@pytest.mark.parametrize(
    ("factor", "shape", "coarse"), [(2, (512, 512), (256, 256)), (7, (300, 200), (43, 29)), (14, (60, 53), (1, 4))]
)
def test_the_upsampling_gives_the_bits_of_the_two_gather_formula(factor, shape, coarse):
    """``_upsample`` (steps taken on the coarse grid, gathered once) equals the plain bilinear
    formula a[i0] + (a[i1] − a[i0])·f on each axis, bit for bit."""
    small = np.random.default_rng(factor).random(coarse).astype(np.float32)
    j0, _, fj = rg._upsample_taps(shape[1], factor, coarse[1])
    j1 = np.minimum(j0 + 1, coarse[1] - 1)
    cols = small[:, j0]
    cols += (small[:, j1] - cols) * fj[None, :]
    i0, _, fi = rg._upsample_taps(shape[0], factor, coarse[0])
    i1 = np.minimum(i0 + 1, coarse[0] - 1)
    expected = cols[i0]
    expected += (cols[i1] - expected) * fi[:, None]
    assert np.array_equal(rg._upsample(small, factor, shape), expected)


def test_the_tone_table_lookup_matches_np_interp():
    """The uniform-table lookup of the tone curve is np.interp on that grid within 1e-5 (0.003 grey level)."""
    rng = np.random.default_rng(0)
    table = np.cumsum(rng.random(4096))
    table /= table[-1]
    img = rng.uniform(-1.0, 6.0, (200, 300)).astype(np.float32)
    grid = np.linspace(0.5, 4.5, 4096)
    got = rg._uniform_lookup(img, 0.5, 4.5, table)
    assert got.dtype == np.float32
    assert np.abs(got - np.interp(img, grid, table)).max() < 1e-5


def test_heap_slack_is_scoped_and_harmless():
    """The glibc heap slack is a context: the display inside it is the display outside it."""
    yy, xx, base, bone = _limb()
    inside = rg.dr_process(base, rg.Window.dr(), PIXEL_MM, bone)
    with rg.heap_slack():
        again = rg.dr_process(base, rg.Window.dr(), PIXEL_MM, bone)
    assert np.array_equal(inside, again)


def test_square_dilation_by_slices_matches_scipy():
    from scipy import ndimage

    mask = np.random.default_rng(4).random((50, 41)) > 0.97
    for radius in (1, 3, 6):
        expected = ndimage.maximum_filter(mask, 2 * radius + 1, mode="constant")
        assert np.array_equal(rg._dilated_square(mask, radius), expected)
