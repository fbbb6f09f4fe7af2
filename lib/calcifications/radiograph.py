"""Synthetic projection radiographs: Beer–Lambert transmission, quantum noise, blur, display.

A :class:`Scene` is a set of material thickness maps (mm along the beam) on a
pixel grid of stated pixel size (mm). The beam is monoenergetic at a stated
effective energy (keV; default 30 keV, the effective energy of a 50–60 kVp
extremity beam behind a few cm of tissue). The image chain is:

1. line integral   ``L = Σ_m μ_m · t_m``            (μ in 1/mm, t in mm)
2. transmission    ``T = exp(−L)``                   (Beer–Lambert)
3. expected counts ``N̄ = Φ · a · T``                (Φ photons/mm², a pixel area mm²)
4. quantum noise   ``N ~ Poisson(N̄)``               (explicit numpy Generator)
5. detector blur   Gaussian of stated FWHM (mm)      (scipy.ndimage)
6. log transform   ``p = −ln(N / (Φ · a))``          (estimated line integral)
7. window/level    dense is white, output in [0, 1] (float) or uint8.

Every step is a pure function; :func:`render` chains them. A film's acquisition is a display
stage of its own (settings in ``data/acquisition.yml``, used by :mod:`calcifications.figures`):
:func:`expose_air` (the direct-exposure area dark but grainy, uneven by the heel effect, glowing
beside the skin), :func:`draw_collimation`, :func:`field_weight` and :func:`collimate` (a slightly
rotated, off-centre field of straight shutter edges, the border shuttered flat black), and
:func:`place_marker` and :func:`burn_marker` (the radiographer's lead R or L).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml
from scipy import ndimage
from scipy.interpolate import CubicHermiteSpline

from .materials import DEFAULT_ENERGY_KEV, Material, get_material, linear_attenuation_per_mm

FWHM_PER_SIGMA: float = 2.0 * math.sqrt(2.0 * math.log(2.0))


def _checked(name: str, value: float, allow_zero: bool = False, upper: float = math.inf, lower: float = 0.0) -> float:
    """``value`` as a float if it is a finite number within [lower, upper] (> lower unless
    ``allow_zero``); otherwise a ValueError naming ``name``. The one guard of this module."""
    if isinstance(value, (str, bytes, bool)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < lower or (v == lower and not allow_zero) or v > upper:
        low = f"≥ {lower:g}" if allow_zero else f"> {lower:g}"
        bound = low if upper == math.inf else f"{low} and ≤ {upper:g}"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return v


def _checked_array(name: str, values: np.ndarray, nonnegative: bool = False) -> np.ndarray:
    """``values`` if every element is finite (and ≥ 0 with ``nonnegative``), else a ValueError."""
    values = np.asarray(values)
    if not values.size:
        return values
    low, high = values.min(), values.max()  # NaN propagates to both, ±inf shows in one: no mask needed
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"{name} contains NaN or infinity")
    if nonnegative and low < 0:
        raise ValueError(f"{name} has negative values")
    return values


@dataclass(frozen=True)
class Scene:
    """Material thickness maps (mm along the beam) on a grid of ``pixel_mm`` square pixels."""

    pixel_mm: float
    layers: tuple[tuple[Material, np.ndarray], ...] = field(repr=False)

    def __post_init__(self) -> None:
        _checked("pixel_mm", self.pixel_mm)
        if not self.layers:
            raise ValueError("a scene needs at least one material layer")
        shape = self.layers[0][1].shape
        for material, thickness in self.layers:
            if thickness.ndim != 2 or thickness.shape != shape:
                raise ValueError(f"thickness map of {material.id} has shape {thickness.shape}, expected 2-D {shape}")
            _checked_array(f"thickness map of {material.id} (mm, negative thickness refused)", thickness, True)

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape (rows, columns) in pixels."""
        return self.layers[0][1].shape

    def thickness_mm(self, material_id: str) -> np.ndarray:
        """Summed thickness (mm) of all layers of this material id (zeros if absent)."""
        out = np.zeros(self.shape)
        for material, thickness in self.layers:
            if material.id == material_id:
                out += thickness
        return out


def make_scene(thickness_mm: Mapping[str | Material, np.ndarray], pixel_mm: float) -> Scene:
    """Scene from a mapping of material (id or :class:`Material`) to thickness map (mm)."""
    layers = []
    for key, t in thickness_mm.items():
        material = get_material(key) if isinstance(key, str) else key
        layers.append((material, np.asarray(t, dtype=np.float64)))
    return Scene(pixel_mm=pixel_mm, layers=tuple(layers))


@dataclass(frozen=True)
class Exposure:
    """Beam and detector: effective energy (keV), fluence (photons/mm²), blur FWHM (mm).

    ``fluence_photons_per_mm2`` is the fluence reaching the detector where nothing
    attenuates the beam (``reference='unattenuated'``), or, as automatic exposure
    control does, the median fluence behind the object (``reference='behind_object'``;
    a detector air kerma of 2.5–10 µGy is about 4×10⁴–1.7×10⁵ photons/mm²).
    ``None`` gives a noiseless image. ``scatter_fraction`` adds that fraction of the
    transmitted primary, blurred over ``scatter_sigma_mm`` (mm), as scattered radiation
    (a low-frequency veil; 0 for none).
    """

    energy_kev: float = DEFAULT_ENERGY_KEV
    fluence_photons_per_mm2: float | None = 1.0e5
    blur_fwhm_mm: float = 0.3
    reference: str = "unattenuated"
    scatter_fraction: float = 0.0
    scatter_sigma_mm: float = 25.0

    def __post_init__(self) -> None:
        if self.reference not in ("unattenuated", "behind_object"):
            raise ValueError(f"reference must be 'unattenuated' or 'behind_object', got {self.reference!r}")
        lo, hi = ENERGY_RANGE_KEV
        _checked("energy_kev (diagnostic X-rays, keV)", self.energy_kev, True, hi, lo)
        if self.fluence_photons_per_mm2 is not None:
            _checked("fluence_photons_per_mm2", self.fluence_photons_per_mm2)
        _checked("blur_fwhm_mm", self.blur_fwhm_mm, True)
        _checked("scatter_fraction", self.scatter_fraction, True, 1.0)
        _checked("scatter_sigma_mm", self.scatter_sigma_mm)


ENERGY_RANGE_KEV: tuple[float, float] = (10.0, 150.0)


@dataclass(frozen=True)
class Window:
    """Display processing of the log image (line-integral units, dimensionless).

    ``mode='percentile'``: level and width; ``None`` for either picks it from the
    image (low end at ``low_percentile``, high end at ``high_percentile``); ``gamma``
    < 1 brightens mid-greys; ``unsharp_amount`` > 0 subtracts that fraction of the
    image box-blurred over ``unsharp_scale_mm`` (mm).

    ``mode='dr'``: processing like a digital radiography system (:func:`dr_process`):
    equalisation of the soft tissue's broad trend (σ ``equalise_sigma_mm``, mm; fraction
    ``equalise_fraction``; dense deposits clipped out of it at ``deposit_clip`` log units),
    compression of the bone's broad excess (σ ``bone_sigma_mm``, fraction ``bone_fraction``),
    compressive fine detail (σ ``detail_sigma_mm``, gain ``detail_gain``, limit ``detail_limit``
    log units) and a global tone curve with a toe and a soft shoulder through three anchors: the
    ``low_percentile`` of the body → ``skin_grey``, the median soft tissue → ``soft_grey``, the
    bone's mass-weighted median → ``bone_grey``.

    In both modes pixels whose log value is below ``air_threshold`` (open beam) are black.
    """

    level: float | None = None
    width: float | None = None
    low_percentile: float = 0.5
    high_percentile: float = 99.7
    gamma: float = 1.0
    unsharp_amount: float = 0.0
    unsharp_scale_mm: float = 12.0
    air_threshold: float = 0.02
    mode: str = "percentile"
    # Equalisation: a DR system's large-kernel unsharp mask of the log image, here over soft tissue
    # only. 15 mm is about the thickness of a limb's muscle compartments (a tuned visual choice:
    # smaller flattens the fat planes, larger leaves the skin side dark); 0.8 (session 11, was 0.7)
    # keeps a thin limb's edge above black and its axis below bone, and lets a fat pad beside a
    # thicker part of the limb (Hoffa's, behind the patellar tendon) read darker than the tendon.
    equalise_sigma_mm: float = 15.0
    equalise_fraction: float = 0.8
    deposit_clip: float = 0.15
    # Bone range compression: a femoral shaft's excess (2–3 log units at 30 keV) would otherwise take
    # the whole grey range above the soft tissue; 6 mm keeps a cortex, a trabecular pattern and a
    # deposit (all smaller) whole. Tuned visual choices.
    bone_sigma_mm: float = 6.0
    bone_fraction: float = 0.6
    bone_knee: float = 0.5
    # Detail (edge enhancement at about a millimetre, as DR systems apply), its large edges capped.
    detail_sigma_mm: float = 1.2
    detail_gain: float = 0.8
    medium_sigma_mm: float = 4.0
    # 2.7 (session 11, was 2.0): the elbow's anterior fat pad, whose rays also cross the brachialis,
    # reads 15 grey levels below the muscle beside it (test_phantom); 3.0 made a deposit beside a bone
    # lift the gap between them (test_radiograph)
    medium_gain: float = 2.7
    detail_limit: float = 0.15
    skin_grey: float = 0.10
    soft_grey: float = 0.33
    bone_grey: float = 0.78

    def __post_init__(self) -> None:
        if self.mode not in ("percentile", "dr"):
            raise ValueError(f"window mode must be 'percentile' or 'dr', got {self.mode!r}")
        _checked("unsharp_amount", self.unsharp_amount, True)
        _checked("unsharp_scale_mm", self.unsharp_scale_mm)
        if self.width is not None:
            _checked("window width", self.width)
        if self.level is not None:
            _checked("window level", self.level, True, lower=-math.inf)
        if not 0 <= self.low_percentile < self.high_percentile <= 100:
            raise ValueError("window percentiles must satisfy 0 ≤ low < high ≤ 100")
        _checked("air_threshold", self.air_threshold, True)
        for name in (
            "gamma",
            "equalise_sigma_mm",
            "bone_sigma_mm",
            "detail_sigma_mm",
            "medium_sigma_mm",
            "detail_limit",
        ):
            _checked(name, getattr(self, name))
        _checked("detail_gain", self.detail_gain, True, 10.0)
        _checked("medium_gain", self.medium_gain, True, 10.0)
        _checked("deposit_clip", self.deposit_clip, True)
        _checked("bone_knee", self.bone_knee, True)
        _checked("equalise_fraction", self.equalise_fraction, True, 0.95)
        _checked("bone_fraction", self.bone_fraction, True, 0.95)
        greys = (self.skin_grey, self.soft_grey, self.bone_grey)
        for name, g in zip(("skin_grey", "soft_grey", "bone_grey"), greys):
            _checked(name, g, False, 1.0)
        if not greys[0] < greys[1] < greys[2] < 1.0:
            raise ValueError("grey anchors must rise: 0 < skin_grey < soft_grey < bone_grey < 1")

    @classmethod
    def dr(cls, **changes: float) -> Window:
        """The digital-radiography processing with its default parameters (optionally changed)."""
        return cls(mode="dr", **changes)  # type: ignore[arg-type]


def line_integral(scene: Scene, energy_kev: float = DEFAULT_ENERGY_KEV) -> np.ndarray:
    """Σ μ_m·t_m (dimensionless) per pixel, μ at ``energy_kev`` (keV) from the cached table."""
    _checked("energy_kev", energy_kev)
    total = np.zeros(scene.shape, dtype=np.float64)
    for material, thickness in scene.layers:
        mu = linear_attenuation_per_mm(material, float(energy_kev))
        total += mu * thickness
    return total


def transmission(scene: Scene, energy_kev: float = DEFAULT_ENERGY_KEV) -> np.ndarray:
    """Beer–Lambert transmitted fraction I/I0 = exp(−Σ μ_m·t_m), in (0, 1]."""
    return np.exp(-line_integral(scene, energy_kev))


def expected_counts(transmitted: np.ndarray, fluence_photons_per_mm2: float, pixel_mm: float) -> np.ndarray:
    """Mean detected photons per pixel: fluence (photons/mm²) × pixel area (mm²) × transmission."""
    _checked("fluence_photons_per_mm2", fluence_photons_per_mm2)
    _checked("pixel_mm", pixel_mm)
    return transmitted * (fluence_photons_per_mm2 * pixel_mm * pixel_mm)


POISSON_EXACT_BELOW: float = 1000.0


def quantum_noise(mean_counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Poisson-distributed photon counts with the given means, drawn from ``rng``.

    Means of at least :data:`POISSON_EXACT_BELOW` photons use the normal approximation
    (mean N̄, variance N̄, rounded to whole photons; its skewness 1/√N̄ ≤ 0.03 is invisible),
    a third of the cost of exact Poisson draws; smaller means are drawn exactly.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (use numpy.random.default_rng(seed))")
    mean_counts = _checked_array("mean photon counts", mean_counts, True)
    z = rng.standard_normal(mean_counts.shape, dtype=np.float32)
    mean32 = mean_counts.astype(np.float32)
    counts = np.rint(mean32 + np.sqrt(mean32) * z).astype(np.float64)
    low = mean_counts < POISSON_EXACT_BELOW
    if low.any():
        counts[low] = rng.poisson(mean_counts[low])
    return np.maximum(counts, 0.0)


def detector_blur(image: np.ndarray, fwhm_mm: float, pixel_mm: float) -> np.ndarray:
    """Gaussian detector blur of full width at half maximum ``fwhm_mm`` (mm)."""
    _checked("fwhm_mm", fwhm_mm, True)
    _checked("pixel_mm", pixel_mm)
    if fwhm_mm == 0:
        return image
    sigma_px = fwhm_mm / FWHM_PER_SIGMA / pixel_mm
    return ndimage.gaussian_filter(image, sigma=sigma_px, mode="nearest")


def log_image(counts: np.ndarray, fluence_photons_per_mm2: float, pixel_mm: float) -> np.ndarray:
    """Estimated line integral −ln(N / (Φ·a)); counts below 0.5 photon are clipped to 0.5."""
    _checked("fluence_photons_per_mm2", fluence_photons_per_mm2)
    _checked("pixel_mm", pixel_mm)
    i0 = fluence_photons_per_mm2 * pixel_mm * pixel_mm
    return -np.log(np.maximum(counts, 0.5) / i0)


def unsharp_mask(log_img: np.ndarray, amount: float, scale_mm: float, pixel_mm: float) -> np.ndarray:
    """Large-kernel unsharp mask: image − amount × (box-blurred image − image mean), box ≈ ``scale_mm``."""
    _checked("amount", amount, True)
    _checked("scale_mm", scale_mm)
    _checked("pixel_mm", pixel_mm)
    if amount == 0:
        return log_img
    size = max(int(round(scale_mm / pixel_mm)) | 1, 3)
    # Two passes of a box filter approximate a Gaussian at a fraction of its cost.
    low = ndimage.uniform_filter(ndimage.uniform_filter(log_img, size, mode="nearest"), size, mode="nearest")
    return log_img - amount * (low - low.mean())


def window_limits(log_img: np.ndarray, window: Window) -> tuple[float, float]:
    """(low, high) of the display window in line-integral units."""
    if window.level is not None and window.width is not None:
        return window.level - window.width / 2, window.level + window.width / 2
    low, high = np.percentile(log_img, [window.low_percentile, window.high_percentile])
    if window.width is not None:
        mid = (low + high) / 2 if window.level is None else window.level
        return mid - window.width / 2, mid + window.width / 2
    if window.level is not None:
        half = max(high - window.level, window.level - low, 1e-6)  # a flat image has high == low
        return window.level - half, window.level + half
    return float(low), float(max(high, low + 1e-6))


def _block_mean(img: np.ndarray, factor: int, pad_mode: str = "edge") -> np.ndarray:
    """Means over ``factor`` × ``factor`` blocks (the grid padded at its far edges by ``pad_mode``),
    summed slice by slice (much faster than a reshaped mean over two axes)."""
    if factor == 1:
        return img
    h, w = img.shape
    hh, ww = -(-h // factor) * factor, -(-w // factor) * factor
    if (hh, ww) != (h, w):
        img = np.pad(img, ((0, hh - h), (0, ww - w)), mode=pad_mode)
    rows = img.reshape(hh // factor, factor, ww)
    acc = rows[:, 0].copy()
    for k in range(1, factor):
        acc += rows[:, k]
    cols = acc.reshape(hh // factor, ww // factor, factor)
    out = cols[:, :, 0].copy()
    for k in range(1, factor):
        out += cols[:, :, k]
    return out * (1.0 / (factor * factor))


@lru_cache(maxsize=32)
def _upsample_taps(n: int, factor: int, coarse: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i0, 1 − f, f) of separable linear interpolation: fine pixel i lies at coarse coordinate
    (i + 0.5) / factor − 0.5, between coarse samples i0 and i0 + 1."""
    pos = np.clip((np.arange(n) + 0.5) / factor - 0.5, 0, max(coarse - 1, 0))
    i0 = np.minimum(pos.astype(int), max(coarse - 2, 0))
    f = (pos - i0).astype(np.float32)
    if coarse == 1:
        f[:] = 0.0
    return i0, 1 - f, f


def _upsample(small: np.ndarray, factor: int, shape: tuple[int, int]) -> np.ndarray:
    """A coarse grid (from :func:`_block_mean`) interpolated back to ``shape`` (bilinear, float32).

    Each axis is ``a[i0] + (a[i0 + 1] − a[i0])·f``: the differences are taken once on the coarser
    grid and gathered (``np.take``), not gathered twice and subtracted at full size (same bits).
    """
    out = small.astype(np.float32, copy=False)
    for axis, n in ((1, shape[1]), (0, shape[0])):
        i0, _, f = _upsample_taps(n, factor, out.shape[axis])
        step = np.zeros_like(out)  # the last sample's step is nil (i0 + 1 clamped to it)
        if axis == 1:
            np.subtract(out[:, 1:], out[:, :-1], out=step[:, :-1])
        else:
            np.subtract(out[1:], out[:-1], out=step[:-1])
        gathered = np.take(step, i0, axis=axis)
        gathered *= f[None, :] if axis == 1 else f[:, None]
        out = np.take(out, i0, axis=axis)
        out += gathered
    return out


def fast_gaussian(img: np.ndarray, sigma_px: float, per_sigma: float = 2.0) -> np.ndarray:
    """Gaussian low-pass of σ ``sigma_px`` pixels; large kernels are computed on a grid
    downsampled by block means (factor ≈ σ / ``per_sigma``, so ≥ ``per_sigma`` coarse pixels
    per σ) and interpolated back bilinearly. Cost about linear in pixels whatever σ."""
    factor = max(1, int(sigma_px // per_sigma))
    if factor == 1 or min(img.shape) < 2 * factor:
        return ndimage.gaussian_filter(img, sigma_px, mode="nearest", truncate=3.0)
    small = ndimage.gaussian_filter(_block_mean(img, factor), sigma_px / factor, mode="nearest", truncate=3.0)
    return _upsample(small, factor, img.shape).astype(img.dtype, copy=False)


def _masked_gaussian(
    img: np.ndarray,
    mask: np.ndarray,
    sigma_px: float,
    fill: np.ndarray | None = None,
    per_sigma: float = 2.0,
    coarse_ratio: bool = False,
) -> np.ndarray:
    """Gaussian low-pass of ``img`` using only pixels in ``mask`` (normalised convolution);
    where no masked pixel is near, ``fill`` (default: ``img``). With ``coarse_ratio`` the ratio is
    taken on the coarse grid and interpolated once (a quarter faster; within a grey level of the
    ratio of the two interpolations, the difference at the mask's edge)."""
    m = mask.astype(img.dtype)
    factor = max(1, int(sigma_px // per_sigma))
    fill = img if fill is None else fill
    if not coarse_ratio or factor == 1 or min(img.shape) < 2 * factor:
        num = fast_gaussian(img * m, sigma_px, per_sigma)
        den = fast_gaussian(m, sigma_px, per_sigma)
        ok = den > 1e-3
        return np.where(ok, num / np.where(ok, den, 1.0), fill)
    # on the coarse grid the ratio is taken there and interpolated once (one upsampling, not two,
    # and no full-size division); the fill where a coarse sample has no mask near
    sig = sigma_px / factor
    num = ndimage.gaussian_filter(_block_mean(img * m, factor), sig, mode="nearest", truncate=3.0)
    den = ndimage.gaussian_filter(_block_mean(m, factor), sig, mode="nearest", truncate=3.0)
    ok = den > 1e-3
    out = _upsample(np.where(ok, num / np.where(ok, den, 1.0), 0.0), factor, img.shape)
    if ok.all():
        return out.astype(img.dtype, copy=False)
    bad = ~ok
    bad[:-1] |= bad[1:]  # a fine pixel reads the coarse samples i0 and i0 + 1 on each axis
    bad[:, :-1] |= bad[:, 1:]
    i0 = _upsample_taps(img.shape[0], factor, bad.shape[0])[0]
    j0 = _upsample_taps(img.shape[1], factor, bad.shape[1])[0]
    return np.where(bad[np.ix_(i0, j0)], fill, out).astype(img.dtype, copy=False)


@lru_cache(maxsize=64)
def _moment_kernels(sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-D Gaussian of σ ``sigma`` (pixels, truncated at 3 σ, sum 1) times u⁰, u¹ and u² (u in pixels)."""
    r = max(1, int(3.0 * sigma + 0.5))
    u = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-0.5 * (u / sigma) ** 2)
    g /= g.sum()
    return g, g * u, g * u * u


def _local_linear_fit(
    values: np.ndarray, mask: np.ndarray, fallback: np.ndarray, sigma: float, reg: float = 0.1
) -> np.ndarray:
    """Value at each pixel of the plane fitted by Gaussian-weighted least squares (σ ``sigma``
    pixels of this grid) to ``values`` where ``mask`` is set: normalised convolution of order 1.

    Unlike a masked mean, the fit is unbiased where the mask is one-sided (beside bone, at the
    skin) and the values slope: a soft-tissue gradient towards a bone edge leaves no glow. The
    gradient is damped by ``reg`` × σ² (so thin strips fall back to the mean); where the mask has
    little weight (< 0.2) the result hands over to ``fallback``.
    """
    m = mask.astype(np.float64)
    fm = values.astype(np.float64) * m
    k0, k1, k2 = _moment_kernels(float(sigma))

    def corr(a: np.ndarray, k: np.ndarray, axis: int) -> np.ndarray:
        return ndimage.correlate1d(a, k, axis=axis, mode="constant", cval=0.0)

    m0, m1, m2 = corr(m, k0, 1), corr(m, k1, 1), corr(m, k2, 1)
    s0, sy, syy = corr(m0, k0, 0), corr(m0, k1, 0), corr(m0, k2, 0)
    sx, sxy, sxx = corr(m1, k0, 0), corr(m1, k1, 0), corr(m2, k0, 0)
    f0x, f1x = corr(fm, k0, 1), corr(fm, k1, 1)
    f0, fy, fx = corr(f0x, k0, 0), corr(f0x, k1, 0), corr(f1x, k0, 0)
    lam = reg * sigma * sigma
    d, g, e = sxx + lam, syy + lam, sxy
    co0, co1, co2 = d * g - e * e, sy * e - sx * g, sx * e - d * sy
    det = s0 * co0 + sx * co1 + sy * co2
    num = f0 * co0 + fx * co1 + fy * co2
    ok = (s0 > 1e-3) & (det > 1e-12)
    fit = np.where(ok, num / np.where(ok, det, 1.0), fallback)
    w = np.clip((s0 - 0.05) / 0.15, 0.0, 1.0)
    return w * fit + (1 - w) * fallback


def _normalised_mean(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian (σ ``sigma`` pixels) mean of ``values`` weighted by ``weight`` (normalised convolution
    of order 0); ``values`` where the weight is nil."""
    k0 = _moment_kernels(float(sigma))[0]
    num, den = values * weight, weight.astype(np.float64)
    for axis in (0, 1):
        num = ndimage.correlate1d(num, k0, axis=axis, mode="constant", cval=0.0)
        den = ndimage.correlate1d(den, k0, axis=axis, mode="constant", cval=0.0)
    ok = den > 1e-6
    return np.where(ok, num / np.where(ok, den, 1.0), values)


def _coarse_plane(values: np.ndarray, mask: np.ndarray, sigma_px: float, per_sigma: float = 4.0) -> np.ndarray:
    """:func:`_local_linear_fit` of ``values`` over ``mask`` at σ ``sigma_px`` pixels, on a grid
    coarsened by block means (about ``per_sigma`` coarse pixels per σ) and interpolated back
    (float32); where the mask has little weight nearby, the masked mean over the same σ."""
    factor = max(1, int(sigma_px // per_sigma))
    w = _block_mean(mask.astype(np.float32), factor, "constant")
    v = _block_mean(np.where(mask, values, np.float32(0.0)), factor, "constant")
    v = np.where(w > 1e-3, v / np.maximum(w, 1e-3), 0.0)
    sigma = sigma_px / factor
    fit = _local_linear_fit(v, w, _normalised_mean(v, w, sigma), sigma)
    return _upsample(fit, factor, values.shape)


def _dilated(mask: np.ndarray, iterations: int) -> np.ndarray:
    """``mask`` dilated ``iterations`` times by the 4-neighbour cross (as scipy's
    ``binary_dilation`` with its default structure), by shifted slices: a tenth of the cost."""
    out = mask.copy()
    for _ in range(iterations):
        m = out.copy()
        out[1:] |= m[:-1]
        out[:-1] |= m[1:]
        out[:, 1:] |= m[:, :-1]
        out[:, :-1] |= m[:, 1:]
    return out


def _anchor_percentiles(values: np.ndarray, qs: list[float], weights: np.ndarray | None = None) -> list[float]:
    """Percentiles ``qs`` of ``values`` from a fixed subsample (every 3rd value beyond 60 000): the
    display anchors need no more, and it is deterministic. With ``weights`` (≥ 0, one per value),
    weighted percentiles: the value below which that share of the total weight lies."""
    step = 3 if values.size > 60_000 else 1
    sample = values[::step]
    if weights is None:
        return [float(v) for v in np.percentile(sample, qs)]
    w = np.asarray(weights, np.float64)[::step]
    if not w.sum() > 0:
        return _anchor_percentiles(values, qs)
    order = np.argsort(sample, kind="stable")
    cum = np.cumsum(w[order])
    picks = np.minimum(np.searchsorted(cum, np.asarray(qs) / 100.0 * cum[-1]), sample.size - 1)
    return [float(v) for v in sample[order][picks]]


def _binomial3(img: np.ndarray) -> np.ndarray:
    """3 × 3 binomial smoothing (σ ≈ 0.7 pixel; edges repeated), by shifted slices (~1 ms at 512²).

    Inside bone the display is smoothed so (the quantum noise is per pixel, and strong behind bone:
    few photons): a noise reduction like a DR system's, so the trabecular network, not the noise,
    carries the bone's texture ("sand" in the medulla otherwise)."""
    p = np.pad(img, 1, mode="edge")
    r = p[:-2] + p[2:] + 2 * p[1:-1]
    return (r[:, :-2] + r[:, 2:] + 2 * r[:, 1:-1]) * np.asarray(1 / 16, img.dtype)


# Pixels with a log value below SKIN_FADE × air_threshold (the skin's partial-volume edge) fade to black.
SKIN_FADE: float = 4.0
# Width (mm, Gaussian σ) of the bone's partial-volume edge: the bone compression and the bone's noise
# reduction fade in over it, so neither draws a line at the outline the anatomy's mask happens to take.
BONE_EDGE_MM: float = 0.5
# The bone compression takes at most this multiple of a pixel's own mass (× ``bone_fraction``: 0.9 of
# it by default): the thin bone at the outline, below its low-pass, is scaled down, never pushed
# below the soft tissue (a dark rim); inside, the compression is the low-pass's alone (above
# ``bone_knee``: a small bone keeps its whole excess), so a canal or a deposit over bone keeps its
# whole local contrast.
BONE_EDGE_SHARE: float = 1.5
# Reach (mm, Gaussian σ) of the soft tissue beside a bone that the bone's mass is measured against.
SOFT_NEAR_MM: float = 2.0
# Soft-tissue low-passes this wide (pixels, σ) or wider are local planes (:func:`_coarse_plane`), not
# means: a mean beside a bone is one-sided, and where the soft tissue thickens towards the bone it
# lies below the pixel (a fat pad against the bone then reads no darker than the muscle beyond it).
PLANE_MIN_PX: float = 6.0
# Rounds of the equalisation's clipped refit (each lowers the trend inside a large deposit).
TREND_ROUNDS: int = 3
# Share of the medium band's gain inside bone: there it would turn the trabecular network into
# blotches a few millimetres across (a tuned visual choice); the band is for the fat planes.
BONE_MEDIUM_SHARE: float = 0.3
# The fine detail may darken a bone pixel by at most this share of its excess over the soft tissue.
BONE_DETAIL_UNDERSHOOT: float = 0.3
# Points of the tabulated tone curve (linear interpolation between them: < 0.1 grey level of 255 off).
TONE_POINTS: int = 4096


def _tone_curve(img: np.ndarray, xs: list[float], ys: list[float]) -> np.ndarray:
    """Global monotone tone curve through the anchors (``xs`` rising, ``ys`` rising in (0, 1)),
    float32 in [0, 1]: a monotone cubic Hermite curve between anchors (Fritsch–Carlson slopes);
    below the first anchor a straight toe down to black; above the last a soft shoulder
    ``y_top + (1 − y_top)·tanh(s·(x − x_top)/(1 − y_top))`` that keeps the last segment's slope
    ``s`` at the anchor and approaches white without ever flattening (no clipped, pasted-white
    deposit). Anchors closer than 10⁻⁶ of their range (a uniform tissue) are merged."""
    pts: list[tuple[float, float]] = []
    eps = 1e-6 * (1.0 + max(abs(x) for x in xs))
    for x, y in zip(xs, ys):
        if pts and x <= pts[-1][0] + eps:
            pts[-1] = (pts[-1][0], max(pts[-1][1], y)) if len(pts) > 1 else (pts[-1][0], y)
            continue
        pts.append((x, y))
    if len(pts) == 1:  # one value everywhere: a unit slope through the anchor
        pts.append((pts[0][0] + 1.0, pts[0][1] + 0.5 * (1.0 - pts[0][1])))
    kx, ky = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    secant = np.diff(ky) / np.diff(kx)
    slopes = np.empty_like(kx)
    slopes[0], slopes[-1] = secant[0], secant[-1]
    if kx.size > 2:  # harmonic mean of the two secants: monotone (Fritsch–Carlson)
        a, b = secant[:-1], secant[1:]
        slopes[1:-1] = np.where(a * b > 0, 2 * a * b / np.maximum(a + b, 1e-12), 0.0)
    s, y_top = float(slopes[-1]), float(ky[-1])
    x_lo = float(kx[0] - ky[0] / max(slopes[0], 1e-6))  # the toe reaches black here
    x_hi = float(kx[-1] + 4.0 * (1.0 - y_top) / max(s, 1e-6))  # the shoulder within 0.1 % of white
    grid = np.linspace(x_lo, x_hi, TONE_POINTS)
    table = np.empty_like(grid)
    below, above = grid <= kx[0], grid >= kx[-1]
    table[below] = ky[0] + slopes[0] * (grid[below] - kx[0])
    table[above] = y_top + (1.0 - y_top) * np.tanh(s * (grid[above] - kx[-1]) / (1.0 - y_top))
    inside = ~below & ~above
    table[inside] = CubicHermiteSpline(kx, ky, slopes)(grid[inside])
    return _uniform_lookup(img, x_lo, x_hi, np.clip(table, 0.0, 1.0))


def _uniform_lookup(img: np.ndarray, x_lo: float, x_hi: float, table: np.ndarray) -> np.ndarray:
    """``table`` (values at ``len(table)`` evenly spaced points from ``x_lo`` to ``x_hi``) linearly
    interpolated at ``img`` (held at the ends), float32: what ``np.interp`` gives on that grid
    (within 10⁻⁶), without its search and its float64 copy, in a quarter of the time."""
    n = table.size
    pos = np.asarray(img, np.float32) - np.float32(x_lo)
    pos *= np.float32((n - 1) / (x_hi - x_lo))
    np.clip(pos, 0.0, n - 1.000001, out=pos)
    i = pos.astype(np.int32)
    pos -= i
    t32 = table.astype(np.float32)
    step = np.append(np.diff(t32), np.float32(0.0))
    out = t32[i]
    out += step[i] * pos
    return out


# Heap slack (bytes) kept by glibc's malloc while :func:`dr_process` runs. The chain allocates and
# frees about a hundred image-sized temporaries; with glibc's default (128 KB of top padding, the
# heap trimmed as soon as its free top passes the trim threshold) each is handed back to the kernel
# and its pages faulted and zeroed again: 4 000-9 000 minor faults, 15-30 ms of system time per
# 512² image (session 12, display12). The padding is restored on leaving.
HEAP_SLACK_BYTES: int = 64 << 20
_M_TOP_PAD: int = -2  # glibc mallopt parameter number
_DEFAULT_TOP_PAD: int = 128 << 10  # glibc's default (mallopt(3))


@lru_cache(maxsize=1)
def _mallopt() -> Callable[[int, int], int] | None:
    """glibc's ``mallopt`` (None on other C libraries)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.mallopt  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


@contextmanager
def heap_slack(nbytes: int = HEAP_SLACK_BYTES) -> Iterator[None]:
    """Within the block, glibc keeps ``nbytes`` of freed heap instead of returning it to the kernel
    at once (no page faults for the next temporaries); a no-op elsewhere."""
    mallopt = _mallopt()
    if mallopt is None:
        yield
        return
    mallopt(_M_TOP_PAD, int(nbytes))
    try:
        yield
    finally:
        mallopt(_M_TOP_PAD, _DEFAULT_TOP_PAD)


# A deposit, for the detail bands: soft tissue standing more than DEPOSIT_RISE log units above the
# grey opening of the soft tissue (a square of DEPOSIT_SPAN_MM: a white top-hat, which leaves ramps
# such as the limb's thickening from the skin and broad hills such as a muscle belly alone), grown
# by DEPOSIT_SHOULDER_MM (the blur of the fine band, over which a deposit still lifts its
# surroundings). Tuned visual choices: 0.5 (0.3 and 0.4 caught a muscle belly between a fat plane and the femur in fig05) is above the soft tissue's
# own steps over such a span (fat planes, tendons); 12 mm holds the deposits of the figures.
DEPOSIT_RISE: float = 0.5
DEPOSIT_SPAN_MM: float = 12.0
DEPOSIT_SHOULDER_MM: float = 2.5
# The soft tissue along a bone's outline stands out of the opening too (the cortex's partial volume
# beyond the bone mask; a finger's narrow soft tissue): not a deposit. A deposit touching a bone keeps
# its old low-passes on that side (its far side is still cleared of the rim).
DEPOSIT_BONE_CLEAR_MM: float = 2.0


def _deposit_zone(
    q: np.ndarray, soft: np.ndarray, pixel_mm: float, bone: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(own, zone, background): the deposits are the soft pixels of a white top-hat of ``q``
    (square of ``DEPOSIT_SPAN_MM``) above ``DEPOSIT_RISE`` log units, at least
    ``DEPOSIT_BONE_CLEAR_MM`` from ``bone``; the zone is the soft pixels on or within
    ``DEPOSIT_SHOULDER_MM`` (mm) of them, ``own`` those of the zone standing half as high, and the
    background the grey opening (the soft tissue beneath them)."""
    # over the whole image, bone and air included: a soft strip between the skin and a bone (the
    # shin) is a ramp truncated by the bone, which an opening over soft tissue alone would cut. On a
    # grid of 2 × 2 block minima (a quarter of the cost; the opening is a background estimate)
    h, w = q.shape
    f = 2 if min(h, w) >= 64 else 1
    coarse = q if not (h % f or w % f) else np.pad(q, ((0, h % f), (0, w % f)), mode="edge")
    if f == 2:  # block minima by slices (a reduction over a reshaped axis pair is ten times slower)
        coarse = np.minimum(
            np.minimum(coarse[0::2, 0::2], coarse[1::2, 0::2]), np.minimum(coarse[0::2, 1::2], coarse[1::2, 1::2])
        )
    size = max(3, int(round(DEPOSIT_SPAN_MM / (pixel_mm * f))) | 1)
    opened = ndimage.maximum_filter(ndimage.minimum_filter(coarse, size, mode="nearest"), size, mode="nearest")
    opened = np.repeat(np.repeat(opened, f, axis=0), f, axis=1)[:h, :w]
    rise = q - opened
    peak = soft & (rise > np.float32(DEPOSIT_RISE))
    if bone is not None and bone.any() and peak.any():
        peak &= ~_dilated(bone, max(1, int(round(DEPOSIT_BONE_CLEAR_MM / pixel_mm))))
    if not peak.any():
        return peak, peak, opened
    grow = max(1, int(round(DEPOSIT_SHOULDER_MM / pixel_mm)))
    # what a calcified rim encloses (the lucent centre of a maturing myositis ossificans, of a
    # rim-calcified granuloma) keeps the rim's influence: that darkening is the zonal pattern itself
    box = _box_around(peak, 0)  # holes lie within the peaks' box
    inner = np.zeros_like(peak)
    inner[box] = ndimage.binary_fill_holes(peak[box]) & ~peak[box]
    zone = _dilated_square(peak, grow) & soft & ~inner
    # the deposit's own pixels: its peak and, near it, whatever stands half as high (its partial-volume
    # edge, a plateau just under the threshold), so that no part of it takes the background's low-pass
    return zone & (rise > np.float32(0.5 * DEPOSIT_RISE)), zone, opened


def _box_around(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    """The bounding box (slices) of a non-empty ``mask`` grown by ``margin`` pixels, within the grid."""
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    return (
        slice(max(0, rows[0] - margin), min(mask.shape[0], rows[-1] + margin + 1)),
        slice(max(0, cols[0] - margin), min(mask.shape[1], cols[-1] + margin + 1)),
    )


def _dilated_square(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` dilated by a (2 ``radius`` + 1)² square, by shifted slices along each axis."""
    out = mask.copy()
    for axis in (0, 1):
        src = out.copy()
        n = out.shape[axis]
        for k in range(1, min(radius, n - 1) + 1):
            if axis == 0:
                out[k:] |= src[:-k]
                out[:-k] |= src[k:]
            else:
                out[:, k:] |= src[:, :-k]
                out[:, :-k] |= src[:, k:]
    return out


def dr_process(log_img: np.ndarray, window: Window, pixel_mm: float, bone_mask: np.ndarray | None = None) -> np.ndarray:
    """Digital-radiography processing of a log image to display values in [0, 1] (dense white).

    Four steps, each a thing a DR system does, in log (line-integral) units:

    1. Equalisation: the soft tissue's broad trend (a plane fitted, σ ``equalise_sigma_mm``, over
       the soft tissue only: weights 0 on bone and within 1 mm of it; refitted ``TREND_ROUNDS``
       times with what stands more than ``deposit_clip`` above the last fit clipped to it) loses
       ``equalise_fraction`` of its departure from its median: the limb's thickness range (thin at
       the skin, thick at the axis) is compressed, the details on it (fat planes, deposits, bone)
       are not. As the trend ignores bone and deposits, neither rings its surroundings (no halo) nor
       loses its own centre.
    2. Bone range compression: each bone pixel's mass (its excess over the soft tissue beside it)
       loses ``bone_fraction`` × (its low-pass over bone, σ ``bone_sigma_mm``, above
       ``bone_knee``), at most ``BONE_EDGE_SHARE`` × its own mass: a thick bone's level comes down
       towards the soft tissue's, so the global tone curve can stay about as steep over bone as
       over soft tissue (a deposit over bone rises about as much as one over soft tissue); details
       smaller than σ (trabeculae, a canal, a deposit, the cortices) keep their contrast, small
       bones (below the knee) their whole excess, and the bone's thin edge is only scaled (never
       pushed below the soft tissue: no dark rim).
    3. Detail, MUSICA-like: two bands, above a low-pass of σ ``detail_sigma_mm`` (gain
       ``detail_gain``) and between it and one of σ ``medium_sigma_mm`` (gain ``medium_gain``;
       ``BONE_MEDIUM_SHARE`` of it in bone), each through a compressive ``M·tanh(d/M)`` (M
       ``detail_limit``): small contrasts (fat planes, trabeculae, faint deposits) are boosted,
       a large edge by no more than gain·M. The low-passes are taken within the pixel's own tissue
       (bone from bone, soft tissue from soft tissue: no edge between them rings), on the soft side
       from values clipped at ``deposit_clip`` above their local minimum (a deposit lends its
       neighbours no dark ring) and, once σ spans ``PLANE_MIN_PX`` pixels, as local planes (a
       fat pad against a bone is not lost in the slope of the soft tissue towards it). Inside bone
       the image is first smoothed over a pixel (noise reduction: the trabeculae, not the quantum
       noise behind bone, carry its texture).
    4. A global monotone tone curve (:func:`_tone_curve`) through three anchors: the
       ``low_percentile`` of the body (the skin) → ``skin_grey``, the median soft tissue →
       ``soft_grey``, the bone's median weighted by its mass (thin bones over others have many
       pixels but little mass) → ``bone_grey``; a toe below and a soft shoulder above (no flat
       white). Open beam black; the skin's partial-volume pixels fade into it.

    Without a ``bone_mask``, bone is what exceeds the 99.5th percentile of the body.
    """
    _checked("pixel_mm", pixel_mm)
    _checked_array("log image", log_img)
    body = log_img >= window.air_threshold
    if not body.any():
        return np.zeros(log_img.shape, np.float32)
    img = log_img.astype(np.float32)  # float32 halves the memory traffic; display needs no more
    if bone_mask is None or not (body & bone_mask).any() or not (body & ~bone_mask).any():
        bone = body & (img > _anchor_percentiles(img[body], [99.5])[0])
    else:
        bone = body & np.asarray(bone_mask, bool)
    # the soft tissue the trend is fitted to: 1 mm clear of bone (its partial-volume edge); the
    # margin only sets weights, every pixel keeps its own value
    soft = body & ~_dilated(bone, max(1, round(1.0 / pixel_mm))) if bone.any() else body
    if not soft.any():
        soft = body & ~bone if (body & ~bone).any() else body
    # 1. equalisation: the trend fitted, then refitted with whatever stands more than
    # ``deposit_clip`` above the last fit clipped to it (each round lowers the fit inside a large
    # deposit), so that a deposit neither raises the trend round itself (a dark ring) nor loses its
    # own centre
    sigma_eq = window.equalise_sigma_mm / pixel_mm
    clip = np.float32(window.deposit_clip)
    trend = _coarse_plane(img, soft, sigma_eq)
    for _ in range(TREND_ROUNDS):
        trend = _coarse_plane(np.minimum(img, trend + clip), soft, sigma_eq)
    median = float(np.median(trend[soft][::3]))
    base = trend - np.float32(window.equalise_fraction) * (trend - np.float32(median))  # the soft level shown
    excess = img - trend
    q = base + excess
    # 2. bone range compression, faded in over the bone's partial-volume edge (a smooth weight: the
    # mask's staircase must not print). The bone's mass is its excess over the soft tissue beside it
    # (a normalised convolution over soft tissue, σ SOFT_NEAR_MM, handing over smoothly to the
    # broad trend deeper in the bone), not over the broad trend: a limb's soft tissue is thickest
    # beside its bone, and would be compressed with it (a dark fringe)
    weight_bone = np.clip(fast_gaussian(bone.astype(np.float32), BONE_EDGE_MM / pixel_mm), 0.0, 1.0)
    sigma_s = SOFT_NEAR_MM / pixel_mm
    soft_f = soft.astype(np.float32)
    near = fast_gaussian(excess * soft_f, sigma_s) / (fast_gaussian(soft_f, sigma_s) + np.float32(0.05))
    mass = np.where(body, np.maximum(excess - near, 0.0), 0.0)
    if bone.any() and window.bone_fraction:
        low = _masked_gaussian(mass, bone, window.bone_sigma_mm / pixel_mm, fill=mass)
        squeeze = np.clip(np.minimum(low - np.float32(window.bone_knee), BONE_EDGE_SHARE * mass), 0.0, None)
        q = q - np.float32(window.bone_fraction) * weight_bone * squeeze
    # 3. detail within each tissue; inside bone (away from its outline) noise-reduced first
    inner = np.clip(2.0 * weight_bone - 1.0, 0.0, 1.0)
    q = q + inner * (_binomial3(_binomial3(q)) - q)
    if window.detail_gain or window.medium_gain:
        # each pixel's low-passes from its own side, bone or soft tissue, so that no edge between them
        # rings (no halo along a bone); the pixel just outside the bone (its partial-volume edge,
        # standing out of either side) takes the soft tissue's medium band only
        ring = _dilated(bone, 1) & ~bone & body
        other = body & ~bone & ~ring
        other_f = other.astype(np.float32)
        soft_lows: list[np.ndarray] = []
        # the soft side's low-passes leave out the deposits (and their blurred shoulders) altogether:
        # clipped at the local floor they still lifted their neighbours' low-pass, and the detail
        # bands printed a dark ring round every calcification
        core, zone, background = _deposit_zone(q, other, pixel_mm, bone)

        def low_pass(values: np.ndarray, sigma_mm: float) -> np.ndarray:
            """Low-pass within each side. On the soft side, of the values clipped at
            ``deposit_clip`` above the local floor (their minimum over ±σ) and away from the
            deposits (:func:`_deposit_zone`): a deposit lends its neighbours nothing (no dark ring
            round it, no dark pocket beside it); handing over to the plain low-pass for the pixels
            standing up to that much higher (the deposit's own detail)."""
            sigma = sigma_mm / pixel_mm
            plane = sigma >= PLANE_MIN_PX  # a plane: unbiased beside a bone where the soft tissue slopes
            den = None if plane else fast_gaussian(other_f, sigma, FINE_PER_SIGMA)
            ok = None if den is None else den > 1e-3

            def soft_mean(v: np.ndarray, box: tuple[slice, slice] = np.s_[:, :]) -> np.ndarray:
                """The soft mean of ``v`` (over the ``box`` only: ``v`` is that box's)."""
                if plane:
                    return _coarse_plane(np.where(other[box], v, base[box]), other[box], sigma, per_sigma=2.0)
                num = fast_gaussian(v * other_f[box], sigma, FINE_PER_SIGMA)
                return np.where(ok[box], num / np.where(ok[box], den[box], 1.0), base[box])

            size = 2 * max(1, round(sigma)) + 1
            floor_ = ndimage.minimum_filter(np.where(other, values, np.float32(np.inf)), size, mode="nearest")
            cap = np.where(np.isfinite(floor_), floor_, values) + clip
            clipped = np.minimum(values, cap)
            if zone.any():
                # the neighbours see the deposits and their shoulders as the soft tissue beneath
                # them; the deposits themselves keep their low-pass (their own detail and lift)
                quiet = soft_mean(np.where(zone, np.minimum(clipped, background), clipped))
                box = _box_around(core, int(3 * sigma) + 8)  # the deposits' own low-pass, near them only
                quiet[box] = np.where(core[box], soft_mean(clipped[box], box), quiet[box])
                clipped = quiet
            else:
                clipped = soft_mean(clipped)
            plain = soft_mean(values)
            t = np.clip((values - cap) / clip, 0.0, 1.0)
            soft_lows.append(clipped + t * (plain - clipped))
            inside = _masked_gaussian(values, bone, sigma, per_sigma=FINE_PER_SIGMA, coarse_ratio=True)
            return np.where(bone, inside, soft_lows[-1])

        fine = low_pass(q, window.detail_sigma_mm)
        medium = low_pass(fine, window.medium_sigma_mm)
        fine = np.where(ring, soft_lows[0], fine)
        medium = np.where(ring, soft_lows[1], medium)
        limit = np.float32(window.detail_limit)
        detail = np.float32(window.detail_gain) * limit * np.tanh((np.where(ring, fine, q) - fine) / limit)
        medium_gain = np.where(bone, np.float32(BONE_MEDIUM_SHARE), np.float32(1.0)) * np.float32(window.medium_gain)
        detail += medium_gain * limit * np.tanh((fine - medium) / limit)
        # a bone pixel's detail darkens it by at most a share of its excess over the soft tissue near
        # it: the thin bone at the outline lies below the bone inside it, and would print as a dark rim
        floor = -BONE_DETAIL_UNDERSHOOT * np.maximum(q - soft_lows[1], 0.0)
        q = q + np.where(bone, np.maximum(detail, floor), detail)
    q = np.where(body, q, np.float32(0.0))
    # 4. tone curve
    xs = _anchor_percentiles(q[body], [window.low_percentile])
    xs += _anchor_percentiles(q[soft], [50.0])
    if bone.any():
        xs += _anchor_percentiles(q[bone], [50.0], mass[bone])
    else:
        xs += _anchor_percentiles(q[body], [99.5])
    display = _tone_curve(q, xs, [window.skin_grey, window.soft_grey, window.bone_grey])
    display[~body] = 0.0
    # the skin's partial-volume pixels fade to the air's black (anti-aliased outline, no staircase)
    edge = img < np.float32(SKIN_FADE * window.air_threshold)
    display[edge] *= np.clip(img[edge] / np.float32(SKIN_FADE * window.air_threshold), 0.0, 1.0)
    return display.astype(np.float32)


# The fine-detail low-pass (σ ``detail_sigma_mm``) runs on a grid halved once σ spans 2.6
# pixels: its bilinear return adds < 3 % to σ, invisibly, at 60 % of the cost.
FINE_PER_SIGMA: float = 1.3


def apply_window(
    log_img: np.ndarray, window: Window = Window(), pixel_mm: float = 1.0, bone_mask: np.ndarray | None = None
) -> np.ndarray:
    """Map the log image to display values in [0, 1], dense (high attenuation) white.

    ``pixel_mm`` (mm) sets the kernel sizes of unsharp masking and DR processing;
    ``bone_mask`` (optional) anchors the DR window on bone and soft tissue.
    """
    if window.mode == "dr":
        with heap_slack():
            return dr_process(log_img, window, pixel_mm, bone_mask)
    air = log_img < window.air_threshold
    log_img = unsharp_mask(log_img, window.unsharp_amount, window.unsharp_scale_mm, pixel_mm)
    low, high = window_limits(log_img, window)
    out = np.clip((log_img - low) / (high - low), 0.0, 1.0)
    out[air] = 0.0
    if window.gamma != 1.0:
        out = out**window.gamma
    return out.astype(np.float32)


def to_uint8(display: np.ndarray) -> np.ndarray:
    """Display values in [0, 1] to 8-bit grey levels (0–255); ValueError on NaN."""
    display = np.asarray(display)
    if np.isnan(display).any():
        raise ValueError("display values contain NaN (check the window and the image)")
    return np.round(np.clip(display, 0.0, 1.0) * 255.0).astype(np.uint8)


def render_log(scene: Scene, exposure: Exposure = Exposure(), rng: np.random.Generator | None = None) -> np.ndarray:
    """Log image (estimated line integral) of ``scene``; noise needs ``rng`` and a fluence."""
    t = transmission(scene, exposure.energy_kev)
    if exposure.scatter_fraction:
        t = t + exposure.scatter_fraction * fast_gaussian(t, exposure.scatter_sigma_mm / scene.pixel_mm)
    if exposure.fluence_photons_per_mm2 is None or rng is None:
        if exposure.fluence_photons_per_mm2 is not None and rng is None:
            raise ValueError(
                "a noisy render needs an explicit rng (numpy.random.default_rng(seed)); "
                "set fluence_photons_per_mm2=None for a noiseless image"
            )
        return -np.log(np.maximum(detector_blur(t, exposure.blur_fwhm_mm, scene.pixel_mm), 1e-300))
    fluence = unattenuated_fluence(t, exposure)
    counts = quantum_noise(expected_counts(t, fluence, scene.pixel_mm), rng).astype(np.float32)
    counts = detector_blur(counts, exposure.blur_fwhm_mm, scene.pixel_mm)
    return log_image(counts, fluence, scene.pixel_mm)


def unattenuated_fluence(transmitted: np.ndarray, exposure: Exposure) -> float:
    """Unattenuated fluence (photons/mm²) of ``exposure``; with ``reference='behind_object'`` it is
    scaled so that the median fluence behind the object (pixels transmitting < 90 %, sampled on every
    other row and column) is the stated one."""
    fluence = float(exposure.fluence_photons_per_mm2)
    if exposure.reference == "behind_object":
        sample = transmitted[::2, ::2] if min(transmitted.shape) >= 64 else transmitted
        behind = sample[sample < 0.9]  # a quarter of the pixels (every other row and column) suffice
        if behind.size:
            fluence /= float(np.median(behind))
    return fluence


def render(
    scene: Scene,
    exposure: Exposure = Exposure(),
    window: Window = Window(),
    rng: np.random.Generator | None = None,
    as_uint8: bool = False,
    bone_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Radiograph of ``scene``: float32 in [0, 1] (or uint8), dense white, air black."""
    display = apply_window(render_log(scene, exposure, rng), window, scene.pixel_mm, bone_mask)
    return to_uint8(display) if as_uint8 else display


# ------------------------------------------------------------------ acquisition ----
# What a processed digital film shows besides the anatomy: the direct-exposure area (dark,
# grainy, brighter towards the anode side and next to the skin), the collimator's straight
# shutter edges, and the radiographer's lead side marker. Display-stage, seeded, pure.


@dataclass(frozen=True)
class Acquisition:
    """Acquisition settings: display values in [0, 1], lengths in mm, angles in degrees;
    ``(low, high)`` pairs are ranges drawn per film. No defaults: ``data/acquisition.yml`` is
    the one source of the values (see :func:`load_acquisition`)."""

    air_grey: tuple[float, float]
    air_noise: float
    air_noise_sigma_mm: float
    heel_fraction: tuple[float, float]
    glow_grey: float
    glow_mm: float
    margin_fraction: tuple[float, float]
    rotation_deg: float
    penumbra_mm: float
    keep_margin_mm: float
    keep_center_fraction: float
    marker_height_mm: tuple[float, float]
    marker_stroke: float
    marker_grey: float
    marker_rotation_deg: float
    marker_inset_mm: tuple[float, float]
    marker_blur_mm: float
    holder_probability: float
    holder_grey: float
    marker_candidates: int

    def __post_init__(self) -> None:
        for name, (allow_zero, upper) in _ACQ_BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, tuple):  # a (low, high) range: low ≥ 0 and ≤ high
                if len(value) != 2:
                    raise ValueError(f"{name} must be a (low, high) pair, got {value!r}")
                _checked(f"{name} low", value[0], True, value[1])
                _checked(f"{name} high", value[1], True, upper)
            else:
                _checked(name, value, allow_zero, upper)
        if self.margin_fraction[1] >= (1.0 - self.keep_center_fraction) / 2:
            raise ValueError("margin_fraction's high end must leave keep_center_fraction of the film uncut")


# Each setting's check: (zero allowed, upper bound); a (low, high) range is checked at both ends.
_ACQ_BOUNDS: dict[str, tuple[bool, float]] = {
    "air_grey": (True, 1.0),
    "air_noise": (True, 1.0),
    "air_noise_sigma_mm": (False, math.inf),
    "heel_fraction": (True, 1.0),
    "glow_grey": (True, 1.0),
    "glow_mm": (False, math.inf),
    "margin_fraction": (True, 0.5),
    "rotation_deg": (True, 10.0),
    "penumbra_mm": (False, math.inf),
    "keep_margin_mm": (True, math.inf),
    "keep_center_fraction": (True, 1.0),
    "marker_height_mm": (True, math.inf),
    "marker_stroke": (False, 0.3),
    "marker_grey": (False, 1.0),
    "marker_rotation_deg": (True, 45.0),
    "marker_inset_mm": (True, math.inf),
    "marker_blur_mm": (False, math.inf),
    "holder_probability": (True, 1.0),
    "holder_grey": (True, 1.0),
    "marker_candidates": (False, 1000.0),
}


_ACQ_KEYS = {
    "air": {"grey": "air_grey", "noise": "air_noise", "noise_sigma_mm": "air_noise_sigma_mm"},
    "collimation": {},
    "marker": {
        "height_mm": "marker_height_mm",
        "stroke": "marker_stroke",
        "grey": "marker_grey",
        "rotation_deg": "marker_rotation_deg",
        "inset_mm": "marker_inset_mm",
        "blur_mm": "marker_blur_mm",
        "candidates": "marker_candidates",
    },
}


def acquisition_from_mapping(raw: Mapping[str, Mapping[str, object]]) -> Acquisition:
    """An :class:`Acquisition` from the nested ``air`` / ``collimation`` / ``marker`` mapping of
    ``data/acquisition.yml``; unknown sections or keys raise ValueError naming the valid ones."""
    fields_ = set(Acquisition.__dataclass_fields__)
    values: dict[str, object] = {}
    for section, table in (raw or {}).items():
        if section not in _ACQ_KEYS:
            raise ValueError(f"acquisition: unknown section {section!r}; valid: {sorted(_ACQ_KEYS)}")
        for key, value in (table or {}).items():
            name = _ACQ_KEYS[section].get(key, key)
            if name not in fields_:
                raise ValueError(f"acquisition: unknown key {section}.{key}")
            values[name] = tuple(float(v) for v in value) if isinstance(value, list) else value
    missing = sorted(fields_ - set(values))
    if missing:
        raise ValueError(f"acquisition: settings missing: {', '.join(missing)}")
    return Acquisition(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def load_acquisition() -> Acquisition:
    """The acquisition settings of ``data/acquisition.yml`` (cached)."""
    text = resources.files("calcifications").joinpath("data/acquisition.yml").read_text(encoding="utf-8")
    return acquisition_from_mapping(yaml.safe_load(text))


@dataclass(frozen=True)
class Collimation:
    """A collimated field: centre (row, column; px), rotation (degrees, counter-clockwise on the
    image) and the distances (px) from the centre to its left, right, top and bottom shutter
    edges, measured along the rotated axes. Every film is electronically shuttered (its border
    displayed black, see :func:`collimate`)."""

    center: tuple[float, float]
    angle_deg: float
    left: float
    right: float
    top: float
    bottom: float

    def edge_distance(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Signed distance (px) of points to the nearest shutter edge: > 0 inside the field."""
        t = math.radians(self.angle_deg)
        dy, dx = rows - self.center[0], cols - self.center[1]
        u = dx * math.cos(t) + dy * math.sin(t)
        v = -dx * math.sin(t) + dy * math.cos(t)
        return np.minimum(np.minimum(u + self.left, self.right - u), np.minimum(v + self.top, self.bottom - v))


def _edge_touch(mask: np.ndarray) -> tuple[bool, bool, bool, bool]:
    """Whether ``mask`` reaches the film's left, right, top and bottom border (anatomy that runs off it)."""
    return bool(mask[:, 0].any()), bool(mask[:, -1].any()), bool(mask[0].any()), bool(mask[-1].any())


def _outline_points(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the first and last pixel of ``mask`` in every row and every column: a
    linear function of position that rises along rows and columns (a field rotated less than 45°)
    takes its extremes over the mask at these points."""
    rows_any, cols_any = mask.any(axis=1), mask.any(axis=0)
    r = np.nonzero(rows_any)[0]
    c = np.nonzero(cols_any)[0]
    first_c = np.argmax(mask[r], axis=1)
    last_c = mask.shape[1] - 1 - np.argmax(mask[r, ::-1], axis=1)
    first_r = np.argmax(mask[:, c], axis=0)
    last_r = mask.shape[0] - 1 - np.argmax(mask[::-1][:, c], axis=0)
    return np.concatenate([r, r, first_r, last_r]), np.concatenate([first_c, last_c, c, c])


def draw_collimation(
    shape: tuple[int, int],
    rng: np.random.Generator,
    keep: np.ndarray | None = None,
    pixel_mm: float = 1.0,
    acq: Acquisition | None = None,
    bone: np.ndarray | None = None,
    body: np.ndarray | None = None,
) -> Collimation:
    """A collimated field on a film of ``shape`` (rows, columns): each shutter inset by a drawn
    fraction of the film, the field rotated by a drawn angle, then every shutter moved out as far
    as needed to keep the ``keep`` pixels (lesions; the caller adds the named region) at least
    ``keep_margin_mm`` inside, and, on each side where they do not already run off the film, the
    ``bone`` (2 mm) and the skin (``body``, 1 mm): a radiographer cones to the limb, not through
    it. Draws a fixed number of values from ``rng``."""
    acq = acq or load_acquisition()
    _checked("pixel_mm", pixel_mm)
    h, w = shape
    angle = float(rng.uniform(-acq.rotation_deg, acq.rotation_deg))
    m = rng.uniform(acq.margin_fraction[0], acq.margin_fraction[1], 4)
    rng.random()  # a draw kept so the figures' streams are unchanged (it chose the border, now always black)
    center = ((h - 1) / 2.0, (w - 1) / 2.0)
    extent = [w / 2 - m[0] * w, w / 2 - m[1] * w, h / 2 - m[2] * h, h / 2 - m[3] * h]  # left, right, top, bottom
    t = math.radians(angle)
    penumbra = acq.penumbra_mm / pixel_mm
    constraints = []
    if keep is not None:
        constraints.append((np.asarray(keep, bool), acq.keep_margin_mm, (False,) * 4))
    for mask, margin in ((bone, 2.0), (body, 1.0)):
        if mask is not None:
            mask = np.asarray(mask, bool)
            constraints.append((mask, margin, _edge_touch(mask)))
    for mask, margin_mm, free in constraints:
        if not mask.any():
            continue
        rows, cols = _outline_points(mask)
        dy, dx = rows - center[0], cols - center[1]
        u = dx * math.cos(t) + dy * math.sin(t)
        v = -dx * math.sin(t) + dy * math.cos(t)
        pad = margin_mm / pixel_mm + penumbra
        needed = (float(-u.min()), float(u.max()), float(-v.min()), float(v.max()))
        extent = [e if f else max(e, n + pad) for e, n, f in zip(extent, needed, free)]
    return Collimation(center, angle, *extent)


def field_weight(shape: tuple[int, int], field: Collimation, penumbra_px: float) -> np.ndarray:
    """Share of the primary beam reaching each pixel (1 inside the field, 0 under the shutters),
    a linear ramp ``penumbra_px`` wide across each straight shutter edge (float32)."""
    t = math.radians(field.angle_deg)
    dy = (np.arange(shape[0], dtype=np.float32) - np.float32(field.center[0]))[:, None]
    dx = (np.arange(shape[1], dtype=np.float32) - np.float32(field.center[1]))[None, :]
    c, s_ = np.float32(math.cos(t)), np.float32(math.sin(t))
    u = dx * c + dy * s_
    v = dy * c - dx * s_
    d = np.minimum(np.minimum(u + np.float32(field.left), np.float32(field.right) - u), np.float32(field.bottom) - v)
    d = np.minimum(d, v + np.float32(field.top))
    return np.clip(np.float32(0.5) + d / np.float32(max(penumbra_px, 1e-3)), 0.0, 1.0).astype(np.float32)


def _grain(shape: tuple[int, int], rng: np.random.Generator, sigma_px: float) -> np.ndarray:
    """Unit-variance Gaussian grain (float32), correlated over about a pixel (a [1, 2, 1] / 4
    binomial smoothing in each direction, σ ≈ 0.7 px) when ``sigma_px`` exceeds 0.4 px."""
    z = rng.standard_normal(shape, dtype=np.float32)
    if sigma_px > 0.4 and min(shape) >= 3:
        p = np.pad(z, 1, mode="edge")
        z = 0.25 * p[:-2, 1:-1] + 0.5 * p[1:-1, 1:-1] + 0.25 * p[2:, 1:-1]
        p = np.pad(z, ((0, 0), (1, 1)), mode="edge")
        z = 0.25 * p[:, :-2] + 0.5 * p[:, 1:-1] + 0.25 * p[:, 2:]
        z /= np.float32(0.375)  # the smoothing's standard deviation: (6/16) for unit white noise
    return z


def expose_air(
    display: np.ndarray, body: np.ndarray, rng: np.random.Generator, pixel_mm: float, acq: Acquisition | None = None
) -> np.ndarray:
    """``display`` (values in [0, 1]) with its direct-exposure area made a real film's: very dark
    grey with grain, a heel-effect gradient along a drawn anode–cathode axis and a glow next to the
    skin, faded in where the body's display falls below the air's (the skin's partial-volume pixels)."""
    acq = acq or load_acquisition()
    h, w = display.shape
    base = float(rng.uniform(*acq.air_grey))
    heel = float(rng.uniform(*acq.heel_fraction)) * (1.0 if rng.random() < 0.5 else -1.0)
    vertical = bool(rng.random() < 0.7)  # the anode–cathode axis along the film's long (limb) axis
    grain = _grain((h, w), rng, acq.air_noise_sigma_mm / pixel_mm)
    ramp = np.linspace(-0.5, 0.5, h if vertical else w, dtype=np.float32)
    ramp = ramp[:, None] if vertical else ramp[None, :]
    glow = np.clip(2.0 * fast_gaussian(body.astype(np.float32), acq.glow_mm / pixel_mm), 0.0, 1.0)
    air = np.float32(base) * (1.0 + np.float32(heel) * ramp) + np.float32(acq.glow_grey) * glow
    air = np.maximum(air + np.float32(acq.air_noise) * grain, 0.0)
    weight = np.where(body, 0.0, 1.0).astype(np.float32)
    weight = np.maximum(weight, np.clip(1.0 - display / np.float32(2.0 * base + 1e-3), 0.0, 1.0))
    return np.maximum(display, weight * air).astype(np.float32)


def collimate(
    display: np.ndarray,
    weight: np.ndarray,
    field: Collimation,
    rng: np.random.Generator,
    acq: Acquisition | None = None,
) -> np.ndarray:
    """``display`` under the shutters of ``field``: flat black (electronic shuttering); ``weight`` is
    :func:`field_weight`. Draws from ``rng`` what the retired pale border drew (its grey, tilt and
    grain), so that a figure's later draws, and so its bytes, are unchanged; ``acq`` is unused
    (kept for callers)."""
    h, w = display.shape
    rng.random()
    rng.uniform(-1.0, 1.0, 2)
    rng.standard_normal(((h + 1) // 2, (w + 1) // 2), dtype=np.float32)
    return np.clip(weight * display, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class LeadMarker:
    """A lead side marker on the film: letter, centre (row, column; px), letter height (px),
    rotation (degrees) and whether its plastic holder shows."""

    letter: str
    center: tuple[float, float]
    height_px: float
    angle_deg: float
    holder: bool = False


def _glyph_inside(letter: str, x: np.ndarray, y: np.ndarray, s: float) -> np.ndarray:
    """Whether glyph-frame points (x right, y down; the letter 1 tall, its left edge at 0) lie in a
    bold sans-serif ``letter`` of stroke ``s`` (R or L)."""
    stem = (x >= 0) & (x <= s) & (y >= 0) & (y <= 1)
    if letter == "L":
        return stem | ((x >= 0) & (x <= 0.58) & (y >= 1 - s) & (y <= 1))
    if letter != "R":
        raise ValueError(f"lead markers are 'R' or 'L', got {letter!r}")
    top, mid = 0.0, 0.56
    r_out = (mid - top) / 2
    cx, cy = 0.66 - r_out, top + r_out
    outer = ((x >= 0) & (x <= cx) & (y >= top) & (y <= mid)) | ((x > cx) & ((x - cx) ** 2 + (y - cy) ** 2 <= r_out**2))
    r_in = r_out - s
    inner = ((x >= s) & (x <= cx) & (y >= top + s) & (y <= mid - s)) | (
        (x > cx) & ((x - cx) ** 2 + (y - cy) ** 2 <= r_in**2)
    )
    # the leg: from the bowl's lower middle to the bottom right, a stroke of width s
    (x0, y0), (x1, y1) = (0.28, mid - s / 2), (0.70, 1.0)
    length = math.hypot(x1 - x0, y1 - y0)
    along = ((x - x0) * (x1 - x0) + (y - y0) * (y1 - y0)) / length
    across = np.abs((x - x0) * (y1 - y0) - (y - y0) * (x1 - x0)) / length
    leg = (along >= 0) & (along <= length) & (across <= s * 0.55) & (y <= 1) & (x <= 0.72)
    return stem | (outer & ~inner) | leg


GLYPH_WIDTH: dict[str, float] = {"R": 0.72, "L": 0.58}


def _coverage_box(
    shape: tuple[int, int], marker: LeadMarker, stroke: float, supersample: int
) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(first row, first column, letter coverage, holder rim coverage) of the box round ``marker``
    clipped to a film of ``shape``; empty arrays if the marker lies outside it."""
    h = marker.height_px
    if h <= 0:
        raise ValueError(f"marker height must be > 0 px, got {h!r}")
    width = GLYPH_WIDTH.get(marker.letter)
    if width is None:
        raise ValueError(f"lead markers are 'R' or 'L', got {marker.letter!r}")
    reach = int(math.ceil(0.9 * h)) + 2
    r0, c0 = int(marker.center[0]) - reach, int(marker.center[1]) - reach
    r1, c1 = r0 + 2 * reach + 1, c0 + 2 * reach + 1
    rr0, cc0, rr1, cc1 = max(r0, 0), max(c0, 0), min(r1, shape[0]), min(c1, shape[1])
    if rr0 >= rr1 or cc0 >= cc1:
        return 0, 0, np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float32)
    offsets = (np.arange(supersample, dtype=np.float64) + 0.5) / supersample - 0.5
    rows = (np.arange(rr0, rr1)[:, None] + offsets[None, :]).reshape(-1)
    cols = (np.arange(cc0, cc1)[:, None] + offsets[None, :]).reshape(-1)
    yy, xx = np.meshgrid(rows, cols, indexing="ij")
    t = math.radians(marker.angle_deg)
    dy, dx = yy - marker.center[0], xx - marker.center[1]
    u = (dx * math.cos(t) + dy * math.sin(t)) / h  # glyph frame, letter height 1
    v = (-dx * math.sin(t) + dy * math.cos(t)) / h
    inside = _glyph_inside(marker.letter, u + width / 2, v + 0.5, stroke)
    n = supersample

    def pooled(mask: np.ndarray) -> np.ndarray:
        return mask.reshape(rr1 - rr0, n, cc1 - cc0, n).mean(axis=(1, 3)).astype(np.float32)

    letter = pooled(inside)
    rim = np.zeros_like(letter)
    if marker.holder:
        pad_u, pad_v, wall = width / 2 + 0.22, 0.5 + 0.2, 0.05
        box = (np.abs(u) <= pad_u) & (np.abs(v) <= pad_v)
        core = (np.abs(u) <= pad_u - wall) & (np.abs(v) <= pad_v - wall)
        rim = pooled(box & ~core) + 0.5 * pooled(core)
    return rr0, cc0, letter, rim


def marker_coverage(
    shape: tuple[int, int], marker: LeadMarker, stroke: float = 0.19, supersample: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """(letter, holder rim) coverage in [0, 1] of ``marker`` on a film of ``shape`` (float32),
    anti-aliased by ``supersample``² samples per pixel; the holder's rim is empty without a holder."""
    r0, c0, letter_box, rim_box = _coverage_box(shape, marker, stroke, supersample)
    letter, rim = np.zeros(shape, np.float32), np.zeros(shape, np.float32)
    letter[r0 : r0 + letter_box.shape[0], c0 : c0 + letter_box.shape[1]] = letter_box
    rim[r0 : r0 + rim_box.shape[0], c0 : c0 + rim_box.shape[1]] = rim_box
    return letter, rim


def marker_box_px(marker: LeadMarker) -> float:
    """Half-size (px) of the square that holds a marker and its holder at any rotation."""
    return 0.75 * marker.height_px + 1.0


def burn_marker(display: np.ndarray, marker: LeadMarker, pixel_mm: float, acq: Acquisition | None = None) -> np.ndarray:
    """``display`` with the lead ``marker`` burned in: the letter bright (lead stops the beam), its
    edges blurred by the detector; its holder, if any, a faint plastic outline."""
    acq = acq or load_acquisition()
    r0, c0, letter, rim = _coverage_box(display.shape, marker, acq.marker_stroke, 4)
    out = display.astype(np.float32, copy=True)
    if not letter.size:
        return out
    sigma = acq.marker_blur_mm / pixel_mm
    if sigma > 0.2:
        letter = ndimage.gaussian_filter(letter, sigma, mode="constant")
    r1, c1 = r0 + letter.shape[0], c0 + letter.shape[1]
    box = out[r0:r1, c0:c1] + np.float32(acq.holder_grey) * rim
    out[r0:r1, c0:c1] = np.clip(box * (1.0 - letter) + np.float32(acq.marker_grey) * letter, 0.0, 1.0)
    return out


def place_marker(
    letter: str,
    field: Collimation,
    shape: tuple[int, int],
    body: np.ndarray,
    avoid: np.ndarray,
    rng: np.random.Generator,
    pixel_mm: float,
    columns: tuple[int, int] | None = None,
    acq: Acquisition | None = None,
) -> LeadMarker | None:
    """Where a radiographer puts the lead ``letter``: inside ``field`` a few mm from a shutter edge,
    within ``columns`` (a panel's [start, stop)), never over ``avoid`` (the lesions), over as little of
    the ``body`` as the drawn candidate positions allow (seeded order breaks ties); None if no
    candidate fits. Draws a fixed number of values from ``rng``."""
    acq = acq or load_acquisition()
    c_lo, c_hi = columns if columns is not None else (0, shape[1])
    k = acq.marker_candidates
    height = float(rng.uniform(*acq.marker_height_mm)) / pixel_mm
    angles = rng.uniform(-acq.marker_rotation_deg, acq.marker_rotation_deg, k)
    holder = bool(rng.random() < acq.holder_probability)
    sides = rng.integers(0, 4, k)
    along = rng.uniform(0.08, 0.92, k)
    insets = rng.uniform(*acq.marker_inset_mm, k) / pixel_mm
    t = math.radians(field.angle_deg)
    best: tuple[float, int, LeadMarker] | None = None
    for i in range(k):
        half = 0.75 * height + 1.0
        # a point in the field frame (u right, v down), then on the image
        if sides[i] < 2:  # left or right shutter
            u = -field.left + insets[i] + half if sides[i] == 0 else field.right - insets[i] - half
            v = -field.top + along[i] * (field.top + field.bottom)
        else:
            v = -field.top + insets[i] + half if sides[i] == 2 else field.bottom - insets[i] - half
            u = -field.left + along[i] * (field.left + field.right)
        col = field.center[1] + u * math.cos(t) - v * math.sin(t)
        row = field.center[0] + u * math.sin(t) + v * math.cos(t)
        marker = LeadMarker(letter, (float(row), float(col)), height, float(angles[i]), holder)
        r0, r1 = int(math.floor(row - half)), int(math.ceil(row + half)) + 1
        q0, q1 = int(math.floor(col - half)), int(math.ceil(col + half)) + 1
        if r0 < 0 or q0 < c_lo or r1 > shape[0] or q1 > c_hi:
            continue
        corners_r = np.array([r0, r0, r1 - 1, r1 - 1], float)
        corners_c = np.array([q0, q1 - 1, q0, q1 - 1], float)
        if (field.edge_distance(corners_r, corners_c) < 1.0).any():
            continue
        if avoid[r0:r1, q0:q1].any():
            continue
        cover = float(body[r0:r1, q0:q1].mean())
        if best is None or cover < best[0] - 1e-9:
            best = (cover, i, marker)
    return None if best is None else best[2]
