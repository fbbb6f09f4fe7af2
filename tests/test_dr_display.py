"""The DR display chain (session 10): the faults four engineers found in the two-channel chain, each
tested on a synthetic film whose physics is known. Thresholds are display ratios or orderings with a
margin, so that a retuned tone curve keeps them meaningful."""

import numpy as np
import pytest

from calcifications import radiograph as rg

PIXEL_MM = 0.3
NOISELESS = rg.Exposure(energy_kev=30, fluence_photons_per_mm2=None, blur_fwhm_mm=0.35)


def _chord(xs: np.ndarray, radius: float) -> np.ndarray:
    """Path (mm) through a cylinder of ``radius`` (mm) at offsets ``xs`` (mm) from its axis."""
    return 2 * np.sqrt(np.clip(radius**2 - xs**2, 0, None))


def _thigh(rows: int = 240, cols: int = 400, scatter: float = 0.0):
    """A thigh seen side on: a 60 mm radius limb (muscle under 8 mm of fat) round a femoral shaft
    (13 mm outer radius, 6 mm cortex, marrow inside). Returns (x mm, log image, bone mask, maps)."""
    xs = (np.arange(cols) - cols / 2) * PIXEL_MM
    limb, inner = _chord(xs, 60.0), _chord(xs, 52.0)
    outer_bone, canal = _chord(xs, 13.0), _chord(xs, 7.0)
    maps = {
        "adipose": np.tile(limb - inner, (rows, 1)),
        "muscle": np.tile(inner - outer_bone, (rows, 1)),
        "cortical_bone": np.tile(outer_bone - canal, (rows, 1)),
        "yellow_marrow": np.tile(canal, (rows, 1)),
    }
    exposure = rg.Exposure(energy_kev=30, fluence_photons_per_mm2=None, blur_fwhm_mm=0.35, scatter_fraction=scatter)
    log_img = rg.render_log(rg.make_scene(maps, PIXEL_MM), exposure)
    return xs, log_img, np.tile(outer_bone > 0.5, (rows, 1)), maps


def test_a_diaphysis_with_scatter_shows_cortex_above_canal_above_muscle():
    """(a) With 12 % scatter the old chain inverted the shaft (a bright line, a dark band under the
    cortex, a bright canal). A processed film shows two bright cortices, a greyer canal, and the
    canal still brighter than the muscle beside the bone."""
    xs, log_img, bone, _ = _thigh(scatter=0.12)
    out = rg.apply_window(log_img, rg.Window.dr(), PIXEL_MM, bone)
    profile = out[40:200].mean(axis=0)
    cortex = profile[(np.abs(xs) > 7.5) & (np.abs(xs) < 12.5)].max()
    canal = profile[np.abs(xs) < 3.0].mean()
    under = profile[(np.abs(xs) > 6.0) & (np.abs(xs) < 8.0)].min()  # just inside the endosteum
    muscle = profile[(np.abs(xs) > 16.0) & (np.abs(xs) < 22.0)].mean()
    assert cortex > canal + 0.05, (cortex, canal)
    assert canal > muscle + 0.08, (canal, muscle)
    assert under > muscle + 0.05, "a dark band under the cortex"


def test_bone_reads_clearly_brighter_than_muscle_throughout():
    """(f) Bones read as outline drawings when the display subtracted the bone's own low-pass: its
    interior came out barely brighter than the soft tissue. The bone's median grey is well above
    the muscle's."""
    xs, log_img, bone, _ = _thigh()
    out = rg.apply_window(log_img, rg.Window.dr(), PIXEL_MM, bone)
    muscle = (np.abs(xs) > 16.0) & (np.abs(xs) < 45.0)
    assert np.median(out[bone]) > np.median(out[:, muscle]) + 0.2


def _with_disc(log_img: np.ndarray, xs: np.ndarray, x0: float, radius: float, rise: float) -> np.ndarray:
    """``log_img`` plus a disc of ``radius`` (mm) centred at ``x0`` (mm), mid-height, adding ``rise``."""
    rows = (np.arange(log_img.shape[0])[:, None] - log_img.shape[0] / 2) * PIXEL_MM
    return log_img + np.where(np.hypot(xs[None, :] - x0, rows) < radius, rise, 0.0)


def test_a_deposit_over_bone_rises_nearly_as_much_as_over_soft_tissue():
    """(b) "No added density over bone": the old tone curve was flat over bone, so the same deposit
    rose 0.08 over bone and 0.19 over soft tissue. The same 3 mm deposit (0.25 log units) now rises
    at least 0.6 times as much over the canal as over the muscle."""
    xs, log_img, bone, _ = _thigh()
    window = rg.Window.dr()
    plain = rg.apply_window(log_img, window, PIXEL_MM, bone)
    mid = log_img.shape[0] // 2
    rises = []
    for x0 in (0.0, 30.0):  # over the canal, over the muscle
        shown = rg.apply_window(_with_disc(log_img, xs, x0, 1.5, 0.25), window, PIXEL_MM, bone)
        c = int(np.argmin(np.abs(xs - x0)))
        rises.append(
            float(shown[mid - 1 : mid + 2, c - 1 : c + 2].mean() - plain[mid - 1 : mid + 2, c - 1 : c + 2].mean())
        )
    over_bone, over_soft = rises
    assert over_soft > 0.05
    assert over_bone >= 0.6 * over_soft, f"rise over bone {over_bone:.3f} vs over soft tissue {over_soft:.3f}"


def test_a_narrow_soft_gap_between_two_bones_reads_darker_than_both():
    """(c) The old chain grew every bone by 1 mm: a narrow joint space or a gap between carpal bones
    printed bright. A 1.5 mm soft-tissue gap between two bone blocks reads darker than both."""
    rows, cols = 200, 300
    xs = (np.arange(cols) - cols / 2) * PIXEL_MM
    log_img = np.tile(0.04 * _chord(xs, 40.0), (rows, 1))
    left = (xs > -15.0) & (xs < -0.75)
    right = (xs > 0.75) & (xs < 15.0)
    bone = np.tile(left | right, (rows, 1))
    log_img = log_img + np.where(bone, 1.2, 0.0)
    log_img = rg.detector_blur(log_img, 0.35, PIXEL_MM)
    out = rg.apply_window(log_img, rg.Window.dr(), PIXEL_MM, bone)
    profile = out[50:150].mean(axis=0)
    gap = profile[np.abs(xs) < 0.5].min()
    beside = min(profile[(xs > -5) & (xs < -2)].mean(), profile[(xs > 2) & (xs < 5)].mean())
    assert gap < beside - 0.1, f"gap {gap:.2f} vs bones {beside:.2f}"


def test_a_dense_deposit_keeps_a_grey_range_and_no_flat_white():
    """(d) Above its last anchor the old tone curve was flat: dense deposits printed flat white
    (pasted, hard edges). A dense 12 mm deposit (1.5 log units, with a ±0.1 texture) keeps its
    texture in grey and few of its pixels reach white."""
    xs, log_img, bone, _ = _thigh()
    rows = (np.arange(log_img.shape[0])[:, None] - log_img.shape[0] / 2) * PIXEL_MM
    texture = 0.1 * np.sin(xs[None, :] * 2.0) * np.cos(rows * 2.0)
    disc = np.hypot(xs[None, :] - 32.0, rows) < 6.0
    out = rg.apply_window(log_img + np.where(disc, 1.5 + texture, 0.0), rg.Window.dr(), PIXEL_MM, bone)
    core = np.hypot(xs[None, :] - 32.0, rows) < 4.0
    assert np.ptp(out[core]) > 0.04, "the deposit's texture is flattened"
    assert (out[core] >= 254.5 / 255).mean() < 0.05, "the deposit is clipped to white"


def test_a_medium_deposit_keeps_its_centre():
    """(e) The soft-tissue low-pass took a medium deposit's centre (fig09 read as a ring). An 8 mm
    uniform deposit (0.5 log units) in muscle is no darker in its centre than near its edge."""
    xs, log_img, bone, _ = _thigh()
    rows = (np.arange(log_img.shape[0])[:, None] - log_img.shape[0] / 2) * PIXEL_MM
    r = np.hypot(xs[None, :] - 30.0, rows)
    out = rg.apply_window(log_img + np.where(r < 4.0, 0.5, 0.0), rg.Window.dr(), PIXEL_MM, bone)
    centre, near_edge = out[r < 1.0].mean(), out[(r > 2.5) & (r < 3.3)].mean()
    assert centre >= near_edge - 0.02, f"centre {centre:.3f} vs near its edge {near_edge:.3f}"


@pytest.mark.parametrize("anchor", [[0.0, 1.0, 2.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
def test_the_tone_curve_is_monotone_with_a_soft_shoulder(anchor):
    """The tone curve rises everywhere (anchors merged when they coincide), reaches neither 1 at
    the last anchor nor a flat top above it."""
    x = np.linspace(-1.0, 6.0, 2001).astype(np.float32)
    y = rg._tone_curve(x, anchor, [0.1, 0.33, 0.78])
    assert np.all(np.diff(y) >= 0) and y.min() >= 0 and y.max() <= 1
    top = x > max(anchor)
    assert y[top][0] < 0.8 and np.any(np.diff(y[top][: len(y[top]) // 4]) > 0)  # still rising past the anchor


def test_weighted_anchor_percentiles():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    assert rg._anchor_percentiles(values, [50.0]) == [2.5]
    assert rg._anchor_percentiles(values, [50.0], np.array([0.0, 0.0, 0.0, 1.0])) == [4.0]
    assert rg._anchor_percentiles(values, [50.0], np.zeros(4)) == [2.5]  # no weight: unweighted
