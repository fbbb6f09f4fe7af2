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

Every step is a pure function; :func:`render` chains them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from scipy.interpolate import PchipInterpolator

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
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinity")
    if nonnegative and values.size and values.min() < 0:
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

    ``mode='dr'``: processing like a digital radiography system, in two channels so
    that dense objects get no halo (see :func:`dr_process`). The soft-tissue channel
    (the image outside bone; under bone, the soft tissue around it) loses
    ``lowpass_fraction`` of its low-pass (σ ``lowpass_sigma_mm``, mm, body only) and
    gains ``soft_detail_gain`` × its band above σ ``soft_detail_sigma_mm`` and
    ``soft_broad_gain`` × its band above σ ``soft_broad_sigma_mm`` (contrast
    equalisation: fat planes and pads read against muscle); the sum of the bands is soft-clipped
    at ± ``soft_band_limit`` (log units, 0: no limit; tanh) so that a dense deposit lying in
    soft tissue gets no dark halo. The bone channel (the
    excess over that soft tissue) loses ``bone_lowpass_fraction`` of its low-pass
    (σ ``bone_lowpass_sigma_mm``, within bone). Then ``detail_gain`` × (image −
    Gaussian σ ``detail_sigma_mm``), and a monotone tone curve through five anchors:
    the ``low_percentile`` of the body (the skin edge) → ``skin_grey``, the median
    soft tissue → ``soft_grey``, the 99th percentile of soft tissue →
    ``soft_top_grey``, the median bone → ``bone_median_grey``, the
    ``bone_percentile`` of bone → ``bone_grey``; then an optional logistic
    S-curve of slope ``s_curve`` (0: none).

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
    lowpass_sigma_mm: float = 6.0
    lowpass_fraction: float = 0.6
    soft_detail_sigma_mm: float = 3.0
    soft_detail_gain: float = 1.2
    soft_broad_sigma_mm: float = 10.0
    soft_broad_gain: float = 2.0
    soft_band_limit: float = 0.6
    bone_lowpass_sigma_mm: float = 8.0
    bone_lowpass_fraction: float = 0.2
    detail_sigma_mm: float = 1.1
    detail_gain: float = 0.7
    skin_grey: float = 0.10
    soft_grey: float = 0.40
    soft_top_grey: float = 0.64
    bone_median_grey: float = 0.76
    bone_grey: float = 0.95
    bone_percentile: float = 99.9
    s_curve: float = 0.0

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
        for name in ("gamma", "lowpass_sigma_mm", "soft_detail_sigma_mm", "soft_broad_sigma_mm"):
            _checked(name, getattr(self, name))
        for name in ("bone_lowpass_sigma_mm", "detail_sigma_mm"):
            _checked(name, getattr(self, name))
        for name in ("soft_detail_gain", "soft_broad_gain", "detail_gain", "s_curve"):
            _checked(name, getattr(self, name), True, 10.0)
        _checked("soft_band_limit", self.soft_band_limit, True)
        _checked("lowpass_fraction", self.lowpass_fraction, True, 0.95)
        _checked("bone_lowpass_fraction", self.bone_lowpass_fraction, True, 0.95)
        greys = [self.skin_grey, self.soft_grey, self.soft_top_grey, self.bone_median_grey, self.bone_grey]
        for name, g in zip(("skin_grey", "soft_grey", "soft_top_grey", "bone_median_grey", "bone_grey"), greys):
            _checked(name, g, True, 1.0)
        if any(b <= a for a, b in zip(greys, greys[1:])):
            raise ValueError(
                "grey anchors must rise: skin_grey < soft_grey < soft_top_grey < bone_median_grey < bone_grey"
            )
        _checked("bone_percentile", self.bone_percentile, True, 100.0, 50.0)

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


def quantum_noise(mean_counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Poisson-distributed photon counts with the given means, drawn from ``rng``."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (use numpy.random.default_rng(seed))")
    mean_counts = _checked_array("mean photon counts", mean_counts, True)
    return rng.poisson(mean_counts).astype(np.float64)


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


def _s_curve(x: np.ndarray, slope: float) -> np.ndarray:
    """Logistic S-curve through (0, 0), (0.5, 0.5), (1, 1); slope 0 is the identity."""
    if slope == 0:
        return x
    lo, hi = 1 / (1 + math.exp(slope / 2)), 1 / (1 + math.exp(-slope / 2))
    return (1 / (1 + np.exp(-slope * (x - 0.5))) - lo) / (hi - lo)


def fast_gaussian(img: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian low-pass of σ ``sigma_px`` pixels; large kernels are computed on a grid
    downsampled by block means (factor ≈ σ/2, so ≥ 2 coarse pixels per σ) and
    interpolated back bilinearly. Cost about linear in pixels whatever σ."""
    factor = max(1, int(sigma_px // 2))
    if factor == 1 or min(img.shape) < 2 * factor:
        return ndimage.gaussian_filter(img, sigma_px, mode="nearest", truncate=3.0)
    h, w = img.shape
    hh, ww = -(-h // factor) * factor, -(-w // factor) * factor
    padded = np.pad(img, ((0, hh - h), (0, ww - w)), mode="edge")
    small = padded.reshape(hh // factor, factor, ww // factor, factor).mean(axis=(1, 3))
    small = ndimage.gaussian_filter(small, sigma_px / factor, mode="nearest", truncate=3.0)
    # fine pixel i lies at coarse coordinate (i + 0.5) / factor − 0.5: separable linear interpolation
    out = small
    for axis, n in ((0, h), (1, w)):
        pos = np.clip((np.arange(n) + 0.5) / factor - 0.5, 0, out.shape[axis] - 1)
        i0 = np.minimum(pos.astype(int), out.shape[axis] - 2)
        f = pos - i0
        if axis == 0:
            out = out[i0] * (1 - f)[:, None] + out[i0 + 1] * f[:, None]
        else:
            out = out[:, i0] * (1 - f)[None, :] + out[:, i0 + 1] * f[None, :]
    return out


def _masked_gaussian(img: np.ndarray, mask: np.ndarray, sigma_px: float, fill: np.ndarray | None = None) -> np.ndarray:
    """Gaussian low-pass of ``img`` using only pixels in ``mask`` (normalised convolution);
    where no masked pixel is near, ``fill`` (default: ``img``)."""
    m = mask.astype(img.dtype)
    num = fast_gaussian(img * m, sigma_px)
    den = fast_gaussian(m, sigma_px)
    ok = den > 1e-3
    return np.where(ok, num / np.where(ok, den, 1.0), img if fill is None else fill)


def _soft_under_bone(img: np.ndarray, soft: np.ndarray, bone: np.ndarray, pixel_mm: float) -> np.ndarray:
    """The soft-tissue channel: ``img`` outside bone; inside, the soft tissue around the bone
    carried in by normalised convolution, from the finer scale where it reaches (σ 2 mm,
    else 20 mm, blended by their weights so that no seam appears)."""
    m = soft.astype(img.dtype)
    est = np.full(img.shape, float(np.median(img[soft])), img.dtype)
    for sigma_mm in (20.0, 2.0):
        den = fast_gaussian(m, sigma_mm / pixel_mm)
        num = fast_gaussian(img * m, sigma_mm / pixel_mm)
        alpha = np.clip(den / 0.25, 0.0, 1.0)
        est = alpha * (num / np.maximum(den, 1e-6)) + (1 - alpha) * est
    return np.where(bone, np.minimum(est, img), img)


def _soft_weight(soft: np.ndarray, pixel_mm: float) -> np.ndarray:
    """Weight in [0, 1] of the soft tissue nearby (normalised convolution, σ 2 mm): 1 in and
    beside soft tissue, falling to 0 a few millimetres inside bone."""
    return np.clip(fast_gaussian(soft.astype(np.float32), 2.0 / pixel_mm) / 0.25, 0.0, 1.0)


def _tone_curve(img: np.ndarray, xs: list[float], ys: list[float], pivot: int = 1) -> np.ndarray:
    """Monotone cubic (PCHIP) tone curve through anchors (xs rising), linear below the first and
    flat above the last; output clipped to [0, 1]. Anchors that coincide (a uniform tissue) are
    merged: below ``pivot`` (the median soft tissue) the pivot wins, above it the outermost."""
    eps = 1e-6 * (1.0 + max(abs(x) for x in xs))
    keep = [(xs[pivot], ys[pivot])]
    for x, y in reversed(list(zip(xs[:pivot], ys[:pivot]))):
        if x < keep[0][0] - eps:
            keep.insert(0, (x, y))
    top: list[tuple[float, float]] = []
    for x, y in reversed(list(zip(xs[pivot + 1 :], ys[pivot + 1 :]))):
        if x > keep[-1][0] + eps and (not top or x < top[0][0] - eps):
            top.insert(0, (x, y))
    keep += top
    if len(keep) == 1:
        return np.full(img.shape, keep[0][1], img.dtype)
    kx, ky = (np.array(v) for v in zip(*keep))
    out = PchipInterpolator(kx, ky, extrapolate=False)(np.clip(img, kx[0], kx[-1]))
    slope = (ky[1] - ky[0]) / (kx[1] - kx[0])
    out = np.where(img < kx[0], ky[0] + (img - kx[0]) * slope, out)
    return np.clip(out, 0.0, 1.0)


def dr_process(log_img: np.ndarray, window: Window, pixel_mm: float, bone_mask: np.ndarray | None = None) -> np.ndarray:
    """Digital-radiography processing of a log image to display values in [0, 1] (dense white).

    Two channels, so that no dense object rings its surroundings with a halo: soft tissue
    (outside ``bone_mask``; under it, the soft tissue around it) and the bone's excess over
    it. Without a mask, bone is what exceeds the 99.5th percentile of the body. Soft
    channel: subtract ``lowpass_fraction`` × (low-pass − its median), add the soft-tissue
    bands (soft-clipped; lifts halved beside bone); low-pass and bands average soft-tissue
    pixels only, handing over to the whole body a few millimetres inside bone. Bone channel: subtract
    ``bone_lowpass_fraction`` × its bone-only low-pass. Sum, add the fine detail, map by
    the tone curve (see :class:`Window`); open beam black.
    """
    _checked("pixel_mm", pixel_mm)
    _checked_array("log image", log_img)
    body = log_img >= window.air_threshold
    if not body.any():
        return np.zeros(log_img.shape, np.float32)
    img = log_img.astype(np.float32)  # float32 halves the memory traffic; display needs no more
    if bone_mask is None or not (body & bone_mask).any() or not (body & ~bone_mask).any():
        bone = body & (img > float(np.percentile(img[body], 99.5)))
    else:
        bone = body & np.asarray(bone_mask, bool)
    # The bone channel covers the bone grown by 1 mm (its partial-volume edge), so the soft
    # channel is smooth across every bone outline and its contrast bands ring nothing.
    grown = body & ndimage.binary_dilation(bone, iterations=max(1, round(1.0 / pixel_mm))) if bone.any() else bone
    soft = body & ~grown
    if not soft.any():
        soft, bone, grown = body, np.zeros_like(body), np.zeros_like(body)
    s = _soft_under_bone(img, soft, grown, pixel_mm) if grown.any() else img
    excess = np.where(grown, img - s, 0.0)
    # Low-pass and bands average soft-tissue pixels only: the channel under bone (a smooth
    # estimate that sags towards the bone's middle) would pull the local mean down beside the
    # bone and turn a fat pad lying against it brighter than the muscle next to it. Under bone
    # the soft-only mean hands over (within about 2 mm) to the mean over the whole body.
    alpha = np.where(grown, _soft_weight(soft, pixel_mm), 1.0) if grown.any() else None

    def local_mean(x: np.ndarray, sigma_mm: float) -> np.ndarray:
        on_soft = _masked_gaussian(x, soft, sigma_mm / pixel_mm)
        if alpha is None:
            return on_soft
        return alpha * on_soft + (1 - alpha) * _masked_gaussian(x, body, sigma_mm / pixel_mm)

    if window.lowpass_fraction:
        low = local_mean(s, window.lowpass_sigma_mm)
        s = np.where(body, s - window.lowpass_fraction * (low - float(np.median(low[soft]))), s)
    bands = np.zeros_like(s)
    if window.soft_detail_gain:
        bands += window.soft_detail_gain * (s - local_mean(s, window.soft_detail_sigma_mm))
    if window.soft_broad_gain:
        # a band-pass (fine-detail σ to broad σ): it darkens fat bands and pads, not the noise
        fine_low = local_mean(s, window.detail_sigma_mm)
        bands += window.soft_broad_gain * (fine_low - local_mean(s, window.soft_broad_sigma_mm))
    if grown.any():  # beside bone (the thickest soft tissue) lifts are halved: no glow along the bone
        near_bone = np.clip(fast_gaussian(grown.astype(np.float32), 3.0 / pixel_mm) / 0.25, 0.0, 1.0)
        bands = np.where(bands > 0, bands * (1 - 0.5 * near_bone), bands)
    if window.soft_band_limit:  # soft clip: a dense deposit in soft tissue gets no dark halo
        bands = window.soft_band_limit * np.tanh(bands / window.soft_band_limit)
    if alpha is not None:  # deep in bone the bands fade out: they would mottle the medulla
        bands = alpha * bands
    s = s + np.where(body, bands, 0.0)
    if window.bone_lowpass_fraction and grown.any():
        # min(excess, low-pass): at the bone's thin edge the subtraction never goes below zero (no dark rim)
        low_bone = _masked_gaussian(excess, grown, window.bone_lowpass_sigma_mm / pixel_mm)
        excess = excess - window.bone_lowpass_fraction * np.where(grown, np.minimum(excess, low_bone), 0.0)
    img = s + excess
    if window.detail_gain:  # fine detail per channel: no overshoot at the skin or around bone
        sigma = window.detail_sigma_mm / pixel_mm
        detail = np.where(body, s - _masked_gaussian(s, body, sigma), 0.0)
        if grown.any():
            # bounded by the excess itself: the bone's thin edge never goes below the soft tissue
            bone_detail = np.maximum(excess - _masked_gaussian(excess, grown, sigma), -excess)
            detail += np.where(grown, bone_detail, 0.0)
        img = img + window.detail_gain * detail
    soft_px = img[soft]
    xs = [
        float(np.percentile(img[body], window.low_percentile)),
        float(np.median(soft_px)),
        float(np.percentile(soft_px, 99.0)),
    ]
    ys = [window.skin_grey, window.soft_grey, window.soft_top_grey]
    if bone.any():
        bone_px = img[bone]
        xs += [float(np.median(bone_px)), float(np.percentile(bone_px, window.bone_percentile))]
        ys += [window.bone_median_grey, window.bone_grey]
    out = _s_curve(_tone_curve(img, xs, ys), window.s_curve)
    out[~body] = 0.0
    return out.astype(np.float32)


def apply_window(
    log_img: np.ndarray, window: Window = Window(), pixel_mm: float = 1.0, bone_mask: np.ndarray | None = None
) -> np.ndarray:
    """Map the log image to display values in [0, 1], dense (high attenuation) white.

    ``pixel_mm`` (mm) sets the kernel sizes of unsharp masking and DR processing;
    ``bone_mask`` (optional) anchors the DR window on bone and soft tissue.
    """
    if window.mode == "dr":
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
    counts = quantum_noise(expected_counts(t, fluence, scene.pixel_mm), rng)
    counts = detector_blur(counts, exposure.blur_fwhm_mm, scene.pixel_mm)
    return log_image(counts, fluence, scene.pixel_mm)


def unattenuated_fluence(transmitted: np.ndarray, exposure: Exposure) -> float:
    """Unattenuated fluence (photons/mm²) of ``exposure``; with ``reference='behind_object'`` it is
    scaled so that the median fluence behind the object (pixels transmitting < 90 %) is the stated one."""
    fluence = float(exposure.fluence_photons_per_mm2)
    if exposure.reference == "behind_object":
        behind = transmitted[transmitted < 0.9]
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
