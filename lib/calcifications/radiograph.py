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
    ``None`` gives a noiseless image.
    """

    energy_kev: float = DEFAULT_ENERGY_KEV
    fluence_photons_per_mm2: float | None = 1.0e5
    blur_fwhm_mm: float = 0.3
    reference: str = "unattenuated"

    def __post_init__(self) -> None:
        if self.reference not in ("unattenuated", "behind_object"):
            raise ValueError(f"reference must be 'unattenuated' or 'behind_object', got {self.reference!r}")
        _finite_positive("energy_kev", self.energy_kev)
        if self.fluence_photons_per_mm2 is not None:
            _finite_positive("fluence_photons_per_mm2", self.fluence_photons_per_mm2)
        _finite_positive("blur_fwhm_mm", self.blur_fwhm_mm, allow_zero=True)


@dataclass(frozen=True)
class Window:
    """Display window on the log image (line-integral units, dimensionless): level and width.

    ``None`` for either picks it from the image: low end at the ``low_percentile``
    and high end at the ``high_percentile`` of the log image. ``gamma`` < 1
    brightens mid-greys as film-like display curves do. ``unsharp_amount`` > 0
    subtracts that fraction of the image blurred over ``unsharp_scale_mm`` (mm),
    the large-kernel unsharp masking of clinical processing that lets soft tissue
    and bone share one window. Pixels whose log value is below ``air_threshold``
    (open beam) stay black.
    """

    level: float | None = None
    width: float | None = None
    low_percentile: float = 0.5
    high_percentile: float = 99.7
    gamma: float = 1.0
    unsharp_amount: float = 0.0
    unsharp_scale_mm: float = 12.0
    air_threshold: float = 0.02

    def __post_init__(self) -> None:
        _finite_positive("unsharp_amount", self.unsharp_amount, allow_zero=True)
        _finite_positive("unsharp_scale_mm", self.unsharp_scale_mm)
        if self.width is not None:
            _finite_positive("window width", self.width)
        if self.level is not None and not math.isfinite(float(self.level)):
            raise ValueError(f"window level must be finite, got {self.level!r}")
        if not 0 <= self.low_percentile < self.high_percentile <= 100:
            raise ValueError("window percentiles must satisfy 0 ≤ low < high ≤ 100")
        _finite_positive("gamma", self.gamma)


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
    i0 = fluence_photons_per_mm2 * pixel_mm * pixel_mm
    return -np.log(np.maximum(counts, 0.5) / i0)


def unsharp_mask(log_img: np.ndarray, amount: float, scale_mm: float, pixel_mm: float) -> np.ndarray:
    """Large-kernel unsharp mask: image − amount × (box-blurred image − image mean), box ≈ ``scale_mm``."""
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
        half = max(high - window.level, window.level - low)
        return window.level - half, window.level + half
    return float(low), float(max(high, low + 1e-6))


def apply_window(log_img: np.ndarray, window: Window = Window(), pixel_mm: float = 1.0) -> np.ndarray:
    """Map the log image to display values in [0, 1], dense (high attenuation) white.

    ``pixel_mm`` (mm) sets the unsharp-mask kernel size; it matters only when
    ``window.unsharp_amount`` > 0.
    """
    air = log_img < window.air_threshold
    log_img = unsharp_mask(log_img, window.unsharp_amount, window.unsharp_scale_mm, pixel_mm)
    low, high = window_limits(log_img, window)
    out = np.clip((log_img - low) / (high - low), 0.0, 1.0)
    out[air] = 0.0
    if window.gamma != 1.0:
        out = out**window.gamma
    return out.astype(np.float32)


def to_uint8(display: np.ndarray) -> np.ndarray:
    """Display values in [0, 1] to 8-bit grey levels (0–255)."""
    return np.round(np.clip(display, 0.0, 1.0) * 255.0).astype(np.uint8)


def render_log(scene: Scene, exposure: Exposure = Exposure(), rng: np.random.Generator | None = None) -> np.ndarray:
    """Log image (estimated line integral) of ``scene``; noise needs ``rng`` and a fluence."""
    t = transmission(scene, exposure.energy_kev)
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
) -> np.ndarray:
    """Radiograph of ``scene``: float32 in [0, 1] (or uint8), dense white, air black."""
    display = apply_window(render_log(scene, exposure, rng), window, scene.pixel_mm)
    return to_uint8(display) if as_uint8 else display
