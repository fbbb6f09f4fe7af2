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

from .materials import DEFAULT_ENERGY_KEV, Material, get_material, linear_attenuation_per_mm

FWHM_PER_SIGMA: float = 2.0 * math.sqrt(2.0 * math.log(2.0))


def _finite_positive(name: str, value: float, allow_zero: bool = False) -> float:
    if isinstance(value, (str, bytes, bool)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return v


@dataclass(frozen=True)
class Scene:
    """Material thickness maps (mm along the beam) on a grid of ``pixel_mm`` square pixels."""

    pixel_mm: float
    layers: tuple[tuple[Material, np.ndarray], ...] = field(repr=False)

    def __post_init__(self) -> None:
        _finite_positive("pixel_mm", self.pixel_mm)
        if not self.layers:
            raise ValueError("a scene needs at least one material layer")
        shape = self.layers[0][1].shape
        for material, thickness in self.layers:
            if thickness.ndim != 2 or thickness.shape != shape:
                raise ValueError(f"thickness map of {material.id} has shape {thickness.shape}, expected 2-D {shape}")
            if not np.all(np.isfinite(thickness)):
                raise ValueError(f"thickness map of {material.id} contains NaN or infinity")
            if thickness.min(initial=0.0) < 0:
                raise ValueError(f"thickness map of {material.id} has negative thickness (mm)")

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
        _finite_positive("energy_kev", self.energy_kev)
        lo, hi = ENERGY_RANGE_KEV
        if not lo <= float(self.energy_kev) <= hi:
            raise ValueError(
                f"energy_kev must be within {lo:g}–{hi:g} keV (diagnostic X-rays), got {self.energy_kev!r}"
            )
        if self.fluence_photons_per_mm2 is not None:
            _finite_positive("fluence_photons_per_mm2", self.fluence_photons_per_mm2)
        _finite_positive("blur_fwhm_mm", self.blur_fwhm_mm, allow_zero=True)
        _finite_positive("scatter_fraction", self.scatter_fraction, allow_zero=True)
        if self.scatter_fraction > 1:
            raise ValueError(f"scatter_fraction must be within 0–1, got {self.scatter_fraction!r}")
        _finite_positive("scatter_sigma_mm", self.scatter_sigma_mm)


ENERGY_RANGE_KEV: tuple[float, float] = (10.0, 150.0)


@dataclass(frozen=True)
class Window:
    """Display processing of the log image (line-integral units, dimensionless).

    ``mode='percentile'``: level and width; ``None`` for either picks it from the
    image (low end at ``low_percentile``, high end at ``high_percentile``); ``gamma``
    < 1 brightens mid-greys; ``unsharp_amount`` > 0 subtracts that fraction of the
    image box-blurred over ``unsharp_scale_mm`` (mm).

    ``mode='dr'``: processing like a digital radiography system (see
    :func:`dr_process`): subtract ``lowpass_fraction`` of a large-scale low-pass
    (Gaussian σ ``lowpass_sigma_mm``, mm) computed inside the body only, so the air
    gets no halo; add ``detail_gain`` × (image − Gaussian σ ``detail_sigma_mm``);
    map the median soft tissue to ``soft_grey`` and the ``bone_percentile`` of
    bone to ``bone_grey``; a gentle logistic S-curve of slope ``s_curve``.

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
    lowpass_sigma_mm: float = 11.0
    lowpass_fraction: float = 0.6
    detail_sigma_mm: float = 1.1
    detail_gain: float = 0.7
    soft_grey: float = 0.30
    bone_grey: float = 0.94
    bone_percentile: float = 99.9
    s_curve: float = 3.0

    def __post_init__(self) -> None:
        if self.mode not in ("percentile", "dr"):
            raise ValueError(f"window mode must be 'percentile' or 'dr', got {self.mode!r}")
        _finite_positive("unsharp_amount", self.unsharp_amount, allow_zero=True)
        _finite_positive("unsharp_scale_mm", self.unsharp_scale_mm)
        if self.width is not None:
            _finite_positive("window width", self.width)
        if self.level is not None and not math.isfinite(float(self.level)):
            raise ValueError(f"window level must be finite, got {self.level!r}")
        if not 0 <= self.low_percentile < self.high_percentile <= 100:
            raise ValueError("window percentiles must satisfy 0 ≤ low < high ≤ 100")
        _finite_positive("gamma", self.gamma)
        _finite_positive("lowpass_sigma_mm", self.lowpass_sigma_mm)
        _finite_positive("detail_sigma_mm", self.detail_sigma_mm)
        _finite_positive("detail_gain", self.detail_gain, allow_zero=True)
        _finite_positive("s_curve", self.s_curve, allow_zero=True)
        if not 0 <= self.lowpass_fraction < 1:
            raise ValueError(f"lowpass_fraction must be within 0–1, got {self.lowpass_fraction!r}")
        if not 0 <= self.soft_grey < self.bone_grey <= 1:
            raise ValueError("grey anchors must satisfy 0 ≤ soft_grey < bone_grey ≤ 1")
        if not 50 <= self.bone_percentile <= 100:
            raise ValueError(f"bone_percentile must be within 50–100, got {self.bone_percentile!r}")

    @classmethod
    def dr(cls, **changes: float) -> Window:
        """The digital-radiography processing with its default parameters (optionally changed)."""
        return cls(mode="dr", **changes)  # type: ignore[arg-type]


def line_integral(scene: Scene, energy_kev: float = DEFAULT_ENERGY_KEV) -> np.ndarray:
    """Σ μ_m·t_m (dimensionless) per pixel, μ at ``energy_kev`` (keV) from the cached table."""
    _finite_positive("energy_kev", energy_kev)
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
    _finite_positive("fluence_photons_per_mm2", fluence_photons_per_mm2)
    _finite_positive("pixel_mm", pixel_mm)
    return transmitted * (fluence_photons_per_mm2 * pixel_mm * pixel_mm)


def quantum_noise(mean_counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Poisson-distributed photon counts with the given means, drawn from ``rng``."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (use numpy.random.default_rng(seed))")
    mean_counts = np.asarray(mean_counts)
    if not np.all(np.isfinite(mean_counts)) or (mean_counts < 0).any():
        raise ValueError("mean photon counts must be finite and ≥ 0")
    return rng.poisson(mean_counts).astype(np.float64)


def detector_blur(image: np.ndarray, fwhm_mm: float, pixel_mm: float) -> np.ndarray:
    """Gaussian detector blur of full width at half maximum ``fwhm_mm`` (mm)."""
    _finite_positive("fwhm_mm", fwhm_mm, allow_zero=True)
    _finite_positive("pixel_mm", pixel_mm)
    if fwhm_mm == 0:
        return image
    sigma_px = fwhm_mm / FWHM_PER_SIGMA / pixel_mm
    return ndimage.gaussian_filter(image, sigma=sigma_px, mode="nearest")


def log_image(counts: np.ndarray, fluence_photons_per_mm2: float, pixel_mm: float) -> np.ndarray:
    """Estimated line integral −ln(N / (Φ·a)); counts below 0.5 photon are clipped to 0.5."""
    _finite_positive("fluence_photons_per_mm2", fluence_photons_per_mm2)
    _finite_positive("pixel_mm", pixel_mm)
    i0 = fluence_photons_per_mm2 * pixel_mm * pixel_mm
    return -np.log(np.maximum(counts, 0.5) / i0)


def unsharp_mask(log_img: np.ndarray, amount: float, scale_mm: float, pixel_mm: float) -> np.ndarray:
    """Large-kernel unsharp mask: image − amount × (box-blurred image − image mean), box ≈ ``scale_mm``."""
    _finite_positive("amount", amount, allow_zero=True)
    _finite_positive("scale_mm", scale_mm)
    _finite_positive("pixel_mm", pixel_mm)
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


def _masked_gaussian(img: np.ndarray, mask: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian low-pass of ``img`` using only pixels in ``mask`` (normalised convolution)."""
    m = mask.astype(np.float64)
    num = ndimage.gaussian_filter(img * m, sigma_px, mode="nearest")
    den = ndimage.gaussian_filter(m, sigma_px, mode="nearest")
    return np.where(den > 1e-6, num / np.maximum(den, 1e-6), 0.0)


def dr_process(log_img: np.ndarray, window: Window, pixel_mm: float, bone_mask: np.ndarray | None = None) -> np.ndarray:
    """Digital-radiography processing of a log image to display values in [0, 1] (dense white).

    Steps: subtract ``lowpass_fraction`` × (body-only Gaussian low-pass − its median)
    inside the body; add ``detail_gain`` × the detail above ``detail_sigma_mm``;
    anchor the median of soft tissue (body pixels outside ``bone_mask``; without a
    mask, the 30th percentile of the body) at ``soft_grey`` and the
    ``bone_percentile`` of bone (of the body without a mask) at ``bone_grey``;
    logistic S-curve; open beam black.
    """
    _finite_positive("pixel_mm", pixel_mm)
    if not np.all(np.isfinite(log_img)):
        raise ValueError("log image contains NaN or infinity")
    body = log_img >= window.air_threshold
    if not body.any():
        return np.zeros(log_img.shape, np.float32)
    img = log_img.astype(np.float64)
    low = _masked_gaussian(img, body, window.lowpass_sigma_mm / pixel_mm)
    img = np.where(body, img - window.lowpass_fraction * (low - float(np.median(low[body]))), img)
    if window.detail_gain:
        img = img + window.detail_gain * (
            img - ndimage.gaussian_filter(img, window.detail_sigma_mm / pixel_mm, mode="nearest")
        )
    if bone_mask is not None and (body & ~bone_mask).any() and (body & bone_mask).any():
        soft_ref = float(np.median(img[body & ~bone_mask]))
        bone_ref = float(np.percentile(img[body & bone_mask], window.bone_percentile))
    else:
        soft_ref = float(np.percentile(img[body], 30))
        bone_ref = float(np.percentile(img[body], window.bone_percentile))
    bone_ref = max(bone_ref, soft_ref + 1e-3)
    x = window.soft_grey + (img - soft_ref) * (window.bone_grey - window.soft_grey) / (bone_ref - soft_ref)
    out = _s_curve(np.clip(x, 0.0, 1.0), window.s_curve)
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
        t = t + exposure.scatter_fraction * ndimage.gaussian_filter(
            t, exposure.scatter_sigma_mm / scene.pixel_mm, mode="nearest"
        )
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
