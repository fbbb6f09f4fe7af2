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
lesion thicknesses of mineral are therefore "mm of 1 g/cm³ deposit". No deposit is denser
than cortical bone over the same path (:func:`cortex_equivalent_g_cm3`, :func:`cap_to_cortex`).
A deposit's density varies in three dimensions (chalk, woven bone): :func:`projected_density` sums a
3-D density field along the beam through the deposit's body, so its thick parts are denser and
smoother and its thin edges fainter and grainier, as on a film, instead of a flat stamp.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import ndimage

from .anatomy import HOST_ORDER, Anatomy, Ellipsoid, Grid, displace, eroded_chord
from .materials import Material, get_material, linear_attenuation_per_mm, mineral_mixture

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


@cache
def cortex_equivalent_g_cm3() -> float:
    """Mineral concentration (g/cm³ of hydroxyapatite in soft tissue) that attenuates like cortical bone.

    The smallest over 30–60 keV (the diagnostic range of the book's exposures): a deposit at
    this concentration is never denser than cortical bone of the same path length.
    """
    soft = {e: linear_attenuation_per_mm("soft_tissue", e) for e in (30, 40, 50, 60)}
    return min(
        (linear_attenuation_per_mm("cortical_bone", e) - soft[e])
        / (linear_attenuation_per_mm(reference_deposit(), e) - soft[e])
        for e in soft
    )


def _mineral(params: Mapping[str, Any], default: float) -> float:
    """The pattern's ``mineral_g_cm3`` (validated, ≤ 3), capped at cortical bone's equivalent: no deposit
    is denser than cortex of the same projected thickness (local chalky variation is geometric)."""
    conc = _number("mineral_g_cm3", params.get("mineral_g_cm3", default), high=3.0)
    return min(conc, cortex_equivalent_g_cm3())


def cap_to_cortex(mineral: np.ndarray, chord: np.ndarray) -> np.ndarray:
    """``mineral`` (mm of 1 g/cm³ reference deposit) capped where it would attenuate more than cortical
    bone over the lesion's own ``chord`` (mm along the beam): local chalky peaks stay below bone density."""
    return np.minimum(mineral, cortex_equivalent_g_cm3() * np.clip(chord, 0.0, None))


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

    Three pseudo-compartments: 'bone' (the bone mask), 'swelling' (up to SWELLING_MM mm
    outside the skin, where a mass bulges the soft-tissue contour) and 'deep' (the tissue deep
    to the fascia: muscles with the thin fat planes between them, see :func:`deep_mask`).
    """
    out = np.zeros(anatomy.grid.shape, dtype=bool)
    for name in compartments:
        if name == "bone":
            out |= anatomy.bone_mask
        elif name == "swelling":
            out |= swelling_mask(anatomy)
        elif name == "deep":
            out |= deep_mask(anatomy)
        elif name in anatomy.masks:
            out |= anatomy.masks[name]
        else:
            raise ValueError(
                f"compartment {name!r} is not present at {anatomy.site} (present: {', '.join(sorted(anatomy.masks))})"
            )
    return out


_MEMO: dict[int, dict[str, np.ndarray]] = {}


def _memo(anatomy: Anatomy, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
    """``make()`` computed once per anatomy object (kept while it lives; read-only): maps that depend
    only on the anatomy, asked for by several lesions of a figure."""
    store = _MEMO.get(id(anatomy))
    if store is None:
        store = _MEMO[id(anatomy)] = {}
        weakref.finalize(anatomy, _MEMO.pop, id(anatomy), None)
    if key not in store:
        value = make()
        value.flags.writeable = False
        store[key] = value
    return store[key]


def swelling_mask(anatomy: Anatomy) -> np.ndarray:
    """The body and up to SWELLING_MM mm outside the skin (read-only; computed once per anatomy)."""
    return _memo(
        anatomy,
        "swelling",
        lambda: ndimage.binary_dilation(
            anatomy.body_mask, iterations=max(1, round(SWELLING_MM / anatomy.grid.pixel_mm))
        ),
    )


def deep_mask(anatomy: Anatomy, plane_mm: float = 3.0) -> np.ndarray:
    """Muscle, fascia and vessels with the thin intermuscular fat planes between them closed (no bone).

    A mass in a muscle grows across the thin fat planes between muscle groups; clipping it
    to the muscle mask alone would cut it along them. Read-only; computed once per anatomy.
    """
    return _memo(anatomy, f"deep {plane_mm!r}", lambda: _deep_mask(anatomy, plane_mm))


def body_depth(anatomy: Anatomy) -> np.ndarray:
    """Depth (mm) of each pixel under the skin (distance to the body outline; 0 outside). Read-only;
    computed once per anatomy."""
    return _memo(
        anatomy, "body depth", lambda: ndimage.distance_transform_edt(anatomy.body_mask) * anatomy.grid.pixel_mm
    )


def bone_gap(anatomy: Anatomy) -> np.ndarray:
    """Distance (mm) of each pixel from bone (0 on bone). Read-only; computed once per anatomy."""
    return _memo(
        anatomy, "bone gap", lambda: ndimage.distance_transform_edt(~anatomy.bone_mask) * anatomy.grid.pixel_mm
    )


def _deep_mask(anatomy: Anatomy, plane_mm: float) -> np.ndarray:
    deep = np.zeros(anatomy.grid.shape, bool)
    for name in ("muscle", "fascial", "vascular"):
        if name in anatomy.masks:
            deep |= anatomy.masks[name]
    it = max(1, round(plane_mm / 2 / anatomy.grid.pixel_mm))
    closed = ndimage.binary_closing(np.pad(deep, it, mode="edge"), iterations=it)[it:-it, it:-it]
    return closed & anatomy.body_mask & ~anatomy.bone_mask


def _mass_region(anatomy: Anatomy, compartment: str) -> tuple[str, ...]:
    """A mass grows across thin planes: a muscle mass may cross fascial bands, and vice versa."""
    extra = {"muscle": ("fascial", "vascular"), "fascial": ("muscle",), "periarticular": ("fascial", "muscle")}.get(
        compartment, ()
    )
    deep = ("deep",) if compartment in ("muscle", "fascial") else ()
    return (compartment,) + tuple(c for c in extra if c in anatomy.masks) + deep


def _lesion(
    material: Material | str,
    thickness: np.ndarray,
    anatomy: Anatomy,
    compartments: tuple[str, ...],
    hosts: tuple[str, ...] = SOFT_HOSTS,
    soft_mm: float = 0.0,
) -> Lesion:
    """A lesion kept inside ``compartments``; ``soft_mm`` > 0 fades it over that depth at the
    compartment's edge instead of cutting it along the mask (no straight clipping edges)."""
    region = region_mask(anatomy, compartments)
    weight = soft_edge(region, anatomy.grid.pixel_mm, soft_mm) if soft_mm > 0 else region
    clipped = np.where(region, np.clip(thickness, 0.0, None) * weight, 0.0)
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
    scale = noise.std() or 1.0  # over the whole grid, as the generator's draws are
    window = support_window(thickness) if thickness.ndim == 2 else None
    if window is None:
        return thickness * np.exp(amount * (noise / scale) - amount * amount / 2)
    out = np.array(thickness, dtype=np.result_type(thickness, noise))  # zero (of its sign) outside the window
    out[window] = thickness[window] * np.exp(amount * (noise[window] / scale) - amount * amount / 2)
    return out


DENSITY_MAX_SLICES: int = 32  # depth samples of a 3-D density field along the beam (cost bound)


def projected_density(
    chord: np.ndarray,
    rng: np.random.Generator,
    pixel_mm: float,
    grain_mm: float,
    contrast: float,
    core: float = 0.0,
    fade: float = 0.0,
) -> np.ndarray:
    """Path (mm × relative density) through a body of chord ``chord`` (mm along the beam, symmetric
    about its mid-plane) filled with a 3-D mineral density field: the projection of a real deposit.

    The density is log-normal noise of correlation length ``grain_mm`` in all three directions
    (``contrast``: standard deviation of the log-density; mean 1), times a profile of the body's
    normalised 3-D radius R (0 at the centre, 1 at the surface; R² = 1 − (h² − z²)/h_max², exact for
    an ellipsoid): ``(1 + core·(1 − R²)) · (1 − fade·R⁴)``: a denser core (``core`` > 0) or a margin that
    fades out (``fade`` ≤ 1, amorphous hydroxyapatite) rather than stopping at a cut edge. Summed along
    the beam, so thick parts average many grains (smoother, denser) and thin edges few (mottled,
    fainter), as on a film. With ``contrast`` = ``core`` = ``fade`` = 0 it returns ``chord``. Only the
    body's window is filled; the generator draws one window of noise.
    """
    chord = np.asarray(chord, float)
    contrast = _number("contrast", contrast, 0.0, 3.0, strict=False)
    core = _number("core", core, 0.0, 5.0, strict=False)
    fade = _number("fade", fade, 0.0, 1.0, strict=False)
    grain = _number("grain_mm", grain_mm, 0.0, 100.0)
    window = support_window(chord > 0) if chord.ndim == 2 else None
    if window is None:
        return np.clip(chord, 0.0, None)
    half = np.clip(chord[window], 0.0, None) / 2.0
    h_max = float(half.max())
    dz = max(2.0 * h_max / DENSITY_MAX_SLICES, pixel_mm)
    nz = max(1, int(math.ceil(2.0 * h_max / dz)))
    z = (np.arange(nz) + 0.5) * dz - nz * dz / 2.0
    z = z[:, None, None]
    # the length of each depth slice inside the body (partial slices at its surfaces): sums to the chord
    inside = np.clip(np.minimum(z + dz / 2, half) - np.maximum(z - dz / 2, -half), 0.0, dz)
    rho = np.ones(inside.shape)
    if contrast > 0:
        noise = ndimage.gaussian_filter(
            rng.standard_normal(inside.shape),
            (max(grain / dz, 0.3), max(grain / pixel_mm, 0.5), max(grain / pixel_mm, 0.5)),
        )
        noise /= noise.std() or 1.0
        rho = np.exp(contrast * noise - contrast * contrast / 2)
    if core > 0 or fade > 0:
        r2 = np.clip(1.0 - (half * half - z * z) / (h_max * h_max), 0.0, 1.0)
        rho = rho * (1.0 + core * (1.0 - r2)) * (1.0 - fade * r2 * r2)
    out = np.zeros(chord.shape)
    out[window] = (rho * inside).sum(axis=0)
    return out


def packed_chalk(
    chord: np.ndarray, rng: np.random.Generator, pixel_mm: float, grain_mm: float, contrast: float, core: float
) -> np.ndarray:
    """:func:`projected_density` of a dense deposit scaled so that its most packed chalk (the 90th
    percentile of the path-mean density over its thick part) is 1: looser pockets are less dense, so a
    deposit as dense as cortex keeps its grain under the cortex cap instead of being flattened there."""
    dense = projected_density(chord, rng, pixel_mm, grain_mm, contrast, core=core)
    thick = chord > 0.3 * float(chord.max()) if chord.size else chord > 0
    if not thick.any():
        return dense
    return dense / max(float(np.quantile(dense[thick] / chord[thick], 0.9)), 1e-6)


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


LIFT_RAMP_MM: float = 6.0  # the old skin line is fully replaced by fat where the skin moved out this far or more


def mass_effect(
    anatomy: Anatomy, mass: np.ndarray, cover_mm: float = 2.5, blend_mm: float = 10.0
) -> tuple[Lesion, ...]:
    """The soft-tissue bulge over a superficial mass: the skin contour lifted over it.

    Where the mass (chord map, mm) reaches within ``cover_mm`` of the skin or beyond it, the
    body outline is pushed out to cover it with ``cover_mm`` of fat and skin, blending into
    the original contour over ``blend_mm``. The path through the bump grows from the new skin
    line inwards as through a rounded body as deep (along the beam) as the mass plus its cover,
    and meets the limb's own path under the old outline, so there is no thin, dark trough (halo)
    along the old outline; the old skin there becomes subcutaneous fat (no line is left where the
    skin used to run). Returned as lesions in the 'swelling' compartment: the new fat, the fat
    in place of the old skin, and the skin over the bulge. Empty if the mass is deep.
    """
    px = anatomy.grid.pixel_mm
    footprint = mass > 0.05
    if not footprint.any():
        return ()
    grow = max(1, round(cover_mm / px))
    covered = ndimage.binary_dilation(footprint, iterations=grow)
    if not (covered & ~anatomy.body_mask).any():
        return ()
    union = anatomy.body_mask | covered
    # a rounded contour that blends into the original outline (no facets, no notch at the junction)
    smooth = (ndimage.gaussian_filter(union.astype(float), blend_mm / 2.5 / px, mode="nearest") > 0.35) | union
    # away from the mass, the smoothing leaves a sliver a pixel or two outside a straight outline,
    # which drew a thin line in the air above and below the bulge: keep the bulge, drop the sliver
    outside = smooth & ~anatomy.body_mask
    thick = ndimage.binary_opening(outside, iterations=max(1, round(1.0 / px)))
    by_mass = ndimage.binary_dilation(covered, iterations=max(1, round(3.0 / px)))
    smooth = anatomy.body_mask | (outside & (thick | by_mass))
    swelling = region_mask(anatomy, ("swelling",))
    from_mass = ndimage.distance_transform_edt(~covered) * px
    near = from_mass <= blend_mm  # only around the mass
    bulge = smooth & ~anatomy.body_mask & swelling & near
    if not bulge.any():
        return ()
    total = sum(np.asarray(v, float) for v in anatomy.thickness_mm.values())
    old_depth = body_depth(anatomy)
    new_depth = ndimage.distance_transform_edt(smooth) * px  # from the new skin line inwards
    # the bump is as deep along the beam as the mass under it plus its cover: a rounded profile
    # from the new skin line inwards, which meets the limb's own (thicker) path under the old outline
    radius = max(0.5 * float(mass.max()) + cover_mm, 6.0)
    d = np.minimum(new_depth, radius)
    bump = 2.0 * np.sqrt(np.clip(d * (2 * radius - d), 0.0, None))
    zone = smooth & near & (old_depth < radius)  # the bulge and the band under the old outline it replaces
    target = np.where(zone, bump, 0.0)
    present = np.maximum(np.where(anatomy.body_mask, total, 0.0), mass)
    taper = np.clip(1.0 - from_mass / blend_mm, 0.0, 1.0)
    taper = np.where(anatomy.body_mask, taper * taper * (3 - 2 * taper), 1.0)  # fades into the old limb
    fat = np.where(zone, np.clip(target - present, 0.0, None) * taper, 0.0)
    # the old skin, now under fat, in proportion to how far the skin line moved out: it fades in over
    # the bulge's ends instead of stopping along a row (a straight edge across the mass, and a band)
    lifted = np.clip((new_depth - old_depth) / LIFT_RAMP_MM, 0.0, 1.0)
    lifted = np.where(smooth & near & anatomy.body_mask, lifted * lifted * (3 - 2 * lifted), 0.0)
    old_skin = np.asarray(anatomy.thickness_mm.get("skin", np.zeros(mass.shape)), float)
    old_skin = old_skin * lifted * taper
    skin = skin_over_bulge(anatomy, np.where(bulge, 1.0, 0.0), skin_mm=1.2)
    return (
        _lesion("adipose", fat, anatomy, ("swelling",)),
        _lesion("adipose", old_skin, anatomy, ("swelling",), hosts=("skin",)),
        _lesion("skin", skin, anatomy, ("swelling",)),
    )


def oedema_halo(
    anatomy: Anatomy, mass: np.ndarray, rng: np.random.Generator, reach_mm: float = 8.0, strength: float = 0.35
) -> tuple[Lesion, ...]:
    """Soft-tissue swelling round a mass (oedema, reactive and granulation tissue): part of the fat
    next to the mass replaced by water-equivalent soft tissue, a faint grey halo that fades out.

    ``mass`` is the mass's chord map (mm). Outside its footprint a share of the fat along the beam,
    ``strength`` (0–1) over and next to the mass, falling off as exp(−d / ``reach_mm``) with the distance d and
    varying a little round the mass, becomes soft tissue (hosts: fat only, so the path length and the
    bone are untouched; it fades out over 2 mm towards bone, so no line is drawn along a cortex).
    Returned as one 'soft_tissue' lesion in the 'swelling' compartment; empty without fat or mass.
    """
    footprint = mass > 0.05
    fat = anatomy.thickness_mm.get("adipose")
    if fat is None or strength <= 0 or reach_mm <= 0 or not footprint.any():
        return ()
    px = anatomy.grid.pixel_mm
    support = support_window(footprint)
    assert support is not None
    m = int(math.ceil(4 * reach_mm / px)) + 1
    rows = slice(max(support[0].start - m, 0), min(support[0].stop + m, footprint.shape[0]))
    cols = slice(max(support[1].start - m, 0), min(support[1].stop + m, footprint.shape[1]))
    d = ndimage.distance_transform_edt(~footprint[rows, cols]) * px
    uneven = ndimage.gaussian_filter(rng.standard_normal(d.shape), max(reach_mm / px, 1.0))
    uneven = np.clip(1.0 + 0.6 * uneven / (uneven.std() or 1.0), 0.3, 1.8)
    share = np.clip(strength * np.exp(-d / reach_mm) * uneven, 0.0, 0.9)
    off_bone = np.clip(bone_gap(anatomy)[rows, cols] / 2.0, 0.0, 1.0)
    share *= off_bone * off_bone * (3 - 2 * off_bone)
    out = np.zeros(anatomy.grid.shape)
    # over the mass too (the swelling wraps it along the beam), in the fat the mass itself leaves
    free = np.clip(np.asarray(fat, float)[rows, cols] - np.clip(mass[rows, cols], 0.0, None), 0.0, None)
    out[rows, cols] = share * free
    return (_lesion("soft_tissue", out, anatomy, ("swelling",), hosts=("adipose",)),)


# ------------------------------------------------------ irregular shapes ----


def radial_profile(rng: np.random.Generator, lumpiness: float = 0.15, terms: int = 7) -> np.ndarray:
    """Fourier coefficients (amplitude, phase) of a lobulated outline: radius factor 1 + Σ a_k cos(kθ + φ_k).

    ``lumpiness`` (0 = a clean ellipse) is the typical relative radius excursion; higher
    harmonics are weaker (1/k), so outlines are lobulated rather than spiky.
    """
    k = np.arange(2, terms + 2)
    amp = lumpiness * rng.normal(0.0, 1.0, terms) / k**0.9
    phase = rng.uniform(0, 2 * np.pi, terms)
    return np.column_stack([k, amp, phase])


def _radius_factor(theta: np.ndarray, profile: np.ndarray) -> np.ndarray:
    out = np.ones_like(theta)
    facets = []
    for k, amp, phase in profile:
        if k < 0:  # a facet: the outline cut by a straight side at ``amp`` (radius units) facing ``phase``
            facets.append((amp, phase))
        else:
            out += amp * np.cos(k * theta + phase)
    for distance, phase in facets:
        out = np.minimum(out, distance / np.maximum(np.cos(theta - phase), 1e-3))
    return np.clip(out, 0.45, 1.8)


def particle_outline(
    rng: np.random.Generator, lumpiness: float, egg: float = 0.0, facet_chance: float = 0.0
) -> np.ndarray:
    """An outline profile (see :func:`radial_profile`) for one particle of a crowd, so that no two match:
    lobulation ``lumpiness``, an egg-shaped asymmetry up to ``egg`` (one end blunter, a k = 1 term)
    and, with probability ``facet_chance``, one or two flat facets (bodies pressed on each other)
    at 0.7–0.9 of the radius."""
    rows = [radial_profile(rng, lumpiness)]
    if egg > 0:
        rows.append(np.array([[1.0, rng.uniform(0.0, egg), rng.uniform(0, 2 * np.pi)]]))
    if rng.uniform() < facet_chance:
        for _ in range(int(rng.integers(1, 3))):
            rows.append(np.array([[-1.0, rng.uniform(0.7, 0.9), rng.uniform(0, 2 * np.pi)]]))
    return np.vstack(rows)


def particle_texture(
    anatomy: Anatomy, rng: np.random.Generator, centre: tuple[float, float], reach_mm: float, strength: float
) -> np.ndarray:
    """A multiplicative field around 1 (± ``strength``) within ``reach_mm`` of ``centre`` (1 elsewhere):
    the particle's own internal mottle, smooth random grain of 0.4–1.0 mm (its own scale per particle),
    so particles do not share one texture. (It replaces two crossed cosine waves, whose regular
    interference pattern read as a printed screen, not as chalk.)"""
    grid = anatomy.grid
    out = np.ones(grid.shape)
    rows, cols = _window(grid, centre, reach_mm + grid.pixel_mm)
    if rows.stop <= rows.start or cols.stop <= cols.start:
        return out
    # six draws, as the old waves took: the generator advances as before, so the particles drawn after
    # this one land where they did; the grain's own noise comes from a generator seeded by those draws
    draws = rng.uniform(size=6)
    own = np.random.default_rng(np.floor(draws * 2.0**32).astype(np.uint64))
    grain = (0.4 + 0.6 * float(draws[0])) / grid.pixel_mm
    field = ndimage.gaussian_filter(own.standard_normal((rows.stop - rows.start, cols.stop - cols.start)), grain)
    field /= field.std() or 1.0
    out[rows, cols] = np.clip(1.0 + strength * rng.uniform(0.4, 1.0) * field, 0.2, None)
    return out


def _window(grid: Any, centre: tuple[float, float], reach_mm: float) -> tuple[slice, slice]:
    px = grid.pixel_mm
    r0 = max(int((centre[1] - reach_mm) / px) - 1, 0)
    r1 = min(int((centre[1] + reach_mm) / px) + 2, grid.shape[0])
    c0 = max(int((centre[0] - reach_mm) / px) - 1, 0)
    c1 = min(int((centre[0] + reach_mm) / px) + 2, grid.shape[1])
    return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))


# ------------------------------------------------------- drawing windows ----
# A lesion covers a small part of the film: its primitives are drawn on a window of the grid
# (a Canvas) and added into the full map, instead of being evaluated over every pixel. Every
# value inside the window has the bits of the full-grid formula (same per-pixel arithmetic);
# outside it the full-grid formula gives exactly zero.


def _gauss_radius(sigma: float, truncate: float = 4.0) -> int:
    """Half-width (pixels) of scipy's Gaussian kernel of ``sigma`` pixels (its own rounding)."""
    return int(truncate * float(sigma) + 0.5)


@dataclass(frozen=True)
class Canvas:
    """A window (``rows`` × ``cols`` slices, pixels) of ``grid`` on which a lesion's primitives are drawn."""

    grid: Grid
    rows: slice
    cols: slice

    @staticmethod
    def full(grid: Grid) -> Canvas:
        """The whole grid."""
        return Canvas(grid, slice(0, grid.shape[0]), slice(0, grid.shape[1]))

    @staticmethod
    def around(grid: Grid, centre: tuple[float, float], reach_mm: float) -> Canvas:
        """The window holding every pixel within ``reach_mm`` (mm) of ``centre`` (x, y mm), clipped to the grid."""
        return Canvas(grid, *_window(grid, centre, reach_mm))

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows.stop - self.rows.start, self.cols.stop - self.cols.start

    @property
    def empty(self) -> bool:
        return self.shape[0] <= 0 or self.shape[1] <= 0

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """(X, Y) of the window's pixel centres in mm (the bits of ``grid.coordinates()``), row and column vectors."""
        px = self.grid.pixel_mm
        x = (np.arange(self.cols.start, self.cols.stop) + 0.5) * px
        y = (np.arange(self.rows.start, self.rows.stop) + 0.5) * px
        return x[np.newaxis, :], y[:, np.newaxis]

    def local(self, rows: slice, cols: slice) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
        """The part of the grid window (``rows``, ``cols``) inside this canvas: (grid slices, canvas slices)."""
        r0, r1 = max(rows.start, self.rows.start), min(rows.stop, self.rows.stop)
        c0, c1 = max(cols.start, self.cols.start), min(cols.stop, self.cols.stop)
        r1, c1 = max(r0, r1), max(c0, c1)
        a, b = self.rows.start, self.cols.start
        return (slice(r0, r1), slice(c0, c1)), (slice(r0 - a, r1 - a), slice(c0 - b, c1 - b))

    def crop(self, full: np.ndarray) -> np.ndarray:
        """This window of a full-grid map."""
        return full[self.rows, self.cols]

    def paste(self, values: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """A full-grid map: ``values`` in this window, ``fill`` elsewhere."""
        out = np.full(self.grid.shape, fill, dtype=np.result_type(values, fill))
        out[self.rows, self.cols] = values
        return out

    def add_to(self, full: np.ndarray, values: np.ndarray) -> None:
        """Add ``values`` (this window's shape) into the full-grid map ``full`` in place."""
        full[self.rows, self.cols] += values

    def smoothed_noise(self, rng: np.random.Generator, sigma_px: float) -> np.ndarray:
        """This window of ``gaussian_filter(rng.standard_normal(grid.shape), sigma_px)`` with the same bits:
        the whole grid's noise is drawn (the generator advances as before) but only the window and the
        kernel's reach around it are filtered."""
        noise = rng.standard_normal(self.grid.shape)
        return _window_of_filtered(noise, self.rows, self.cols, sigma_px)


def _window_of_filtered(values: np.ndarray, rows: slice, cols: slice, sigma_px: float) -> np.ndarray:
    """``ndimage.gaussian_filter(values, sigma_px)[rows, cols]`` (default reflecting edges), filtering only the
    window and the kernel's half-width around it: each output pixel sums the same inputs in the same
    order as over the whole map, so the bits are the same."""
    m = _gauss_radius(sigma_px)
    r0, r1 = max(rows.start - m, 0), min(rows.stop + m, values.shape[0])
    c0, c1 = max(cols.start - m, 0), min(cols.stop + m, values.shape[1])
    out = ndimage.gaussian_filter(values[r0:r1, c0:c1], sigma_px)
    return out[rows.start - r0 : rows.stop - r0, cols.start - c0 : cols.stop - c0]


def support_window(values: np.ndarray) -> tuple[slice, slice] | None:
    """Bounding rows and columns (slices) of the non-zero pixels of a 2-D map; None if it is all zero."""
    rows = np.flatnonzero(values.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(values.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def gaussian_sparse(values: np.ndarray, sigma_px: float) -> np.ndarray:
    """``ndimage.gaussian_filter(values, sigma_px)`` (float, default reflecting edges) of a map that is zero
    outside a small region, with the same bits: only the region and the kernel's reach round it are
    filtered (outside it the full filter sums zeros)."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or not np.isscalar(sigma_px) or sigma_px <= 1e-15:
        return ndimage.gaussian_filter(values, sigma_px)
    support = support_window(values)
    if support is None:
        return np.zeros(values.shape)
    m = _gauss_radius(sigma_px)
    rows = slice(max(support[0].start - m, 0), min(support[0].stop + m, values.shape[0]))
    cols = slice(max(support[1].start - m, 0), min(support[1].stop + m, values.shape[1]))
    out = np.zeros(values.shape)
    out[rows, cols] = _window_of_filtered(values, rows, cols, sigma_px)
    return out


def blob(
    anatomy: Anatomy,
    centre: tuple[float, float],
    a: float,
    b: float,
    c: float,
    angle: float,
    profile: np.ndarray | None,
    grow_mm: float = 0.0,
    canvas: Canvas | None = None,
) -> np.ndarray:
    """Chord (mm) along the beam through a lobulated ellipsoid: semi-axes a (along ``angle``), b, c (beam).

    The outline is the ellipse with its radius modulated by ``profile`` (:func:`radial_profile`;
    None for a clean ellipsoid); the beam depth follows the local radius, so the body is a
    noise-perturbed solid, not a sprite. Evaluated only in the blob's bounding window; drawn on
    ``canvas`` (a map of the canvas's shape) or, by default, on the whole grid.
    """
    grid = anatomy.grid
    canvas = canvas or Canvas.full(grid)
    out = np.zeros(canvas.shape)
    a, b, c = (max(s + grow_mm, 1e-3) for s in (a, b, c))
    (rows, cols), local = canvas.local(*_window(grid, centre, 1.8 * max(a, b) + grid.pixel_mm))
    if rows.stop <= rows.start or cols.stop <= cols.start:
        return out
    x = (np.arange(cols.start, cols.stop) + 0.5) * grid.pixel_mm - centre[0]
    y = (np.arange(rows.start, rows.stop) + 0.5) * grid.pixel_mm - centre[1]
    t = math.radians(angle)
    u = x[None, :] * math.cos(t) + y[:, None] * math.sin(t)
    v = -x[None, :] * math.sin(t) + y[:, None] * math.cos(t)
    rho = np.hypot(u / a, v / b)
    radius = 1.0 if profile is None else _radius_factor(np.arctan2(v / b, u / a), profile)
    out[local] = 2.0 * c * radius * np.sqrt(np.clip(1.0 - (rho / radius) ** 2, 0.0, None))
    return out


def blob_shell(
    anatomy: Anatomy,
    centre: tuple[float, float],
    a: float,
    b: float,
    c: float,
    wall: float,
    angle: float,
    profile: np.ndarray | None,
    canvas: Canvas | None = None,
) -> np.ndarray:
    """Chord (mm) through the wall (thickness ``wall`` mm) of a lobulated hollow body (ring seen in projection)."""
    outer = blob(anatomy, centre, a, b, c, angle, profile, canvas=canvas)
    inner = blob(anatomy, centre, a, b, c, angle, profile, grow_mm=-min(wall, 0.95 * min(a, b, c)), canvas=canvas)
    return np.clip(outer - inner, 0.0, None)


def axial(anatomy: Anatomy, centre: tuple[float, float], angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel coordinates (mm) along (u) and across (v) the direction ``angle`` (degrees) from ``centre``."""
    x, y = anatomy.grid.coordinates()
    t = math.radians(angle)
    dx, dy = x - centre[0], y - centre[1]
    return dx * math.cos(t) + dy * math.sin(t), -dx * math.sin(t) + dy * math.cos(t)


def sphere_union(
    anatomy: Anatomy,
    spheres: list[tuple[float, float, float]],
    blend_mm: float,
    shrink_mm: float | np.ndarray = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Chord (mm) along the beam through a smooth union of spheres (x, y, radius; mm) centred in one
    plane, and the signed in-plane distance (mm, < 0 inside) to its outline.

    Rounded lobules, not facets: the spheres' distance fields are joined by a smooth minimum
    (fillets about ``blend_mm`` wide where lobes meet); the half-chord is that of a sphere of
    the locally dominant radius at that depth, so a single sphere is exact. ``shrink_mm``
    (scalar or per-pixel map) erodes the body, e.g. the inner surface of a shell.

    Evaluated only in the window where the outline can reach (the smooth minimum lies at most
    ``blend_mm`` × ln(number of spheres) outside the plain union): outside it the chord is 0 and
    the distance, positive there, is returned as +inf.
    """
    grid = anatomy.grid
    k = max(blend_mm, 1e-3)
    cx, cy = spheres[0][0], spheres[0][1]
    grow = max(0.0, -float(np.min(shrink_mm)))  # a negative shrink grows the body
    reach = max(math.hypot(sx - cx, sy - cy) + r for sx, sy, r in spheres) + grow
    canvas = Canvas.around(grid, (cx, cy), reach + k * math.log(len(spheres)) + 2 * grid.pixel_mm)
    if np.ndim(shrink_mm) == 2:
        shrink_mm = canvas.crop(np.asarray(shrink_mm))
    x, y = canvas.coordinates()
    ds = np.empty((len(spheres), *canvas.shape))  # filled in place: no list of maps to stack
    for i, (sx, sy, r) in enumerate(spheres):
        np.hypot(x - sx, y - sy, out=ds[i])
        ds[i] -= r - shrink_mm
    low = ds.min(axis=0)
    w = np.subtract(ds, low, out=ds)  # ds is not needed again: the weights take its place
    np.negative(w, out=w)
    w /= k
    np.exp(w, out=w)
    total = w[0].copy()  # sums in the order of a reduction over the first axis (same bits)
    weighted = w[0] * (spheres[0][2] - shrink_mm)
    for i in range(1, len(spheres)):
        total += w[i]
        weighted += w[i] * (spheres[i][2] - shrink_mm)
    d = low - k * np.log(total)
    r_eff = np.clip(weighted / total, 1e-3, None)
    half = np.sqrt(np.clip(-d, 0.0, None) * np.clip(2 * r_eff + d, 0.0, None))
    return canvas.paste(2.0 * half), canvas.paste(d, fill=np.inf)


def _half_chord_mean(d: np.ndarray, r: np.ndarray | float, half_px: float) -> np.ndarray:
    """Mean of sqrt(r² − x²) (0 beyond ±r) over x in [d − h, d + h]: a tube's half-chord box-filtered
    over one pixel across the tube (analytic coverage: smooth, not stair-stepped).

    Evaluated only where ``d`` is finite: elsewhere (a pixel far from the tube) both ends of the
    interval clip to the same radius and the mean is exactly 0."""
    r = np.clip(r, 1e-6, None)
    out = np.zeros(np.broadcast_shapes(np.shape(d), np.shape(r)))
    d = np.broadcast_to(np.asarray(d, float), out.shape)
    where = np.isfinite(d)
    if np.ndim(r):
        r = np.broadcast_to(r, out.shape)[where]
    d = d[where]

    def primitive(t: np.ndarray) -> np.ndarray:
        t = np.clip(t, -r, r)
        return 0.5 * (t * np.sqrt(np.clip(r * r - t * t, 0.0, None)) + r * r * np.arcsin(np.clip(t / r, -1.0, 1.0)))

    out[where] = (primitive(d + half_px) - primitive(d - half_px)) / (2 * half_px)
    return out


def smooth_noise_1d(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Smooth zero-mean unit-variance noise of length ``n`` (correlation ``sigma`` samples)."""
    noise = ndimage.gaussian_filter1d(rng.standard_normal(n + 8 * int(sigma + 1)), sigma, mode="wrap")
    noise = noise[:n]
    return (noise - noise.mean()) / (noise.std() or 1.0)


def seat(
    anatomy: Anatomy, allowed: np.ndarray, centre: tuple[float, float], clearance_mm: float
) -> tuple[float, float]:
    """The point nearest ``centre`` (mm) that lies at least ``clearance_mm`` inside ``allowed``.

    Places a mass inside its compartment (a haematoma inside the muscle belly, a myositis
    ossificans clear of the cortex) instead of cutting it off at the compartment's edge.
    Where no point has that clearance, the deepest point of ``allowed`` near ``centre``.
    """
    px = anatomy.grid.pixel_mm
    if not allowed.any():
        return centre
    depth = body_depth(anatomy) if allowed is anatomy.body_mask else ndimage.distance_transform_edt(allowed) * px
    r, c = int(np.clip(centre[1] / px, 0, allowed.shape[0] - 1)), int(np.clip(centre[0] / px, 0, allowed.shape[1] - 1))
    if depth[r, c] >= clearance_mm:
        return centre
    ok = depth >= clearance_mm
    if not ok.any():
        yy, xx = np.indices(allowed.shape)
        score = depth - 0.05 * np.hypot(yy - r, xx - c) * px
        rr, cc = np.unravel_index(np.argmax(score), score.shape)
    else:
        dist = ndimage.distance_transform_edt(~ok, return_indices=True)[1]
        rr, cc = dist[0][r, c], dist[1][r, c]
    return float((cc + 0.5) * px), float((rr + 0.5) * px)


def soft_edge(mask: np.ndarray, pixel_mm: float, taper_mm: float) -> np.ndarray:
    """Weight 0–1 rising over ``taper_mm`` inside ``mask`` (0 outside): a soft compartment edge."""
    if taper_mm <= 0:
        return mask.astype(float)
    depth = ndimage.distance_transform_edt(mask) * pixel_mm
    w = np.clip(depth / taper_mm, 0.0, 1.0)
    return w * w * (3 - 2 * w)


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


def polyline_coordinates(
    points: np.ndarray, anatomy: Anatomy, within_mm: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Arc length s (mm) along a polyline and signed distance d (mm) from it, per pixel.

    With ``within_mm``, only pixels within that distance of a segment's bounding box are
    evaluated (others get d = inf): fast for long, finely sampled paths.
    """
    x, y = anatomy.grid.coordinates()
    px = anatomy.grid.pixel_mm
    best_d = np.full(anatomy.grid.shape, np.inf)
    best_s = np.zeros(anatomy.grid.shape)
    signed = np.full(anatomy.grid.shape, np.inf)
    s0 = 0.0
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        dx, dy = x1 - x0, y1 - y0
        length = math.hypot(dx, dy) or 1e-9
        if within_mm is None:
            rows, cols = slice(None), slice(None)
        else:
            rows = slice(max(int((min(y0, y1) - within_mm) / px), 0), max(int((max(y0, y1) + within_mm) / px) + 2, 0))
            cols = slice(max(int((min(x0, x1) - within_mm) / px), 0), max(int((max(x0, x1) + within_mm) / px) + 2, 0))
        xs, ys = x[:, cols], y[rows, :]
        if xs.size == 0 or ys.size == 0:
            s0 += length
            continue
        u = np.clip(((xs - x0) * dx + (ys - y0) * dy) / length**2, 0.0, 1.0)
        qx, qy = xs - x0 - u * dx, ys - y0 - u * dy
        dist = np.hypot(qx, qy)
        bd = best_d[rows, cols]
        closer = dist < bd
        best_d[rows, cols] = np.where(closer, dist, bd)
        best_s[rows, cols] = np.where(closer, s0 + u * length, best_s[rows, cols])
        signed[rows, cols] = np.where(closer, np.sign(dx * qy - dy * qx) * dist, signed[rows, cols])
        s0 += length
    return best_s, signed


def resample_polyline(points: np.ndarray, step_mm: float) -> np.ndarray:
    """The polyline resampled every ``step_mm`` along its length (ends kept)."""
    seg = np.hypot(*np.diff(points, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(int(cum[-1] / step_mm), 1) + 1
    t = np.linspace(0.0, cum[-1], n)
    return np.column_stack([np.interp(t, cum, points[:, 0]), np.interp(t, cum, points[:, 1])])


def wobbly_path(points: np.ndarray, rng: np.random.Generator, amplitude_mm: float, step_mm: float = 2.0) -> np.ndarray:
    """A vessel's course: the landmark polyline, finely resampled, with a gentle smooth side-to-side
    wobble of standard deviation ``amplitude_mm`` (never more than twice that)."""
    fine = resample_polyline(np.asarray(points, float), step_mm)
    if len(fine) < 3 or amplitude_mm <= 0:
        return fine
    tangent = np.gradient(fine, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True) + 1e-9
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    wobble = np.clip(smooth_noise_1d(rng, len(fine), 18.0 / step_mm), -2.0, 2.0) * amplitude_mm
    return fine + normal * wobble[:, None]


def _sample_points(
    mask: np.ndarray,
    n: int,
    rng: np.random.Generator,
    pixel_mm: float,
    margin_mm: float = 0.0,
    avoid: np.ndarray | None = None,
) -> np.ndarray:
    """``n`` random pixel centres (mm, as x, y) inside ``mask`` eroded by ``margin_mm``."""
    return _pick_points(_candidates(mask, pixel_mm, margin_mm, avoid), n, rng, pixel_mm)


def _candidates(
    mask: np.ndarray, pixel_mm: float, margin_mm: float = 0.0, avoid: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns), in raster order, of the pixels :func:`_sample_points` draws from (computed once
    when many points are drawn from the same mask)."""
    if margin_mm > 0:
        eroded = ndimage.binary_erosion(mask, iterations=max(1, int(margin_mm / pixel_mm)))
        mask = eroded if eroded.any() else mask
    if avoid is not None and (mask & ~avoid).any():
        mask = mask & ~avoid  # keep deposits off bone where possible, so they stay visible
    return np.nonzero(mask)


def spaced_points(mask: np.ndarray, n: int, rng: np.random.Generator, pixel_mm: float, spacing_mm: float) -> np.ndarray:
    """Up to ``n`` random pixel centres (mm, as x, y) in ``mask``, each at least ``spacing_mm`` from the
    others (fewer where the mask has no room: separate bodies, not a merged blot)."""
    rows, cols = np.nonzero(mask)
    xy = np.column_stack([(cols + 0.5) * pixel_mm, (rows + 0.5) * pixel_mm])
    picked: list[np.ndarray] = []
    free = np.ones(len(xy), bool)
    while len(picked) < n and free.any():
        p = xy[rng.choice(np.flatnonzero(free))]
        picked.append(p)
        free &= np.hypot(*(xy - p).T) >= spacing_mm
    return np.array(picked).reshape(-1, 2)


def _pick_points(
    candidates: tuple[np.ndarray, np.ndarray], n: int, rng: np.random.Generator, pixel_mm: float
) -> np.ndarray:
    """``n`` of the ``candidates`` (rows, columns) at random, as pixel centres (mm, x, y)."""
    rows, cols = candidates
    if rows.size == 0 or n == 0:
        return np.zeros((0, 2))
    pick = rng.choice(rows.size, size=n, replace=rows.size < n)
    return np.column_stack([(cols[pick] + 0.5) * pixel_mm, (rows[pick] + 0.5) * pixel_mm])


LUNG_PATH_MM: float = 3.0  # a pixel projects over the aerated lung where the beam crosses more lung than this (mm)
LUNG_MARGIN_MM: float = 4.0  # ... and particles keep this far from the lung's projected edge


def over_lung(anatomy: Anatomy) -> np.ndarray:
    """Pixels that project over the aerated lung, widened by LUNG_MARGIN_MM (all False where the view
    crosses no lung). A particle of the chest-wall soft tissues drawn there reads as a lung nodule on a
    shoulder film; read-only, computed once per anatomy."""

    def make() -> np.ndarray:
        lung = np.asarray(anatomy.thickness_mm.get("lung", np.zeros(anatomy.grid.shape))) > LUNG_PATH_MM
        if not lung.any():
            return lung
        return ndimage.binary_dilation(lung, iterations=max(1, round(LUNG_MARGIN_MM / anatomy.grid.pixel_mm)))

    return _memo(anatomy, "over lung", make)


# where no pixel is as deep as a particle's reach (a thin fat layer), particles are seated in the part of
# the layer at least this share of its deepest and drawn smaller to fit: 0.8 crowded a dozen nodules into
# the one or two deepest spots once the frame bounds the seat (thigh fat cut by the film's edge)
SEAT_FALLBACK_SHARE: float = 0.6


def seated_points(
    anatomy: Anatomy,
    allowed: np.ndarray,
    reaches_mm: np.ndarray,
    rng: np.random.Generator,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One centre (x, y mm) per particle, each at least its reach (``reaches_mm``, mm from the centre to
    the particle's farthest edge) inside ``allowed``, so the whole particle lies in its compartment and
    none is cut along the mask; drawn with probability proportional to ``weight`` (a map ≥ 0; uniform by
    default), so a crowd can cluster. Where no pixel is deep enough, the deepest part of ``allowed``.
    Also returns each centre's depth in ``allowed`` (mm), with which a caller shrinks a particle that
    does not fit."""
    px = anatomy.grid.pixel_mm
    reaches = np.asarray(reaches_mm, float).reshape(-1)
    if not allowed.any() or reaches.size == 0:
        return np.zeros((0, 2)), np.zeros(0)
    # the frame is an edge too: a particle seated by the mask alone was cut by the image border
    depth = ndimage.distance_transform_edt(np.pad(allowed, 1))[1:-1, 1:-1] * px
    points, room = [], []
    for reach in reaches:
        ok = depth >= min(reach, SEAT_FALLBACK_SHARE * float(depth.max()))
        rows, cols = np.nonzero(ok)
        p = None
        if weight is not None:
            p = np.asarray(weight, float)[rows, cols] + 1e-12
            p = p / p.sum()
        k = rng.choice(rows.size, p=p)
        points.append(((cols[k] + 0.5) * px, (rows[k] + 0.5) * px))
        room.append(float(depth[rows[k], cols[k]]))
    return np.asarray(points), np.asarray(room)


def cluster_weight(
    anatomy: Anatomy,
    allowed: np.ndarray,
    rng: np.random.Generator,
    clusters: int,
    along_mm: tuple[float, float],
    across_mm: tuple[float, float],
    angle_deg: float,
    background: float = 0.1,
) -> np.ndarray:
    """A map ≥ 0 over ``allowed`` for :func:`seated_points`: ``clusters`` elongated Gaussian clouds of
    unequal weight, centred at random in ``allowed``, long axis along ``angle_deg`` (spread ``along_mm``
    and ``across_mm``, ranges of σ in mm), over a faint ``background`` share: particles gather in a few
    places (several muscles, a few injection sites), not sprinkled evenly."""
    x, y = anatomy.grid.coordinates()
    out = np.zeros(anatomy.grid.shape)
    for cx, cy in _sample_points(allowed, clusters, rng, anatomy.grid.pixel_mm):
        t = math.radians(angle_deg + rng.normal(0, 10))
        u = (x - cx) * math.cos(t) + (y - cy) * math.sin(t)
        v = -(x - cx) * math.sin(t) + (y - cy) * math.cos(t)
        su, sv = rng.uniform(*along_mm), rng.uniform(*across_mm)
        out += rng.lognormal(0.0, 0.5) * np.exp(-0.5 * ((u / su) ** 2 + (v / sv) ** 2))
    if out.max() > 0:
        out /= out[allowed].mean() if out[allowed].mean() > 0 else out.max()
    return np.where(allowed, out + background, 0.0)


def disc_candidates(
    mask: np.ndarray, grid: Grid, centre: tuple[float, float], radius_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns), in raster order, of the pixels of ``mask`` whose centres lie within ``radius_mm``
    of ``centre`` (x, y mm): ``np.nonzero(mask & ((x - cx)² + (y - cy)² <= r²))`` over the disc's window only."""
    canvas = Canvas.around(grid, centre, radius_mm)
    x, y = canvas.coordinates()
    rows, cols = np.nonzero(canvas.crop(mask) & ((x - centre[0]) ** 2 + (y - centre[1]) ** 2 <= radius_mm**2))
    return rows + canvas.rows.start, cols + canvas.cols.start


def _fibre_angle(anatomy: Anatomy, params: Mapping[str, Any]) -> float:
    return float(params.get("angle_deg", anatomy.landmarks.get("fibre_angle_deg", 90.0)))


def _shell(
    anatomy: Anatomy, center: tuple[float, float], a: float, b: float, c: float, wall: float, angle: float = 0.0
) -> np.ndarray:
    outer = Ellipsoid(center, a, b, c, angle).chord(anatomy.grid)
    inner = Ellipsoid(center, max(a - wall, 1e-3), max(b - wall, 1e-3), max(c - wall, 1e-3), angle).chord(anatomy.grid)
    return outer - inner


def _arc_gaps(
    anatomy: Anatomy,
    center: tuple[float, float],
    rng: np.random.Generator,
    coverage: float,
    pieces: int = 7,
    canvas: Canvas | None = None,
) -> np.ndarray:
    """In-plane angular weight (0–1) keeping about ``coverage`` of the circle in ``pieces`` arcs, soft ends
    (on ``canvas``, by default the whole grid)."""
    x, y = (canvas or Canvas.full(anatomy.grid)).coordinates()
    theta = np.mod(np.arctan2(y - center[1], x - center[0]), 2 * np.pi)
    profile = np.zeros(720)
    span = int(720 * coverage / pieces)
    for start in rng.integers(0, 720, pieces):
        length = int(span * rng.uniform(0.6, 1.4))
        profile[np.arange(start, start + length) % 720] = 1.0
    profile = ndimage.gaussian_filter1d(profile, 12, mode="wrap")
    return profile[np.minimum((theta / (2 * np.pi) * 720).astype(int), 719)]


# ------------------------------------------------------------- vascular ----


def _offset(value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else np.zeros(0)
    if arr.shape != (2,) or not np.all(np.isfinite(arr)) or np.abs(arr).max() > 100:
        raise ValueError(f"offset_mm must be (dx, dy) in mm, each within ±100, got {value!r}")
    return arr


def _along(values: np.ndarray, s: np.ndarray, step_mm: float) -> np.ndarray:
    """A profile sampled every ``step_mm`` of arc length, looked up at arc lengths ``s`` (mm)."""
    return np.interp(s / step_mm, np.arange(len(values)), values)  # linear: no steps along the path


VESSEL_WOBBLE_MM: Mapping[str, float] = MappingProxyType({"tubular": 1.2, "ring": 1.8, "plaque": 1.2})
# en-face share of medial calcium: the media calcifies in granules and patches round the vessel, so
# through the lumen (front and back walls en face) the beam crosses much less calcium than along the
# two tangential edges: two fine lines with a clear lumen between them, not a solid bony band
MEDIAL_EN_FACE: float = 0.3


def _vessel_wall(
    anatomy: Anatomy, params: Mapping[str, Any], rng: np.random.Generator, mode: str
) -> tuple[Lesion, ...]:
    """Calcified wall of the vessel landmark, seen as two lines where the wall is tangential to the beam.

    The vessel follows the site's landmark with a gentle wobble; its radius and the
    thickness of each wall vary along it; calcium is interrupted by gaps. ``mode``:
    'tubular' (near-continuous tram-track), 'ring' (medial calcification: fine tram-track
    with irregular, incomplete ring-like bands), 'plaque' (atherosclerosis: irregular
    patches of the intima, thick and chalky, with gaps between them).
    """
    raw = _polyline(anatomy, params.get("vessel", "artery")) + _offset(params.get("offset_mm", (0.0, 0.0)))
    radius = _number("size_mm", params.get("size_mm", 2 * float(anatomy.landmarks.get("artery_radius_mm", 2.0)))) / 2
    conc = _mineral(params, 0.9)
    wall_mm = _number("wall_mm", params.get("wall_mm", 1.0), high=5)
    extent = params.get("extent", (0.05, 0.95))
    step = 1.0
    # an elderly or diabetic patient's calcified artery winds a little (medial sclerosis most visibly):
    # a gently curving course, not a ruled straight tube beside the bone
    path = wobbly_path(raw, rng, amplitude_mm=min(VESSEL_WOBBLE_MM[mode], 0.3 * radius + 0.5), step_mm=step)
    total = float(np.sum(np.hypot(*np.diff(path, axis=0).T)))
    s, d = polyline_coordinates(path, anatomy, within_mm=radius + 3.0)
    lo, hi = (_number("extent", e, 0, 1, strict=False) * total for e in extent)
    n = int(total / step) + 2
    taper = np.clip(np.minimum(s - lo, hi - s) / 4.0, 0.0, 1.0)  # calcium fades in and out at the ends
    r_s = radius * (1.0 + 0.08 * _along(smooth_noise_1d(rng, n, 25.0), s, step))
    thickness_of = {"tubular": 0.6, "ring": 0.45, "plaque": 1.0}[mode] * wall_mm
    # each wall (the two lines of the tram-track) has its own thickness profile along the vessel
    near_side = d >= 0
    w_a = thickness_of * np.exp(0.35 * smooth_noise_1d(rng, n, 6.0))
    w_b = thickness_of * np.exp(0.35 * smooth_noise_1d(rng, n, 6.0))
    wall = np.where(near_side, _along(w_a, s, step), _along(w_b, s, step))
    # each half-chord averaged over the pixel's width across the vessel (analytic coverage):
    # smooth, thin tram-track lines instead of stair-stepped pixel runs
    across = 0.6 * anatomy.grid.pixel_mm
    outer = _half_chord_mean(d, r_s, across)
    inner = _half_chord_mean(d, np.clip(r_s - wall, 1e-3, None), across)
    half = np.clip(outer - inner, 0.0, None)  # wall chord of one crossing (front or back)
    if mode == "ring":
        # the en-face walls over the lumen carry less calcium than the tangential edges (see MEDIAL_EN_FACE)
        edge = np.clip(np.abs(np.where(np.isfinite(d), d, 0.0)) / np.maximum(r_s - wall, 1e-3), 0.0, 1.0) ** 6
        half = half * (MEDIAL_EN_FACE + (1.0 - MEDIAL_EN_FACE) * edge)
    if mode in ("tubular", "ring"):
        # gaps: stretches of uncalcified wall, short and few for medial calcification
        # (each wall on its own, so the gaps are staggered, not square cuts across the vessel)
        # (medial sclerosis: short breaks, a little more often than in a continuous tram-track)
        covers = [
            np.clip(
                (smooth_noise_1d(rng, n, 5.0 if mode == "ring" else 8.0) + (1.0 if mode == "ring" else 1.3)) / 1.2,
                0.0,
                1.0,
            )
            ** 1.5
            for _ in range(2)
        ]
        th = 2 * half * np.where(near_side, _along(covers[0], s, step), _along(covers[1], s, step))
        if mode == "ring":
            # irregular ring-like bands: uneven spacing, strength and completeness (no ladder)
            spacing = _number("spacing_mm", params.get("spacing_mm", 2.5))
            bands = np.zeros(n)
            pos = rng.uniform(0, spacing)
            while pos < total:
                k = int(pos / step)
                bands[k : k + 1 + int(rng.uniform(0, 1.5))] = rng.uniform(0.2, 1.0) * (rng.uniform() < 0.7)
                pos += spacing * rng.uniform(0.6, 2.4)
            band = _along(ndimage.gaussian_filter1d(bands, 0.6), s, step)
            side = np.where(near_side, 1.0, _along(np.clip(smooth_noise_1d(rng, n, 3.0) + 0.3, 0, 1), s, step))
            # fine bands of the wall's own thickness, fainter than the two lines (no ladder of rungs)
            th = th + 2 * (outer - inner) * MEDIAL_EN_FACE * band * side
    else:
        count = _count(params.get("count", 14))
        th = np.zeros(anatomy.grid.shape)
        # plaque map in (arc length, angle around the vessel): a few irregular patches
        n_phi = 72
        field = np.zeros((n, n_phi))
        for _ in range(count):
            s0 = rng.uniform(lo, hi) / step
            length = rng.uniform(3.0, 14.0) / step
            centre = rng.uniform(0, n_phi)
            width = rng.uniform(6, 30)
            ss = np.arange(n)[:, None]
            pp = np.arange(n_phi)[None, :]
            dp = np.minimum(np.abs(pp - centre), n_phi - np.abs(pp - centre))
            field += rng.uniform(0.6, 1.6) * np.exp(-(((ss - s0) / (length / 2)) ** 2) - (dp / (width / 2)) ** 2)
        field *= np.exp(0.5 * ndimage.gaussian_filter(rng.standard_normal(field.shape), (1.5, 2.0), mode="wrap"))
        field = np.clip(field - 0.25, 0.0, None)
        phi_front = np.arctan2(np.sqrt(np.clip(r_s**2 - d**2, 0, None)), d)
        si = np.clip((s / step).astype(int), 0, n - 1)
        for phi in (phi_front, -phi_front):
            pi = (np.mod(phi, 2 * np.pi) / (2 * np.pi) * n_phi).astype(int) % n_phi
            th += half * 1.6 * field[si, pi]
        th = gaussian_sparse(th, 0.35 / anatomy.grid.pixel_mm)
    th = chalky(th, rng, anatomy.grid.pixel_mm, 0.6, 0.3 if mode == "plaque" else 0.15)
    th = th * taper * ((s >= lo) & (s <= hi)) * conc / REFERENCE_G_CM3
    th = cap_to_cortex(th, 2.0 * outer)  # never denser than cortex over the vessel's chord
    # branches leaving the artery towards or away from the beam are seen end-on: a calcified ring
    for _ in range(_count(params.get("end_on", 0), 10)):
        k = int(rng.uniform(lo, hi) / step)
        k = int(np.clip(k, 1, len(path) - 2))
        tangent = path[k + 1] - path[k - 1]
        normal = np.array([-tangent[1], tangent[0]]) / (np.hypot(*tangent) or 1.0)
        centre = path[k] + normal * rng.choice([-1, 1]) * radius * rng.uniform(1.8, 2.6)
        ring = _ring(anatomy, rng, (float(centre[0]), float(centre[1])), radius * rng.uniform(0.5, 0.75), 0.25)
        th = th + ring * 1.5 * conc / REFERENCE_G_CM3
    # The vessel is its own compartment: its wall lies where the drawn course runs (within the
    # limb's soft tissue), even where the site's projected vascular mask is narrower than the vessel.
    where = ("vascular",) + tuple(c for c in ("muscle", "fascial", "subcutaneous") if c in anatomy.masks)
    return (_lesion(reference_deposit(), th, anatomy, where),)


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


def _nearest_on_path(path: np.ndarray, point: tuple[float, float]) -> tuple[tuple[float, float], float]:
    """The point of a polyline nearest ``point`` and the path's direction there (degrees)."""
    best = (math.inf, tuple(path[0]), 90.0)
    for p0, p1 in zip(path[:-1], path[1:]):
        d = p1 - p0
        length2 = float(d @ d) or 1e-9
        u = float(np.clip((np.asarray(point) - p0) @ d / length2, 0.0, 1.0))
        q = p0 + u * d
        dist = float(np.hypot(*(q - np.asarray(point))))
        if dist < best[0]:
            best = (dist, (float(q[0]), float(q[1])), math.degrees(math.atan2(d[1], d[0])))
    return best[1], best[2]


def _away_from_bone(anatomy: Anatomy, mask: np.ndarray, clearance_mm: float) -> np.ndarray:
    if clearance_mm <= 0 or not anatomy.bone_mask.any():
        return mask
    return mask & (bone_gap(anatomy) >= clearance_mm)


ANEURYSM_FACE: float = 0.04  # share of an aneurysm's rim calcium left on the faces seen en face (tuned)


def curvilinear_rim(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Peripheral curvilinear rim of calcification around a rounded mass: an aneurysm (vascular) or a
    calcified haematoma (muscle).

    Aneurysm (compartment 'vascular'): a fusiform dilatation centred on the artery's course
    (the landmark nearest ``location``) and elongated along it, with a thin, interrupted
    eggshell rim of calcium. Haematoma (compartment 'muscle'): an oval mass seated inside the
    muscle belly, clear of the bone, with a thicker, irregular peripheral rim and a few
    flocculent foci within. Outlines are lobulated, the rim's thickness varies.
    Parameters: location (landmark or (x, y) mm), size_mm (long axis), aspect (short/long),
    coverage (fraction of the rim calcified), mineral_g_cm3, angle_deg, compartment.
    """
    compartment = params.get("compartment", "vascular")
    centre = _landmark_point(
        anatomy, params.get("location"), "artery" if compartment == "vascular" else "muscle_center"
    )
    size = _number("size_mm", params.get("size_mm", 30.0), high=300)
    aspect = _number("aspect", params.get("aspect", 0.7), high=1.0)
    coverage = _number("coverage", params.get("coverage", 0.7), high=1.0)
    conc = _mineral(params, 0.8)
    angle = _fibre_angle(anatomy, params)
    a, b = size / 2, size * aspect / 2
    px = anatomy.grid.pixel_mm
    vascular = compartment == "vascular"
    if vascular:
        path = anatomy.landmarks.get("artery")
        if path is not None and np.asarray(path, float).ndim == 2:
            centre, along = _nearest_on_path(np.asarray(path, float), centre)
            angle = float(params.get("angle_deg", along))
        region = (compartment,) + tuple(c for c in ("muscle", "fascial", "subcutaneous") if c in anatomy.masks)
        wall = max(0.8, size / 40)
    else:
        region = _mass_region(anatomy, compartment)
        inside = _away_from_bone(anatomy, region_mask(anatomy, region), 3.0)
        centre = seat(anatomy, inside, centre, 0.9 * b)
        wall = max(1.2, size / 35)
    outline = radial_profile(rng, 0.07 if vascular else 0.14)
    mass = blob(anatomy, centre, a, b, b, angle, outline)
    # wall thickness varies around the rim: the inner surface has its own, smaller perturbation
    inner = blob(anatomy, centre, a, b, b, angle, outline + radial_profile(rng, 0.05) * [0, 1, 0], grow_mm=-wall)
    shell = np.clip(mass - inner, 0.0, None)
    x, y = anatomy.grid.coordinates()
    t = math.radians(angle)
    u = (x - centre[0]) * math.cos(t) + (y - centre[1]) * math.sin(t)
    v = -(x - centre[0]) * math.sin(t) + (y - centre[1]) * math.cos(t)
    rho = np.hypot(u / a, v / b)
    # Gaps interrupt the rim where it is seen tangentially; the faces keep a faint, patchy shell.
    rim = rho > 1 - 1.6 * wall / b
    arcs = _arc_gaps(anatomy, centre, rng, coverage, pieces=int(rng.integers(4, 8)))
    if vascular:  # the long walls of a fusiform sac, tangential to the beam, are the calcified lines seen:
        # two curved lines converging on the artery at its poles (a spindle), not a ring round an ossicle
        side = np.clip((np.abs(v) / b - 0.45) / 0.35, 0.0, 1.0)
        arcs = np.clip(arcs + 0.8 * side * side * (3 - 2 * side), 0.0, 1.0)
    # (an aneurysm's faces keep only a trace: a brighter en-face shell made it read as a corticated
    # ossicle, a fabella or a loose body, rather than a calcified vessel wall seen edge-on)
    shell = shell * np.where(rim, arcs, ANEURYSM_FACE if vascular else 0.2)
    mineral = chalky(shell, rng, px, 0.7, 0.35)
    if not vascular:  # a few flocculent foci in the organising haematoma
        foci = np.zeros(anatomy.grid.shape)
        for _ in range(int(rng.integers(3, 7))):
            off = rng.normal(0, 0.35, 2) * (a, b)
            c = (
                centre[0] + off[0] * math.cos(t) - off[1] * math.sin(t),
                centre[1] + off[0] * math.sin(t) + off[1] * math.cos(t),
            )
            r = b * rng.uniform(0.08, 0.2)
            foci += blob(anatomy, c, r, r * 0.8, r, rng.uniform(0, 180), radial_profile(rng, 0.3))
        mineral = mineral + 0.35 * chalky(foci, rng, px, 0.8, 0.5) * (rho < 0.8)
    lesions = [_lesion("blood" if vascular else "soft_tissue", mass, anatomy, region, soft_mm=1.0)]
    lesions.append(_lesion(reference_deposit(), mineral * conc, anatomy, region, soft_mm=1.0))
    return tuple(lesions)


def ring_canvas(anatomy: Anatomy, centre: tuple[float, float], r: float) -> Canvas:
    """The window holding a ring or osteochondral body of radius ``r`` mm at ``centre`` (:func:`_ring`,
    :func:`_osteochondral_body`): that of its largest blob."""
    return Canvas.around(anatomy.grid, centre, 1.8 * r + anatomy.grid.pixel_mm)


def _ring(
    anatomy: Anatomy,
    rng: np.random.Generator,
    centre: tuple[float, float],
    r: float,
    wall_fraction: float,
    canvas: Canvas | None = None,
) -> np.ndarray:
    """One ring-like calcification, each different: lobulated, oval, wall thickness varying round it,
    sometimes incomplete, with a denser arc and an occasional nidus. Drawn on ``canvas`` (a map of
    its shape; by default the whole grid; :func:`ring_canvas` holds all of it)."""
    canvas = canvas or Canvas.full(anatomy.grid)
    b = r * rng.uniform(0.75, 1.0)
    angle = rng.uniform(0, 180)
    outline = particle_outline(rng, rng.uniform(0.03, 0.09), egg=0.08)
    wall = max(0.5, r * wall_fraction * rng.uniform(0.6, 1.5))
    outer = blob(anatomy, centre, r, b, b, angle, outline, canvas=canvas)
    inner_outline = outline.copy()
    wobble = radial_profile(rng, 0.12)  # the wall's thickness varies round the ring
    inner_outline[: len(wobble), 1] += wobble[:, 1]
    inner = blob(anatomy, centre, r, b, b, angle, inner_outline, grow_mm=-wall, canvas=canvas)
    ring = np.clip(outer - inner, 0.0, None)
    if rng.uniform() < 0.35:  # an incomplete ring
        gaps = _arc_gaps(anatomy, centre, rng, rng.uniform(0.55, 0.85), int(rng.integers(1, 3)), canvas=canvas)
        ring = ring * (0.25 + 0.75 * gaps)
    if rng.uniform() < 0.4:  # a central nidus or lamination
        ring += rng.uniform(0.3, 0.7) * blob(
            anatomy, centre, r * 0.3, r * 0.25, r * 0.3, angle, radial_profile(rng, 0.2), canvas=canvas
        )
    return ring * rng.uniform(0.7, 1.3)


def _skin_clearance(anatomy: Anatomy, mask: np.ndarray, clearance_mm: float) -> np.ndarray:
    """``mask`` without the outer ``clearance_mm`` under the skin (a deposit stays inside the body)."""
    if clearance_mm <= 0:
        return mask
    depth = body_depth(anatomy)
    kept = mask & (depth >= clearance_mm)
    if kept.any() or not mask.any():
        return kept if kept.any() else mask
    return mask & (depth >= 0.7 * float(depth[mask].max()))  # a thin layer: its deepest part


def _along_veins(anatomy: Anatomy, reach_mm: float) -> np.ndarray:
    """Pixels within ``reach_mm`` of the view's ``veins`` landmark (polylines; none: all False)."""
    near = np.zeros(anatomy.grid.shape, bool)
    veins = anatomy.landmarks.get("veins")
    if not veins:
        return near
    for line in veins:
        pts = np.asarray(line, float).reshape(-1, 2)
        if len(pts) >= 2 and np.all(np.isfinite(pts)):
            near |= _near_location(anatomy, pts, reach_mm)
    return near


PHLEBOLITH_SPACING: float = 1.3  # rings at least this many nominal diameters apart, centre to centre (a chain)
PHLEBOLITH_DEEPEST_SHARE: float = 0.75  # in thin fat, ring centres in the deepest quarter of it along the vein
PHLEBOLITH_SKIN_MM: float = 2.2  # a ring's outer edge stays this far under the skin surface (skin 1.6 mm + its wall)


def phlebolith(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Small round calcifications with a lucent centre or laminations (calcified venous thrombi).

    Each ring differs (size, ovality, wall, completeness, nidus). They lie in the veins (the view's
    ``veins`` landmark: the superficial veins for the subcutaneous compartment), tortuous as varicose
    veins are, a few millimetres off the vein's line, and always inside the body, at least half a ring
    plus 3 mm under the skin (never on the skin line).
    Parameters: count, size_mm (diameter, 2–10 mm typical), mineral_g_cm3, compartment.
    """
    compartment = params.get("compartment", "vascular")
    n = _count(params.get("count", 6))
    size = _number("size_mm", params.get("size_mm", 5.0), high=30)
    conc = _mineral(params, 1.0)
    clearance = size * 0.5 + 3.0
    depth = body_depth(anatomy)
    region = (compartment,) + (("vascular",) if "vascular" in anatomy.masks and compartment != "vascular" else ())
    # phleboliths of the subcutaneous veins (varicose veins) lie in the fat itself, never in the deep
    # veins behind the bones (session 9: rings behind the tibia read as deep-vein phleboliths)
    mask = region_mask(anatomy, (compartment,))
    veins = mask & _along_veins(anatomy, 10.0)  # tortuous, dilated veins
    if veins.any():
        # where the fat along the vein is thinner than the clearance (the back of the calf: about 5 mm),
        # its deepest part: a varicosity there bulges the skin (mass effect below) rather than all the
        # rings crowding into the few pixels deep enough (session 10: seven rings merged into two blots)
        deepest = float(depth[veins].max())
        mask = veins & (depth >= min(clearance, PHLEBOLITH_DEEPEST_SHARE * deepest))
    else:
        mask = _skin_clearance(anatomy, mask, clearance)
        mask &= depth >= min(clearance, 0.8 * float(depth.max()))  # the fallback keeps its distance from the skin too
    if (mask & ~anatomy.bone_mask).any():
        mask = mask & ~anatomy.bone_mask  # off bone where possible, so they stay visible
    th = np.zeros(anatomy.grid.shape)
    for x, y in spaced_points(mask, n, rng, anatomy.grid.pixel_mm, size * PHLEBOLITH_SPACING):
        r = size / 2 * rng.uniform(0.55, 1.35)
        # wholly under the skin: in thin fat a ring is no wider than the fat is deep (the vein's calibre)
        at = depth[int(y / anatomy.grid.pixel_mm), int(x / anatomy.grid.pixel_mm)]
        r = min(r, max(at - PHLEBOLITH_SKIN_MM, 0.25 * size))
        canvas = ring_canvas(anatomy, (x, y), r)
        canvas.add_to(th, _ring(anatomy, rng, (x, y), r, 0.3, canvas=canvas))
    th = chalky(th, rng, anatomy.grid.pixel_mm, 0.5, 0.15)
    bulge = mass_effect(anatomy, th, cover_mm=2.0, blend_mm=8.0) if compartment == "subcutaneous" else ()
    region = region + (("swelling",) if bulge else ())
    return (_lesion(reference_deposit(), th * conc, anatomy, region, soft_mm=0.8),) + bulge


GRAIN_MUSCLE_PATH_MM: float = 8.0  # a rice grain's muscle: at least this much muscle along the beam (mm)
GRAIN_LOG_SPREAD: float = 0.5  # log-normal spread of grain lengths (coefficient of variation about 0.5)
GRAIN_OVER_BONE: float = 0.3  # relative odds of a grain projecting over bone (seen through it, but fainter)
GRAIN_EDGE_MM: float = 0.3  # Gaussian σ (mm) of a grain's margin: partial volume of a rounded, gritty body


def rice_grain(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Many small oval (rice-grain) calcifications aligned with the muscle fibres (cysticercosis).

    No two grains alike: lengths spread about ``size_mm`` (calcified cysticerci are usually about
    4–10 mm long and 2–5 mm wide, from elongate and linear to plump ovals, many with a small
    lucent centre: USUHS Tropical Medicine Central Resource, ch. 7), each with its own width,
    density and slight bend, its long axis within a few degrees of the local fibre direction; some
    are only partly calcified (a rim round a lucent centre, or a broken, fragmentary grain).
    Parameters: count, size_mm (typical grain length), mineral_g_cm3, angle_deg (fibres).
    """
    compartment = params.get("compartment", "muscle")
    n = _count(params.get("count", 40))
    size = _number("size_mm", params.get("size_mm", 8.0), high=40)
    conc = _mineral(params, 1.0)
    angle = _fibre_angle(anatomy, params)
    px = anatomy.grid.pixel_mm
    th = np.zeros(anatomy.grid.shape)
    # in the muscle, clear of the skin, and not over the lung (on a chest-wall film a grain there reads
    # as a lung nodule); each grain wholly inside (seated by its own length, not cut by the mask)
    # (a muscle's grains may cross the thin fat planes between its fascicles: 'deep' closes them)
    region = (compartment,) + (("deep",) if compartment == "muscle" else ())
    mask = _skin_clearance(anatomy, region_mask(anatomy, region), 3.0)
    mask = mask & ~over_lung(anatomy) if (mask & ~over_lung(anatomy)).any() else mask
    if compartment == "muscle":  # a cyst lies in a muscle: where the beam crosses little or none (the
        # subcutaneous top of the acromion, the muscle's thin outer edge), a grain would float in fat
        thick = mask & (np.asarray(anatomy.thickness_mm.get("muscle", 0.0)) >= GRAIN_MUSCLE_PATH_MM)
        mask = thick if thick.any() else mask
    # the fibre direction drifts slowly across the muscle (pennation), grains follow it locally
    drift = ndimage.gaussian_filter(rng.standard_normal(anatomy.grid.shape), 20.0 / px)
    drift *= 10.0 / (drift.std() or 1.0)
    # calcified cysticerci vary widely in size (from under half to nearly twice the typical length): the
    # cysts die and calcify at different ages, and each is seen at its own obliquity to the beam
    lengths = np.clip(size * rng.lognormal(0.0, GRAIN_LOG_SPREAD, n), 0.4 * size, 1.9 * size)
    # the cysts gather in a few muscles, strung along their fibres: clusters, not an even sprinkle
    crowd = cluster_weight(anatomy, mask, rng, int(np.clip(round(n / 15) + 2, 3, 7)), (18, 40), (5, 12), angle, 0.03)
    crowd = np.where(anatomy.bone_mask, GRAIN_OVER_BONE * crowd, crowd)  # most project clear of the bone
    centres, room = seated_points(anatomy, mask, 0.6 * lengths + 0.5 + 2 * GRAIN_EDGE_MM, rng, crowd)
    for (x, y), length, fit in zip(centres, lengths, room):
        length = float(min(length, max((fit - 0.5) / 0.6, 0.45 * size)))
        width = float(np.clip(length * rng.uniform(0.22, 0.5), 1.5, 0.5 * size + 1.0))
        r, c = min(int(y / px), th.shape[0] - 1), min(int(x / px), th.shape[1] - 1)
        a_deg = angle + float(drift[r, c]) + rng.normal(0, 4)
        density = rng.uniform(0.45, 1.1)
        profile = particle_outline(rng, rng.uniform(0.04, 0.14), egg=0.15, facet_chance=0.15)
        kind = rng.uniform()
        if kind < 0.25:  # partly calcified: a rim round a lucent centre
            grain = blob_shell(anatomy, (x, y), length / 2, width / 2, width / 2, 0.35 * width, a_deg, profile)
            grain = grain + 0.2 * blob(anatomy, (x, y), length / 2, width / 2, width / 2, a_deg, profile)
        else:
            grain = blob(anatomy, (x, y), length / 2, width / 2, width / 2, a_deg, profile)
            if kind < 0.4:  # fragmentary: calcified in pieces, one or two breaks at random places
                u, _ = axial(anatomy, (x, y), a_deg)
                keep = np.ones(anatomy.grid.shape)
                for _ in range(int(rng.integers(1, 3))):
                    at, gap = rng.uniform(-0.35, 0.35) * length, rng.uniform(0.5, 1.5)
                    keep *= np.clip(np.abs(u - at) / gap, rng.uniform(0.1, 0.4), 1.0)
                grain = grain * keep
            elif rng.uniform() < 0.4:  # the denser scolex, off centre
                off = rng.uniform(-0.25, 0.25) * length
                t = math.radians(a_deg)
                sx, sy = x + off * math.cos(t), y + off * math.sin(t)
                grain = grain + 0.6 * blob(anatomy, (sx, sy), width * 0.35, width * 0.3, width * 0.3, a_deg, None)
        th += density * grain * particle_texture(anatomy, rng, (x, y), length, 0.25)
    th = chalky(gaussian_sparse(th, GRAIN_EDGE_MM / px), rng, px, 0.5, 0.2)
    return (_lesion(reference_deposit(), th * conc, anatomy, region, soft_mm=0.5),)


def _plane_direction(anatomy: Anatomy, mask: np.ndarray, point: tuple[float, float], reach_mm: float = 12.0) -> float:
    """Direction (degrees) along which the thin ``mask`` (a projected plane) runs near ``point``:
    the principal axis of its pixels within ``reach_mm``."""
    x, y = np.broadcast_arrays(*anatomy.grid.coordinates())
    near = mask & (np.hypot(x - point[0], y - point[1]) <= reach_mm)
    if near.sum() < 3:
        return 90.0
    dx, dy = x[near] - x[near].mean(), y[near] - y[near].mean()
    cov = np.array([[dx @ dx, dx @ dy], [dx @ dy, dy @ dy]])
    _, vectors = np.linalg.eigh(cov)
    major = vectors[:, -1]
    return math.degrees(math.atan2(major[1], major[0]))


SHEET_TRIES: int = 12  # draws of a soft-tissue sheet; one still crossing bone after them is left out
SHEET_MAX_ON_BONE: float = 0.1  # share of a sheet's chord that may project over bone
SHEET_TRACE_COS: float = math.cos(math.radians(35.0))  # a traced sheet stops where its plane turns more than 35°
SHEET_STEP_MM: float = 1.5  # step of a sheet's traced course along its plane (mm)
SHEET_SNAP_MM: float = 3.0  # a traced course follows its plane while the plane lies within this distance (mm)
# A calcified fascial sheet is a thin plate (about a millimetre of chalk in the fascia) that the beam
# meets edge-on where the plane runs along it: there it projects as a thin dense line, its path along
# the beam the plate's extent in depth; where the plate turns towards the beam it is seen en face as a
# broad faint veil. Depth extent (mm): a tuned visual choice, within a limb's fascial planes' curvature.
SHEET_DEPTH_MM: tuple[float, float] = (6.0, 14.0)
SHEET_VEIL_MM: tuple[float, float] = (2.0, 6.0)  # width of the en-face part beside the line (tuned, mm)
SHEET_PLATE_MM: float = 1.5  # the plate's own thickness (mm): the veil's path along the beam


def _trace_plane(anatomy: Anatomy, plane: np.ndarray, start: np.ndarray, angle: float, length: float) -> np.ndarray:
    """The course (x, y mm polyline) of a ``length`` mm sheet on the thin ``plane`` mask through ``start``:
    walked both ways along the plane, each step pulled onto the plane's nearest pixel (it curves as the
    fascia does) until the plane ends or turns away beyond SHEET_SNAP_MM."""
    px = anatomy.grid.pixel_mm
    # only the window the walk can reach (half the length and the snap distance round the start): cheap
    reach = int((length / 2 + 2 * SHEET_SNAP_MM) / px) + 2
    r0 = max(int(start[1] / px) - reach, 0)
    c0 = max(int(start[0] / px) - reach, 0)
    window = plane[r0 : int(start[1] / px) + reach + 1, c0 : int(start[0] / px) + reach + 1]
    if not window.any():
        return np.asarray([start], float)
    gap, (near_r, near_c) = ndimage.distance_transform_edt(~window, return_indices=True)
    h, w = window.shape
    halves = []
    for sign in (1.0, -1.0):
        p = np.asarray(start, float)
        d = sign * np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
        d0 = d.copy()
        pts = []
        for _ in range(max(1, int(length / 2 / SHEET_STEP_MM))):
            q = p + SHEET_STEP_MM * d
            r, c = int(q[1] / px) - r0, int(q[0] / px) - c0
            if not (0 <= r < h and 0 <= c < w) or gap[r, c] * px > SHEET_SNAP_MM:
                break
            on = np.array([(near_c[r, c] + c0 + 0.5) * px, (near_r[r, c] + r0 + 0.5) * px])
            q = 0.5 * q + 0.5 * on  # pulled onto the plane, smoothly
            step = q - p
            norm = float(np.hypot(*step)) or 1.0
            d = 0.6 * d + 0.4 * step / norm
            d /= float(np.hypot(*d)) or 1.0
            if float(d @ d0) < SHEET_TRACE_COS:  # the plane turns away (round a muscle's end): the sheet stops
                break
            p = q
            pts.append(p)
        halves.append(pts)
    course = np.array(halves[1][::-1] + [np.asarray(start, float)] + halves[0])
    if len(course) >= 5:
        course = ndimage.gaussian_filter1d(course, 1.5, axis=0, mode="nearest")
    return course


def _straight_course(start: np.ndarray, angle: float, length: float) -> np.ndarray:
    """A straight course (x, y mm polyline) of ``length`` mm through ``start`` along ``angle`` degrees."""
    d = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
    return np.array([np.asarray(start, float) - d * length / 2, np.asarray(start, float) + d * length / 2])


def _sheet_band(
    anatomy: Anatomy, rng: np.random.Generator, course: np.ndarray, width: float, with_veil: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """One calcified sheet along ``course`` (x, y mm polyline): a thin line ``width`` mm wide where it is
    seen edge-on (path SHEET_DEPTH_MM along the beam), its width, density and depth varying along it
    with breaks, tapering at both ends, and on one side for part of its length a faint en-face veil.
    Returns (mineral, chord) maps, mm of deposit at relative density and mm of the sheet's path."""
    zero = np.zeros(anatomy.grid.shape)
    if len(course) < 2:
        return zero, zero
    fine = wobbly_path(course, rng, 0.35 * width, step_mm=1.0)
    total = float(np.hypot(*np.diff(fine, axis=0).T).sum())
    if total < 2 * width:
        return zero, zero
    veil_w = SHEET_VEIL_MM[1] + 2 * width
    # all per-pixel work on the sheet's own window (the draws do not depend on it)
    px = anatomy.grid.pixel_mm
    h, w = anatomy.grid.shape
    lo = np.floor((fine.min(axis=0) - veil_w - 4) / px).astype(int)
    hi = np.ceil((fine.max(axis=0) + veil_w + 4) / px).astype(int)
    win = (slice(max(lo[1], 0), min(max(hi[1], 0), h)), slice(max(lo[0], 0), min(max(hi[0], 0), w)))
    s, d = polyline_coordinates(fine, anatomy, within_mm=veil_w + 2)
    s, d = s[win], d[win]
    near = np.isfinite(d)
    knots = max(int(total), 8)
    t = np.clip(s / total, 0.0, 1.0)

    def along(sigma_mm: float) -> np.ndarray:  # smooth unit noise along the sheet, per pixel
        return np.interp(t, np.linspace(0, 1, knots), smooth_noise_1d(rng, knots, sigma_mm * knots / total))

    half = 0.5 * width * np.clip(1.0 + 0.35 * along(6.0), 0.35, 1.8)
    density = np.clip(0.8 + 0.45 * along(3.0), 0.0, 1.4)  # beaded: breaks where the chalk thins out
    depth = rng.uniform(*SHEET_DEPTH_MM) * np.clip(1.0 + 0.3 * along(10.0), 0.4, 1.6)
    ends = np.clip(np.minimum(s, total - s) / (0.18 * total), 0.0, 1.0) ** 0.7
    dd = np.where(near, np.abs(d), np.inf)
    across = np.sqrt(np.clip(1.0 - (dd / half) ** 2, 0.0, 1.0))  # an edge-on plate of rounded section
    chord = depth * across * ends
    mineral = chord * density
    # the en-face veil: on one side, over part of the length, the plate turning towards the beam
    side = float(rng.choice([-1.0, 1.0]))
    veil = np.clip(side * np.where(near, d, 0.0) - half, 0.0, None)
    reach = rng.uniform(*SHEET_VEIL_MM) * np.clip(1.0 + 0.5 * along(8.0), 0.0, 2.0)
    centre, span = rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.6)
    part = np.clip(1.0 - np.abs(t - centre) / (span / 2), 0.0, 1.0)
    face = (
        np.where((veil > 0) & (veil < reach), SHEET_PLATE_MM * part * ends, 0.0)
        * np.clip(1 - veil / np.maximum(reach, 1e-6), 0, 1) ** 0.5
    )
    face = face if with_veil else 0.0 * face  # the draws are kept: the same sheets with or without a veil
    mineral = mineral + face * np.clip(0.6 + 0.4 * along(2.0), 0.1, 1.2)
    chord = chord + face
    out_m, out_c = np.zeros(anatomy.grid.shape), np.zeros(anatomy.grid.shape)
    out_m[win] = np.where(near, mineral, 0.0)
    out_c[win] = np.where(near, chord, 0.0)
    return out_m, out_c


SHEET_MAX_TURN_DEG: float = 50.0  # a fascial sheet's overall course keeps within this of the limb's axis


def _across_limb(course: np.ndarray, axis_deg: float) -> bool:
    """True if the polyline ``course`` runs overall more than SHEET_MAX_TURN_DEG off the ``axis_deg`` line."""
    if len(course) < 2:
        return False
    d = course[-1] - course[0]
    turn = abs((math.degrees(math.atan2(d[1], d[0])) - axis_deg + 90.0) % 180.0 - 90.0)
    return turn > SHEET_MAX_TURN_DEG


def _sheet_course(
    anatomy: Anatomy,
    rng: np.random.Generator,
    compartment: str,
    mask: np.ndarray,
    p0: np.ndarray,
    length: float,
    params: Mapping[str, Any],
) -> np.ndarray:
    """The course of one sheet through ``p0``: along the fascial plane itself (traced), in the fat along
    the skin at its own depth (a layer of the panniculus), in a muscle straight along its fibres."""
    if compartment == "fascial":
        return _trace_plane(anatomy, mask, p0, _plane_direction(anatomy, mask, tuple(p0)), length)
    if compartment == "subcutaneous":
        depth = body_depth(anatomy)
        r, c = int(p0[1] / anatomy.grid.pixel_mm), int(p0[0] / anatomy.grid.pixel_mm)
        layer = mask & (np.abs(depth - depth[r, c]) <= 1.0)
        if layer.sum() >= 3:
            return _trace_plane(anatomy, layer, p0, _plane_direction(anatomy, layer, tuple(p0), 20.0), length)
    return _straight_course(p0, _fibre_angle(anatomy, params) + rng.normal(0, 5), length)


def sheet_leaf_linear(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Long linear, sheet- or leaf-like calcifications along fascial planes (and other compartments).

    Each sheet is a thin plate of chalk: a thin, beaded, sometimes broken line (``width_mm`` wide) where
    the beam meets it edge-on, with a faint en-face veil beside part of it. On the fascia it follows the
    plane's own curving course; in the subcutaneous fat it runs along the skin at its own depth; in a
    muscle along the fibres. Never a cigar-shaped body.
    Parameters: count (sheets per compartment), size_mm (sheet length), width_mm (the edge-on line),
    mineral_g_cm3, compartments (list; default fascial and subcutaneous).
    """
    compartments = tuple(params.get("compartments", ("fascial", "subcutaneous")))
    n = _count(params.get("count", 8))
    size = _number("size_mm", params.get("size_mm", 40.0), high=400)
    width = _number("width_mm", params.get("width_mm", 1.5), high=30)
    conc = _mineral(params, 0.8)
    lesions = []
    for compartment in compartments:
        mask = region_mask(anatomy, (compartment,))
        th = np.zeros(anatomy.grid.shape)
        chord = np.zeros(anatomy.grid.shape)
        # fascial sheets lie on the fascial planes the view shows, clear of bone (a sheet over the
        # femur on a lateral is lost in it), each along its plane's own course
        planes = _away_from_bone(anatomy, mask, 2.0) if compartment == "fascial" else None
        soft = _skin_clearance(anatomy, mask, 2.0 + width)
        for _ in range(n):
            # a sheet in the fat or a muscle lies in soft tissue: one that would project mostly across a
            # bone (a streak straight through the acromion) is drawn again elsewhere (a few tries)
            for _attempt in range(SHEET_TRIES):
                pool = planes if planes is not None and planes.any() else soft
                pts = _sample_points(pool, 1, rng, anatomy.grid.pixel_mm)
                if not len(pts):
                    break
                length = size * rng.uniform(0.6, 1.4)
                course = _sheet_course(anatomy, rng, compartment, mask, pts[0], length, params)
                if compartment == "fascial" and _across_limb(course, _fibre_angle(anatomy, params)):
                    continue  # a short transverse stub of fascia (a muscle's end) reads as a drawn dash
                # on the thin fascial mask a veil survives only where the mask turns across (a muscle's
                # end), as a drawn dash: fascial sheets are drawn edge-on only
                leaf_th, leaf_chord = _sheet_band(
                    anatomy, rng, course, width * rng.uniform(0.7, 1.3), with_veil=compartment != "fascial"
                )
                on_bone = float(leaf_chord[anatomy.bone_mask].sum()) / max(float(leaf_chord.sum()), 1e-9)
                if on_bone <= SHEET_MAX_ON_BONE:
                    th += leaf_th
                    chord += leaf_chord
                    break
        th = chalky(th, rng, anatomy.grid.pixel_mm, 1.5, 0.25)  # sheets of chalk: uneven density
        th = gaussian_sparse(th, 0.2 / anatomy.grid.pixel_mm)  # soft, not cut, margins
        chord = gaussian_sparse(chord, 0.2 / anatomy.grid.pixel_mm)
        th = cap_to_cortex(th * conc * 0.6, chord)  # a sheet is never denser than cortex of its thickness
        # a fascial sheet lies on its traced plane; its line, a little wider than the thin fascial mask, is
        # not cut along the mask (where the mask turns across the limb, a muscle's end, the cut left a
        # bright transverse dash): it may overlap the muscle and fat on either side of the fascia
        where = (compartment,)
        if compartment == "fascial":
            where += tuple(c for c in ("muscle", "subcutaneous") if c in anatomy.masks)
        lesions.append(_lesion(reference_deposit(), th, anatomy, where, soft_mm=0.6))
    return tuple(lesions)


# ----------------------------------------------------------- ossification ----


PAROSTEAL_SHARE: tuple[float, float, float] = (0.12, 0.38, 0.2)  # bone share: rim, + at the core, + at the base


def mature_bone(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Organized heterotopic bone with cortex and medulla (e.g. ossified tendon, mature myositis
    ossificans), with a lobulated outline; or, with ``zoning: central``, a juxtacortical bone-forming
    mass densest at its centre and fading to its periphery, broadly attached to the nearest cortex
    with no cleft (the pattern of parosteal osteosarcoma, the mimic of myositis ossificans).

    Parameters: location (landmark, e.g. 'achilles_tendon', or (x, y) mm), size_mm (length),
    width_mm, cortex_mm, angle_deg, zoning ('peripheral' default, or 'central'), compartment.
    """
    compartment = params.get("compartment", "periarticular")
    location = params.get("location")
    size = _number("size_mm", params.get("size_mm", 30.0), high=300)
    width = _number("width_mm", params.get("width_mm", size / 3), high=200)
    cortex = _number("cortex_mm", params.get("cortex_mm", 1.5), high=10)
    zoning = params.get("zoning", "peripheral")
    if zoning not in ("peripheral", "central"):
        raise ValueError(f"zoning must be 'peripheral' or 'central', got {zoning!r}")
    angle = _fibre_angle(anatomy, params)
    if isinstance(location, str) and np.asarray(anatomy.landmarks.get(location, ())).ndim == 2:
        line = np.asarray(anatomy.landmarks[location], float)
        direction = line[-1] - line[0]
        angle = float(params.get("angle_deg", math.degrees(math.atan2(direction[1], direction[0]))))
    centre = _landmark_point(anatomy, location, "muscle_center")
    region = _mass_region(anatomy, compartment)
    px = anatomy.grid.pixel_mm
    a, b = size / 2, width / 2
    if zoning == "central":
        # slide the mass onto the nearest cortex so that it sits on it over a broad base
        if anatomy.bone_mask.any():
            gap, (rr, cc) = ndimage.distance_transform_edt(~anatomy.bone_mask, return_indices=True)
            r0 = int(np.clip(centre[1] / px, 0, anatomy.grid.shape[0] - 1))
            c0 = int(np.clip(centre[0] / px, 0, anatomy.grid.shape[1] - 1))
            nearest = np.array([(cc[r0, c0] + 0.5) * px, (rr[r0, c0] + 0.5) * px])
            d = np.asarray(centre) - nearest
            norm = float(np.hypot(*d)) or 1.0
            centre = tuple(nearest + d / norm * (b * 0.5))  # broadly attached: its base overlaps the cortex
        # a few rounded lobes along the bone (a smooth union: no petals radiating from a point)
        t = math.radians(angle)
        lobes = []
        for u, share in zip(np.linspace(-1.0, 1.0, 5) * max(a - 0.6 * b, 0.0), (0.6, 0.85, 1.0, 0.85, 0.6)):
            r = b * share * rng.uniform(0.9, 1.1)
            v = rng.normal(0.0, 0.08 * b)
            lobes.append(
                (centre[0] + u * math.cos(t) - v * math.sin(t), centre[1] + u * math.sin(t) + v * math.cos(t), r)
            )
        chord, dist = sphere_union(anatomy, lobes, 0.4 * b)
        # densest at its centre and at its base on the cortex, fainter at its periphery: bone share of the
        # path (a tuned visual choice). Session 9's share of up to 1 (cortical bone through the whole
        # 26 mm chord) was far denser than the femur itself, burnt out white with a dark display halo.
        core = np.clip(-dist / b, 0.0, 1.0) ** 0.8
        base = np.clip(1.0 - bone_gap(anatomy) / (0.7 * b), 0.0, 1.0)
        density = PAROSTEAL_SHARE[0] + PAROSTEAL_SHARE[1] * core + PAROSTEAL_SHARE[2] * base
        th = chalky(chord * density, rng, px, 0.8, 0.08)  # woven bone: finely uneven
        where = region + ("bone",)
        return (_lesion("cortical_bone", th, anatomy, where, SOFT_HOSTS + BONE_HOSTS, soft_mm=0.5),)
    chord = blob(anatomy, centre, a, b, b, angle, radial_profile(rng, 0.1))
    bone = _bone_from_chord(anatomy, chord, cortex, region, rng, trabecular=0.2)
    return tuple(
        Lesion(lesion.material, chalky(lesion.thickness_mm, rng, px, 1.0, 0.1), lesion.compartments, lesion.hosts)
        for lesion in bone
    )


def _coarse_trabeculae(
    anatomy: Anatomy, rng: np.random.Generator, scale_mm: float = 1.2, within: np.ndarray | None = None
) -> np.ndarray:
    """Random field around 1 (0.2–2) with the coarse, irregular trabeculae of heterotopic bone.

    With ``within`` (a mask), drawn only over its bounding window (and a margin): 1 elsewhere;
    cheaper, and the generator draws that window's noise only."""
    px = anatomy.grid.pixel_mm
    sigma = max(scale_mm / px, 0.7)
    window = None if within is None else support_window(within)
    if within is not None and window is None:
        return np.ones(anatomy.grid.shape)
    if window is not None:
        m = int(math.ceil(3 * sigma))
        rows = slice(max(window[0].start - m, 0), min(window[0].stop + m, anatomy.grid.shape[0]))
        cols = slice(max(window[1].start - m, 0), min(window[1].stop + m, anatomy.grid.shape[1]))
        out = np.ones(anatomy.grid.shape)
        white = rng.standard_normal((rows.stop - rows.start, cols.stop - cols.start))
        noise = ndimage.gaussian_filter(white, sigma * 0.6) - ndimage.gaussian_filter(white, sigma * 2.5)
        noise /= noise.std() or 1.0
        out[rows, cols] = np.clip(1.0 + 0.55 * noise, 0.2, 2.0)
        return out
    white = rng.standard_normal(anatomy.grid.shape)
    noise = ndimage.gaussian_filter(white, sigma * 0.6) - ndimage.gaussian_filter(white, sigma * 2.5)
    noise /= noise.std() or 1.0
    return np.clip(1.0 + 0.55 * noise, 0.2, 2.0)


def _bone_from_chord(
    anatomy: Anatomy,
    chord: np.ndarray,
    cortex_mm: float,
    compartments: tuple[str, ...],
    rng: np.random.Generator,
    trabecular: float = 0.2,
    hosts: tuple[str, ...] = SOFT_HOSTS,
) -> tuple[Lesion, ...]:
    """Mature bone of any outline: a cortex ``cortex_mm`` thick and a trabecular medulla
    (``trabecular`` = bone fraction of the medulla), as cortical bone and marrow thickness maps."""
    inner = eroded_chord(chord, cortex_mm, anatomy.grid.pixel_mm)
    trab = np.minimum(trabecular * inner * _coarse_trabeculae(anatomy, rng), inner)
    return (
        _lesion("cortical_bone", chord - inner + trab, anatomy, compartments, hosts),
        _lesion("yellow_marrow", inner - trab, anatomy, compartments, hosts),
    )


def _spindle_lobes(
    rng: np.random.Generator, centre: tuple[float, float], a: float, b: float, angle: float
) -> list[tuple[float, float, float]]:
    """Overlapping spheres (x, y, r; mm) strung along a long axis (half-length ``a``, half-width ``b``,
    direction ``angle``): an irregular, slightly lobulated spindle elongated along the muscle fibres."""
    m = max(4, int(round(2.4 * a / b)))
    t = math.radians(angle)
    lobes = []
    for u in np.linspace(-0.74, 0.74, m) * a + rng.normal(0.0, 0.04 * a, m):
        r = 0.92 * b * max(math.sqrt(max(1.0 - (u / a) ** 2, 0.0)), 0.3) * rng.uniform(0.8, 1.1)
        v = rng.normal(0.0, 0.1 * b)
        lobes.append((centre[0] + u * math.cos(t) - v * math.sin(t), centre[1] + u * math.sin(t) + v * math.cos(t), r))
    # a few smaller lobes bulging from the sides: a lobulated, not elliptical, outline
    for _ in range(int(rng.integers(2, 4))):
        u = rng.uniform(-0.55, 0.55) * a
        v = rng.choice([-1.0, 1.0]) * b * rng.uniform(0.45, 0.65)
        r = b * rng.uniform(0.35, 0.5)
        lobes.append((centre[0] + u * math.cos(t) - v * math.sin(t), centre[1] + u * math.sin(t) + v * math.cos(t), r))
    return lobes


def _lobes_clear_of_bone(
    anatomy: Anatomy, lobes: list[tuple[float, float, float]], blend_mm: float, clearance_mm: float
) -> list[tuple[float, float, float]]:
    """The lobes (x, y, r; mm) moved away from bone until their outline keeps ``clearance_mm`` (mm) from it.

    :func:`seat` clears a disc of the half-width only: a spindle's ends and side lobes reached into
    the cleft and were cut flat there (a straight edge, the rim missing along it: no lucent cleft
    but a sliced mass). At most 20 steps; the last position if the bone cannot be cleared."""
    gap = bone_gap(anatomy)
    gy, gx = np.gradient(gap)
    px = anatomy.grid.pixel_mm
    for _ in range(20):
        inside = sphere_union(anatomy, lobes, blend_mm)[1] <= 0.0
        short = inside & (gap < clearance_mm)
        if not short.any():
            break
        ux, uy = float(gx[short].sum()), float(gy[short].sum())
        norm = math.hypot(ux, uy)
        if norm == 0.0:
            break
        step = max(px, clearance_mm - float(gap[short].min()))
        lobes = [(x + step * ux / norm, y + step * uy / norm, r) for x, y, r in lobes]
    return lobes


def _smooth_field(anatomy: Anatomy, rng: np.random.Generator, scale_mm: float) -> np.ndarray:
    """Smooth zero-mean unit-variance random field with correlation length about ``scale_mm``."""
    field = ndimage.gaussian_filter(rng.standard_normal(anatomy.grid.shape), max(scale_mm / anatomy.grid.pixel_mm, 0.5))
    return (field - field.mean()) / (field.std() or 1.0)


MO_ZONE_SHARE: float = 0.06  # mineral share (of the chord) of the maturing zone just under the shell at 6–10 weeks
MO_RIM_SOFTEN_MM: float = 0.45  # Gaussian σ (mm) of the 6–10 week rim: immature, fluffy bone at the periphery
MO_SHELL_SOFTEN_MM: float = 0.35  # Gaussian σ (mm) of the mature shell's margins: corticated, not cut out
MO_TRABECULA_MM: float = 1.3  # scale (mm) of mature myositis ossificans's coarse woven trabeculae (tuned visual choice)
MO_TRABECULAR_CONTRAST: float = 0.7  # log-density spread of that 3-D network before projection (tuned visual choice)
MO_SWELLING_SHARE: float = 0.4  # share of the early (< 3.5 weeks) swollen mass's chord that displaces fat
MO_SWELLING_HOSTS: tuple[str, ...] = ("adipose", "muscle", "soft_tissue", "skin")  # the swelling effaces fat first
MO_OEDEMA_WEEKS: float = 12.0  # the oedema round myositis ossificans fades out over its first weeks (gone by then)


def zonal_peripheral(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Myositis ossificans staged by weeks since trauma, maturing from the periphery inward.

    The mass is an irregular, slightly lobulated spindle (a smooth union of spheres) along the
    muscle fibres, seated in the muscle and kept ``cleft_mm`` clear of the cortex (the lucent
    cleft that separates it from parosteal osteosarcoma). Stages (weeks_since_trauma): before
    2 weeks soft-tissue swelling only; 2–3.5 faint, fluffy, amorphous density; 3.5–5.5 faint
    flocculent densities gathering at the periphery; 5.5–10 a beaded, still incomplete rim
    around a faint, finely mottled centre; from 10 weeks a thick, dense, irregular corticated
    shell (cortical bone) around a less dense centre of coarse, disorganised woven trabeculae (a 3-D
    network projected, not a copy of the host bone's pattern), which then condenses (smaller, thicker shell).
    Parameters: weeks_since_trauma, location, size_mm (long axis), aspect, angle_deg,
    mineral_g_cm3 (of the mineralizing periphery), cleft_mm, compartment.
    """
    compartment = params.get("compartment", "muscle")
    weeks = _number("weeks_since_trauma", params.get("weeks_since_trauma", 7), 0, 520, strict=False)
    size = _number("size_mm", params.get("size_mm", 50.0), high=300)
    aspect = _number("aspect", params.get("aspect", 0.45), high=1.0)
    conc = _mineral(params, 0.9)
    cleft = _number("cleft_mm", params.get("cleft_mm", 4.0), 0, 30, strict=False)
    angle = _fibre_angle(anatomy, params)
    centre = _landmark_point(anatomy, params.get("location"), "muscle_center")
    px = anatomy.grid.pixel_mm
    if weeks > 12:  # a mature lesion condenses: smaller and denser
        size *= 1.0 - 0.3 * min(1.0, (weeks - 12) / 10)
    a, b = size / 2, size * aspect / 2
    region = _mass_region(anatomy, compartment)
    allowed = region_mask(anatomy, region)
    if cleft > 0:
        allowed = _away_from_bone(anatomy, allowed, cleft + 1.0)
    # seated clear of the bone by the cleft (plus the early swelling's reach while it lasts): session 9's
    # 1.35·b at every stage left a wide band of muscle between a mature lesion and the cortex, not a cleft
    centre = seat(anatomy, allowed, centre, (1.35 if weeks < 6 else 1.05) * b)
    # drawn first: the same lesion outline, shell irregularity and texture at every stage
    lobes = _spindle_lobes(rng, centre, a, b, angle)
    if cleft > 0:  # the whole lobulated outline clear of the cortex, not only the seat's disc
        lobes = _lobes_clear_of_bone(anatomy, lobes, 0.28 * b, cleft + 1.0)
    wall_noise = _smooth_field(anatomy, rng, 4.0)
    bead_noise = _smooth_field(anatomy, rng, 1.6)
    mottle = _smooth_field(anatomy, rng, 0.35)
    gap_noise = -wall_noise  # interruptions of the rim where it is thinnest (isotropic: no radial spokes)
    # A lucent cleft separates myositis ossificans from the cortex (unlike parosteal osteosarcoma).
    near_bone = ndimage.binary_dilation(anatomy.bone_mask, iterations=max(1, round(cleft / px))) if cleft else None

    def keep_cleft(th: np.ndarray) -> np.ndarray:
        return th if near_bone is None else np.where(near_bone, 0.0, th)

    blend = 0.28 * b
    mass, dist = sphere_union(anatomy, lobes, blend)

    def with_halo(found: tuple[Lesion, ...]) -> tuple[Lesion, ...]:
        """The lesions and the oedema round the mass: marked in the first weeks, gone by about 12."""
        strength = 0.35 * (1.0 - weeks / MO_OEDEMA_WEEKS)
        if strength <= 0.0:
            return found
        return found + oedema_halo(anatomy, keep_cleft(mass), rng, reach_mm=max(4.0, 0.6 * b), strength=strength)

    # a superficial mass (panniculitis ossificans) may bulge the skin: it lifts the contour over it
    bulge: tuple[Lesion, ...] = ()
    if compartment == "subcutaneous":
        region = region + ("swelling",)
        bulge = mass_effect(anatomy, mass, cover_mm=2.0, blend_mm=8.0)
    lesions: list[Lesion] = []
    if weeks < 6:
        # the early mass: an oedematous haematoma in the muscle, as dense as muscle, seen on the film by
        # what it does to the fat: it fills and effaces the fat planes within it (fat first, then muscle)
        # and bulges into the fat round it. Session 9's 0.15 of muscle replaced (invisible: 'featureless
        # shaft, no lesion' at week 2); the share is a tuned visual choice, largest in the first weeks
        share = MO_SWELLING_SHARE if weeks < 3.5 else 0.5 * MO_SWELLING_SHARE
        swelling = sphere_union(anatomy, [(x, y, 1.35 * r) for x, y, r in lobes], 1.35 * blend)[0]
        lesions.append(
            _lesion("soft_tissue", keep_cleft(share * swelling), anatomy, region, MO_SWELLING_HOSTS, soft_mm=2.0)
        )
    if weeks < 2.0:
        return with_halo(tuple(lesions) + bulge)

    def shell_of(wall_mm: float, spread: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
        """Chord through a shell of irregular thickness about ``wall_mm`` (log-spread ``spread``) and
        through its inside."""
        # the thickness varies round the outline; deep inside (the faces seen en face) it stays even
        edge = np.clip(1.0 + dist / (0.35 * b), 0.0, 1.0)
        wall = np.clip(wall_mm * np.exp(spread * wall_noise * edge), 0.3 * wall_mm, 2.4 * wall_mm)
        inner = sphere_union(anatomy, lobes, blend, shrink_mm=np.minimum(wall, 0.8 * b))[0]
        return np.clip(mass - inner, 0.0, None), inner

    if weeks >= 10:
        # Mature: a thick, dense, irregular corticated shell; a less dense, finely mottled centre.
        maturity = min(1.0, (weeks - 10) / 10)
        # the shell's thickness varies round the lesion (thick in places, thin in others), not a uniform rim
        shell, inner = shell_of(max(1.5, b * (0.17 + 0.1 * maturity)), spread=0.55)
        # the centre is woven bone with coarse, disorganised trabeculae (not the femur's ordered ones) and
        # marrow spaces: a 3-D network summed along the beam, so the thick middle averages more struts
        # (its pattern fainter) than the thin ends; its bone share grows as the lesion matures
        share = (0.1 + 0.1 * maturity) * np.clip(1.0 + 0.2 * mottle, 0.6, 1.4)
        network = projected_density(inner, rng, px, MO_TRABECULA_MM, MO_TRABECULAR_CONTRAST)
        struts = _coarse_trabeculae(anatomy, rng, MO_TRABECULA_MM, within=inner > 0)
        woven = np.minimum(share * network * struts, 0.9 * inner)  # bone path in the centre (mm)
        shell = chalky(gaussian_sparse(shell, MO_SHELL_SOFTEN_MM / px), rng, px, 1.0, 0.1)  # irregular, uneven
        cortex = shell + woven
        return with_halo(
            (
                _lesion("cortical_bone", keep_cleft(cortex), anatomy, region),
                _lesion("yellow_marrow", keep_cleft(inner - woven), anatomy, region),
            )
            + bulge
        )
    t = math.radians(angle)
    if weeks < 5.5:
        # 2–3.5 weeks: faint, fluffy, amorphous density anywhere in the mass; 3.5–5.5: faint
        # flocculent densities gathering at the periphery, with a hint of the rim to come.
        early = weeks < 3.5
        puffs = np.zeros(anatomy.grid.shape)
        for _ in range(int(rng.integers(6, 10))):
            rr = math.sqrt(rng.uniform(0.0, 0.7)) if early else math.sqrt(rng.uniform(0.5, 0.95))
            phi = rng.uniform(0, 2 * np.pi)
            du, dv = rr * a * math.cos(phi) * 0.8, rr * b * math.sin(phi) * 0.8
            c = (centre[0] + du * math.cos(t) - dv * math.sin(t), centre[1] + du * math.sin(t) + dv * math.cos(t))
            r = b * rng.uniform(0.3, 0.55) * (1.4 if early else 1.0)
            np.maximum(
                puffs, blob(anatomy, c, r * 1.4, r, r, angle + rng.normal(0, 20), radial_profile(rng, 0.3)), out=puffs
            )
        puffs = gaussian_sparse(puffs, (1.6 if early else 1.2) / px) * (mass > 0)
        # the first haze is faint but there: session 9's 0.08 was lost in the muscle's texture
        th = (0.15 if early else 0.2) * conc * chalky(puffs, rng, px, 1.5, 0.3 if early else 0.45)
        if not early:
            rim, rim_inner = shell_of(max(1.0, 0.08 * b))
            edge = np.clip(1.0 - rim_inner / np.maximum(mass, 1e-6), 0.0, 1.0)  # on the edge, not the faces
            th = th + 0.2 * conc * rim * edge * np.clip(gap_noise, 0.0, 1.0)
            th = gaussian_sparse(th, 0.5 / px)
        return with_halo(
            tuple(lesions) + (_lesion(reference_deposit(), keep_cleft(th), anatomy, region, soft_mm=1.5),) + bulge
        )
    # 5.5–10 weeks: a beaded, still incomplete mineralized rim around a faint, finely mottled centre.
    # The rim is seen by its thickness, not by a density above bone's: the shell is at most as dense
    # as cortex (``conc`` is capped), its beads and gaps modulate it.
    level = float(np.clip(0.75 + (weeks - 5.5) / 10.0, 0.75, 1.0))
    shell, inner = shell_of(max(1.0, b * (0.16 + 0.05 * level)))
    beads = 0.5 + 0.5 * np.clip(bead_noise + 0.3, 0.0, 1.0)
    gaps = 0.3 + 0.7 * np.clip(gap_noise + 1.2, 0.0, 1.0)
    centre_mineral = 0.02 * inner * np.clip(1.0 + 0.5 * mottle, 0.2, 1.8)
    rim = 0.03 + 0.97 * np.clip(1.0 - inner / np.maximum(mass, 1e-6), 0.0, 1.0) ** 1.5  # on the edge, not the faces
    # zonal, not a drawn ring: under the shell the mineral fades inwards (the maturing zone), unevenly
    zone = (
        MO_ZONE_SHARE * inner * np.exp(-np.clip(-dist, 0.0, None) / (0.25 * b)) * np.clip(1.0 + 0.6 * mottle, 0.2, 1.8)
    )
    th = conc * level * (shell * beads * gaps * rim + zone + centre_mineral)
    th = cap_to_cortex(chalky(gaussian_sparse(th, MO_RIM_SOFTEN_MM / px), rng, px, 0.8, 0.2), mass)
    return with_halo((_lesion(reference_deposit(), keep_cleft(th), anatomy, region, soft_mm=1.0),) + bulge)


def bridging_ossification(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Heterotopic bone bridging two bones (fibrodysplasia ossificans progressiva), cortex and medulla.

    One continuous, gently curving bar whose width swells and narrows smoothly along it,
    with an irregular surface, flaring where it meets each bone.
    Parameters: start, end (landmarks or (x, y) mm; default 'bridge_from' → 'bridge_to'),
    width_mm, cortex_mm.
    """
    start = np.asarray(_landmark_point(anatomy, params.get("start", "bridge_from"), "bridge_from"))
    end = np.asarray(_landmark_point(anatomy, params.get("end", "bridge_to"), "bridge_to"))
    width = _number("width_mm", params.get("width_mm", 14.0), high=80)
    cortex = _number("cortex_mm", params.get("cortex_mm", 2.0), high=10)
    px = anatomy.grid.pixel_mm
    length = float(np.hypot(*(end - start))) or 1.0
    n = max(int(length / 1.0), 8)
    t = np.linspace(0.0, 1.0, n)
    normal = np.array([-(end - start)[1], (end - start)[0]]) / length
    bow = rng.normal(0, 0.08) * length * np.sin(np.pi * t) + smooth_noise_1d(rng, n, n / 6) * 1.5
    path = start[None, :] + (end - start)[None, :] * t[:, None] + normal[None, :] * bow[:, None]
    s, d = polyline_coordinates(path, anatomy, within_mm=width * 1.2 + 4)
    half = width / 2 * np.exp(0.28 * smooth_noise_1d(rng, n, n / 8))
    half = half * (1.0 + 0.15 * np.exp(-((t / 0.1) ** 2)) + 0.15 * np.exp(-(((1 - t) / 0.1) ** 2)))  # flared ends
    r_s = _along(half, s, length / (n - 1))
    rough = 1.0 + 0.06 * ndimage.gaussian_filter(rng.standard_normal(anatomy.grid.shape), 1.0 / px)
    chord = 2.0 * r_s * 0.8 * np.sqrt(np.clip(1.0 - (d / (r_s * rough)) ** 2, 0.0, None))
    region = ("muscle", "fascial", "subcutaneous", "periarticular", "intraarticular", "vascular", "bone")
    region = tuple(c for c in region if c == "bone" or c in anatomy.masks)
    return _bone_from_chord(anatomy, chord, cortex, region, rng, trabecular=0.18, hosts=SOFT_HOSTS + BONE_HOSTS)


# ------------------------------------------------- hydroxyapatite clouds ----


PHASES: tuple[str, ...] = ("formative", "resorptive", "bursal")
FORMATIVE_SOFTEN_MM: float = 0.35  # Gaussian σ (mm): a formative deposit is well defined, but not a cut-out
FORMATIVE_GRAIN_MM: float = 0.5  # correlation length (mm) of the formative deposit's chalk (tuned visual choice)
FORMATIVE_CONTRAST: float = 0.45  # log-density spread of its 3-D chalk field before projection (tuned visual choice)
FORMATIVE_CORE: float = 0.4  # its core this much denser than its surface: packed chalk, densest centrally (tuned)
RESORPTIVE_GRAIN_MM: float = 0.9  # correlation length (mm) of a resorbing cloud's clumps (tuned visual choice)
RESORPTIVE_FADE: float = 0.85  # the cloud's density falls by this share towards its surface: ill-defined margins
RESORPTIVE_SOFTEN_MM: float = 1.0  # Gaussian σ (mm) of its margins (was 1.8: the 3-D fade now blurs them)


CRESCENT_SOFTEN_MM: float = 0.6  # Gaussian σ (mm) of the bursal crescent's margins (partial volume, a curved layer)


def _bursal_crescent(anatomy: Anatomy, rng: np.random.Generator, size: float, location: Any) -> np.ndarray | None:
    """Calcium layering in a bursa draped over a convex bone (the subacromial-subdeltoid bursa over
    the humeral head): a crescent concentric with the head, thickest in its dependent part."""
    head = anatomy.landmarks.get("humeral_head")
    radius = anatomy.landmarks.get("humeral_head_radius_mm")
    if head is None or radius is None:
        return None
    hx, hy = (float(v) for v in head)
    ends = [anatomy.landmarks.get(k) for k in ("subacromial_bursa", "subdeltoid_bursa")]
    if (
        isinstance(location, str)
        and location in anatomy.landmarks
        and np.asarray(anatomy.landmarks[location]).ndim == 1
    ):
        ends[0] = anatomy.landmarks[location]
    if any(e is None for e in ends):
        return None
    a0, a1 = (math.atan2(float(e[1]) - hy, float(e[0]) - hx) for e in ends)
    if abs(a1 - a0) > math.pi:  # the short way round
        a1 += 2 * math.pi if a1 < a0 else -2 * math.pi
    span = a1 - a0
    a0 -= 0.15 * span
    a1 += 0.25 * span  # the bursa runs on down beyond the subdeltoid point
    x, y = anatomy.grid.coordinates()
    theta = np.arctan2(y - hy, x - hx)
    f = np.angle(np.exp(1j * (theta - a0))) / (a1 - a0)  # 0 → 1 along the bursa
    f = np.where(np.sign(a1 - a0) * np.angle(np.exp(1j * (theta - a0))) < -0.3, -1.0, np.abs(f))
    # the bursa follows the bone's actual outline (head and greater tuberosity), ~2 mm off it
    px = anatomy.grid.pixel_mm
    off_bone, (near_r, near_c) = ndimage.distance_transform_edt(~anatomy.bone_mask, return_indices=True)
    off_bone = off_bone * px
    on_head = np.hypot((near_c + 0.5) * px - hx, (near_r + 0.5) * px - hy) < float(radius) + 14.0
    on_head &= (near_r + 0.5) * px >= hy - float(radius) - 1.5  # not the acromion above the head
    fc = np.clip(f, 0, 1)
    knots = np.linspace(0, 1, 64)

    def along(sigma: float) -> np.ndarray:  # smooth noise along the bursa (unit variance)
        return np.interp(fc, knots, smooth_noise_1d(rng, 64, sigma))

    # not a drawn crescent: its distance from the bone, its thickness and its density all vary along it
    # (calcium milk gathers unevenly in the folds of the bursa; in places it thins almost to nothing)
    gap = np.clip(2.0 + 0.7 * along(4.0), 1.2, 3.2)
    thick = (size / 9.0) * (0.45 + 1.4 * fc**1.5)  # layering: thicker where dependent
    wobble = np.clip(1.0 + 0.3 * along(3.0) + 0.15 * along(1.2), 0.4, 1.8)
    inside = (off_bone >= gap) & (off_bone <= gap + thick * wobble) & (f >= 0) & (f <= 1)
    inside &= on_head  # the bursa lies on the humeral head and tuberosity, not under the acromion
    taper = np.clip(np.minimum(f, 1 - f) / 0.12, 0, 1)
    depth = 6.0 + 4.0 * fc  # mm along the beam: the bursa wraps round the head
    density = np.clip(0.75 + 0.35 * along(2.0), 0.1, 1.1)
    return ndimage.gaussian_filter(inside * taper * depth * density, CRESCENT_SOFTEN_MM / anatomy.grid.pixel_mm)


def _avoided(anatomy: Anatomy, names: Any) -> np.ndarray:
    """Union of the masks of the compartments ``names`` (a list; absent ones ignored) a deposit avoids."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise ValueError(f"avoid must be a list of compartment names, got {names!r}")
    out = np.zeros(anatomy.grid.shape, bool)
    for name in names:
        if name in anatomy.masks:
            out |= anatomy.masks[name]
        elif name != "bone":
            raise ValueError(f"avoid: unknown compartment {name!r} (present: {', '.join(sorted(anatomy.masks))})")
        else:
            out |= anatomy.bone_mask
    return out


def amorphous_cloud(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Hydroxyapatite in a tendon or bursa, in three visibly different forms.

    'formative' (calcific tendinitis, formative phase): dense, homogeneous, well-defined
    oval deposits along the tendon, slightly lobulated. 'resorptive': fainter, fluffy,
    ill-defined puffs spreading along the tendon, a faint comet tail. 'bursal' (calcific
    bursitis): calcium layering in the bursa draped over the bone, a thin crescent
    concentric with the humeral head, thickest in its dependent part.
    Parameters: phase, location (landmark, default 'supraspinatus_tendon'), count (deposits),
    size_mm, mineral_g_cm3, angle_deg, compartment, avoid (compartments kept out of: a metastatic
    periarticular cloud outside the capsule avoids 'intraarticular'), spread_into (compartments beside its
    own that a large deposit may reach), lobules (puffs per resorptive cloud).
    """
    compartment = params.get("compartment", "periarticular")
    spread = params.get("spread_into", ())
    if isinstance(spread, str) or not isinstance(spread, (list, tuple)):
        raise ValueError(f"spread_into must be a list of compartment names, got {spread!r}")
    # a large metastatic periarticular mass reaches past the joint's periarticular zone into the soft
    # tissue round it (the popliteal fat and muscle behind a knee)
    region = (compartment,) + tuple(c for c in spread if c != compartment)
    phase = params.get("phase", "formative")
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {', '.join(repr(p) for p in PHASES)}, got {phase!r}")
    n = _count(params.get("count", 2))
    size = _number("size_mm", params.get("size_mm", 12.0), high=100)
    default_conc = {"formative": 1.2, "resorptive": 0.4, "bursal": 0.8}[phase]
    conc = _mineral(params, default_conc)
    # puffs per resorptive cloud: more make a confluent lobulated mass (metastatic calcinosis) rather than
    # a few separate wisps
    lobules = _count(params.get("lobules", 9), high=60)
    location = params.get("location", "supraspinatus_tendon")
    px = anatomy.grid.pixel_mm
    if phase == "bursal":
        crescent = _bursal_crescent(anatomy, rng, size, location)
        if crescent is not None:
            th = chalky(crescent, rng, px, 1.0, 0.4)
            lesion = _lesion(reference_deposit(), th * conc, anatomy, (compartment,), soft_mm=1.0)
            return (lesion,) + oedema_halo(anatomy, lesion.thickness_mm, rng, reach_mm=4.0, strength=0.3)
        phase = "resorptive"  # no convex bone under a bursa here: a spreading cloud
    if isinstance(location, str) and np.asarray(anatomy.landmarks.get(location, ())).ndim == 2:
        line = np.asarray(anatomy.landmarks[location], float)
        ts = np.linspace(0.3, 0.7, n) + rng.uniform(-0.05, 0.05, n) if n > 1 else np.array([0.5])
        idx = np.clip(ts, 0, 1) * (len(line) - 1)
        centres = [line[int(i)] + (line[min(int(i) + 1, len(line) - 1)] - line[int(i)]) * (i - int(i)) for i in idx]
        direction = line[-1] - line[0]
        angle = math.degrees(math.atan2(direction[1], direction[0]))
    else:
        centres = [np.asarray(_landmark_point(anatomy, location, "muscle_center"))] * max(n, 1)
        angle = _fibre_angle(anatomy, params)
    mask = region_mask(anatomy, region)
    avoid = _avoided(anatomy, params.get("avoid", ()))
    mask &= ~avoid
    th = np.zeros(anatomy.grid.shape)
    for k, c in enumerate(centres[:n]):
        s = size * rng.uniform(0.65, 1.15) * (1.0 if k == 0 else 0.7)
        # seat the deposit inside the compartment, clear of the skin, rather than cutting it along the mask
        inside = _skin_clearance(anatomy, mask, 0.45 * s + (2.0 if phase == "formative" else 4.0))
        c = np.asarray(seat(anatomy, inside, (float(c[0]), float(c[1])), 0.2 * s))
        if phase == "formative":
            # Formative: dense, homogeneous, well-defined, slightly lobulated oval deposit: chalk packed
            # densest at its core, finely granular (a 3-D field projected: smooth where thick, grainier
            # towards the thin edges), its margin sharp. ``mineral_g_cm3`` is its most packed chalk (the
            # 90th percentile of the path-mean density over its thick part), looser pockets are less dense:
            # a deposit as dense as cortex keeps its grain instead of being flattened at the cortex cap
            chord = blob(anatomy, tuple(c), s / 2, s / 3.4, s / 3, angle + rng.normal(0, 8), radial_profile(rng, 0.08))
            dense = packed_chalk(chord, rng, px, FORMATIVE_GRAIN_MM, FORMATIVE_CONTRAST, FORMATIVE_CORE)
            th += cap_to_cortex(dense, chord / max(conc, 1e-6))
        else:
            # Resorptive: fainter, cloud-like puffs with ill-defined margins, spreading along the
            # tendon or into the bursa as a faint comet tail.
            # Each puff is a 3-D cloud of chalk (mottled, its margin fading out), not a stamped disc.
            t = math.radians(angle)
            for _ in range(lobules):
                off = rng.normal(0, s / 3.5, 2)
                r = s / 4.5 * rng.uniform(0.5, 1.3)
                puff = blob(anatomy, tuple(c + off), r, r * 0.8, r, rng.uniform(0, 180), radial_profile(rng, 0.3))
                th += 0.7 * projected_density(puff, rng, px, RESORPTIVE_GRAIN_MM, 0.6, fade=RESORPTIVE_FADE)
            for j in range(1, 5):
                tail = np.asarray(c) + np.array([math.cos(t), math.sin(t)]) * s * 0.35 * j * rng.choice([-1, 1])
                wisp = blob(anatomy, tuple(tail), s / 3, s / 7, s / 6, angle, radial_profile(rng, 0.3))
                th += 0.25 * projected_density(wisp, rng, px, RESORPTIVE_GRAIN_MM, 0.6, fade=RESORPTIVE_FADE) / j
    if avoid.any():  # faded out over a few millimetres short of the avoided compartment, not cut along it
        th = th * soft_edge(~avoid, px, 3.0)
    if phase == "resorptive":
        th = chalky(gaussian_sparse(th, RESORPTIVE_SOFTEN_MM / px), rng, px, 2.5, 0.3)
        th = th * (~avoid)
        lesion = _lesion(reference_deposit(), th * conc, anatomy, region, soft_mm=3.0)
        # the resorptive phase is the painful, inflamed one: the soft tissue round it swells a little
        return (lesion,) + oedema_halo(anatomy, lesion.thickness_mm, rng, reach_mm=4.0, strength=0.25)
    th = gaussian_sparse(th, FORMATIVE_SOFTEN_MM / px) * (~avoid)
    return (_lesion(reference_deposit(), th * conc, anatomy, region, soft_mm=0.8),)


# ------------------------------------------------------- intra-articular ----


def joint_space(anatomy: Anatomy, y_mm: float, window_mm: float = 14.0) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the rows (float, pixels) of the upper bone's lower surface and the lower bone's
    upper surface around image row ``y_mm`` (NaN where a column lacks either bone).

    Read from the bone mask: the radiographic joint space between, e.g., femoral condyle and
    tibial plateau on a frontal knee.
    """
    px = anatomy.grid.pixel_mm
    rows, cols = anatomy.grid.shape
    r0 = int(np.clip(y_mm / px, 0, rows - 1))
    w = int(window_mm / px)
    band = anatomy.bone_mask[max(r0 - w, 0) : min(r0 + w + 1, rows)]
    top = np.full(cols, np.nan)
    bottom = np.full(cols, np.nan)
    base = max(r0 - w, 0)
    k0 = r0 - base
    for c in range(cols):
        column = band[:, c].astype(np.int8)
        edges = np.diff(column)
        starts = np.nonzero(edges == -1)[0] + 1  # first free row under bone
        ends = np.nonzero(edges == 1)[0] + 1  # first bone row after a free run
        best = None
        for a in starts:
            later = ends[ends > a]
            if later.size:
                e = later[0]
                dist = 0 if a <= k0 < e else min(abs(a - k0), abs(e - k0))
                if best is None or dist < best[0]:
                    best = (dist, a, e)
        if best is not None and best[0] * px <= window_mm / 2:
            top[c], bottom[c] = base + best[1], base + best[2]
    return top, bottom


def linear_stratified(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Thin linear calcification parallel to the articular surfaces (hyaline cartilage) and
    triangular meniscal calcification (fibrocartilage): CPPD chondrocalcinosis.

    Both lie inside the radiographic joint space, read from the bone mask: the meniscus as
    a stippled triangle with its base at the joint margin (never beyond the tibial margin)
    and its apex pointing into the joint; the hyaline cartilage as a fine interrupted line
    about 1 mm from the condyle's subchondral bone, parallel to it. Sites without menisci
    use the ``cartilage_lines`` landmarks.
    Parameters: mineral_g_cm3 (CPPD), width_mm (line width), menisci (bool), continuity (0–1).
    """
    conc = _mineral(params, 0.8)
    width = _number("width_mm", params.get("width_mm", 0.7), high=5)
    continuity = _number("continuity", params.get("continuity", 0.75), high=1.0)
    px = anatomy.grid.pixel_mm
    th = np.zeros(anatomy.grid.shape)
    menisci = [tuple(m) for m in anatomy.landmarks.get("menisci", ())]
    drawn = False
    if menisci:
        y0 = float(np.mean([m[1] for m in menisci]))
        top, bottom = joint_space(anatomy, y0)
        gap = bottom - top
        ok = np.isfinite(gap) & (gap * px >= 0.3)
        centre_x = float(np.mean([m[0] for m in menisci]))
        x_cols = (np.arange(anatomy.grid.shape[1]) + 0.5) * px
        rows = np.arange(anatomy.grid.shape[0])[:, None]
        depth = 30.0  # mm of cartilage traversed where the surface runs along the beam
        gaps = smooth_noise_1d(rng, anatomy.grid.shape[1], 1.5 / px)
        keep = gaps > np.quantile(gaps, 1 - continuity)
        for mx, _ in menisci:
            side = 1.0 if mx >= centre_x else -1.0
            # this compartment's joint-space columns, from the notch side outwards
            comp = ok & (side * (x_cols - centre_x) > 4.0)
            if not comp.any():
                continue
            cols = np.nonzero(comp)[0]
            # the contiguous run of columns around the meniscus landmark
            outer = cols.max() if side > 0 else cols.min()
            run = [outer]
            while 0 <= run[-1] - int(side) < len(comp) and comp[run[-1] - int(side)]:
                run.append(run[-1] - int(side))
            run = np.asarray(run)
            # stay a little inside the bony margin: 1.5 mm, so the grains (a pixel or two across) never
            # spill past a plateau whose corner tapers to a sliver (engine 12: 0.8 mm let one pixel out)
            margin = 1.5 / px
            run = run[np.abs(run - outer) >= margin]
            if run.size < 4:
                continue
            drawn = True
            dist = np.abs(run - outer) * px  # mm from the joint margin
            # meniscus: triangle, base at the margin, apex about 11 mm into the joint
            apex = float(rng.uniform(9.0, 13.0))
            tri = np.zeros(anatomy.grid.shape)
            height = float(rng.uniform(4.0, 6.0)) / px  # meniscal height at the periphery
            for c, dmm in zip(run, dist):
                f = 1.0 - dmm / apex
                if f <= 0:
                    continue
                # the meniscus's rounded outer edge: its height rises over the first 1.5 mm from the margin
                rim = np.clip(dmm / 1.5, 0.0, 1.0)
                rim = 0.45 + 0.55 * rim * rim * (3 - 2 * rim)
                # on the plateau, under the condyle: from the tibial surface up by the local height
                lo_row = max(top[c], bottom[c] - height * f * rim - 0.4 / px)
                inside = (rows[:, 0] >= lo_row) & (rows[:, 0] < bottom[c])
                tri[:, c] = inside * (0.6 + 0.4 * f)
            # CPPD in fibrocartilage: fine stippled and linear streaks along the meniscus fibres, inside its
            # triangle (not a solid block), with soft margins rather than straight cut edges
            stipple = ndimage.gaussian_filter(rng.standard_normal(anatomy.grid.shape), (0.25 / px, 0.9 / px))
            stipple = np.clip((stipple - np.quantile(stipple, 0.5)) / (stipple.std() or 1.0), 0.0, 1.0)
            tri = gaussian_sparse(tri, 0.3 / px)
            th += 9.0 * tri * (0.25 + 1.1 * stipple)
            # hyaline cartilage: a fine line ~1 mm under the condyle, parallel to it
            line = np.zeros(anatomy.grid.shape)
            for c in run:
                if not keep[c]:
                    continue
                r = top[c] + min(1.0 / px, 0.35 * (bottom[c] - top[c]))
                line[:, c] = np.exp(-(((rows[:, 0] - r) * px / (width / 2)) ** 2))
            th += depth * 0.1 * line
    if not drawn:
        for line in anatomy.landmarks.get("cartilage_lines", ()):
            pts = np.asarray(line, float)
            if pts.ndim != 2 or len(pts) < 2:
                continue
            s, d = polyline_coordinates(pts, anatomy, within_mm=3 * width)
            streak = np.exp(-((d / (width / 2)) ** 2))
            noise = ndimage.gaussian_filter1d(rng.standard_normal(4096), 6)[np.clip((s * 2).astype(int), 0, 4095)]
            th += 3.0 * streak * (noise > np.quantile(noise, 1 - continuity))
    th = np.where(anatomy.bone_mask, 0.0, th)
    return (_lesion(reference_deposit("cppd"), th * conc, anatomy, ("intraarticular",)),)


def _near_location(anatomy: Anatomy, location: Any, reach_mm: float) -> np.ndarray:
    """Pixels within ``reach_mm`` of a location: a landmark point or polyline, or an (x, y) point in mm."""
    value = anatomy.landmarks.get(location) if isinstance(location, str) else location
    if value is None:
        raise ValueError(f"landmark {location!r} is not defined at {anatomy.site} {anatomy.projection}")
    try:
        pts = np.asarray(value, dtype=float).reshape(-1, 2)
    except (TypeError, ValueError):
        raise ValueError(f"location must be a landmark name or an (x, y) point in mm, got {location!r}") from None
    if not np.all(np.isfinite(pts)):
        raise ValueError(f"location must be finite, got {location!r}")
    if len(pts) > 1:
        pts = resample_polyline(pts, 2.0)
    near = np.zeros(anatomy.grid.shape, bool)
    for px_, py_ in pts:  # each disc over its own window only
        canvas = Canvas.around(anatomy.grid, (px_, py_), reach_mm)
        x, y = canvas.coordinates()
        canvas.crop(near)[...] |= (x - px_) ** 2 + (y - py_) ** 2 <= reach_mm**2
    return near


def recess_zones(anatomy: Anatomy, recesses: Any, reach_mm: float) -> list[np.ndarray]:
    """Per recess (a landmark name or an (x, y) point in mm), the pixels inside the body within
    ``reach_mm`` of it: where a loose body in that recess projects on this view."""
    if isinstance(recesses, str) or not isinstance(recesses, (list, tuple)) or not recesses:
        raise ValueError(f"recesses must be a list of landmark names or (x, y) points, got {recesses!r}")
    zones = []
    for recess in recesses:
        value = anatomy.landmarks.get(recess) if isinstance(recess, str) else recess
        if value is None:
            raise ValueError(f"recess {recess!r} is not a landmark of {anatomy.site} {anatomy.projection}")
        pts = np.asarray(value, float).reshape(-1, 2)
        zones.append(_near_location(anatomy, pts.mean(axis=0), reach_mm) & anatomy.body_mask)
    return zones


def _osteochondral_body(
    anatomy: Anatomy, rng: np.random.Generator, centre: tuple[float, float], r: float
) -> tuple[Canvas, np.ndarray]:
    """Mineral path (mm) of one osteochondral body of radius ``r`` mm: a calcified rim, broken
    inner rings (the "ring and arc" of chondroid mineral) and a faintly stippled matrix; drawn on
    its :func:`ring_canvas` (zero outside it), returned with it."""
    px = anatomy.grid.pixel_mm
    b = r * rng.uniform(0.6, 0.95)
    angle = rng.uniform(0, 180)
    outline = particle_outline(rng, rng.uniform(0.02, 0.06), egg=0.05, facet_chance=0.45)
    wall = max(0.5, r * 0.18 * rng.uniform(0.5, 1.6))
    body = blob_shell(anatomy, centre, r, b, b, wall, angle, outline) * rng.uniform(0.6, 1.2)
    # the inner rings and arcs sit off centre, each body its own
    off = rng.uniform(0, 0.25 * r), rng.uniform(0, 2 * np.pi)
    inner = (centre[0] + off[0] * math.cos(off[1]), centre[1] + off[0] * math.sin(off[1]))
    arcs = _arc_gaps(anatomy, inner, rng, rng.uniform(0.3, 0.7), int(rng.integers(1, 4))) * blob_shell(
        anatomy, inner, r * 0.55, b * 0.55, r * 0.55, 0.5, rng.uniform(0, 180), radial_profile(rng, 0.15)
    )
    matrix = blob(anatomy, centre, r * 0.9, b * 0.9, b * 0.9, angle, outline)
    stipple = ndimage.gaussian_filter(rng.standard_normal(anatomy.grid.shape), 0.4 / px) > 0.6
    texture = particle_texture(anatomy, rng, centre, 1.2 * r, 0.3)
    return Canvas.full(anatomy.grid), (
        body + rng.uniform(0.3, 1.0) * arcs + matrix * (0.05 + 0.3 * stipple * rng.uniform(0.2, 1.0))
    ) * texture


def _bodies_in_recesses(
    anatomy: Anatomy,
    rng: np.random.Generator,
    recesses: Any,
    n: int,
    size: float,
    conc: float,
    effusion: float,
    compartment: str,
) -> tuple[Lesion, ...]:
    """Loose bodies shared among the joint's recesses (landmarks projected on any view): on an elbow
    lateral they gather in front of and behind the distal humerus (coronoid and olecranon fossae,
    where the fat pads lie), not over the condyles. Centres stay off bone where the recess allows."""
    px = anatomy.grid.pixel_mm
    reach = 0.6 * size + 4.0
    zones = recess_zones(anatomy, recesses, reach)
    th = np.zeros(anatomy.grid.shape)
    for k in range(n):
        zone = zones[k % len(zones)] if k < len(zones) else zones[int(rng.integers(len(zones)))]
        core = zone & ~ndimage.binary_dilation(anatomy.bone_mask, iterations=max(1, round(1.0 / px)))
        pts = _sample_points(core if core.any() else zone, 1, rng, px)
        if not len(pts):
            continue
        cx, cy = pts[0]
        r = size / 2 * rng.uniform(0.3, 1.0) ** 0.8
        canvas, body = _osteochondral_body(anatomy, rng, (cx, cy), r)
        canvas.add_to(th, body)
    th = chalky(th, rng, px, 0.5, 0.15)
    # the recesses distended by the bodies (in front of or behind a bone they overlap in projection)
    room = np.logical_or.reduce([ndimage.binary_dilation(z, iterations=max(1, round(0.6 * size / px))) for z in zones])
    room &= anatomy.body_mask
    lesions = [Lesion(reference_deposit(), np.where(room, th * conc, 0.0), (compartment,))]
    if effusion > 0 and compartment in anatomy.masks:
        mask = anatomy.masks[compartment]
        swell = gaussian_sparse(mask.astype(float), 2.0 / px) * effusion
        lesions.insert(0, _lesion("fluid", swell, anatomy, (compartment,)))
    return tuple(lesions)


def rounded_bodies_ring_arc(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Numerous rounded osteochondral bodies in the joint, with rings-and-arcs (chondroid) mineralization
    or a calcified halo, and a joint effusion (synovial osteochondromatosis).

    Bodies differ in size (1–20 mm), shape and mineralization (a ring, broken arcs, stippled
    chondroid matrix), cluster in the joint's recesses and stay inside the skin.
    Parameters: count, size_mm (largest diameter), mineral_g_cm3, effusion_mm
    (effusion thickness added in the joint, 0 for none), location (the recess where the bodies
    gather: a landmark point or polyline, e.g. 'joint_line', or (x, y) mm; default anywhere in
    the compartment; bodies there are sized to fit it), compartment.
    """
    compartment = params.get("compartment", "intraarticular")
    n = _count(params.get("count", 18))
    size = _number("size_mm", params.get("size_mm", 9.0), high=40)
    conc = _mineral(params, 0.8)
    effusion = _number("effusion_mm", params.get("effusion_mm", 8.0), 0, 60, strict=False)
    if params.get("recesses") is not None:
        return _bodies_in_recesses(anatomy, rng, params["recesses"], n, size, conc, effusion, compartment)
    location = params.get("location")
    px = anatomy.grid.pixel_mm
    mask = region_mask(anatomy, (compartment,))
    placed = _skin_clearance(anatomy, mask, size * 0.6 + 3.0)
    room = None
    if location is not None:
        # the bodies gather in the named recess: the part of the compartment nearest the landmark
        near = _near_location(anatomy, location, 1.5 * size + 6.0)
        placed = (mask & near) if (mask & near).any() else placed
        if not (mask & near).any():
            raise ValueError(f"location {location!r} is not near the {compartment} compartment at {anatomy.site}")
        room = ndimage.distance_transform_edt(mask) * px  # a body fits the recess, it is not cut by it
    # clusters: bodies gather in a few recesses rather than spreading evenly
    # (in the recesses that project over bone as well as beside it)
    n_seeds = max(1, min(4, n // 5 + 1))
    seeds = np.vstack(
        [
            _sample_points(placed, n_seeds - n_seeds // 2, rng, px, 1.0, anatomy.bone_mask),
            _sample_points(placed, n_seeds // 2, rng, px, 1.0),
        ]
    )
    th = np.zeros(anatomy.grid.shape)
    anywhere, spread = _candidates(placed, px), None  # drawn from many times: listed once
    for k in range(n):
        if len(seeds) and rng.uniform() < 0.75:
            sx, sy = seeds[k % len(seeds)]
            near = disc_candidates(placed, anatomy.grid, (sx, sy), 2.5 * size)
            pts = _pick_points(near if near[0].size else anywhere, 1, rng, px)
        else:
            spread = spread or _candidates(placed, px, 1.0, anatomy.bone_mask)
            pts = _pick_points(spread, 1, rng, px)
        if not len(pts):
            continue
        cx, cy = pts[0]
        r = size / 2 * rng.uniform(0.25, 1.0) ** 0.8
        if room is not None:
            depth = float(room[min(int(cy / px), room.shape[0] - 1), min(int(cx / px), room.shape[1] - 1)])
            r = min(r, max(1.2 * depth + 1.0, 1.0))
        canvas, body = _osteochondral_body(anatomy, rng, (cx, cy), r)
        canvas.add_to(th, body)
    th = chalky(th, rng, px, 0.5, 0.15)
    lesions = [_lesion(reference_deposit(), th * conc, anatomy, (compartment,), soft_mm=0.8)]
    if effusion > 0:
        swell = gaussian_sparse(mask.astype(float), 2.0 / px) * effusion
        lesions.insert(0, _lesion("fluid", swell, anatomy, (compartment,)))
    return tuple(lesions)


# ------------------------------------------------------ metastatic / TC ----


SEDIMENT_SHARE: float = 0.65  # calcium "milk": share of the sediment's path that is mineral at the given concentration


def gravity_direction(anatomy: Anatomy) -> tuple[float, float]:
    """Unit vector (x, y in the image) of gravity: the view's ``gravity_deg`` landmark (in-plane
    direction, degrees from the image x axis, y down), or image-down when the view has none."""
    value = anatomy.landmarks.get("gravity_deg", 90.0)
    try:
        angle = math.radians(float(value))
    except (TypeError, ValueError):
        raise ValueError(f"gravity_deg must be an angle in degrees, got {value!r}") from None
    return math.cos(angle), math.sin(angle)


def _mass_lobes(
    centre: tuple[float, float], size: float, n: int, scale: float, rng: np.random.Generator
) -> list[tuple[float, float, float]]:
    """Spheres (x, y, radius; mm) whose smooth union is the outline of a lobulated mass of overall
    diameter about ``size`` × ``scale`` with ``n`` locules: a grape cluster of unequal lobes.

    The satellite lobes are spread round the core (one per sector, jittered) and bulge out by
    unequal amounts, so the outline is lobulated all round: no side where two or three lobes line
    up into a straight edge."""
    radius = size / 2 * scale
    if n <= 1:
        return [(centre[0], centre[1], radius)]
    lobes = [(centre[0], centre[1], radius * rng.uniform(0.5, 0.62))]
    m = int(np.clip(round(0.5 * n) + 1, 2, 9))
    phi0 = rng.uniform(0, 2 * np.pi)
    for i in range(m):
        phi = phi0 + 2 * np.pi * (i + rng.uniform(-0.4, 0.4)) / m
        r = radius * rng.uniform(0.22, 0.5)
        reach = radius * rng.uniform(0.62, 1.0)  # how far this lobe's outer edge stands out
        dist = max(reach - r, 0.25 * radius)
        lobes.append((centre[0] + dist * math.cos(phi), centre[1] + dist * math.sin(phi), r))
    return lobes


def _outline_bumps(
    anatomy: Anatomy, rng: np.random.Generator, centre: tuple[float, float], reach_mm: float
) -> np.ndarray:
    """Per-pixel shrink (mm; negative grows) that makes a mass's outline bumpy all round: small lobules
    (3–9 per turn about ``centre``, about 4 % of ``reach_mm``) on the large lobes, so no stretch of the
    outline is a straight or smooth arc."""
    x, y = anatomy.grid.coordinates()
    theta = np.arctan2(y - centre[1], x - centre[0])
    out = np.zeros(np.broadcast_shapes(x.shape, y.shape))
    for k in range(3, 10):
        out += rng.uniform(0.3, 1.0) / math.sqrt(k - 2) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return out * (0.04 * reach_mm / (out.std() or 1.0))


def _lobes_reach(lobes: list[tuple[float, float, float]], centre: tuple[float, float]) -> float:
    """Largest distance (mm) from ``centre`` to the outline of the lobes' union."""
    return max(math.hypot(x - centre[0], y - centre[1]) + r for x, y, r in lobes)


def _locules(
    anatomy: Anatomy, rng: np.random.Generator, footprint: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Partition of ``footprint`` into ``n`` unequal, rounded locules: label map (0 outside, 1..k) and the
    in-plane distance (mm) to the nearest septum between locules.

    A multiplicatively weighted Voronoi diagram of well-spread seeds on a smoothly warped plane: cells of
    unequal size with curved, wavy septa meeting as a net (chicken wire), not circles or tiles.
    """
    px = anatomy.grid.pixel_mm
    rows, cols = np.nonzero(footprint)
    labels = np.zeros(footprint.shape, np.int32)
    if rows.size == 0:
        return labels, np.full(footprint.shape, np.inf), 0
    spacing = 0.8 * math.sqrt(rows.size * px * px / max(n, 1))
    seeds: list[tuple[float, float]] = []
    for k in rng.permutation(rows.size)[: 60 * max(n, 1)]:
        p = ((cols[k] + 0.5) * px, (rows[k] + 0.5) * px)
        if all(math.hypot(p[0] - q[0], p[1] - q[1]) >= spacing for q in seeds):
            seeds.append(p)
            if len(seeds) == n:
                break
    weights = rng.uniform(0.7, 1.4, len(seeds))
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    shape = (r1 - r0, c1 - c0)
    warp = max(spacing * 0.35, px)
    wx, wy = (ndimage.gaussian_filter(rng.standard_normal(shape), max(0.35 * spacing / px, 1.0)) for _ in range(2))
    wx *= warp / (wx.std() or 1.0)
    wy *= warp / (wy.std() or 1.0)
    x = (np.arange(c0, c1) + 0.5)[None, :] * px + wx
    y = (np.arange(r0, r1) + 0.5)[:, None] * px + wy
    dist = np.stack([np.hypot(x - sx, y - sy) * w for (sx, sy), w in zip(seeds, weights)])
    if len(seeds) > 1:
        two = np.partition(dist, 1, axis=0)[:2]
        gap = (two[1] - two[0]) / (2 * float(weights.mean()))  # about the distance to the septum
    else:
        gap = np.full(shape, np.inf)
    sub = footprint[r0:r1, c0:c1]
    labels[r0:r1, c0:c1] = np.where(sub, np.argmin(dist, axis=0) + 1, 0)
    septum = np.full(footprint.shape, np.inf)
    septum[r0:r1, c0:c1] = np.where(sub, gap, np.inf)
    return labels, septum, len(seeds)


LEVEL_BLUR_MM: float = 0.8  # a level is sharp but not a ruled line: the interface spreads over this width or more
# (a locule's depth along the beam times the beam's few degrees of divergence from the level's plane)
LEVEL_BLUR_SPREAD: tuple[float, float] = (1.0, 2.2)  # each locule's blur: LEVEL_BLUR_MM times a factor in this range
LEVEL_WAVE_MM: float = 0.3  # the sediment's surface is not flat: it undulates by about this much (standard deviation)
MENISCUS_MM: float = 0.6  # the level rises about this much (0.7–2 times, per locule) where it meets a locule's wall
HAZE_SHARE: float = 0.18  # fine calcium still suspended just above a level, as a share of the sediment's density
HAZE_MM: float = 3.0  # ... fading upwards over about this height (mm; 0.6–1.4 times, per locule)
MASS_BULGE_MM: float = 1.5  # by default a tumoral mass reaches at most this far (mm) beyond the skin line
# (a large mass in a thin part, e.g. beside the knee, asks for more with ``bulge_mm``; at most 0.3 of its size)
RIND_SOFTEN_MM = 0.45  # Gaussian σ (mm) of the mass's outer rind and septa: partial volume, not a drawn line
LOCULE_SOFTEN_MM = 0.35  # Gaussian σ (mm) that softens the locules' outlines and levels


def _cysts(anatomy: Anatomy, rng: np.random.Generator, params: Mapping[str, Any], levels: bool) -> tuple[Lesion, ...]:
    """A lobulated mass of irregular, unequal, coalescing locules (tumoral calcinosis): a thin wall round
    the whole, thin septa between the locules, most locules filled with chalky calcium paste; with
    ``levels`` (horizontal beam) a minority of locules hold calcium sediment below a slightly blurred level
    perpendicular to gravity, with a faint meniscus, fluid above and the sediment densest at the bottom.

    The mass is seated inside the body: where it reaches the skin it lifts it (:func:`mass_effect`).
    """
    compartment = params.get("compartment", "periarticular")
    default = (
        "lateral_side"
        if "lateral_side" in anatomy.landmarks
        else ("trochanteric_bursa" if "trochanteric_bursa" in anatomy.landmarks else "muscle_center")
    )
    conc = _mineral(params, 0.7)
    fill = _number("sediment_fraction", params.get("sediment_fraction", 0.45), 0, 1, strict=False)
    share = _number("level_fraction", params.get("level_fraction", 0.3), 0, 1, strict=False) if levels else 0.0
    size = _number("size_mm", params.get("size_mm", 50.0), high=300)
    n = max(1, _count(params.get("count", 7), 40))
    scale = _number("scale", params.get("scale", 1.0), high=2.0)
    gx, gy = gravity_direction(anatomy)
    px = anatomy.grid.pixel_mm
    asked = _landmark_point(anatomy, params.get("location"), default)
    lobes = _mass_lobes(asked, size, n, scale, rng)
    reach = _lobes_reach(lobes, asked)
    # the mass inside the body outline, its edge at most MASS_BULGE_MM beyond it under the lifted skin:
    # a mass pushed further out lifted a broad, flat-bottomed plateau of fat, a dark band along the skin
    bulge = _number("bulge_mm", params.get("bulge_mm", MASS_BULGE_MM), 0, 100, strict=False)
    cx, cy = seat(anatomy, anatomy.body_mask, asked, reach - min(bulge, 0.3 * reach))
    lobes = [(x + cx - asked[0], y + cy - asked[1], r) for x, y, r in lobes]
    blend = 0.15 * float(np.mean([r for _, _, r in lobes]))
    bumps = _outline_bumps(anatomy, rng, (cx, cy), reach)
    outer, edge = sphere_union(anatomy, lobes, blend, shrink_mm=bumps)
    wall = max(0.5, 0.025 * reach)
    inner = sphere_union(anatomy, lobes, blend, shrink_mm=bumps + wall)[0]
    footprint = outer > 0
    labels, septum, k = _locules(anatomy, rng, inner > 0, n)
    if k == 0:
        return ()
    x, y = anatomy.grid.coordinates()
    along = (x - cx) * gx + (y - cy) * gy + np.zeros(anatomy.grid.shape)
    index = np.arange(1, k + 1)
    top = np.asarray(ndimage.minimum(along, labels, index))
    bottom = np.asarray(ndimage.maximum(along, labels, index))
    # the levels show in the larger locules (a level in a tiny locule is not seen)
    areas = np.bincount(labels.ravel(), minlength=k + 1)[1:].astype(float) ** 2 + 1e-9
    order = rng.choice(k, size=k, replace=False, p=areas / areas.sum())
    n_levels = min(k, max(1, round(share * k))) if share > 0 else 0
    kinds = np.empty(k, object)
    kinds[order[:n_levels]] = "level"
    rest = order[n_levels:]
    kinds[rest] = np.where(rng.uniform(size=rest.size) < 0.08, "fluid", "paste") if rest.size else []
    if n_levels == 0 and rest.size and not (kinds == "paste").any():
        kinds[rest[0]] = "paste"
    # chalky, cloud-like paste: density varies at a few millimetres and at the grain of the chalk
    cloud = ndimage.gaussian_filter(rng.standard_normal(anatomy.grid.shape), 2.5 / px)
    cloud = np.clip(0.7 + 0.3 * cloud / (cloud.std() or 1.0), 0.25, 1.2)
    ripple = ndimage.gaussian_filter(rng.standard_normal(anatomy.grid.shape), 1.5 / px)
    ripple *= LEVEL_WAVE_MM / (ripple.std() or 1.0)  # the sediment's uneven surface
    wall_dist = np.minimum(septum, np.clip(-edge - wall, 0.0, None))
    lucent_septa = 1.0 - 0.5 * np.exp(-((wall_dist / 0.7) ** 2))  # the paste thins towards each septum
    chalk = np.zeros(anatomy.grid.shape)
    fluid = np.zeros(anatomy.grid.shape)
    for j in range(k):
        cell = labels == j + 1
        if kinds[j] == "paste":
            # neighbouring locules differ a little in how much paste they hold (not a patchwork)
            chalk[cell] = (inner * cloud * lucent_septa)[cell] * (0.45 + 0.5 * (rng.uniform(0.3, 0.6) - 0.45))
        elif kinds[j] == "fluid":
            fluid[cell] = inner[cell]
            chalk[cell] = 0.1 * inner[cell]  # a little calcium milk: not an empty hole
        else:
            height = bottom[j] - top[j]
            level = bottom[j] - fill * height * rng.uniform(0.8, 1.2)
            # the interface rises where it meets the locule's wall (meniscus), its surface undulates a
            # little, and it is blurred by the beam's divergence over the locule's depth: each locule its own
            blur = LEVEL_BLUR_MM * rng.uniform(*LEVEL_BLUR_SPREAD)
            rise = MENISCUS_MM * rng.uniform(0.7, 2.0) * np.exp(-wall_dist[cell] / 1.2)
            depth = along[cell] - (level - rise + ripple[cell])
            below = np.clip(depth / blur + 0.5, 0.0, 1.0)
            # the sediment packs down: densest at the bottom, looser just under the level
            packed = 0.55 + 0.45 * np.clip(depth / max(bottom[j] - level, 1e-3), 0.0, 1.0) ** 0.7
            # a hazy supernatant: fine calcium still settling just above the level
            haze = HAZE_SHARE * np.exp(-np.clip(-depth, 0.0, None) / (HAZE_MM * rng.uniform(0.6, 1.4)))
            dense = SEDIMENT_SHARE * rng.uniform(0.85, 1.1) * (0.85 + 0.15 * cloud[cell])
            chalk[cell] = inner[cell] * dense * (below * packed + (1.0 - below) * haze)
            fluid[cell] = inner[cell] * (1.0 - below)
    region = (
        _mass_region(anatomy, compartment)
        + tuple(c for c in ("subcutaneous", "intraarticular") if c in anatomy.masks and c != compartment)
        + ("swelling", "bone")
    )
    # locule outlines softened by a fraction of a millimetre: septa are tissue, not drawn lines
    soften = LOCULE_SOFTEN_MM / px
    fluid = ndimage.gaussian_filter(fluid, soften)
    paste = ndimage.gaussian_filter(chalky(chalk, rng, px, 0.9, 0.3), soften)
    # thin walls: the rind round the whole mass and fainter septa between the locules
    # (the rind is fibrous tissue with calcium in patches, not an eggshell: it varies with the paste's cloud)
    # (patchy: gaps of a few millimetres where the rind holds little calcium, so no drawn outline runs round it)
    patches = ndimage.gaussian_filter(rng.standard_normal(anatomy.grid.shape), 1.5 / px)
    patches = np.clip(0.55 + 0.7 * patches / (patches.std() or 1.0), 0.15, 1.2)
    rind = 0.8 * np.clip(outer - inner, 0.0, None) * cloud * patches
    septa = 0.1 * inner * np.exp(-((septum / 0.35) ** 2))
    walls = ndimage.gaussian_filter(rind + septa, RIND_SOFTEN_MM / px, truncate=2.2)  # reach ~1 mm, as before
    mineral = cap_to_cortex((walls + paste) * conc, outer)
    # the locules hold fluid (water-equivalent) round the calcium, not the host tissue's fat or muscle:
    # the clear fluid above the levels, and the fluid the calcium paste and sediment are suspended in
    content = ndimage.gaussian_filter(inner, soften)
    clear = np.minimum(fluid, np.clip(content - mineral, 0.0, None))
    matrix = np.clip(content - clear - mineral, 0.0, None)
    hosts = _mass_hosts(anatomy, (cx, cy))
    lesions = (_lesion("fluid", clear, anatomy, region, hosts),) if clear.any() else ()
    lesions += (_lesion("fluid", matrix, anatomy, region, hosts),)
    bulk = np.where(region_mask(anatomy, region) & footprint, outer, 0.0)
    # the swollen soft tissue round the mass (a faint grey halo in the fat, fading out over about a centimetre)
    halo = oedema_halo(anatomy, bulk, rng, reach_mm=float(np.clip(0.2 * reach, 4.0, 12.0)), strength=0.6)
    return (
        lesions + (_lesion(reference_deposit(), mineral, anatomy, region, hosts),) + mass_effect(anatomy, bulk) + halo
    )


def _mass_hosts(anatomy: Anatomy, centre: tuple[float, float]) -> tuple[str, ...]:
    """The host tissues a mass centred at ``centre`` (x, y mm) pushes aside, in order: muscle first
    in a muscle, fat first elsewhere (a mass in the fat or a bursa under it replaces the fat)."""
    px = anatomy.grid.pixel_mm
    r = int(np.clip(centre[1] / px, 0, anatomy.grid.shape[0] - 1))
    c = int(np.clip(centre[0] / px, 0, anatomy.grid.shape[1] - 1))
    muscle = anatomy.masks.get("muscle")
    if muscle is not None and muscle[r, c]:
        return SOFT_HOSTS
    return ("adipose",) + tuple(h for h in SOFT_HOSTS if h != "adipose")


def lobulated_multicystic_mass(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Large lobulated periarticular calcified mass of many rounded cysts (tumoral calcinosis, metastatic
    calcification): a smooth union of spheres of varied size with a thin outer wall, faint septa and
    chalky, cloud-like contents.

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
    conc = _mineral(params, 0.9)
    erosion = _number("erosion_mm", params.get("erosion_mm", 6.0), 0, 40, strict=False)
    offset = np.asarray(params.get("offset_mm", (-size * 0.32, 0.0)), float)
    mass_c = tuple(centre + offset)
    mass = np.zeros(anatomy.grid.shape)
    for _ in range(4):
        off = rng.normal(0, size / 8, 2)
        r = size / 2 * rng.uniform(0.6, 0.85)
        np.maximum(
            mass,
            blob(
                anatomy, (mass_c[0] + off[0], mass_c[1] + off[1]), r, r * 1.1, r * 1.4, 0.0, radial_profile(rng, 0.12)
            ),
            out=mass,
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
        *mass_effect(anatomy, mass, cover_mm=1.5, blend_mm=6.0),
        _lesion(reference_deposit(), chalky(foci, rng, anatomy.grid.pixel_mm, 0.5, 0.4) * conc, anatomy, where),
    ]
    if erosion > 0:
        lesions += _marginal_erosion(anatomy, centre, mass_c, erosion, rng)
    lesions += oedema_halo(anatomy, mass, rng, reach_mm=max(3.0, 0.2 * size), strength=0.3)
    return tuple(lesions)


def _marginal_erosion(
    anatomy: Anatomy, joint: np.ndarray, towards: tuple[float, float], depth: float, rng: np.random.Generator
) -> list[Lesion]:
    """A gouty erosion at the bone margin next to the joint, on the tophus side, with an overhanging edge.

    The erosion is a rounded bite centred on the bone margin just proximal to the joint
    (juxta-articular, marginal: it opens onto the margin, it is not a hole inside the bone),
    with a thin sclerotic rim; the cortex of its proximal lip is lifted outward over the
    tophus as a thin curved shelf (the overhanging edge), seen edge-on.
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
    radius = depth * 0.55
    centre = edge - direction * radius * 0.35  # centred just inside the margin: a notch open to it
    outline = radial_profile(rng, 0.08)
    bite = blob(anatomy, tuple(centre), radius, radius * 1.1, radius * 1.1, 0.0, outline)
    bite = np.where(anatomy.bone_mask, bite, 0.0)
    x, y = anatomy.grid.coordinates()
    dist = np.hypot(x - centre[0], y - centre[1])
    theta = np.arctan2(y - centre[1], x - centre[0])
    outward = math.atan2(direction[1], direction[0])
    proximal = math.atan2(1.0, 0.0)  # down the image, along the metatarsal
    turn = 1.0 if np.angle(np.exp(1j * (proximal - outward))) > 0 else -1.0
    rel = np.angle(np.exp(1j * (theta - outward))) * turn  # 0 = towards the tophus, +90° = proximal
    # Overhanging edge: the proximal lip, from the margin (about 90°) curving out over the tophus.
    lip = (rel > math.radians(45)) & (rel < math.radians(100)) & (dist > radius) & (dist < radius + 0.7)
    lip_len = 7.0  # mm along the beam: the shelf is seen edge-on
    shelf = lip * lip_len * np.clip((math.radians(100) - rel) / math.radians(25), 0, 1)
    # a thin sclerotic rim where the bite meets bone
    rim = (dist > radius * 0.92) & (dist < radius + 0.6) & anatomy.bone_mask & (np.abs(rel) > math.radians(30))
    return [
        _lesion(get_material("urate_tophus"), bite, anatomy, ("bone",), BONE_HOSTS),
        _lesion(
            "cortical_bone",
            ndimage.gaussian_filter(shelf + 1.5 * rim, 0.15 / px),
            anatomy,
            tuple(
                c
                for c in ("swelling", "subcutaneous", "periarticular", "bone")
                if c in ("swelling", "bone") or c in anatomy.masks
            ),
        ),
    ]


# ------------------------------------------------------ subcutaneous ----


NODULE_GRAIN_MM: float = 0.4  # calcinosis nodules' chalk grain (mm; tuned visual choice)
NODULE_CONTRAST: float = 0.45  # its log-density spread before projection (tuned visual choice)
NODULE_CORE: float = 0.4  # packed densest centrally (tuned visual choice)


def dense_homogeneous_nodules(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Dense, homogeneous, well-defined nodules, clustered at fingertips (calcinosis circumscripta).

    Parameters: count (per site), size_mm (nodule diameter), mineral_g_cm3, sites (landmark
    point lists; default the thumb and index fingertips), compartment.
    """
    compartment = params.get("compartment", "subcutaneous")
    n = _count(params.get("count", 5))
    size = _number("size_mm", params.get("size_mm", 4.0), high=40)
    conc = _mineral(params, 1.2)
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
    mask = _skin_clearance(anatomy, region_mask(anatomy, (compartment,)), 0.5 * size)
    x, y = anatomy.grid.coordinates()
    th = np.zeros(anatomy.grid.shape)
    chord = np.zeros(anatomy.grid.shape)
    for k, (tx, ty) in enumerate(tips):
        local = mask & ((x - tx) ** 2 + (y - ty) ** 2 <= spread**2)
        count = n if k % 2 == 0 else max(1, n - 2)
        for px, py in _sample_points(local, count, rng, anatomy.grid.pixel_mm):
            # clustered nodules of varied size, some coalescing into lobulated clumps
            r = size / 2 * rng.uniform(0.35, 1.25)
            b = r * rng.uniform(0.6, 1.0)
            outline = particle_outline(rng, rng.uniform(0.1, 0.25), egg=0.15, facet_chance=0.3)
            nodule = blob(anatomy, (px, py), r, b, r, rng.uniform(0, 180), outline)
            # packed chalk (a 3-D field projected, densest centrally), not a flat stamp
            chalk = packed_chalk(nodule, rng, anatomy.grid.pixel_mm, NODULE_GRAIN_MM, NODULE_CONTRAST, NODULE_CORE)
            th += rng.uniform(0.8, 1.1) * chalk * particle_texture(anatomy, rng, (px, py), 1.5 * r, 0.1)
            chord += nodule
    th = chalky(th, rng, anatomy.grid.pixel_mm, 0.6, 0.2)
    th = cap_to_cortex(th * conc, chord)  # no nodule denser than cortex of its own thickness
    return (_lesion(reference_deposit(), th, anatomy, (compartment,), soft_mm=0.5),)


NODULE_CLUMP_REACH: float = 1.3  # a granule clump's granules lie within this many radii of its centre


def small_round_nodules(anatomy: Anatomy, rng: np.random.Generator, **params: Any) -> tuple[Lesion, ...]:
    """Small round or oval nodules, often with a lucent centre (e.g. injection granulomas).

    Each nodule differs: about half are rings (size, ovality, wall, completeness vary), the rest
    lumpy chalky nodules or faint clumps of a few dense granules; sizes spread widely about
    ``size_mm``. All lie inside the skin.
    Parameters: count, size_mm (typical diameter), mineral_g_cm3, compartment.
    """
    compartment = params.get("compartment", "subcutaneous")
    n = _count(params.get("count", 8))
    size = _number("size_mm", params.get("size_mm", 6.0), high=40)
    conc = _mineral(params, 0.8)
    px = anatomy.grid.pixel_mm
    mask = _skin_clearance(anatomy, region_mask(anatomy, (compartment,)), size * 0.6 + 2.0)
    mask = mask & ~over_lung(anatomy) if (mask & ~over_lung(anatomy)).any() else mask
    radii = np.clip(size / 2 * rng.lognormal(0.0, 0.35, n), 0.3 * size, 0.75 * size)
    # each nodule wholly inside the fat (seated by its own size, not cut along the mask)
    centres, room = seated_points(anatomy, mask, 1.5 * radii + 0.8, rng)
    th = np.zeros(anatomy.grid.shape)
    for (x, y), r, fit in zip(centres, radii, room):
        r = float(min(r, max((fit - 0.8) / 1.5, 0.3 * size)))
        kind = rng.uniform()
        if kind < 0.5:
            canvas = ring_canvas(anatomy, (x, y), r)
            canvas.add_to(th, _ring(anatomy, rng, (x, y), r, 0.35, canvas=canvas))
        elif kind < 0.8:  # a lumpy, chalky nodule, denser on one side
            angle = rng.uniform(0, 180)
            outline = particle_outline(rng, rng.uniform(0.15, 0.3), egg=0.2, facet_chance=0.3)
            lump = blob(anatomy, (x, y), r, r * rng.uniform(0.55, 0.95), r * 0.8, angle, outline)
            u, _ = axial(anatomy, (x, y), angle)
            lump = lump * particle_texture(anatomy, rng, (x, y), 1.5 * r, 0.3)
            th += rng.uniform(0.35, 0.8) * lump * np.clip(0.75 + 0.25 * u / r, 0.4, 1.0)
        else:  # a faint, irregular clump of granules of unequal size, strung along a random axis
            axis_deg = rng.uniform(0, 180)
            t = math.radians(axis_deg)
            stretch = rng.uniform(0.15, 0.6)
            for _ in range(int(rng.integers(2, 6))):
                along, across = rng.normal(0, 0.45 * r), rng.normal(0, stretch * 0.45 * r)
                gx, gy = x + along * math.cos(t) - across * math.sin(t), y + along * math.sin(t) + across * math.cos(t)
                g = float(np.clip(r * 0.3 * rng.lognormal(0.0, 0.4), 0.4, 0.7 * r))
                # the whole clump within the nodule's seated reach (1.5 r): a granule drawn 2-3 σ out
                # reached past it, onto the fat's edge or a hole in it (the buttock's 2.4 mm voxels)
                off = math.hypot(along, across)
                pull = min(1.0, max(NODULE_CLUMP_REACH * r - g, 0.0) / off) if off > 0 else 1.0
                gx, gy = x + (gx - x) * pull, y + (gy - y) * pull
                granule = blob(
                    anatomy, (gx, gy), g, g * rng.uniform(0.5, 1.0), g, rng.uniform(0, 180), radial_profile(rng, 0.2)
                )
                th += rng.uniform(0.3, 1.0) * granule
    th = chalky(th, rng, px, 0.5, 0.25)
    return (_lesion(reference_deposit(), th * conc, anatomy, (compartment,), soft_mm=0.8),)


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
    "offset_mm": "(dx, dy) shift of the vessel's course from the landmark, mm (default none)",
    "end_on": "number of branches seen end-on, drawn as calcified rings beside the artery (default 0)",
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
                "zoning": "'peripheral' (cortex and medulla, default) or 'central' (densest centrally, "
                "attached to the cortex: parosteal osteosarcoma)",
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
                "phase": "'formative' (dense, defined), 'resorptive' (cloudy, spreading) or 'bursal' (crescent in the bursa)",
                "location": "landmark (default supraspinatus_tendon) or (x, y) mm",
                "count": "deposits",
                "size_mm": "deposit length",
                "mineral_g_cm3": "concentration",
                "angle_deg": "long-axis direction",
                "compartment": "default periarticular",
                "avoid": "compartments the deposit keeps out of (e.g. [intraarticular]: outside the capsule)",
                "lobules": "puffs per resorptive cloud (default 9; more: a confluent lobulated mass)",
                "spread_into": "compartments beside its own that a large deposit may reach (e.g. [muscle, subcutaneous])",
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
                "location": "recess where the bodies gather (landmark point or polyline, or (x, y) mm; default anywhere)",
                "recesses": "landmarks of the joint's recesses the bodies fill, on any view (e.g. the elbow fat pads)",
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
                "bulge_mm": "how far (mm) the mass may reach beyond the skin line, lifting it (default 1.5)",
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
                "bulge_mm": "how far (mm) the mass may reach beyond the skin line, lifting it (default 1.5)",
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
