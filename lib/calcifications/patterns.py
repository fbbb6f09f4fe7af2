"""Calcification patterns: one generator per morphology id, placed in its compartment.

Each generator takes a built :class:`~calcifications.anatomy.Anatomy`, an explicit
``numpy.random.Generator`` and teaching parameters (number, size in mm, mineral
concentration in g/cm³, distribution, stage) and returns :class:`Lesion` objects:
a thickness map (mm along the beam) of one material, the compartments it may
occupy (it is clipped to their masks) and the host tissues it displaces.

Mineral deposits use a *reference deposit*: hydroxyapatite (or CPPD) at
1 g/cm³ in soft tissue. Because a deposit's attenuation is linear in its mineral
concentration c, a region of chord L at concentration c attenuates exactly as
``L·c / (1 g/cm³)`` mm of the reference deposit plus the remaining host tissue;
lesion thicknesses of mineral are therefore "mm of 1 g/cm³ deposit".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import ndimage

from .anatomy import HOST_ORDER, Anatomy, Capsule, Ellipsoid, displace, eroded_chord, trabecular_texture
from .materials import Material, get_material, mineral_mixture

MORPHOLOGIES: tuple[str, ...] = (
    "tubular_parallel_lines",
    "circumferential_ring_vessel",
    "irregular_plaques_vessel",
    "curvilinear_rim",
    "phlebolith",
    "rice_grain",
    "sheet_leaf_linear",
    "mature_bone",
    "zonal_peripheral",
    "amorphous_cloud",
    "linear_stratified",
    "punctate_in_soft_tissue_mass",
    "rounded_bodies_ring_arc",
    "lobulated_multicystic_mass",
    "fluid_calcium_levels",
    "dense_homogeneous_nodules",
    "small_round_nodules",
    "bridging_ossification",
)
REFERENCE_G_CM3: float = 1.0
SOFT_HOSTS: tuple[str, ...] = HOST_ORDER  # one definition: the soft tissues a deposit displaces, in order
BONE_HOSTS: tuple[str, ...] = ("cortical_bone", "red_marrow", "yellow_marrow")


@cache
def reference_deposit(mineral: str = "hydroxyapatite") -> Material:
    """The 1 g/cm³ reference deposit of ``mineral`` ('hydroxyapatite', 'cppd') in soft tissue."""
    crystal = {"hydroxyapatite": "hydroxyapatite_crystal", "cppd": "cppd_crystal"}[mineral]
    return mineral_mixture(
        get_material(crystal), get_material("soft_tissue"), REFERENCE_G_CM3, id=f"{mineral}_reference_deposit"
    )


@dataclass(frozen=True)
class Lesion:
    """Thickness map (mm) of one material, the compartments it may occupy, the hosts it displaces."""

    material: Material | str
    thickness_mm: np.ndarray
    compartments: tuple[str, ...]
    hosts: tuple[str, ...] = SOFT_HOSTS


# ------------------------------------------------------------ validation ----


def _number(name: str, value: Any, low: float = 0.0, high: float = math.inf, strict: bool = True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if v < low or (strict and v == low) or v > high:
        raise ValueError(f"{name} must be {'>' if strict else '≥'} {low:g} and ≤ {high:g}, got {v:g}")
    return v


def _count(value: Any, high: int = 400) -> int:
    v = _number("count", value, 0, high, strict=False)
    if v != int(v):
        raise ValueError(f"count must be a whole number, got {value!r}")
    return int(v)


SWELLING_MM: float = 12.0


def region_mask(anatomy: Anatomy, compartments: tuple[str, ...]) -> np.ndarray:
    """Union of the masks of ``compartments``; ValueError if one is absent.

    Two pseudo-compartments: 'bone' (the bone mask) and 'swelling' (up to SWELLING_MM mm
    outside the skin, where a mass bulges the soft-tissue contour).
    """
    out = np.zeros(anatomy.grid.shape, dtype=bool)
    for name in compartments:
        if name == "bone":
            out |= anatomy.bone_mask
        elif name == "swelling":
            out |= ndimage.binary_dilation(
                anatomy.body_mask, iterations=max(1, round(SWELLING_MM / anatomy.grid.pixel_mm))
            )
        elif name in anatomy.masks:
            out |= anatomy.masks[name]
        else:
            raise ValueError(
                f"compartment {name!r} is not present at {anatomy.site} (present: {', '.join(sorted(anatomy.masks))})"
            )
    return out


def _mass_region(anatomy: Anatomy, compartment: str) -> tuple[str, ...]:
    """A mass grows across thin planes: a muscle mass may cross fascial bands, and vice versa."""
    extra = {"muscle": ("fascial", "vascular"), "fascial": ("muscle",), "periarticular": ("fascial", "muscle")}.get(
        compartment, ()
    )
    return (compartment,) + tuple(c for c in extra if c in anatomy.masks)


def _lesion(
    material: Material | str,
    thickness: np.ndarray,
    anatomy: Anatomy,
    compartments: tuple[str, ...],
    hosts: tuple[str, ...] = SOFT_HOSTS,
) -> Lesion:
    clipped = np.where(region_mask(anatomy, compartments), np.clip(thickness, 0.0, None), 0.0)
    return Lesion(material, clipped, compartments, hosts)


def chalky(
    thickness: np.ndarray, rng: np.random.Generator, pixel_mm: float, grain_mm: float = 0.8, amount: float = 0.5
) -> np.ndarray:
    """Heterogeneous (chalky) mineral: ``thickness`` modulated by smooth log-normal noise of mean 1.

    Real deposits are not clean shapes: their density varies at about ``grain_mm`` and their
    margins are irregular. ``amount`` (0 = clean) is the standard deviation of the log-density.
    """
    if amount <= 0 or not thickness.any():
        return thickness
    noise = ndimage.gaussian_filter(rng.standard_normal(thickness.shape), max(grain_mm / pixel_mm, 0.5))
    noise /= noise.std() or 1.0
    return thickness * np.exp(amount * noise - amount * amount / 2)


def skin_over_bulge(anatomy: Anatomy, mass: np.ndarray, skin_mm: float = 1.6) -> np.ndarray:
    """Skin path (mm) over the part of a mass that bulges beyond the body outline (mass effect).

    The mass lifts the skin: where it lies outside the original outline the beam crosses two
    skin layers, and near the bulge's edge, where the skin runs along the beam, a longer path.
    """
    outside = (mass > 0.05) & ~anatomy.body_mask
    if not outside.any():
        return np.zeros(anatomy.grid.shape)
    depth = ndimage.distance_transform_edt(outside) * anatomy.grid.pixel_mm
    rim = 2 * np.sqrt(np.clip(2 * 8.0 * skin_mm - (depth - skin_mm) ** 2, 0, None) * (depth < 8.0))
    return np.where(outside, 2 * skin_mm + 0.5 * rim, 0.0)


# ------------------------------------------------------------- geometry ----


def _landmark_point(anatomy: Anatomy, location: Any, fallback: str) -> tuple[float, float]:
    value = (
        anatomy.landmarks.get(location if isinstance(location, str) else fallback)
        if (location is None or isinstance(location, str))
        else location
    )
    if value is None:
        raise ValueError(f"landmark {location or fallback!r} is not defined at {anatomy.site} {anatomy.projection}")
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 2:  # a polyline: take its middle
        arr = arr[len(arr) // 2]
    if arr.shape != (2,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"location must be a landmark name or an (x, y) point in mm, got {location!r}")
    return float(arr[0]), float(arr[1])


def _polyline(anatomy: Anatomy, name: str) -> np.ndarray:
    value = anatomy.landmarks.get(name)
    if value is None:
        raise ValueError(f"landmark {name!r} is not defined at {anatomy.site} {anatomy.projection}")
    return np.asarray(value, dtype=float)


def polyline_coordinates(points: np.ndarray, anatomy: Anatomy) -> tuple[np.ndarray, np.ndarray]:
    """Arc length s (mm) along a polyline and signed distance d (mm) from it, per pixel."""
    x, y = anatomy.grid.coordinates()
    best_d = np.full(anatomy.grid.shape, np.inf)
    best_s = np.zeros(anatomy.grid.shape)
    signed = np.zeros(anatomy.grid.shape)
    s0 = 0.0
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy) or 1e-9
        u = np.clip(((x - x0) * dx + (y - y0) * dy) / length**2, 0.0, 1.0)
        px, py = x - x0 - u * dx, y - y0 - u * dy
        dist = np.hypot(px, py)
        closer = dist < best_d
        best_d = np.where(closer, dist, best_d)
        best_s = np.where(closer, s0 + u * length, best_s)
        signed = np.where(closer, np.sign(dx * py - dy * px) * dist, signed)
        s0 += length
    return best_s, signed


def _sample_points(
    mask: np.ndarray,
    n: int,
    rng: np.random.Generator,
    pixel_mm: float,
    margin_mm: float = 0.0,
    avoid: np.ndarray | None = None,
) -> np.ndarray:
    """``n`` random pixel centres (mm, as x, y) inside ``mask`` eroded by ``margin_mm``."""
    if margin_mm > 0:
        eroded = ndimage.binary_erosion(mask, iterations=max(1, int(margin_mm / pixel_mm)))
        mask = eroded if eroded.any() else mask
    if avoid is not None and (mask & ~avoid).any():
        mask = mask & ~avoid  # keep deposits off bone where possible, so they stay visible
    rows, cols = np.nonzero(mask)
    if rows.size == 0 or n == 0:
        return np.zeros((0, 2))
    pick = rng.choice(rows.size, size=n, replace=rows.size < n)
    return np.column_stack([(cols[pick] + 0.5) * pixel_mm, (rows[pick] + 0.5) * pixel_mm])


def _fibre_angle(anatomy: Anatomy, params: Mapping[str, Any]) -> float:
    return float(params.get("angle_deg", anatomy.landmarks.get("fibre_angle_deg", 90.0)))


def _shell(
    anatomy: Anatomy, center: tuple[float, float], a: float, b: float, c: float, wall: float, angle: float = 0.0
) -> np.ndarray:
    outer = Ellipsoid(center, a, b, c, angle).chord(anatomy.grid)
    inner = Ellipsoid(center, max(a - wall, 1e-3), max(b - wall, 1e-3), max(c - wall, 1e-3), angle).chord(anatomy.grid)
    return outer - inner


def _arc_gaps(
    anatomy: Anatomy, center: tuple[float, float], rng: np.random.Generator, coverage: float, pieces: int = 7
) -> np.ndarray:
    """In-plane angular weight (0–1) keeping about ``coverage`` of the circle in ``pieces`` arcs, soft ends."""
    x, y = anatomy.grid.coordinates()
    theta = np.mod(np.arctan2(y - center[1], x - center[0]), 2 * np.pi)
    profile = np.zeros(720)
    span = int(720 * coverage / pieces)
    for start in rng.integers(0, 720, pieces):
        length = int(span * rng.uniform(0.6, 1.4))
        profile[np.arange(start, start + length) % 720] = 1.0
    profile = ndimage.gaussian_filter1d(profile, 6, mode="wrap")
    return profile[np.minimum((theta / (2 * np.pi) * 720).astype(int), 719)]


# ------------------------------------------------------------- vascular ----


def _vessel_wall(
    anatomy: Anatomy, params: Mapping[str, Any], rng: np.random.Generator, mode: str
) -> tuple[Lesion, ...]:
    """Calcified wall of the vessel landmark, seen as two parallel lines where the wall is tangential."""
    path = _polyline(anatomy, params.get("vessel", "artery"))
    radius = _number("size_mm", params.get("size_mm", 2 * float(anatomy.landmarks.get("artery_radius_mm", 2.0)))) / 2
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 0.9), high=3.0)
    extent = params.get("extent", (0.05, 0.95))
    s, d = polyline_coordinates(path, anatomy)
    total = float(np.sum(np.hypot(*np.diff(path, axis=0).T)))
    lo, hi = (_number("extent", e, 0, 1, strict=False) * total for e in extent)
    along = (s >= lo) & (s <= hi)
    wall = {"tubular": 0.6, "ring": 0.5, "plaque": 1.0}[mode] * _number("wall_mm", params.get("wall_mm", 1.0), high=5)
    outer = np.sqrt(np.clip(radius**2 - d**2, 0, None))
    inner = np.sqrt(np.clip((radius - wall) ** 2 - d**2, 0, None))
    half = outer - inner  # wall chord of one crossing (front or back)
    if mode == "tubular":
        th = 2 * half * (0.75 + 0.25 * np.cos(s / 7.0 + rng.uniform(0, 6)))
    elif mode == "ring":
        spacing = _number("spacing_mm", params.get("spacing_mm", 2.5))
        phase = rng.uniform(0, spacing)
        band = (np.mod(s + phase, spacing) < 0.7 * spacing / 2.5).astype(float)
        th = 2 * half * (0.45 + 0.55 * band)
    else:
        count = _count(params.get("count", 14))
        th = np.zeros(anatomy.grid.shape)
        phi_front = np.arctan2(np.sqrt(np.clip(radius**2 - d**2, 0, None)), d)
        for _ in range(count):
            s0 = rng.uniform(lo, hi)
            length = rng.uniform(2.0, 9.0)
            centre = rng.uniform(-np.pi, np.pi)
            width = rng.uniform(0.6, 2.2)
            seg = (s >= s0) & (s <= s0 + length)
            for phi in (phi_front, -phi_front):
                inside = np.abs(np.angle(np.exp(1j * (phi - centre)))) < width / 2
                th += half * seg * inside * rng.uniform(0.8, 1.8)
    th = th * along * conc / REFERENCE_G_CM3
    if mode == "plaque":  # soften the cut ends of the patches
        th = ndimage.gaussian_filter(th, 0.4 / anatomy.grid.pixel_mm)
    return (_lesion(reference_deposit(), th, anatomy, ("vascular",)),)


def tubular_parallel_lines(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Continuous calcified vessel wall: two parallel lines ("tram-track") along the artery.

    Parameters: size_mm (vessel diameter, mm), wall_mm, mineral_g_cm3, extent (fraction of the path).
    """
    return _vessel_wall(anatomy, params, rng, "tubular")


def circumferential_ring_vessel(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Fine continuous wall calcification with ring-like bands, no narrowing (medial sclerosis).

    Parameters: size_mm (vessel diameter, mm), spacing_mm (ring spacing), mineral_g_cm3, extent.
    """
    return _vessel_wall(anatomy, params, rng, "ring")


def irregular_plaques_vessel(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Discontinuous irregular plaques of the vessel wall (atherosclerosis).

    Parameters: count (plaques), size_mm (vessel diameter), mineral_g_cm3, extent.
    """
    return _vessel_wall(anatomy, params, rng, "plaque")


# ------------------------------------------------------- masses and rims ----


def curvilinear_rim(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Peripheral oval rim of calcification around a rounded mass or a dilated vessel (aneurysm, haematoma).

    Parameters: location (landmark or (x, y) mm), size_mm (long axis), aspect (short/long),
    coverage (fraction of the rim calcified), mineral_g_cm3, compartment.
    """
    compartment = params.get("compartment", "vascular")
    centre = _landmark_point(
        anatomy, params.get("location"), "artery" if compartment == "vascular" else "muscle_center"
    )
    size = _number("size_mm", params.get("size_mm", 30.0), high=300)
    aspect = _number("aspect", params.get("aspect", 0.7), high=1.0)
    coverage = _number("coverage", params.get("coverage", 0.7), high=1.0)
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 0.8), high=3.0)
    angle = _fibre_angle(anatomy, params)
    a, b = size / 2, size * aspect / 2
    wall = max(1.0, size / 30)
    shell = _shell(anatomy, centre, a, b, b, wall, angle)
    x, y = anatomy.grid.coordinates()
    t = math.radians(angle)
    rho = np.hypot(
        ((x - centre[0]) * math.cos(t) + (y - centre[1]) * math.sin(t)) / a,
        (-(x - centre[0]) * math.sin(t) + (y - centre[1]) * math.cos(t)) / b,
    )
    # Gaps interrupt the rim where it is seen tangentially; the faces keep a faint continuous shell.
    rim = rho > 1 - 2.5 * wall / b
    shell = shell * np.where(rim, _arc_gaps(anatomy, centre, rng, coverage), 0.35)
    mass = Ellipsoid(centre, a, b, b, angle).chord(anatomy.grid)
    region = (
        (compartment, "muscle", "fascial", "subcutaneous")
        if compartment == "vascular"
        else _mass_region(anatomy, compartment)
    )
    lesions = [_lesion("blood" if compartment == "vascular" else "soft_tissue", mass, anatomy, region)]
    lesions.append(_lesion(reference_deposit(), shell * conc, anatomy, lesions[0].compartments))
    return tuple(lesions)


def phlebolith(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Small round calcifications with a lucent centre or laminations (calcified venous thrombi).

    Parameters: count, size_mm (diameter, 2–10 mm typical), mineral_g_cm3, compartment.
    """
    compartment = params.get("compartment", "vascular")
    n = _count(params.get("count", 6))
    size = _number("size_mm", params.get("size_mm", 5.0), high=30)
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 1.0), high=3.0)
    mask = region_mask(anatomy, (compartment,))
    th = np.zeros(anatomy.grid.shape)
    for x, y in _sample_points(mask, n, rng, anatomy.grid.pixel_mm, size / 2):
        r = size / 2 * rng.uniform(0.75, 1.2)
        th += _shell(anatomy, (x, y), r, r * rng.uniform(0.8, 1.0), r, max(r * 0.3, 0.6), rng.uniform(0, 180))
        th += 0.5 * Ellipsoid((x, y), r * 0.25, r * 0.25, r * 0.25).chord(anatomy.grid)  # central nidus
    return (_lesion(reference_deposit(), th * conc, anatomy, (compartment,)),)


def rice_grain(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Many small oval (rice-grain) calcifications aligned with the muscle fibres (cysticercosis).

    Parameters: count, size_mm (grain length; width about a third), mineral_g_cm3, angle_deg (fibres).
    """
    compartment = params.get("compartment", "muscle")
    n = _count(params.get("count", 40))
    size = _number("size_mm", params.get("size_mm", 8.0), high=40)
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 1.0), high=3.0)
    angle = _fibre_angle(anatomy, params)
    th = np.zeros(anatomy.grid.shape)
    for x, y in _sample_points(region_mask(anatomy, (compartment,)), n, rng, anatomy.grid.pixel_mm, size / 2):
        length = size * rng.uniform(0.6, 1.3)
        width = length * rng.uniform(0.25, 0.4)
        th += Ellipsoid((x, y), length / 2, width / 2, width / 2, angle + rng.normal(0, 8)).chord(anatomy.grid)
    return (_lesion(reference_deposit(), th * conc, anatomy, (compartment,)),)


def sheet_leaf_linear(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Long linear, sheet- or leaf-like calcifications along fascial planes (and other compartments).

    Parameters: count (leaves per compartment), size_mm (leaf length), width_mm, mineral_g_cm3,
    compartments (list; default fascial and subcutaneous).
    """
    compartments = tuple(params.get("compartments", ("fascial", "subcutaneous")))
    n = _count(params.get("count", 8))
    size = _number("size_mm", params.get("size_mm", 40.0), high=400)
    width = _number("width_mm", params.get("width_mm", 2.5), high=30)
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 0.8), high=3.0)
    lesions = []
    lines = [np.asarray(line, float) for line in anatomy.landmarks.get("fascia_lines", ())]
    for compartment in compartments:
        mask = region_mask(anatomy, (compartment,))
        th = np.zeros(anatomy.grid.shape)
        for k in range(n):
            if compartment == "fascial" and lines:
                line = lines[k % len(lines)]
                t = rng.uniform(0, 1)
                seg = min(int(t * (len(line) - 1)), len(line) - 2)
                p0 = line[seg] + (line[seg + 1] - line[seg]) * (t * (len(line) - 1) - seg)
                direction = line[seg + 1] - line[seg]
                angle = math.degrees(math.atan2(direction[1], direction[0]))
            else:
                pts = _sample_points(mask, 1, rng, anatomy.grid.pixel_mm)
                if not len(pts):
                    continue
                p0 = pts[0]
                angle = _fibre_angle(anatomy, params) + rng.normal(0, 6)
            length = size * rng.uniform(0.5, 1.2)
            # a leaf: two overlapping flat ellipsoids, thick along the beam (a sheet seen edge on)
            for off in (-0.2, 0.2):
                cx = p0[0] + off * length * math.cos(math.radians(angle))
                cy = p0[1] + off * length * math.sin(math.radians(angle))
                w = width * rng.uniform(0.5, 1.2)
                th += Ellipsoid((cx, cy), length / 2.4, w / 2, 2.5 * w, angle + rng.normal(0, 4)).chord(anatomy.grid)
        # dilate the clip region by a pixel or two so leaves on a fascial line keep their width
        lesions.append(_lesion(reference_deposit(), th * conc * 0.6, anatomy, (compartment,)))
    return tuple(lesions)


# ----------------------------------------------------------- ossification ----


def _ossicle(
    anatomy: Anatomy,
    centre: tuple[float, float],
    length: float,
    width: float,
    angle: float,
    cortex_mm: float,
    compartments: tuple[str, ...],
    texture_rng: np.random.Generator,
) -> tuple[Lesion, ...]:
    """Mature bone: cortex and trabecular medulla, as thickness maps of cortical bone and marrow."""
    chord = Ellipsoid(centre, length / 2, width / 2, width / 2, angle).chord(anatomy.grid)
    inner = eroded_chord(chord, cortex_mm, anatomy.grid.pixel_mm)
    trab = 0.2 * inner * trabecular_texture(anatomy.grid, texture_rng)
    return (
        _lesion("cortical_bone", chord - inner + trab, anatomy, compartments),
        _lesion("yellow_marrow", inner - trab, anatomy, compartments),
    )


def mature_bone(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Organized heterotopic bone with cortex and medulla (e.g. ossified tendon, mature myositis ossificans).

    Parameters: location (landmark, e.g. 'achilles_tendon', or (x, y) mm), size_mm (length),
    width_mm, cortex_mm, angle_deg, compartment.
    """
    compartment = params.get("compartment", "periarticular")
    location = params.get("location")
    size = _number("size_mm", params.get("size_mm", 30.0), high=300)
    width = _number("width_mm", params.get("width_mm", size / 3), high=200)
    cortex = _number("cortex_mm", params.get("cortex_mm", 1.5), high=10)
    angle = _fibre_angle(anatomy, params)
    if isinstance(location, str) and np.asarray(anatomy.landmarks.get(location, ())).ndim == 2:
        line = np.asarray(anatomy.landmarks[location], float)
        direction = line[-1] - line[0]
        angle = float(params.get("angle_deg", math.degrees(math.atan2(direction[1], direction[0]))))
    centre = _landmark_point(anatomy, location, "muscle_center")
    return _ossicle(anatomy, centre, size, width, angle, cortex, _mass_region(anatomy, compartment), rng)


def zonal_peripheral(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Myositis ossificans staged by weeks since trauma, maturing from the periphery inward.

    Stages (weeks_since_trauma): 1–2 normal (soft-tissue swelling only); 3–4 faint
    floccular calcification; 6–8 a mature, well-defined periphery around a less
    mineralized centre (the zonal pattern); later, mature bone with cortex and medulla.
    Parameters: weeks_since_trauma, location, size_mm (long axis), aspect, angle_deg,
    mineral_g_cm3 (of the mature periphery), compartment.
    """
    compartment = params.get("compartment", "muscle")
    weeks = _number("weeks_since_trauma", params.get("weeks_since_trauma", 7), 0, 520, strict=False)
    size = _number("size_mm", params.get("size_mm", 50.0), high=300)
    aspect = _number("aspect", params.get("aspect", 0.45), high=1.0)
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 0.9), high=3.0)
    cleft = _number("cleft_mm", params.get("cleft_mm", 4.0), 0, 30, strict=False)
    angle = _fibre_angle(anatomy, params)
    centre = _landmark_point(anatomy, params.get("location"), "muscle_center")
    if weeks > 12:  # a mature lesion condenses: smaller and denser
        size *= 1.0 - 0.2 * min(1.0, (weeks - 12) / 20)
    a, b = size / 2, size * aspect / 2
    region = _mass_region(anatomy, compartment)
    px = anatomy.grid.pixel_mm
    # A lucent cleft separates myositis ossificans from the cortex (unlike parosteal osteosarcoma).
    near_bone = ndimage.binary_dilation(anatomy.bone_mask, iterations=max(1, round(cleft / px))) if cleft else None

    def keep_cleft(th: np.ndarray) -> np.ndarray:
        return th if near_bone is None else np.where(near_bone, 0.0, th)

    swelling = Ellipsoid(centre, a * 1.2, b * 1.3, b * 1.3, angle).chord(anatomy.grid)
    lesions = [_lesion("soft_tissue", 0.15 * swelling, anatomy, region)] if weeks < 6 else []
    if weeks >= 12:
        bone = _ossicle(
            anatomy, centre, size, 2 * b, angle, max(1.0, size / 25) * (1 + min(1.0, (weeks - 12) / 12)), region, rng
        )
        return tuple(lesions) + tuple(
            Lesion(lesion.material, keep_cleft(lesion.thickness_mm), lesion.compartments, lesion.hosts)
            for lesion in bone
        )
    if weeks < 2.5:
        return tuple(lesions)
    # Mineral front moves from the periphery (rho = 1) inward as weeks pass.
    x, y = anatomy.grid.coordinates()
    t = math.radians(angle)
    u = (x - centre[0]) * math.cos(t) + (y - centre[1]) * math.sin(t)
    v = -(x - centre[0]) * math.sin(t) + (y - centre[1]) * math.cos(t)
    rho = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    front = float(np.clip(1.0 - (weeks - 2.5) / 9.0, 0.25, 1.0))
    level = float(np.clip((weeks - 2.5) / 5.5, 0.0, 1.0))  # 0 at 2.5 weeks, 1 at 8 weeks
    floccules = ndimage.gaussian_filter(rng.standard_normal(anatomy.grid.shape), 1.2 / px)
    floccules = np.clip(0.5 + floccules / (floccules.std() or 1.0) * 0.8, 0, None)
    # The mineralized zone is the 3-D shell outside the front (rho > front), so the beam crosses
    # more of it where it runs tangentially: the rim reads denser than the centre.
    mature = _shell(anatomy, centre, a, b, b, max(0.5, (1.0 - front) * b), angle)
    fringe = 1.0 / (1.0 + np.exp(-(rho - front) / 0.06))  # soft in-plane edge of the front
    periphery = _shell(anatomy, centre, a, b, b, max(1.0, b * 0.2), angle)
    concentration = conc * level * (0.25 * fringe * (floccules * (1 - level) + level))
    th = mature * concentration + periphery * conc * level**2 * 1.5
    th = chalky(th, rng, px, 1.0, 0.45)
    return tuple(lesions) + (_lesion(reference_deposit(), keep_cleft(th), anatomy, region),)


def bridging_ossification(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Heterotopic bone bridging two bones (fibrodysplasia ossificans progressiva), cortex and medulla.

    Parameters: start, end (landmarks or (x, y) mm; default 'bridge_from' → 'bridge_to'),
    width_mm, cortex_mm.
    """
    start = _landmark_point(anatomy, params.get("start", "bridge_from"), "bridge_from")
    end = _landmark_point(anatomy, params.get("end", "bridge_to"), "bridge_to")
    width = _number("width_mm", params.get("width_mm", 14.0), high=80)
    cortex = _number("cortex_mm", params.get("cortex_mm", 2.0), high=10)
    pts = [np.asarray(start)]
    direction = np.asarray(end) - np.asarray(start)
    normal = np.array([-direction[1], direction[0]]) / (np.linalg.norm(direction) or 1.0)
    for k in range(1, 6):
        pts.append(np.asarray(start) + direction * k / 6 + normal * rng.normal(0, 4))
    pts.append(np.asarray(end))
    chord = np.zeros(anatomy.grid.shape)
    for p, q in zip(pts[:-1], pts[1:]):
        r0, r1 = (width / 2 * rng.uniform(0.7, 1.2) for _ in range(2))
        np.maximum(chord, Capsule(tuple(p), tuple(q), r0, r1).chord(anatomy.grid), out=chord)
    inner = eroded_chord(chord, cortex, anatomy.grid.pixel_mm)
    trab = 0.18 * inner * trabecular_texture(anatomy.grid, rng)
    region = ("muscle", "fascial", "subcutaneous", "periarticular", "intraarticular", "vascular", "bone")
    region = tuple(c for c in region if c == "bone" or c in anatomy.masks)
    hosts = SOFT_HOSTS + BONE_HOSTS
    return (
        _lesion("cortical_bone", chord - inner + trab, anatomy, region, hosts),
        _lesion("yellow_marrow", inner - trab, anatomy, region, hosts),
    )


# ------------------------------------------------- hydroxyapatite clouds ----


def amorphous_cloud(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Hydroxyapatite deposit in a tendon or bursa: dense and well defined (formative phase) or
    fluffy, ill defined and fainter, spreading into the bursa (resorptive phase).

    Parameters: phase ('formative' | 'resorptive'), location (landmark, default
    'supraspinatus_tendon'), count (deposits), size_mm, mineral_g_cm3, compartment.
    """
    compartment = params.get("compartment", "periarticular")
    phase = params.get("phase", "formative")
    if phase not in ("formative", "resorptive"):
        raise ValueError(f"phase must be 'formative' or 'resorptive', got {phase!r}")
    n = _count(params.get("count", 2))
    size = _number("size_mm", params.get("size_mm", 12.0), high=100)
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 1.2 if phase == "formative" else 0.4), high=3.0)
    location = params.get("location", "supraspinatus_tendon")
    if isinstance(location, str) and np.asarray(anatomy.landmarks.get(location, ())).ndim == 2:
        line = np.asarray(anatomy.landmarks[location], float)
        ts = np.linspace(0.25, 0.75, n) if n > 1 else np.array([0.5])
        idx = ts * (len(line) - 1)
        centres = [line[int(i)] + (line[min(int(i) + 1, len(line) - 1)] - line[int(i)]) * (i - int(i)) for i in idx]
        direction = line[-1] - line[0]
        angle = math.degrees(math.atan2(direction[1], direction[0]))
    else:
        centres = [np.asarray(_landmark_point(anatomy, location, "muscle_center"))] * max(n, 1)
        angle = _fibre_angle(anatomy, params)
    th = np.zeros(anatomy.grid.shape)
    px = anatomy.grid.pixel_mm
    for c in centres[:n]:
        s = size * rng.uniform(0.8, 1.15)
        if phase == "formative":
            # Formative: dense, homogeneous, sharply marginated oval deposit.
            th += Ellipsoid(tuple(c), s / 2, s / 3.4, s / 3, angle + rng.normal(0, 6)).chord(anatomy.grid)
        else:
            # Resorptive: fainter, cloud-like puffs with ill-defined margins, spreading along the
            # tendon or into the bursa as a faint comet tail.
            t = math.radians(angle)
            for _ in range(10):
                off = rng.normal(0, s / 3.5, 2)
                r = s / 4.5 * rng.uniform(0.5, 1.3)
                th += 0.7 * Ellipsoid(tuple(c + off), r, r * 0.8, r, rng.uniform(0, 180)).chord(anatomy.grid)
            for k in range(1, 5):
                tail = np.asarray(c) + np.array([math.cos(t), math.sin(t)]) * s * 0.35 * k * rng.choice([-1, 1])
                th += 0.25 * Ellipsoid(tuple(tail), s / 3, s / 7, s / 6, angle).chord(anatomy.grid) / k
    if phase == "resorptive":
        th = chalky(ndimage.gaussian_filter(th, 1.6 / px), rng, px, 2.5, 0.35)
    else:
        th = chalky(th, rng, px, 0.7, 0.15)
    return (_lesion(reference_deposit(), th * conc, anatomy, (compartment,)),)


# ------------------------------------------------------- intra-articular ----


def linear_stratified(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Thin linear calcification parallel to the articular surfaces (hyaline cartilage) and
    triangular meniscal calcification (fibrocartilage): CPPD chondrocalcinosis.

    Parameters: mineral_g_cm3 (CPPD), width_mm (line width), menisci (bool), continuity (0–1).
    """
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 0.8), high=2.5)
    width = _number("width_mm", params.get("width_mm", 0.7), high=5)
    continuity = _number("continuity", params.get("continuity", 0.75), high=1.0)
    th = np.zeros(anatomy.grid.shape)
    depth = 30.0  # mm of cartilage traversed where the surface is tangential to the beam
    for line in anatomy.landmarks.get("cartilage_lines", ()):
        pts = np.asarray(line, float)
        s, d = polyline_coordinates(pts, anatomy)
        streak = np.exp(-((d / (width / 2)) ** 2))
        gaps = ndimage.gaussian_filter1d(rng.standard_normal(4096), 6)[np.clip((s * 2).astype(int), 0, 4095)]
        th += depth * 0.1 * streak * (gaps > np.quantile(gaps, 1 - continuity))
    if params.get("menisci", True):
        centre_x = float(np.mean([m[0] for m in anatomy.landmarks.get("menisci", ((0, 0),))]))
        for mx, my in anatomy.landmarks.get("menisci", ()):
            outer = 1.0 if mx >= centre_x else -1.0  # thick at the periphery, thin towards the notch
            tri = Capsule((mx - 7 * outer, my), (mx + 3 * outer, my), 0.6, 2.6, 6.0).chord(anatomy.grid)
            th += 0.25 * tri * (0.6 + 0.4 * (ndimage.gaussian_filter(rng.standard_normal(anatomy.grid.shape), 1.0) > 0))
    return (_lesion(reference_deposit("cppd"), th * conc, anatomy, ("intraarticular",)),)


def rounded_bodies_ring_arc(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Numerous rounded osteochondral bodies in the joint, with rings-and-arcs (chondroid) mineralization
    or a calcified halo, and a joint effusion (synovial osteochondromatosis).

    Parameters: count, size_mm (largest diameter; bodies 1–20 mm), mineral_g_cm3, effusion_mm
    (effusion thickness added in the joint, 0 for none), compartment.
    """
    compartment = params.get("compartment", "intraarticular")
    n = _count(params.get("count", 18))
    size = _number("size_mm", params.get("size_mm", 9.0), high=40)
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 0.8), high=3.0)
    effusion = _number("effusion_mm", params.get("effusion_mm", 8.0), 0, 60, strict=False)
    mask = region_mask(anatomy, (compartment,))
    th = np.zeros(anatomy.grid.shape)
    for x, y in _sample_points(mask, n, rng, anatomy.grid.pixel_mm, 1.0, anatomy.bone_mask):
        r = size / 2 * rng.uniform(0.3, 1.0)
        ring = _shell(anatomy, (x, y), r, r * rng.uniform(0.8, 1.0), r, max(0.5, r * 0.2), rng.uniform(0, 180))
        arcs = _arc_gaps(anatomy, (x, y), rng, 0.6, 3) * _shell(anatomy, (x, y), r * 0.6, r * 0.55, r * 0.6, 0.5)
        core = Ellipsoid((x, y), r * 0.9, r * 0.85, r * 0.9).chord(anatomy.grid) * 0.15
        th += ring + arcs + core
    lesions = [_lesion(reference_deposit(), th * conc, anatomy, (compartment,))]
    if effusion > 0:
        swell = ndimage.gaussian_filter(mask.astype(float), 2.0 / anatomy.grid.pixel_mm) * effusion
        lesions.insert(0, _lesion("fluid", swell, anatomy, (compartment,)))
    return tuple(lesions)


# ------------------------------------------------------ metastatic / TC ----


def _lobules(
    anatomy: Anatomy, rng: np.random.Generator, params: Mapping[str, Any], default_location: str
) -> list[tuple[float, float, float]]:
    centre = np.asarray(_landmark_point(anatomy, params.get("location"), default_location))
    size = _number("size_mm", params.get("size_mm", 50.0), high=300)
    n = _count(params.get("count", 7), 40)
    scale = _number("scale", params.get("scale", 1.0), high=2.0)
    lobules = []
    for _ in range(n):
        off = rng.normal(0, size / 6, 2) * scale
        r = (size / 2.5 if n == 1 else size / 7) * rng.uniform(0.6, 1.3) * scale  # one lobule: the whole mass
        lobules.append((float(centre[0] + off[0]), float(centre[1] + off[1]), r))
    return lobules


def _cysts(anatomy: Anatomy, rng: np.random.Generator, params: Mapping[str, Any], levels: bool) -> tuple[Lesion, ...]:
    compartment = params.get("compartment", "periarticular")
    default = (
        "lateral_side"
        if "lateral_side" in anatomy.landmarks
        else ("trochanteric_bursa" if "trochanteric_bursa" in anatomy.landmarks else "muscle_center")
    )
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 0.7), high=3.0)
    fill = _number("sediment_fraction", params.get("sediment_fraction", 0.45), 0, 1, strict=False)
    share = _number("level_fraction", params.get("level_fraction", 0.6), 0, 1, strict=False) if levels else 0.0
    x, y = anatomy.grid.coordinates()
    walls = np.zeros(anatomy.grid.shape)
    chalk = np.zeros(anatomy.grid.shape)
    fluid = np.zeros(anatomy.grid.shape)
    for cx, cy, r in _lobules(anatomy, rng, params, default):
        chord = Ellipsoid((cx, cy), r, r * rng.uniform(0.8, 1.0), r).chord(anatomy.grid)
        wall = _shell(anatomy, (cx, cy), r, r, r, max(1.0, r * 0.18))
        walls += wall
        if rng.uniform() < share:
            # Upright patient, horizontal beam: the chalk settles below a horizontal plane, so the
            # level is a horizontal line in the image (y grows downwards, gravity along +y).
            level_y = cy + r * (1 - 2 * fill * rng.uniform(0.7, 1.3))
            below = y >= level_y
            np.maximum(chalk, chord * below * 0.45, out=chalk)
            np.maximum(fluid, chord * ~below, out=fluid)
        else:
            np.maximum(chalk, chord * 0.3 * rng.uniform(0.7, 1.2), out=chalk)
    mineral = walls + chalk
    fluid = np.where(chalk > 0, 0.0, fluid)
    region = (
        _mass_region(anatomy, compartment) + tuple(c for c in ("subcutaneous",) if c in anatomy.masks) + ("swelling",)
    )
    lesions = (_lesion("fluid", fluid, anatomy, region),) if levels and fluid.any() else ()
    px = anatomy.grid.pixel_mm
    mineral = chalky(mineral, rng, px, 1.0, 0.35)
    bulk = np.where(region_mask(anatomy, region), walls + chalk + fluid, 0.0)
    return lesions + (
        _lesion(reference_deposit(), mineral * conc, anatomy, region),
        _lesion("skin", skin_over_bulge(anatomy, bulk), anatomy, ("swelling",)),
    )


def lobulated_multicystic_mass(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Large lobulated periarticular calcified mass of many cysts with dense walls (tumoral calcinosis,
    metastatic calcification).

    Parameters: location (landmark or (x, y) mm), size_mm (overall), count (lobules),
    scale (1 = as presented, < 1 after treatment), mineral_g_cm3, compartment.
    """
    return _cysts(anatomy, rng, params, levels=False)


def fluid_calcium_levels(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Cystic calcified mass with fluid–calcium levels (sedimentation sign).

    Geometry: the patient is upright and the beam horizontal, so calcium sediment lies
    below a horizontal plane parallel to the beam and each level projects as a sharp
    horizontal line, dense below, fluid above. With a supine patient and a vertical
    beam the levels would not be seen.
    Parameters: location, size_mm, count (cysts), sediment_fraction (0–1 of the cyst height),
    scale, mineral_g_cm3, compartment.
    """
    return _cysts(anatomy, rng, params, levels=True)


def punctate_in_soft_tissue_mass(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Dense soft-tissue mass (gouty tophus) with small punctate calcific foci, optionally eroding bone
    with an overhanging edge.

    Parameters: location (default 'hallux_mtp'), size_mm (mass), count (foci), focus_mm,
    mineral_g_cm3, erosion_mm (0 for none), compartment.
    """
    compartment = params.get("compartment", "subcutaneous")
    centre = np.asarray(_landmark_point(anatomy, params.get("location"), "hallux_mtp"))
    size = _number("size_mm", params.get("size_mm", 24.0), high=150)
    n = _count(params.get("count", 12))
    focus = _number("focus_mm", params.get("focus_mm", 1.2), high=10)
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 0.9), high=3.0)
    erosion = _number("erosion_mm", params.get("erosion_mm", 6.0), 0, 40, strict=False)
    offset = np.asarray(params.get("offset_mm", (-size * 0.32, 0.0)), float)
    mass_c = tuple(centre + offset)
    mass = np.zeros(anatomy.grid.shape)
    for _ in range(4):
        off = rng.normal(0, size / 8, 2)
        r = size / 2 * rng.uniform(0.6, 0.85)
        np.maximum(
            mass, Ellipsoid((mass_c[0] + off[0], mass_c[1] + off[1]), r, r * 1.1, r * 1.4).chord(anatomy.grid), out=mass
        )
    where = (compartment,) + tuple(
        c for c in ("periarticular", "subcutaneous") if c in anatomy.masks and c != compartment
    )
    where += ("swelling",)
    region = region_mask(anatomy, where) & (mass > 0)
    foci = np.zeros(anatomy.grid.shape)
    for x, y in _sample_points(region, n, rng, anatomy.grid.pixel_mm, 1.0):
        r = focus / 2 * rng.uniform(0.6, 1.3)
        foci += Ellipsoid((x, y), r, r, r).chord(anatomy.grid)
    mass = chalky(mass, rng, anatomy.grid.pixel_mm, 2.0, 0.25)
    lesions = [
        _lesion(get_material("urate_tophus"), mass, anatomy, where),
        _lesion("skin", skin_over_bulge(anatomy, mass), anatomy, ("swelling",)),
        _lesion(reference_deposit(), chalky(foci, rng, anatomy.grid.pixel_mm, 0.5, 0.4) * conc, anatomy, where),
    ]
    if erosion > 0:
        lesions += _marginal_erosion(anatomy, centre, mass_c, erosion, rng)
    return tuple(lesions)


def _marginal_erosion(
    anatomy: Anatomy, joint: np.ndarray, towards: tuple[float, float], depth: float, rng: np.random.Generator
) -> list[Lesion]:
    """A gouty erosion at the bone margin next to the joint, on the tophus side, with an overhanging edge.

    The erosion is a round bite into the bone margin just proximal to the joint (juxta-articular,
    marginal); a thin shelf of cortex lifted from the margin curves over the tophus (the
    overhanging edge), seen edge-on.
    """
    px = anatomy.grid.pixel_mm
    direction = np.asarray(towards, float) - joint
    direction /= np.linalg.norm(direction) or 1.0
    # Walk from a point just proximal to the joint (down the image, towards the metatarsal head)
    # towards the tophus until leaving bone: that is the bone margin.
    start = joint + np.array([0.0, depth * 0.9])
    edge = start
    for k in range(1, 400):
        p = start + direction * k * px
        r, c = int(p[1] / px), int(p[0] / px)
        if not (0 <= r < anatomy.grid.shape[0] and 0 <= c < anatomy.grid.shape[1]) or not anatomy.bone_mask[r, c]:
            edge = p
            break
    centre = edge - direction * depth * 0.35
    bite = Ellipsoid(tuple(centre), depth / 2, depth * 0.6, depth * 0.6).chord(anatomy.grid)
    bite = np.where(anatomy.bone_mask, bite, 0.0)
    x, y = anatomy.grid.coordinates()
    theta = np.arctan2(y - centre[1], x - centre[0])
    outward = math.atan2(direction[1], direction[0])
    # The shelf: an arc of the erosion's wall on its proximal side, about 40 degrees, just outside the bone.
    arc = np.abs(np.angle(np.exp(1j * (theta - (outward + 0.9))))) < 0.45
    shelf = _shell(anatomy, tuple(centre), depth / 2 + 1.0, depth * 0.6 + 1.0, 2.0, 0.8) * arc
    return [
        _lesion(get_material("urate_tophus"), bite, anatomy, ("bone",), BONE_HOSTS),
        _lesion(
            "cortical_bone",
            shelf * 2.0,
            anatomy,
            tuple(
                c
                for c in ("swelling", "subcutaneous", "periarticular", "bone")
                if c in ("swelling", "bone") or c in anatomy.masks
            ),
        ),
    ]


# ------------------------------------------------------ subcutaneous ----


def dense_homogeneous_nodules(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Dense, homogeneous, well-defined nodules, clustered at fingertips (calcinosis circumscripta).

    Parameters: count (per site), size_mm (nodule diameter), mineral_g_cm3, sites (landmark
    point lists; default the thumb and index fingertips), compartment.
    """
    compartment = params.get("compartment", "subcutaneous")
    n = _count(params.get("count", 5))
    size = _number("size_mm", params.get("size_mm", 4.0), high=40)
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 1.2), high=3.0)
    spread = _number("spread_mm", params.get("spread_mm", 7.0), high=100)
    tips: list[tuple[float, float]] = []
    for key in params.get("sites", ("fingertips",)):
        for name in (key, f"left_{key}", f"right_{key}"):
            pts = anatomy.landmarks.get(name)
            if pts is not None:
                which = params.get("fingers", (0, 1))
                tips += [tuple(pts[i]) for i in which if i < len(pts)]
    if not tips:
        tips = [_landmark_point(anatomy, None, "muscle_center")]
    mask = region_mask(anatomy, (compartment,))
    x, y = anatomy.grid.coordinates()
    th = np.zeros(anatomy.grid.shape)
    for k, (tx, ty) in enumerate(tips):
        local = mask & ((x - tx) ** 2 + (y - ty) ** 2 <= spread**2)
        count = n if k % 2 == 0 else max(1, n - 2)
        for px, py in _sample_points(local, count, rng, anatomy.grid.pixel_mm):
            r = size / 2 * rng.uniform(0.5, 1.2)
            th += Ellipsoid((px, py), r, r * rng.uniform(0.7, 1.0), r, rng.uniform(0, 180)).chord(anatomy.grid)
    th = chalky(th, rng, anatomy.grid.pixel_mm, 0.6, 0.2)
    return (_lesion(reference_deposit(), th * conc, anatomy, (compartment,)),)


def small_round_nodules(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Small round or oval nodules, often with a lucent centre (e.g. injection granulomas).

    Parameters: count, size_mm (diameter), mineral_g_cm3, compartment.
    """
    compartment = params.get("compartment", "subcutaneous")
    n = _count(params.get("count", 8))
    size = _number("size_mm", params.get("size_mm", 6.0), high=40)
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", 0.8), high=3.0)
    th = np.zeros(anatomy.grid.shape)
    for x, y in _sample_points(region_mask(anatomy, (compartment,)), n, rng, anatomy.grid.pixel_mm, size / 2):
        r = size / 2 * rng.uniform(0.6, 1.2)
        b = r * rng.uniform(0.6, 1.0)
        th += _shell(anatomy, (x, y), r, b, b, max(0.6, b * 0.35), rng.uniform(0, 180))
    return (_lesion(reference_deposit(), th * conc, anatomy, (compartment,)),)


# -------------------------------------------------------------- registry ----

Generator = Callable[..., tuple[Lesion, ...]]
GENERATORS: Mapping[str, Generator] = MappingProxyType({name: globals()[name] for name in MORPHOLOGIES})

# The parameters each pattern accepts (figure files, the atlas and generated cases may set them).
# Units: mm for lengths, g/cm³ for mineral concentrations (of hydroxyapatite, or CPPD for
# linear_stratified), degrees for angles. A location is a landmark name of the anatomy
# (see data/anatomy/SCHEMA.md) or an (x, y) point in image mm from the top-left corner.
_VESSEL = {
    "size_mm": "vessel outer diameter (default 2 × the site's artery_radius_mm)",
    "wall_mm": "calcified wall thickness (default 1)",
    "mineral_g_cm3": "mineral concentration of the calcified wall",
    "extent": "(start, end) fractions of the vessel path that are calcified",
    "vessel": "landmark polyline of the vessel (default 'artery')",
}
PARAMETERS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "tubular_parallel_lines": MappingProxyType(dict(_VESSEL)),
        "circumferential_ring_vessel": MappingProxyType({**_VESSEL, "spacing_mm": "spacing of the ring-like bands"}),
        "irregular_plaques_vessel": MappingProxyType({**_VESSEL, "count": "number of plaques"}),
        "curvilinear_rim": MappingProxyType(
            {
                "location": "centre (landmark or (x, y) mm)",
                "size_mm": "long axis of the oval",
                "aspect": "short/long axis",
                "coverage": "fraction of the rim calcified (0–1)",
                "mineral_g_cm3": "rim mineral concentration",
                "angle_deg": "long-axis direction",
                "compartment": "vascular (aneurysm, default) or muscle (haematoma)...",
            }
        ),
        "phlebolith": MappingProxyType(
            {
                "count": "number",
                "size_mm": "diameter (2–10 typical)",
                "mineral_g_cm3": "concentration",
                "compartment": "default vascular",
            }
        ),
        "rice_grain": MappingProxyType(
            {
                "count": "number of grains",
                "size_mm": "grain length (width about a third)",
                "mineral_g_cm3": "concentration",
                "angle_deg": "fibre direction",
                "compartment": "default muscle",
            }
        ),
        "sheet_leaf_linear": MappingProxyType(
            {
                "count": "leaves per compartment",
                "size_mm": "leaf length",
                "width_mm": "leaf width",
                "mineral_g_cm3": "concentration",
                "angle_deg": "direction off the fascial lines",
                "compartments": "list, default [fascial, subcutaneous]",
            }
        ),
        "mature_bone": MappingProxyType(
            {
                "location": "landmark (a polyline gives the direction) or (x, y) mm",
                "size_mm": "length",
                "width_mm": "width",
                "cortex_mm": "cortex thickness",
                "angle_deg": "long-axis direction",
                "compartment": "default periarticular",
            }
        ),
        "zonal_peripheral": MappingProxyType(
            {
                "weeks_since_trauma": "stage (0–520 weeks)",
                "location": "centre",
                "size_mm": "long axis",
                "aspect": "short/long axis",
                "angle_deg": "long-axis direction",
                "mineral_g_cm3": "concentration of the mature periphery",
                "cleft_mm": "lucent cleft kept between the mass and the bone (default 4)",
                "compartment": "default muscle",
            }
        ),
        "amorphous_cloud": MappingProxyType(
            {
                "phase": "'formative' (dense, defined) or 'resorptive' (cloudy, spreading)",
                "location": "landmark (default supraspinatus_tendon) or (x, y) mm",
                "count": "deposits",
                "size_mm": "deposit length",
                "mineral_g_cm3": "concentration",
                "angle_deg": "long-axis direction",
                "compartment": "default periarticular",
            }
        ),
        "linear_stratified": MappingProxyType(
            {
                "mineral_g_cm3": "CPPD concentration",
                "width_mm": "line width",
                "menisci": "true to calcify the menisci",
                "continuity": "0–1",
            }
        ),
        "punctate_in_soft_tissue_mass": MappingProxyType(
            {
                "location": "joint landmark (default hallux_mtp)",
                "size_mm": "mass diameter",
                "count": "punctate foci",
                "focus_mm": "focus diameter",
                "mineral_g_cm3": "focus concentration",
                "erosion_mm": "marginal erosion depth (0 for none)",
                "offset_mm": "(dx, dy) of the mass from the joint",
                "compartment": "default subcutaneous",
            }
        ),
        "rounded_bodies_ring_arc": MappingProxyType(
            {
                "count": "bodies",
                "size_mm": "largest diameter",
                "mineral_g_cm3": "concentration",
                "effusion_mm": "effusion thickness (0 for none)",
                "compartment": "default intraarticular",
            }
        ),
        "lobulated_multicystic_mass": MappingProxyType(
            {
                "location": "centre",
                "size_mm": "overall size",
                "count": "lobules",
                "scale": "1 as presented, < 1 treated",
                "mineral_g_cm3": "concentration",
                "sediment_fraction": "0–1 of each cyst's height",
                "level_fraction": "share of cysts with a level",
                "compartment": "default periarticular",
            }
        ),
        "fluid_calcium_levels": MappingProxyType(
            {
                "location": "centre",
                "size_mm": "overall size",
                "count": "cysts",
                "scale": "1 as presented, < 1 treated",
                "mineral_g_cm3": "concentration",
                "sediment_fraction": "0–1 of each cyst's height",
                "level_fraction": "share of cysts with a level",
                "compartment": "default periarticular",
            }
        ),
        "dense_homogeneous_nodules": MappingProxyType(
            {
                "count": "nodules per site",
                "size_mm": "diameter",
                "mineral_g_cm3": "concentration",
                "sites": "landmark point lists (default fingertips)",
                "fingers": "indices of the points used",
                "spread_mm": "radius around each point",
                "compartment": "default subcutaneous",
            }
        ),
        "small_round_nodules": MappingProxyType(
            {
                "count": "nodules",
                "size_mm": "diameter",
                "mineral_g_cm3": "concentration",
                "compartment": "default subcutaneous",
            }
        ),
        "bridging_ossification": MappingProxyType(
            {
                "start": "landmark or (x, y) mm (default bridge_from)",
                "end": "landmark or (x, y) mm (default bridge_to)",
                "width_mm": "bar width",
                "cortex_mm": "cortex thickness",
            }
        ),
    }
)


def check_parameters(morphology: str, params: Mapping[str, Any], where: str = "") -> None:
    """ValueError naming the unknown parameter(s) of ``morphology`` and the valid ones."""
    if morphology not in PARAMETERS:
        raise ValueError(
            f"{where + ': ' if where else ''}unknown pattern {morphology!r}; known: {', '.join(MORPHOLOGIES)}"
        )
    bad = sorted(set(params) - set(PARAMETERS[morphology]))
    if bad:
        raise ValueError(
            f"{where + ': ' if where else ''}unknown parameter(s) {bad} for pattern {morphology!r}; "
            f"valid: {sorted(PARAMETERS[morphology])}"
        )


def generate(morphology: str, anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Lesions of ``morphology`` (a vocabulary id) in ``anatomy``, drawn with ``rng``."""
    if morphology not in GENERATORS:
        raise ValueError(f"unknown pattern {morphology!r}; known: {', '.join(MORPHOLOGIES)}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (use numpy.random.default_rng(seed))")
    check_parameters(morphology, params)
    return GENERATORS[morphology](anatomy, rng, **params)


def apply_lesions(anatomy: Anatomy, lesions: tuple[Lesion, ...]) -> dict[Material | str, np.ndarray]:
    """Anatomy thickness maps (mm) with the lesions placed, each displacing its host tissues."""
    thickness: dict[Material | str, np.ndarray] = {k: v.copy() for k, v in anatomy.thickness_mm.items()}
    for lesion in lesions:
        displace(thickness, lesion.material, lesion.thickness_mm, lesion.hosts)
    return thickness
