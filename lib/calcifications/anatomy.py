"""Parameterized limb templates: material thickness maps and compartment masks per site.

A template is built from 3-D primitives (tapered capsules, ellipsoids, smooth
domes, rounded plates) whose chord lengths along the beam give each material's thickness in
mm, so a limb segment has cylinder-like chords: thin at the edges, thick in
the middle. Tissues nest from outside in: skin, subcutaneous fat, fascia,
muscle, with fat planes, tendons, vessels and bones (cortex, trabecular
medulla) displacing the tissue around them.

Coordinates are mm from the top-left corner of the image, x to the right,
y downwards; the beam runs along z (into the image). Every template also
returns boolean masks of its compartments (``vascular``, ``subcutaneous``,
``fascial``, ``muscle``, ``periarticular``, ``intraarticular``, as present)
and named landmarks (points and polylines in mm) on which patterns are placed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType

import numpy as np
from matplotlib.path import Path as PolygonPath
from scipy import ndimage
from scipy.interpolate import splev, splprep

from . import phantom
from .vocabulary import vocabulary

# Sites and compartments come from the vocabulary (one source of truth).
SITES: tuple[str, ...] = tuple(fid for fid, f in vocabulary().findings.items() if f.category == "site")
PROJECTIONS: tuple[str, ...] = ("frontal", "lateral")
COMPARTMENTS: tuple[str, ...] = tuple(vocabulary().compartments)

# Field of view (mm across the 512-pixel reference image) per site.
FIELD_OF_VIEW_MM: Mapping[str, float] = MappingProxyType(
    {
        "site_shoulder": 240.0,
        "site_arm": 220.0,
        "site_elbow": 170.0,
        "site_forearm": 160.0,
        "site_hand": 200.0,
        "site_hip_pelvis": 260.0,
        "site_buttock": 300.0,
        "site_thigh": 260.0,
        "site_knee": 210.0,
        "site_leg": 220.0,
        "site_ankle_foot": 190.0,
    }
)


# ---------------------------------------------------------------- grid ----


@dataclass(frozen=True)
class Grid:
    """A pixel grid: shape (rows, columns) and square pixel size (mm)."""

    shape: tuple[int, int]
    pixel_mm: float

    def __post_init__(self) -> None:
        if len(self.shape) != 2 or min(self.shape) < 8:
            raise ValueError(f"grid shape must be two sizes ≥ 8 pixels, got {self.shape}")
        if not math.isfinite(self.pixel_mm) or self.pixel_mm <= 0:
            raise ValueError(f"pixel_mm must be positive and finite, got {self.pixel_mm}")

    @property
    def size_mm(self) -> tuple[float, float]:
        """(width, height) of the field in mm."""
        return self.shape[1] * self.pixel_mm, self.shape[0] * self.pixel_mm

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """(X, Y) of pixel centres in mm, as broadcastable row and column vectors."""
        x = (np.arange(self.shape[1]) + 0.5) * self.pixel_mm
        y = (np.arange(self.shape[0]) + 0.5) * self.pixel_mm
        return x[np.newaxis, :], y[:, np.newaxis]


# ----------------------------------------------------------- primitives ----


@dataclass(frozen=True)
class Capsule:
    """Tapered capsule from p0 to p1 (mm), in-plane radii r0, r1 (mm), depth = beam semi-axis / radius."""

    p0: tuple[float, float]
    p1: tuple[float, float]
    r0: float
    r1: float
    depth: float = 1.0

    def chord(self, grid: Grid, grow_mm: float = 0.0) -> np.ndarray:
        """Chord length (mm) along the beam through the capsule grown by ``grow_mm``."""
        x, y = grid.coordinates()
        (x0, y0), (x1, y1) = self.p0, self.p1
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy or 1e-12
        u = np.clip(((x - x0) * dx + (y - y0) * dy) / length2, 0.0, 1.0)
        d2 = (x - x0 - u * dx) ** 2 + (y - y0 - u * dy) ** 2
        r = self.r0 + u * (self.r1 - self.r0)
        c = np.maximum(self.depth * r + grow_mm, 0.0)
        r = np.maximum(r + grow_mm, 1e-6)
        return 2.0 * c * np.sqrt(np.clip(1.0 - d2 / (r * r), 0.0, None))


def _rotated_coordinates(grid: Grid, center: tuple[float, float], angle_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (mm) relative to ``center``, rotated so that u runs along ``angle_deg``."""
    x, y = grid.coordinates()
    t = math.radians(angle_deg)
    u = (x - center[0]) * math.cos(t) + (y - center[1]) * math.sin(t)
    v = -(x - center[0]) * math.sin(t) + (y - center[1]) * math.cos(t)
    return u, v


@dataclass(frozen=True)
class Ellipsoid:
    """Ellipsoid centred at ``center`` (mm): in-plane semi-axes a (along angle_deg), b; beam semi-axis c."""

    center: tuple[float, float]
    a: float
    b: float
    c: float
    angle_deg: float = 0.0

    def chord(self, grid: Grid, grow_mm: float = 0.0) -> np.ndarray:
        """Chord length (mm) along the beam through the ellipsoid grown by ``grow_mm``."""
        u, v = _rotated_coordinates(grid, self.center, self.angle_deg)
        a, b, c = (max(s + grow_mm, 1e-6) for s in (self.a, self.b, self.c))
        return 2.0 * c * np.sqrt(np.clip(1.0 - (u / a) ** 2 - (v / b) ** 2, 0.0, None))


@dataclass(frozen=True)
class Dome(Ellipsoid):
    """Smooth thickening centred at ``center`` (mm): in-plane semi-axes a (along angle_deg), b; peak half-chord c.

    Same geometry as :class:`Ellipsoid`, another profile: the chord is 2c·(1 − q)² with
    q = (u/a)² + (v/b)², so it rises from zero with zero slope: in a union with a plate it
    thickens the bone without an edge (e.g. the supra-acetabular ilium).
    """

    def chord(self, grid: Grid, grow_mm: float = 0.0) -> np.ndarray:
        """Chord length (mm) along the beam through the dome grown by ``grow_mm``."""
        u, v = _rotated_coordinates(grid, self.center, self.angle_deg)
        a, b, c = (max(s + grow_mm, 1e-6) for s in (self.a, self.b, self.c))
        return 2.0 * c * np.clip(1.0 - (u / a) ** 2 - (v / b) ** 2, 0.0, None) ** 2


@dataclass(frozen=True)
class Plate:
    """Flat bone or slab: outline (mm, smoothed by a periodic spline), thickness (mm), optional holes.

    The rim is rounded with radius thickness/2, so the chord is the full thickness
    inside and falls to zero at the outline, as for a real plate seen face on.
    """

    polygon: tuple[tuple[float, float], ...]
    thickness_mm: float
    holes: tuple[tuple[tuple[float, float], ...], ...] = ()
    smooth: bool = True

    def chord(self, grid: Grid, grow_mm: float = 0.0) -> np.ndarray:
        """Chord length (mm) through the plate grown by ``grow_mm`` (negative shrinks)."""
        inside = _fill(self.polygon, grid, self.smooth)
        for hole in self.holes:
            inside &= ~_fill(hole, grid, self.smooth)
        dist = ndimage.distance_transform_edt(inside) * grid.pixel_mm
        # Where the outline is narrower than the plate is thick, the cross-section becomes
        # round (radius = local half-width), so a plate joins a tubular shaft smoothly.
        window = max(int(round(10.0 / grid.pixel_mm)) | 1, 3)
        half_width = ndimage.maximum_filter(dist, size=window)
        radius = np.maximum(np.minimum(self.thickness_mm / 2, half_width) + grow_mm, 1e-6)
        d = np.clip(dist + grow_mm, 0.0, radius)
        return 2.0 * np.sqrt(np.clip(radius * radius - (radius - d) ** 2, 0.0, None)) * inside


def smooth_outline(points: tuple[tuple[float, float], ...], n: int = 240) -> np.ndarray:
    """Closed outline (mm) through ``points`` as a periodic cubic spline, ``n`` samples."""
    pts = np.asarray(points, dtype=float)
    pts = np.vstack([pts, pts[:1]])
    tck, _ = splprep([pts[:, 0], pts[:, 1]], s=0, per=True, k=3)
    x, y = splev(np.linspace(0, 1, n, endpoint=False), tck)
    return np.column_stack([x, y])


def _fill(points: tuple[tuple[float, float], ...], grid: Grid, smooth: bool) -> np.ndarray:
    pts = smooth_outline(points) if smooth and len(points) >= 4 else np.asarray(points, dtype=float)
    # Pixels whose centres lie inside the outline (matplotlib's point-in-polygon test, over the
    # outline's bounding box only).
    x_lo, y_lo = np.floor(pts.min(axis=0) / grid.pixel_mm).astype(int)
    x_hi, y_hi = np.ceil(pts.max(axis=0) / grid.pixel_mm).astype(int)
    r0, r1 = max(y_lo, 0), min(y_hi + 1, grid.shape[0])
    c0, c1 = max(x_lo, 0), min(x_hi + 1, grid.shape[1])
    mask = np.zeros(grid.shape, dtype=bool)
    if r1 <= r0 or c1 <= c0:
        return mask
    cols, rows = np.meshgrid((np.arange(c0, c1) + 0.5) * grid.pixel_mm, (np.arange(r0, r1) + 0.5) * grid.pixel_mm)
    inside = PolygonPath(pts).contains_points(np.column_stack([cols.ravel(), rows.ravel()]))
    mask[r0:r1, c0:c1] = inside.reshape(rows.shape)
    return mask


Shape = Capsule | Ellipsoid | Dome | Plate


def union_chord(shapes: tuple[Shape, ...], grid: Grid, grow_mm: float = 0.0) -> np.ndarray:
    """Approximate chord (mm) through a union of shapes: the largest chord at each pixel."""
    out = np.zeros(grid.shape)
    for s in shapes:
        np.maximum(out, s.chord(grid, grow_mm), out=out)
    return out


def polyline_capsules(
    points: tuple[tuple[float, float], ...], radius: float, depth: float = 1.0
) -> tuple[Capsule, ...]:
    """Capsules of constant radius (mm) along a polyline (mm)."""
    return tuple(Capsule(p, q, radius, radius, depth) for p, q in zip(points[:-1], points[1:]))


# ---------------------------------------------------------------- specs ----


@dataclass(frozen=True)
class Bone:
    """A bone: its parts (union), cortical thickness (mm), trabecular bone volume fraction of the medulla."""

    name: str
    parts: tuple[Shape, ...]
    cortex_mm: float = 2.0
    trabecular_fraction: float = 0.12
    marrow: str = "yellow_marrow"
    # Optional cortical thickening along the bone: (p0, p1, cortex at p1 in mm). The cortex is
    # cortex_mm up to p0 and changes linearly to the given value at p1 (projected on p0 → p1),
    # e.g. from the thin subchondral plate of the femoral head to the thick diaphyseal cortex.
    cortex_ramp: tuple[tuple[float, float], tuple[float, float], float] | None = None


@dataclass(frozen=True)
class Joint:
    """A joint: name, intra-articular space shapes, centre (mm) and periarticular radius (mm)."""

    name: str
    space: tuple[Shape, ...]
    center: tuple[float, float]
    periarticular_radius_mm: float


@dataclass(frozen=True)
class BodySpec:
    """Everything a template places: envelope, fat/skin thickness (mm), inclusions, bones, joints, landmarks."""

    envelope: tuple[Shape, ...]
    skin_mm: float = 1.5
    fat_mm: float = 8.0
    muscles: tuple[Shape, ...] | None = None
    septa: tuple[Shape, ...] = ()
    fat_pads: tuple[Shape, ...] = ()
    tendons: tuple[Shape, ...] = ()
    vessels: tuple[Shape, ...] = ()
    lungs: tuple[Shape, ...] = ()
    bones: tuple[Bone, ...] = ()
    joints: tuple[Joint, ...] = ()
    landmarks: Mapping[str, object] = field(default_factory=dict)
    trabecular_scale_mm: float = 0.5  # grain of the cancellous texture (coarser for large fields)
    # Projections of subcutaneous fat that lies in front of or behind the muscles (e.g. the
    # buttock's fat over the gluteal muscles): added to the subcutaneous mask, over bone too
    # (the fat lies behind the bone, and its deposits project over it as on a real radiograph).
    subcutaneous_regions: tuple[Shape, ...] = ()


@dataclass(frozen=True)
class Anatomy:
    """A built template: thickness maps (mm) by material id, compartment masks, landmarks (mm)."""

    site: str
    projection: str
    grid: Grid
    thickness_mm: Mapping[str, np.ndarray]
    masks: Mapping[str, np.ndarray]
    bone_mask: np.ndarray
    body_mask: np.ndarray
    landmarks: Mapping[str, object]


# ------------------------------------------------------------- assembly ----

HOST_ORDER: tuple[str, ...] = ("muscle", "soft_tissue", "adipose", "skin")


def displace(
    thickness: dict[str, np.ndarray], material: str, amount: np.ndarray, hosts: tuple[str, ...] = HOST_ORDER
) -> None:
    """Put ``amount`` mm of ``material`` in place of host tissue, taken from ``hosts`` in order (in place)."""
    remaining = amount.copy()
    for host in hosts:
        if host not in thickness or not remaining.any():
            continue
        take = np.minimum(thickness[host], remaining)
        thickness[host] -= take
        remaining -= take
    thickness[material] = thickness.get(material, np.zeros_like(amount)) + amount


def trabecular_texture(grid: Grid, rng: np.random.Generator, scale_mm: float = 0.5) -> np.ndarray:
    """Random field around 1 (about 0.5–1.5) that gives cancellous bone its texture.

    Band-passed noise, slightly elongated vertically (trabeculae along the load).
    """
    white = rng.standard_normal(grid.shape)
    sigma = max(scale_mm / grid.pixel_mm, 0.6)
    noise = ndimage.gaussian_filter(white, (1.8 * sigma, sigma)) - ndimage.gaussian_filter(white, 4 * sigma)
    noise /= noise.std() or 1.0
    return np.clip(1.0 + 0.18 * noise, 0.4, 1.6)


def eroded_chord(chord: np.ndarray, depth_mm: float, pixel_mm: float) -> np.ndarray:
    """Chord (mm) through a body eroded by a ball of radius ``depth_mm`` (its medulla, for a cortex).

    The body is symmetric about the mid-plane, |z| ≤ H(x, y) with H = chord/2, so the
    erosion is a grey-scale erosion of H by a ball: H'(p) = min over |q−p| ≤ r of
    H(q) − sqrt(r² − |q−p|²). Exact for unions of the primitives here, so a bone made
    of several parts has one continuous cortex, with no seams inside.
    """
    rows, cols = np.nonzero(chord > 0)
    if rows.size == 0:
        return np.zeros_like(chord)
    r_px = max(int(math.ceil(depth_mm / pixel_mm)), 1)
    r0, r1 = max(rows.min() - r_px, 0), min(rows.max() + r_px + 1, chord.shape[0])
    c0, c1 = max(cols.min() - r_px, 0), min(cols.max() + r_px + 1, chord.shape[1])
    offs = np.arange(-r_px, r_px + 1) * pixel_mm
    rho2 = offs[:, None] ** 2 + offs[None, :] ** 2
    footprint = rho2 <= depth_mm**2 + 1e-9
    ball = np.where(footprint, np.sqrt(np.clip(depth_mm**2 - rho2, 0.0, None)), 0.0)
    half = chord[r0:r1, c0:c1] / 2.0
    eroded = ndimage.grey_erosion(half, footprint=footprint, structure=ball, mode="nearest")
    out = np.zeros_like(chord)
    out[r0:r1, c0:c1] = 2.0 * np.clip(eroded, 0.0, None)
    return np.minimum(out, chord)


def _band(mask: np.ndarray, width_px: int) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, iterations=max(width_px, 1))


def assemble(spec: BodySpec, grid: Grid, site: str, projection: str, seed: int = 0) -> Anatomy:
    """Build thickness maps (mm) and compartment masks of ``spec`` on ``grid``."""
    rng = np.random.default_rng(seed)
    outer = union_chord(spec.envelope, grid)
    fat_outer = union_chord(spec.envelope, grid, -spec.skin_mm)
    muscle_shapes = spec.muscles if spec.muscles is not None else spec.envelope
    muscle_grow = 0.0 if spec.muscles is not None else -(spec.skin_mm + spec.fat_mm)
    muscle_outer = np.minimum(union_chord(muscle_shapes, grid, muscle_grow), fat_outer)
    muscle_inner = np.minimum(union_chord(muscle_shapes, grid, muscle_grow - 0.8), muscle_outer)
    th: dict[str, np.ndarray] = {
        "skin": outer - fat_outer,
        "adipose": fat_outer - muscle_outer,
        "soft_tissue": muscle_outer - muscle_inner,
        "muscle": muscle_inner.copy(),
    }
    for material, shapes, hosts in (
        ("lung", spec.lungs, ("muscle",)),
        ("adipose", spec.septa, ("muscle",)),
        ("adipose", spec.fat_pads, ("muscle", "soft_tissue")),
        ("soft_tissue", spec.tendons, ("adipose", "muscle")),
        ("blood", spec.vessels, ("muscle", "adipose")),
    ):
        if shapes:
            displace(th, material, union_chord(shapes, grid), hosts)
    texture = trabecular_texture(grid, rng, spec.trabecular_scale_mm)
    bone_mask = np.zeros(grid.shape, dtype=bool)
    for bone in spec.bones:
        out_c = union_chord(bone.parts, grid)
        in_c = eroded_chord(out_c, bone.cortex_mm, grid.pixel_mm)
        if bone.cortex_ramp is not None:
            (rx0, ry0), (rx1, ry1), cortex1 = bone.cortex_ramp
            x, y = grid.coordinates()
            length2 = (rx1 - rx0) ** 2 + (ry1 - ry0) ** 2 or 1e-12
            t = np.clip(((x - rx0) * (rx1 - rx0) + (y - ry0) * (ry1 - ry0)) / length2, 0.0, 1.0)
            in_c = in_c * (1 - t) + eroded_chord(out_c, cortex1, grid.pixel_mm) * t
        trab = bone.trabecular_fraction * in_c * texture
        displace(th, "cortical_bone", out_c - in_c + trab, HOST_ORDER)
        displace(th, bone.marrow, in_c - trab, HOST_ORDER)
        bone_mask |= out_c > 0.05
    for key in list(th):
        th[key] = np.clip(th[key], 0.0, None)

    px = grid.pixel_mm
    body = outer > 0
    muscle_region = muscle_outer > 0.5
    if spec.lungs:
        muscle_region &= ~(union_chord(spec.lungs, grid) > 0)
    septa = union_chord(spec.septa, grid) > 0 if spec.septa else np.zeros(grid.shape, bool)
    vascular = (union_chord(spec.vessels, grid, 1.0) > 0) if spec.vessels else np.zeros(grid.shape, bool)
    fascial = (
        _band(muscle_region, round(2.5 / px)) | ndimage.binary_dilation(septa, iterations=max(1, round(1 / px)))
    ) & body
    masks = {
        "vascular": vascular & body,
        "subcutaneous": body & ~(muscle_outer > 0) & ~bone_mask,
        "fascial": fascial & ~vascular,
        "muscle": muscle_region & ~fascial & ~vascular,
    }
    if spec.subcutaneous_regions:
        masks["subcutaneous"] |= (union_chord(spec.subcutaneous_regions, grid) > 0) & body & ~vascular
    if spec.joints:
        x, y = grid.coordinates()
        space = np.zeros(grid.shape, bool)
        near = np.zeros(grid.shape, bool)
        for joint in spec.joints:
            space |= union_chord(joint.space, grid) > 0
            near |= (x - joint.center[0]) ** 2 + (y - joint.center[1]) ** 2 <= joint.periarticular_radius_mm**2
        # Compartments are 3-D; their projections overlap bone, as real ones do on a radiograph.
        masks["intraarticular"] = space & body
        tendons = union_chord(spec.tendons, grid) > 0 if spec.tendons else np.zeros(grid.shape, bool)
        # Periarticular tissue surrounds the joint in 3-D, so its projection covers the joint region.
        masks["periarticular"] = near & body
        masks["subcutaneous"] &= ~(near & tendons)
    if not spec.vessels:
        del masks["vascular"]
    landmarks = dict(spec.landmarks)
    landmarks.setdefault("joints", {j.name: j.center for j in spec.joints})
    return Anatomy(
        site,
        projection,
        grid,
        MappingProxyType(th),
        MappingProxyType(masks),
        bone_mask,
        body,
        MappingProxyType(landmarks),
    )


# ------------------------------------------------------------ templates ----


def _cap(x0: float, y0: float, x1: float, y1: float, r0: float, r1: float | None = None, depth: float = 1.0) -> Capsule:
    return Capsule((x0, y0), (x1, y1), r0, r0 if r1 is None else r1, depth)


def _phalanx(x0: float, y0: float, x1: float, y1: float, r0: float, r1: float, gap: float = 1.6) -> tuple[Shape, ...]:
    """A short tubular bone from (x0, y0) to (x1, y1) mm: waisted shaft and flared base and head."""
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    angle = math.degrees(math.atan2(uy, ux))
    base = Ellipsoid((x0 + ux * (gap + r0 * 0.55), y0 + uy * (gap + r0 * 0.55)), r0 * 0.55, r0, r0 * 0.9, angle)
    head = Ellipsoid((x1 - ux * (gap + r1 * 0.5), y1 - uy * (gap + r1 * 0.5)), r1 * 0.5, r1 * 0.85, r1 * 0.8, angle)
    shaft = _cap(
        x0 + ux * (gap + r0),
        y0 + uy * (gap + r0),
        x1 - ux * (gap + r1 * 0.7),
        y1 - uy * (gap + r1 * 0.7),
        r0 * 0.72,
        r1 * 0.68,
    )
    return base, shaft, head


def _long_bone(
    name: str,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    r0: float,
    r1: float,
    cortex: float,
    ends: tuple[Ellipsoid, ...] = (),
    trabecular: float = 0.10,
) -> Bone:
    return Bone(name, (_cap(x0, y0, x1, y1, r0, r1),) + ends, cortex, trabecular)


def _segment(w: float, h: float, projection: str, kind: str) -> BodySpec:
    """Arm, forearm, thigh or leg: a tapered limb cylinder with its long bones, septa and artery."""
    cx = w / 2
    lateral = projection == "lateral"
    # radius top/bottom (mm), fat (mm), depth ratio, bones as (dx, r_top, r_bottom, cortex)
    table = {
        "forearm": (
            40,
            31,
            6.0,
            0.75,
            [(-17, 6.5, 10.0, 2.2), (16, 8.5, 6.0, 2.2)] if not lateral else [(-3, 7.0, 10.5, 2.2), (4, 9.0, 6.5, 2.2)],
        ),
        "arm": (48, 40, 9.0, 1.0, [(4 if not lateral else -2, 11.5, 10.5, 4.0)]),
        "thigh": (82, 66, 14.0, 1.0, [(8 if not lateral else -6, 15.0, 14.0, 6.0)]),
        "leg": (
            52,
            36,
            7.0,
            0.9,
            [(-10, 14.0, 11.0, 5.0), (22, 7.0, 6.5, 2.5)]
            if not lateral
            else [(-9, 14.0, 11.0, 5.0), (10, 7.0, 6.5, 2.5)],
        ),
    }
    r_top, r_bot, fat, depth, bones = table[kind]
    envelope = (_cap(cx, -30, cx, h + 30, r_top, r_bot, depth),)
    skin = 1.5
    inner_top, inner_bot = r_top - skin - fat, r_bot - skin - fat
    # artery: medial in frontal views, posterior in lateral views (image right)
    art_dx = {"forearm": 2.0, "arm": -22.0, "thigh": -30.0, "leg": 8.0}[kind]
    if lateral:
        art_dx = {"forearm": 12.0, "arm": 16.0, "thigh": 30.0, "leg": 18.0}[kind]
    # a gently winding course, as arteries have
    artery = tuple(
        (cx + art_dx * (1.05 - 0.1 * f) + 2.5 * math.sin(5.0 * f + 0.7), -30.0 + f * (h + 60.0))
        for f in np.linspace(0.0, 1.0, 9)
    )
    vessels = polyline_capsules(artery, 2.2 if kind in ("forearm", "leg") else 3.5)
    septa_dx = [-0.45, 0.35] if kind != "forearm" else [0.0]
    septa = tuple(_cap(cx + f * inner_top, -30, cx + f * inner_bot, h + 30, 0.9, 0.9, 0.9) for f in septa_dx)
    bone_objs = tuple(
        _long_bone(f"bone{i}", cx + dx, -40, cx + dx, h + 40, rt, rb, cort)
        for i, (dx, rt, rb, cort) in enumerate(bones)
    )
    fascia_lines = [((cx - inner_top, 0.0), (cx - inner_bot, h)), ((cx + inner_top, 0.0), (cx + inner_bot, h))]
    fascia_lines += [((cx + f * inner_top, 0.0), (cx + f * inner_bot, h)) for f in septa_dx]
    return BodySpec(
        envelope=envelope,
        skin_mm=skin,
        fat_mm=fat,
        septa=septa,
        vessels=vessels,
        bones=bone_objs,
        landmarks={
            "artery": artery,
            "artery_radius_mm": vessels[0].r0,
            "fascia_lines": tuple(fascia_lines),
            "fibre_angle_deg": 90.0,
            "muscle_center": (cx + (-0.3 if kind != "leg" else 0.3) * inner_top, h / 2),
            "limb_half_width_mm": (r_top + r_bot) / 2,
        },
    )


def _mirror_x(cx: float, half: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """Symmetric outline about x = cx from its right half given as (dx, y) pairs, top to bottom."""
    right = [(cx + dx, y) for dx, y in half]
    left = [(cx - dx, y) for dx, y in reversed(half) if dx != 0]
    return tuple(right + left)


def _rib(x_spine: float, y_spine: float, x_lat: float, y_lat: float) -> tuple[Capsule, ...]:
    """A posterior rib (mm): from the spine (right edge) arching up and out to the lateral chest wall."""
    pts = []
    for k in range(13):
        t = k / 12
        x = x_spine + (x_lat - x_spine) * (1 - (1 - t) ** 1.6)
        y = y_spine + (y_lat - y_spine) * t**2.2 - 10 * math.sin(math.pi * t)
        pts.append((x, y))
    return polyline_capsules(tuple(pts), 4.0, 0.6)


def _knee(w: float, h: float, projection: str) -> BodySpec:
    cx, jy = w / 2, h * 0.52
    if projection == "frontal":
        envelope = (_cap(cx, -30, cx, jy - 10, 66, 52), _cap(cx, jy - 10, cx, h + 30, 52, 46, 0.95))
        femur = Bone(
            "femur",
            (
                _cap(cx, -40, cx, jy - 60, 14, 15),
                Plate(
                    _mirror_x(
                        cx,
                        (
                            (0, jy - 88),
                            (9, jy - 86),
                            (16, jy - 70),
                            (24, jy - 50),
                            (38, jy - 32),
                            (42, jy - 16),
                            (38, jy - 5),
                            (25, jy - 1),
                            (11, jy - 5),
                            (4, jy - 13),
                        ),
                    ),
                    52.0,
                ),
            ),
            3.0,
            0.16,
            "red_marrow",
        )
        tibia = Bone(
            "tibia",
            (
                Plate(
                    _mirror_x(
                        cx,
                        (
                            (3, jy - 1),
                            (7, jy + 3),
                            (20, jy + 5),
                            (40, jy + 7),
                            (41, jy + 17),
                            (30, jy + 36),
                            (18, jy + 62),
                            (9, jy + 86),
                            (0, jy + 88),
                        ),
                    ),
                    48.0,
                ),
                _cap(cx, jy + 70, cx, h + 40, 15, 13),
            ),
            2.6,
            0.16,
            "red_marrow",
        )
        fibula = Bone(
            "fibula",
            (Ellipsoid((cx + 37, jy + 28), 9, 11, 10), _cap(cx + 36, jy + 36, cx + 30, h + 40, 6.5, 5.5)),
            2.0,
            0.12,
        )
        patella = Bone("patella", (Ellipsoid((cx + 2, jy - 36), 19, 23, 7),), 0.8, 0.06, "red_marrow")
        space = (
            Ellipsoid((cx, jy + 2), 50, 8, 40),
            Ellipsoid((cx - 20, jy - 15), 28, 28, 26),
            Ellipsoid((cx + 20, jy - 15), 28, 28, 26),
        )
        menisci = ((cx - 44, jy + 2), (cx - 22, jy + 2), (cx + 22, jy + 2), (cx + 44, jy + 2))
        artery = ((cx + 4, -30.0), (cx + 2, jy), (cx - 2, h + 30.0))
        septa = (_cap(cx - 40, -30, cx - 28, jy - 60, 1.0), _cap(cx + 40, -30, cx + 30, jy - 60, 1.0))
        joint_line = ((cx - 44, jy + 3), (cx - 4, jy + 4), (cx + 4, jy + 4), (cx + 44, jy + 3))
        cartilage = (
            ((cx - 40, jy - 5), (cx - 20, jy - 1), (cx - 6, jy - 5)),
            ((cx + 6, jy - 5), (cx + 20, jy - 1), (cx + 40, jy - 5)),
            ((cx - 38, jy + 6), (cx - 8, jy + 7)),
            ((cx + 8, jy + 7), (cx + 38, jy + 6)),
        )
        lateral_side = (cx + 58, jy - 5)
        return BodySpec(
            envelope=envelope,
            fat_mm=10,
            septa=septa,
            vessels=polyline_capsules(artery, 3.5),
            bones=(femur, tibia, fibula, patella),
            joints=(Joint("knee", space, (cx, jy), 75.0),),
            landmarks={
                "artery": artery,
                "artery_radius_mm": 3.5,
                "joint_line": joint_line,
                "lateral_recess": (cx + 44, jy - 6),
                "cartilage_lines": cartilage,
                "menisci": menisci,
                "lateral_side": lateral_side,
                "fibre_angle_deg": 90.0,
                "muscle_center": (cx - 30, jy - 80),
                "fascia_lines": (((cx - 45, 0.0), (cx - 40, jy - 30)), ((cx + 45, 0.0), (cx + 40, jy - 30))),
            },
        )
    # lateral: anterior to the left, posterior to the right
    ax = cx - 8
    envelope = (_cap(ax + 8, -30, ax + 10, jy - 5, 66, 60), _cap(ax + 10, jy - 5, ax + 12, h + 30, 60, 48))
    femur = Bone(
        "femur",
        (
            _cap(ax - 2, -40, ax, jy - 60, 14, 15),
            Plate(
                (
                    (ax - 8, jy - 88),
                    (ax + 8, jy - 88),
                    (ax + 16, jy - 70),
                    (ax + 30, jy - 46),
                    (ax + 38, jy - 26),
                    (ax + 34, jy - 8),
                    (ax + 22, jy - 1),
                    (ax + 6, jy - 1),
                    (ax - 10, jy - 6),
                    (ax - 22, jy - 18),
                    (ax - 26, jy - 34),
                    (ax - 22, jy - 52),
                    (ax - 18, jy - 70),
                ),
                60.0,
            ),
        ),
        3.0,
        0.16,
        "red_marrow",
    )
    tibia = Bone(
        "tibia",
        (
            Plate(
                (
                    (ax - 30, jy + 7),
                    (ax - 10, jy + 5),
                    (ax + 10, jy + 6),
                    (ax + 30, jy + 9),
                    (ax + 32, jy + 18),
                    (ax + 22, jy + 40),
                    (ax + 16, jy + 64),
                    (ax + 8, jy + 88),
                    (ax - 8, jy + 88),
                    (ax - 16, jy + 64),
                    (ax - 28, jy + 40),
                    (ax - 34, jy + 24),
                ),
                60.0,
            ),
            _cap(ax, jy + 70, ax - 2, h + 40, 15, 13),
        ),
        2.6,
        0.16,
        "red_marrow",
    )
    fibula = Bone("fibula", (_cap(ax + 26, jy + 28, ax + 22, h + 40, 8, 6),), 2.0, 0.12)
    patella = Bone("patella", (Ellipsoid((ax - 44, jy - 26), 9, 22, 22, 8),), 1.6, 0.2, "red_marrow")
    quad_tendon = (_cap(ax - 42, -30, ax - 46, jy - 46, 4, 4, 3.0),)
    pat_tendon = (_cap(ax - 42, jy - 4, ax - 32, jy + 36, 3.5, 3.0, 3.0),)
    fat_pads = (
        Ellipsoid((ax - 30, jy + 4), 9, 16, 22, 10),  # Hoffa
        Ellipsoid((ax - 32, jy - 64), 6, 22, 18, 5),
    )  # suprapatellar (prefemoral)
    space = (
        Ellipsoid((ax + 2, jy + 2), 38, 7, 35, -6),
        Ellipsoid((ax - 28, jy - 56), 8, 24, 22, 5),
        Ellipsoid((ax + 6, jy - 20), 34, 30, 40),
    )
    artery = ((ax + 40, -30.0), (ax + 46, jy - 30), (ax + 42, jy + 20), (ax + 36, h + 30.0))
    fascia = (
        ((ax + 50, 20.0), (ax + 44, jy - 40), (ax + 40, jy + 60), (ax + 38, h - 10)),
        ((ax - 48, 20.0), (ax - 52, jy - 60)),
        ((ax + 20, jy + 50), (ax + 14, h - 10)),
        ((ax + 28, 10.0), (ax + 24, jy - 60)),
    )
    septa = tuple(c for line in fascia[2:] for c in polyline_capsules(line, 0.9))
    return BodySpec(
        envelope=envelope,
        fat_mm=9,
        septa=septa,
        fat_pads=fat_pads,
        tendons=quad_tendon + pat_tendon,
        vessels=polyline_capsules(artery, 3.5),
        bones=(femur, tibia, fibula, patella),
        joints=(Joint("knee", space, (ax, jy), 75.0),),
        landmarks={
            "artery": artery,
            "artery_radius_mm": 3.5,
            "fascia_lines": fascia,
            "popliteal_fossa": (ax + 45, jy - 34),
            "joint_line": ((ax - 30, jy + 5), (ax + 34, jy - 2)),
            "fibre_angle_deg": 90.0,
            "muscle_center": (ax + 30, jy + 70),
            "lateral_side": (ax + 50, jy),
        },
    )


def _shoulder(w: float, h: float, projection: str, head_elevation_mm: float = 0.0) -> BodySpec:
    """Right shoulder, frontal: thorax to the image right, humerus to the left (as on a chest film)."""
    hx, hy0 = w * 0.36, h * 0.40
    hy = hy0 - head_elevation_mm  # the humeral head migrates up; glenoid and acromion stay
    gx = hx + 30
    torso = Plate(((w * 0.52, -40), (w + 40, -40), (w + 40, h + 40), (w * 0.55, h + 40)), 210.0)
    envelope = (
        _cap(hx - 8, h * 0.35, hx - 16, h + 40, 50, 42),  # arm
        Ellipsoid((hx + 6, h * 0.37), 64, 70, 60),  # deltoid cap
        _cap(hx + 50, h * 0.22, w + 40, h * 0.12, 44, 60),  # trapezius / neck base
        torso,
    )
    lungs = (
        Plate(
            ((w * 0.66, h * 0.30), (w * 0.78, h * 0.2), (w + 40, h * 0.18), (w + 40, h + 40), (w * 0.64, h + 40)), 150.0
        ),
    )
    # proximal humerus as one outline: head facing the glenoid, greater tuberosity laterally
    humerus = Bone(
        "humerus",
        (
            Ellipsoid((hx + 1, hy - 1), 24, 24, 24),
            Plate(
                (
                    (hx - 20, hy - 18),
                    (hx - 6, hy - 20),
                    (hx + 8, hy + 10),
                    (hx + 2, hy + 36),
                    (hx - 1, hy + 70),
                    (hx - 2, hy + 120),
                    (hx - 3, h + 60),
                    (hx - 25, h + 60),
                    (hx - 25, hy + 120),
                    (hx - 25, hy + 70),
                    (hx - 27, hy + 36),
                    (hx - 30, hy + 6),
                    (hx - 27, hy - 8),
                ),
                40.0,
            ),
        ),
        2.6,
        0.16,
        "red_marrow",
    )
    scap_pts = (
        (gx + 1, hy0 - 24),
        (gx + 10, hy0 - 30),
        (gx + 30, hy0 - 36),
        (w * 0.80, h * 0.25),
        (w * 0.84, h * 0.30),
        (w * 0.74, h * 0.86),
        (w * 0.70, h * 0.88),
        (gx + 14, hy0 + 34),
        (gx + 4, hy0 + 24),
    )
    lateral_border = polyline_capsules(((gx + 6, hy0 + 20), (gx + 24, hy0 + 70), (w * 0.71, h * 0.86)), 4.0, 1.0)
    coracoid = (_cap(gx + 16, hy0 - 30, gx + 2, hy0 - 44, 5.0, 4.0),)
    scapula = Bone(
        "scapula",
        (Plate(scap_pts, 5.0, smooth=False), Ellipsoid((gx + 6, hy0), 7, 24, 16)) + lateral_border + coracoid,
        1.2,
        0.15,
        "red_marrow",
    )
    acromion = Bone(
        "acromion",
        (
            Plate(
                (
                    (hx - 26, hy0 - 46),
                    (hx + 10, hy0 - 56),
                    (gx + 30, hy0 - 68),
                    (gx + 36, hy0 - 58),
                    (hx + 16, hy0 - 42),
                    (hx - 24, hy0 - 36),
                ),
                9.0,
            ),
        ),
        1.5,
        0.15,
        "red_marrow",
    )
    clav = ((hx - 6, hy0 - 54), (hx + 30, hy0 - 60), (w * 0.62, h * 0.16), (w * 0.80, h * 0.10), (w + 30, h * 0.12))
    clavicle = Bone("clavicle", polyline_capsules(clav, 7.5, 0.8), 2.2, 0.12, "red_marrow")
    ribs = tuple(
        Bone(
            f"rib{i}",
            _rib(w, h * (0.08 + 0.135 * i), w * (0.57 + 0.012 * i), h * (0.32 + 0.14 * i)),
            1.2,
            0.1,
            "red_marrow",
        )
        for i in range(6)
    )
    space = (Ellipsoid((hx + 22, (hy + hy0) / 2), 12, 32, 24),)
    tendon = ((hx - 26, hy - 24), (hx - 10, hy - 33), (hx + 12, hy - 37))
    artery = ((w * 0.70, h * 0.22), (gx + 16, hy + 44), (hx + 8, hy + 66), (hx - 8, h + 30))
    bursa = (hx - 4, hy - 34)
    return BodySpec(
        envelope=envelope,
        fat_mm=9,
        lungs=lungs,
        vessels=polyline_capsules(artery, 3.0),
        septa=(_cap(hx - 30, hy + 20, hx - 50, h + 40, 0.9, 0.9, 0.8),),
        bones=(humerus, scapula, acromion, clavicle) + ribs,
        joints=(Joint("glenohumeral", space, (hx + 6, hy - 8), 56.0),),
        landmarks={
            "supraspinatus_tendon": tendon,
            "subacromial_bursa": bursa,
            "humeral_head": (hx, hy),
            "humeral_head_radius_mm": 25.0,
            "glenoid": (gx + 6, hy),
            "artery": artery,
            "artery_radius_mm": 3.0,
            "muscle_center": (hx - 10, hy + 40),
            "fibre_angle_deg": 98.0,
            "fascia_lines": (
                ((hx - 52, hy - 20), (hx - 58, h * 0.7), (hx - 56, h - 5)),
                ((hx - 30, hy + 20), (hx - 50, h - 5)),
                ((hx + 36, hy + 60), (hx + 26, h - 5)),
            ),
        },
    )


def _arc(cx: float, cy: float, r: float, a0: float, a1: float, n: int = 10) -> tuple[tuple[float, float], ...]:
    """Points (mm) on a circular arc about (cx, cy) of radius r from angle a0 to a1 (degrees, y down)."""
    return tuple(
        (
            cx + r * math.cos(math.radians(a0 + (a1 - a0) * k / n)),
            cy + r * math.sin(math.radians(a0 + (a1 - a0) * k / n)),
        )
        for k in range(n + 1)
    )


def _smooth_line(points: tuple[tuple[float, float], ...], n: int = 24) -> tuple[tuple[float, float], ...]:
    """An open polyline (mm) resampled along a cubic spline through ``points`` (``n`` + 1 points)."""
    pts = np.asarray(points, dtype=float)
    tck, _ = splprep([pts[:, 0], pts[:, 1]], s=0, k=min(3, len(pts) - 1))
    x, y = splev(np.linspace(0, 1, n + 1), tck)
    return tuple((float(a), float(b)) for a, b in zip(x, y))


_HIP_TRABECULAR_MM = 1.2


def _hip(w: float, h: float, projection: str, view: str = "hip") -> BodySpec:
    """Right hip and hemipelvis, AP: pelvis to the image right, femur to the left (patient facing).

    Offsets are mm from the femoral head centre (x medial, y down). The hemipelvis has an
    iliac wing (thin fossa; thicker crest, supra-acetabular body and posterior ilium), the
    acetabular roof (sourcil) and walls over the head, the teardrop, the iliopectineal and
    ilioischial lines, the pubic rami, ischium and tuberosity framing the obturator foramen,
    the symphysis, and the sacral ala across the sacroiliac joint. The femur has a head with a
    thin subchondral cortex, a neck at 130° to the shaft, the greater and lesser trochanters
    and a shaft whose cortex thickens distally. The body is about 23 cm thick (AP), with
    subcutaneous fat and fat planes (gluteal, iliopsoas, obturator internus, adductor).
    ``view='buttock'`` shows the same pelvis on a wider field centred higher, on the gluteal
    region, where the buttock's subcutaneous fat overlies the gluteal muscles (injection sites).
    """
    buttock = view == "buttock"
    hx, hy = (w * 0.47, h * 0.66) if buttock else (w * 0.49, h * 0.58)

    def P(dx: float, dy: float) -> tuple[float, float]:
        return (hx + dx, hy + dy)

    def pts(*offsets: tuple[float, float]) -> tuple[tuple[float, float], ...]:
        return tuple(P(dx, dy) for dx, dy in offsets)

    # body: an elliptic cylinder about the midline (23 cm AP), narrower at the waist, widest over the trochanter
    mx = hx + 108
    depth = 0.52
    envelope = (
        _cap(mx, hy - 300, mx, hy - 90, 198, 200, depth),
        _cap(mx, hy - 90, mx, hy + 20, 200, 220, depth),
        _cap(mx, hy + 20, mx, hy + 110, 220, 212, depth),
        _cap(mx, hy + 110, mx, hy + 300, 212, 200, depth),
    )
    fat = 30.0 if buttock else 24.0
    # pelvis: wing, domes of thicker bone, dense lines seen tangentially, pubis–ischium frame
    wing = Plate(
        pts(
            (-27, -18),
            (-33, -40),
            (-38, -50),
            (-37, -58),
            (-45, -75),
            (-52, -96),
            (-48, -118),
            (-32, -133),
            (-8, -142),
            (16, -140),
            (36, -129),
            (48, -114),
            (54, -95),
            (53, -70),
            (46, -50),
            (40, -28),
            (36, -6),
            (34, 12),
            (26, 22),
            (14, 14),
            (0, 2),
            (-14, -8),
        ),
        10.0,
    )
    crest_line = _smooth_line(
        pts((-45, -76), (-52, -96), (-48, -118), (-32, -133), (-8, -142), (16, -140), (36, -129), (50, -110)), 32
    )
    crest = polyline_capsules(crest_line, 4.5, 1.4)
    domes = (
        Dome(P(2, -36), 44, 30, 10, -5),  # supra-acetabular body
        Dome(P(38, -84), 16, 44, 9, -18),  # posterior ilium at the sacroiliac joint
        Dome(P(-38, -52), 8, 10, 8),  # anterior inferior iliac spine
        Dome(P(16, 84), 18, 24, 14, -10),  # ischial tuberosity
        Dome(P(94, 50), 12, 26, 10, 6),
    )  # pubic body
    roof = _arc(hx, hy, 27.0, -150, -50, 12)
    sourcil = polyline_capsules(roof, 2.0, 5.0)
    walls = (
        polyline_capsules(_smooth_line(pts((-26, -16), (-24, 2), (-16, 18), (-2, 26)), 8), 1.3, 1.8)  # posterior
        + polyline_capsules(_smooth_line(pts((-14, -24), (-4, -6), (6, 12), (12, 22)), 8), 1.1, 1.6)
    )  # anterior
    teardrop = polyline_capsules(_smooth_line(pts((24, -6), (25, 12), (29, 21), (34, 17), (36, 0)), 12), 1.8, 3.5)
    brim = polyline_capsules(
        _smooth_line(pts((52, -72), (44, -48), (38, -26), (36, -6), (42, 12), (60, 22), (82, 28), (100, 34)), 32),
        2.0,
        2.5,
    )  # iliopectineal line
    ilioischial = polyline_capsules(_smooth_line(pts((44, -40), (38, -14), (34, 16), (29, 50)), 12), 1.6, 2.5)
    frame = Plate(
        pts(
            (10, 4),
            (30, 8),
            (50, 15),
            (72, 20),
            (92, 22),
            (104, 28),
            (106, 52),
            (104, 70),
            (94, 78),
            (76, 88),
            (56, 100),
            (40, 108),
            (24, 110),
            (8, 104),
            (2, 88),
            (4, 64),
            (7, 40),
            (7, 20),
        ),
        16.0,
        holes=(
            tuple(
                (
                    hx
                    + 51
                    + 16 * math.cos(math.radians(t)) * math.cos(0.35)
                    - 27 * math.sin(math.radians(t)) * math.sin(0.35),
                    hy
                    + 61
                    + 16 * math.cos(math.radians(t)) * math.sin(0.35)
                    + 27 * math.sin(math.radians(t)) * math.cos(0.35),
                )
                for t in range(0, 360, 30)
            ),
        ),
    )  # obturator foramen, oval, long axis tilted
    other_pubis = Plate(pts((111, 28), (160, 18), (160, 84), (111, 72)), 16.0)
    pelvis = Bone(
        "pelvis",
        (wing, frame, other_pubis) + crest + domes + sourcil + walls + teardrop + brim + ilioischial,
        1.4,
        0.12,
        "red_marrow",
    )
    sacrum = Bone(
        "sacrum",
        (
            Plate(
                pts(
                    (57, -124),
                    (80, -132),
                    (180, -138),
                    (180, -30),
                    (112, -18),
                    (100, -22),
                    (84, -40),
                    (70, -58),
                    (60, -80),
                    (57, -100),
                ),
                16.0,
            ),
        )
        # the arcuate lines roofing the anterior sacral foramina
        + tuple(
            c
            for fx, fy in ((86, -108), (90, -80), (96, -54))
            for c in polyline_capsules(_arc(hx + fx, hy + fy, 6.0, -200, 20, 6), 1.3, 2.5)
        ),
        1.2,
        0.10,
        "red_marrow",
    )
    # femur: head r 23 mm, neck at 130° to the shaft, trochanters, shaft
    head = Ellipsoid(P(0, 0), 23, 23, 23)
    proximal = Plate(
        pts(
            (-14, -17),
            (-28, -11),
            (-42, -7),
            (-50, -10),
            (-56, -16),
            (-66, -10),
            (-75, 4),
            (-79, 22),
            (-76, 42),
            (-68, 58),
            (-65, 90),
            (-64, 240),
            (-31, 240),
            (-30, 96),
            (-30, 80),
            (-22, 74),
            (-17, 66),
            (-22, 58),
            (-26, 50),
            (-18, 36),
            (-8, 26),
            (-2, 22),
        ),
        30.0,
    )
    femur = Bone("femur", (head, proximal), 1.5, 0.11, "red_marrow", cortex_ramp=(P(-40, 40), P(-48, 110), 5.5))
    space = (Ellipsoid(P(0, 0), 27, 27, 26), Ellipsoid(P(-22, 20), 28, 17, 24, 140))
    # soft tissue: fat planes seen tangentially, the femoral vessels
    planes = (
        ((hx - 30, hy - 36), (hx - 52, hy - 22), (hx - 70, hy - 6)),  # gluteal
        ((hx + 18, hy - 30), (hx + 8, hy + 22), (hx - 10, hy + 60), (hx - 16, hy + 110)),  # iliopsoas
        ((hx + 46, hy - 20), (hx + 44, hy + 30), (hx + 36, hy + 80)),  # obturator internus
        ((hx + 14, hy + 110), (hx + 6, hy + 240)),
    )  # adductors
    septa = tuple(
        c for line in planes for c in polyline_capsules(_smooth_line(line, 8) if len(line) > 2 else line, 2.0, 6.0)
    )
    artery = (
        (hx + 62, hy - 160),
        (hx + 48, hy - 60),
        (hx + 22, hy - 20),
        (hx + 12, hy + 20),
        (hx - 6, hy + 90),
        (hx - 24, hy + 240),
    )
    injection = P(-50, -72)  # upper outer quadrant of the buttock
    landmarks = {
        "artery": artery,
        "artery_radius_mm": 4.0,
        "trochanteric_bursa": P(-84, 24),
        "bridge_from": P(-40, -74),
        "bridge_to": P(-70, 100),
        "femoral_head": P(0, 0),
        "femoral_head_radius_mm": 23.0,
        "greater_trochanter": P(-66, 10),
        "lesser_trochanter": P(-22, 66),
        "acetabular_roof": roof,
        "teardrop": P(30, 16),
        "obturator_foramen": P(51, 62),
        "iliac_crest": crest_line,
        "symphysis": P(108, 50),
        "sacroiliac_joint": pts((56, -122), (55, -96), (60, -70), (70, -50)),
        "injection_site": injection,
        "muscle_center": injection if buttock else P(-36, -60),
        "fibre_angle_deg": 100.0,
        "fascia_lines": planes,
    }
    return BodySpec(
        envelope=envelope,
        skin_mm=2.0,
        fat_mm=fat,
        septa=septa,
        subcutaneous_regions=(Ellipsoid(injection, 62, 52, 30, -20),) if buttock else (),
        vessels=polyline_capsules(artery, 4.0),
        bones=(pelvis, sacrum, femur),
        joints=(Joint("hip", space, P(-12, 8), 90.0),),
        landmarks=landmarks,
        trabecular_scale_mm=_HIP_TRABECULAR_MM,
    )


def _hand(w: float, h: float, projection: str) -> BodySpec:
    """Right hand, PA: fingers up, thumb to the image left."""
    cx, wy = w * 0.60, h * 0.78  # wrist
    fingers = []
    bones = [
        Bone("radius", (_cap(cx - 14, wy + 20, cx - 12, h + 40, 13, 10),), 2.0, 0.14),
        Bone("ulna", (_cap(cx + 18, wy + 24, cx + 16, h + 40, 7, 6),), 1.8, 0.14),
    ]
    carpals = [
        (-16, -2, 8, 7),
        (-2, -4, 7, 8),
        (10, -4, 6, 7),
        (20, 2, 5, 5),
        (-20, -16, 7, 6),
        (-8, -18, 7, 8),
        (6, -18, 7, 8),
        (18, -14, 7, 7),
    ]
    for i, (dx, dy_, a, b) in enumerate(carpals):
        bones.append(Bone(f"carpal{i}", (Ellipsoid((cx + dx, wy + dy_), a, b, 7),), 1.0, 0.2, "red_marrow"))
    tips = []
    mcp = []
    rays = [
        (-17, 72, -12, (44, 28, 22)),
        (-4, 80, -3, (40, 26, 20)),
        (9, 78, 3, (36, 24, 19)),
        (21, 70, 9, (28, 20, 18)),
    ]
    for i, (dx, mc_len, angle, phal) in enumerate(rays):
        t = math.radians(angle)
        ux, uy = math.sin(t), -math.cos(t)
        x0, y0 = cx + dx * 0.7, wy - 24
        x1, y1 = cx + dx * 1.6 + ux * mc_len, y0 + uy * mc_len
        bones.append(
            Bone(
                f"mc{i + 2}",
                (_cap(x0, y0, x1 - ux * 4, y1 - uy * 4, 4.5, 3.6), Ellipsoid((x1, y1), 5.8, 5.8, 6)),
                1.4,
                0.14,
            )
        )
        mcp.append((x1, y1))
        px_, py_ = x1 + ux * 6.5, y1 + uy * 6.5
        rad = 5.2
        start = (px_, py_)
        for j, length in enumerate(phal):
            qx, qy = px_ + ux * length, py_ + uy * length
            bones.append(Bone(f"ph{i}{j}", _phalanx(px_, py_, qx, qy, rad, rad - 0.9), 1.1, 0.14))
            px_, py_, rad = qx, qy, rad - 0.9
        tips.append((px_ - ux * 3, py_ - uy * 3))
        fingers.append(_cap(start[0], start[1], px_ + ux * 2, py_ + uy * 2, 9.0, 7.5, 0.9))
    # thumb
    t = math.radians(-38)
    ux, uy = math.sin(t), -math.cos(t)
    x0, y0 = cx - 26, wy - 16
    x1, y1 = x0 + ux * 42, y0 + uy * 42
    bones.append(Bone("mc1", (_cap(x0, y0, x1, y1, 5.5, 5.0),), 1.5, 0.14))
    px_, py_ = x1 + ux * 3, y1 + uy * 3
    start = (x0 + ux * 14, y0 + uy * 14)
    for j, length in enumerate((30, 24)):
        qx, qy = px_ + ux * length, py_ + uy * length
        bones.append(Bone(f"ph_thumb{j}", _phalanx(px_, py_, qx, qy, 6.0 - j, 5.0 - j), 1.2, 0.14))
        px_, py_ = qx, qy
    tips.insert(0, (px_ - ux * 3, py_ - uy * 3))
    fingers.append(_cap(start[0], start[1], px_ + ux * 2, py_ + uy * 2, 13.0, 9.5, 0.9))
    palm = Ellipsoid((cx + 2, wy - 62), 48, 46, 16)
    wrist = _cap(cx, wy - 30, cx, h + 40, 32, 30, 0.6)
    thenar = Ellipsoid((cx - 30, wy - 36), 18, 28, 14, -30)
    envelope = tuple(fingers) + (palm, wrist, thenar)
    muscles = (
        Ellipsoid((cx - 28, wy - 36), 12, 22, 10, -30),
        Ellipsoid((cx + 34, wy - 44), 9, 22, 9, 5),
        _cap(cx, wy + 20, cx, h + 40, 22, 24, 0.6),
    )
    tendons = tuple(_cap(cx + dx * 0.8, wy + 10, cx + dx * 1.6, wy - 60, 2.0, 2.0, 1.0) for dx, *_ in rays)
    joints = tuple(Joint(f"mcp{i}", (Ellipsoid(p, 9, 9, 8),), p, 16.0) for i, p in enumerate(mcp))
    artery = ((cx - 20, h + 40.0), (cx - 18, wy), (cx - 8, wy - 50), (cx + 20, wy - 56))
    return BodySpec(
        envelope=envelope,
        skin_mm=1.2,
        fat_mm=4.0,
        muscles=muscles,
        tendons=tendons,
        vessels=polyline_capsules(artery, 1.5),
        bones=tuple(bones),
        joints=joints + (Joint("wrist", (Ellipsoid((cx, wy - 4), 34, 22, 10),), (cx, wy), 40.0),),
        landmarks={
            "fingertips": tuple(tips),
            "artery": artery,
            "artery_radius_mm": 1.5,
            "fibre_angle_deg": 90.0,
            "muscle_center": (cx - 28, wy - 36),
            "fascia_lines": (((cx - 40, wy + 40), (cx - 40, h - 5)),),
        },
    )


def _forefoot(w: float, h: float) -> BodySpec:
    """Right forefoot, dorsoplantar: toes up, hallux to the image left."""
    cx, by = w * 0.55, h * 0.95
    bones, envelope, joints, tips = [], [], [], []
    rays = [
        (-42, 74, -6, (30, 24), 7.5),
        (-16, 80, 0, (22, 14, 11), 5.0),
        (2, 76, 4, (20, 12, 10), 4.6),
        (18, 70, 8, (18, 11, 9), 4.4),
        (32, 64, 13, (16, 10, 8), 4.6),
    ]
    mtp1 = (0.0, 0.0)
    for i, (dx, length, angle, phal, r) in enumerate(rays):
        t = math.radians(angle)
        ux, uy = math.sin(t), -math.cos(t)
        x0, y0 = cx + dx, by
        x1, y1 = x0 + ux * length, y0 + uy * length
        head = Ellipsoid((x1, y1), r * 1.45, r * 1.3, r * 1.4)
        bones.append(Bone(f"mt{i + 1}", (_cap(x0, y0, x1, y1, r * 1.2, r * 0.85), head), 1.6 if i else 2.2, 0.15))
        px_, py_ = x1 + ux * (r * 1.45 + 1.5), y1 + uy * (r * 1.45 + 1.5)
        start = (x1, y1)
        pr = r * 1.1
        for j, pl in enumerate(phal):
            qx, qy = px_ + ux * pl, py_ + uy * pl
            bones.append(Bone(f"ph{i}{j}", _phalanx(px_, py_, qx, qy, pr, pr * 0.85), 1.2, 0.14))
            px_, py_, pr = qx + ux * 1.5, qy + uy * 1.5, pr * 0.85
        tips.append((px_, py_))
        envelope.append(_cap(start[0], start[1], px_, py_, r * 2.0 if i else 13.0, r * 1.6 if i else 11.0, 0.8))
        joints.append(
            Joint(
                f"mtp{i + 1}",
                (Ellipsoid((x1 + ux * r * 1.4, y1 + uy * r * 1.4), r * 1.6, r * 0.8, r * 1.4, angle),),
                (x1 + ux * r * 1.3, y1 + uy * r * 1.3),
                22.0 if i == 0 else 10.0,
            )
        )
        if i == 0:
            mtp1 = (x1 + ux * r * 1.3, y1 + uy * r * 1.3)
            bones.append(Bone("sesamoid_m", (Ellipsoid((x1 - 4, y1 + 7), 3.5, 5, 4),), 0.8, 0.2))
            bones.append(Bone("sesamoid_l", (Ellipsoid((x1 + 5, y1 + 7), 3.2, 4.5, 4),), 0.8, 0.2))
    envelope.append(Ellipsoid((cx - 2, by - 20), 66, 70, 22))
    envelope.append(_cap(cx - 4, by - 30, cx - 4, h + 40, 58, 56, 0.45))
    muscles = (Ellipsoid((cx - 30, by - 10), 16, 30, 10), Ellipsoid((cx + 36, by - 10), 10, 28, 9))
    artery = ((cx - 28, h + 40.0), (cx - 30, by - 40), (cx - 34, by - 70))
    return BodySpec(
        envelope=tuple(envelope),
        skin_mm=1.5,
        fat_mm=5.0,
        muscles=muscles,
        vessels=polyline_capsules(artery, 1.3),
        bones=tuple(bones),
        joints=tuple(joints),
        landmarks={
            "hallux_mtp": mtp1,
            "fingertips": tuple(tips),
            "artery": artery,
            "artery_radius_mm": 1.3,
            "fibre_angle_deg": 90.0,
            "muscle_center": (cx - 30, by - 10),
            "fascia_lines": (),
        },
    )


def _ankle_lateral(w: float, h: float) -> BodySpec:
    """Right ankle, lateral: toes to the image left, heel to the right."""
    cx, ay = w * 0.55, h * 0.56
    envelope = (
        _cap(cx, -30, cx + 4, ay - 10, 46, 36),
        Ellipsoid((cx + 8, ay + 20), 46, 44, 36),
        _cap(cx + 30, ay + 42, -60, ay + 50, 30, 24, 1.4),
    )
    tibia = Bone(
        "tibia",
        (
            _cap(cx - 6, -40, cx - 4, ay - 45, 13, 15),
            Plate(
                (
                    (cx - 12, ay - 70),
                    (cx + 4, ay - 70),
                    (cx + 14, ay - 30),
                    (cx + 16, ay - 12),
                    (cx + 10, ay - 7),
                    (cx - 4, ay - 10),
                    (cx - 18, ay - 8),
                    (cx - 25, ay - 14),
                    (cx - 21, ay - 36),
                ),
                40.0,
            ),
        ),
        2.8,
        0.15,
        "red_marrow",
    )
    fibula = Bone("fibula", (_cap(cx + 8, -40, cx + 6, ay - 8, 6, 8), Ellipsoid((cx + 6, ay - 2), 8, 14, 9)), 2.0, 0.14)
    talus = Bone(
        "talus",
        (
            Plate(
                (
                    (cx - 28, ay + 3),
                    (cx - 20, ay - 5),
                    (cx - 4, ay - 7),
                    (cx + 12, ay - 4),
                    (cx + 18, ay + 6),
                    (cx + 14, ay + 16),
                    (cx + 2, ay + 20),
                    (cx - 16, ay + 18),
                    (cx - 30, ay + 15),
                    (cx - 39, ay + 12),
                ),
                34.0,
            ),
        ),
        1.4,
        0.2,
        "red_marrow",
    )
    calcaneus = Bone(
        "calcaneus",
        (
            Plate(
                (
                    (cx + 2, ay + 23),
                    (cx + 20, ay + 16),
                    (cx + 40, ay + 17),
                    (cx + 52, ay + 26),
                    (cx + 54, ay + 42),
                    (cx + 44, ay + 52),
                    (cx + 10, ay + 50),
                    (cx - 20, ay + 47),
                    (cx - 31, ay + 38),
                    (cx - 22, ay + 28),
                ),
                34.0,
            ),
        ),
        1.4,
        0.2,
        "red_marrow",
    )
    navicular = Bone("navicular", (Ellipsoid((cx - 47, ay + 18), 7, 12, 16, 20),), 1.2, 0.2, "red_marrow")
    cuboid = Bone("cuboid", (Ellipsoid((cx - 44, ay + 42), 12, 9, 14, -10),), 1.2, 0.2, "red_marrow")
    cune = Bone("cuneiforms", (Ellipsoid((cx - 66, ay + 27), 11, 13, 18, 20),), 1.2, 0.2, "red_marrow")
    mts = Bone(
        "metatarsals",
        (_cap(cx - 70, ay + 30, -60, ay + 60, 8, 6), _cap(cx - 66, ay + 40, -60, ay + 68, 6, 5)),
        1.8,
        0.12,
    )
    achilles = ((cx + 34, -30.0), (cx + 38, ay - 20), (cx + 50, ay + 24))
    tendons = polyline_capsules(achilles, 4.0, 1.8)
    kager = (Ellipsoid((cx + 24, ay - 22), 9, 26, 16, 4),)
    space = (Ellipsoid((cx - 4, ay - 8), 22, 5, 20), Ellipsoid((cx + 8, ay + 20), 16, 4, 16, -10))
    artery = ((cx + 20, -30.0), (cx + 18, ay - 10), (cx + 6, ay + 30), (cx - 40, ay + 52))
    return BodySpec(
        envelope=envelope,
        skin_mm=1.8,
        fat_mm=5.0,
        fat_pads=kager,
        tendons=tendons,
        vessels=polyline_capsules(artery, 1.8),
        bones=(tibia, fibula, talus, calcaneus, navicular, cuboid, cune, mts),
        joints=(Joint("ankle", space, (cx + 6, ay - 6), 60.0),),
        landmarks={
            "achilles_tendon": achilles,
            "artery": artery,
            "artery_radius_mm": 1.8,
            "fibre_angle_deg": 90.0,
            "muscle_center": (cx + 10, ay - 80),
            "fascia_lines": (((cx + 30, 0.0), (cx + 26, ay - 40)), ((cx - 34, 0.0), (cx - 30, ay - 40))),
        },
    )


def _elbow(w: float, h: float, projection: str) -> BodySpec:
    cx, jy = w / 2, h * 0.48
    if projection == "frontal":
        envelope = (_cap(cx, -30, cx, jy, 44, 42, 0.9), _cap(cx, jy, cx, h + 30, 42, 34, 0.8))
        humerus = Bone(
            "humerus",
            (
                _cap(cx, -40, cx, jy - 30, 11, 14),
                _cap(cx - 26, jy - 14, cx + 26, jy - 14, 12, 12),
                Ellipsoid((cx, jy - 26), 30, 14, 18),
            ),
            2.6,
            0.16,
            "red_marrow",
        )
        ulna = Bone("ulna", (_cap(cx + 10, jy + 4, cx + 14, h + 40, 12, 7),), 2.2, 0.14)
        radius = Bone(
            "radius",
            (_cap(cx - 16, jy + 4, cx - 18, jy + 14, 10, 8), _cap(cx - 18, jy + 14, cx - 20, h + 40, 7, 9)),
            2.0,
            0.14,
        )
        space = (Ellipsoid((cx, jy - 4), 34, 8, 18),)
        artery = ((cx + 6, -30.0), (cx + 2, jy), (cx - 10, h + 30.0))
        return BodySpec(
            envelope=envelope,
            fat_mm=7,
            vessels=polyline_capsules(artery, 2.5),
            septa=(_cap(cx - 20, jy + 30, cx - 22, h + 30, 0.9),),
            bones=(humerus, ulna, radius),
            joints=(Joint("elbow", space, (cx, jy - 4), 50.0),),
            landmarks={
                "artery": artery,
                "artery_radius_mm": 2.5,
                "fibre_angle_deg": 90.0,
                "muscle_center": (cx - 20, jy - 60),
                "fascia_lines": (((cx - 30, 0.0), (cx - 32, jy - 30)),),
            },
        )
    # lateral, flexed 90°: arm from the top, forearm to the image left
    envelope = (_cap(cx + 10, -30, cx + 10, jy, 44, 42), _cap(cx + 10, jy, -40, jy + 10, 40, 32, 0.85))
    humerus = Bone(
        "humerus",
        (_cap(cx + 12, -40, cx + 8, jy - 10, 11, 15), Ellipsoid((cx + 6, jy - 2), 14, 14, 26)),
        2.6,
        0.16,
        "red_marrow",
    )
    ulna = Bone("ulna", (_cap(cx + 22, jy - 4, -40, jy + 24, 9, 6), Ellipsoid((cx + 22, jy - 6), 9, 12, 10)), 2.2, 0.14)
    radius = Bone("radius", (_cap(cx - 10, jy + 2, -40, jy + 8, 8, 9),), 2.0, 0.14)
    space = (Ellipsoid((cx + 6, jy - 2), 18, 18, 26),)
    fat_pads = (Ellipsoid((cx - 6, jy - 22), 5, 10, 14, -20), Ellipsoid((cx + 22, jy - 24), 5, 10, 14, 20))
    artery = ((cx - 8, -30.0), (cx - 14, jy - 10), (-40.0, jy + 20))
    return BodySpec(
        envelope=envelope,
        fat_mm=7,
        fat_pads=fat_pads,
        vessels=polyline_capsules(artery, 2.5),
        bones=(humerus, ulna, radius),
        joints=(Joint("elbow", space, (cx + 6, jy - 2), 50.0),),
        landmarks={
            "artery": artery,
            "artery_radius_mm": 2.5,
            "fibre_angle_deg": 90.0,
            "muscle_center": (cx + 12, jy - 70),
            "fascia_lines": (((cx - 26, 0.0), (cx - 26, jy - 40)),),
        },
    )


def body_spec(site: str, projection: str, size_mm: tuple[float, float], **options: float) -> BodySpec:
    """The :class:`BodySpec` of ``site`` in ``projection`` for a field of ``size_mm`` (width, height)."""
    w, h = size_mm
    builders: dict[str, Callable[[], BodySpec]] = {
        "site_shoulder": lambda: _shoulder(w, h, projection, **options),
        "site_arm": lambda: _segment(w, h, projection, "arm"),
        "site_elbow": lambda: _elbow(w, h, projection),
        "site_forearm": lambda: _segment(w, h, projection, "forearm"),
        "site_hand": lambda: _hand(w, h, projection),
        "site_hip_pelvis": lambda: _hip(w, h, projection),
        "site_buttock": lambda: _hip(w, h, projection, view="buttock"),
        "site_thigh": lambda: _segment(w, h, projection, "thigh"),
        "site_knee": lambda: _knee(w, h, projection),
        "site_leg": lambda: _segment(w, h, projection, "leg"),
        "site_ankle_foot": lambda: _forefoot(w, h) if projection == "frontal" else _ankle_lateral(w, h),
    }
    return builders[site]()


def views(site: str) -> tuple[str, ...]:
    """The views (projections) available for ``site``: those of its 3-D data file, plus the
    2-D templates' 'frontal' and 'lateral' where the data file does not define them."""
    if site not in SITES:
        raise ValueError(f"unknown site {site!r}; known sites: {', '.join(SITES)}")
    names = list(phantom.load_site(site).views) if site in phantom.available_sites() else []
    return tuple(names + [p for p in PROJECTIONS if p not in names])


def uses_3d(site: str, projection: str) -> bool:
    """Whether ``site`` in ``projection`` is drawn from 3-D anatomy data (else a 2-D template)."""
    return site in phantom.available_sites() and projection in phantom.load_site(site).views


def from_projection(
    site: str,
    projection: str,
    shape: tuple[int, int] = (512, 512),
    zoom: tuple[tuple[float, float], float] | None = None,
) -> Anatomy:
    """Anatomy of a 3-D site file projected in ``projection`` (cached in memory and on disk).

    See :func:`_from_projection`; the result is shared between calls (its arrays are read-only).
    """
    key_zoom = None if zoom is None else ((float(zoom[0][0]), float(zoom[0][1])), float(zoom[1]))
    return _from_projection_cached(
        site, projection, (int(shape[0]), int(shape[1])), key_zoom, phantom.load_site(site).digest
    )


@lru_cache(maxsize=24)
def _from_projection_cached(
    site: str, projection: str, shape: tuple[int, int], zoom: tuple[tuple[float, float], float] | None, digest: str
) -> Anatomy:
    anatomy = _from_projection(site, projection, shape, zoom)
    for array in (*anatomy.thickness_mm.values(), *anatomy.masks.values(), anatomy.bone_mask, anatomy.body_mask):
        array.flags.writeable = False
    return anatomy


def _from_projection(
    site: str,
    projection: str,
    shape: tuple[int, int] = (512, 512),
    zoom: tuple[tuple[float, float], float] | None = None,
) -> Anatomy:
    """Anatomy of a 3-D site file projected in ``projection`` (cached path maps), on ``shape`` pixels.

    The field of view is the view's ``field_mm``, or with ``zoom = ((x, y), field_mm)`` a view
    re-centred on the image point (x, y) mm of the full view and ``field_mm`` wide. A shape
    other than 512² resamples the maps (linear interpolation): pixel size = field / columns.
    """
    data = phantom.load_site(site)
    view = phantom.derived_view(data, projection, *zoom) if zoom is not None else phantom.get_view(data, projection)
    proj = phantom.project(data, projection, view=view)
    comp = phantom.masks(data, projection, proj, view)
    marks = phantom.landmarks(data, projection, view)
    th = dict(proj.thickness_mm)
    bone, body = proj.bone_mm, proj.body_mm
    rows, cols = int(shape[0]), int(shape[1])
    n = bone.shape[0]
    pixel_mm = view.field_mm / n
    if rows != n:  # same field height on ``rows`` pixels: resample uniformly (linear)
        f = rows / n
        th = {k: np.clip(ndimage.zoom(v, f, order=1, grid_mode=True, mode="nearest"), 0, None) for k, v in th.items()}
        bone = ndimage.zoom(bone, f, order=1, grid_mode=True, mode="nearest")
        body = ndimage.zoom(body, f, order=1, grid_mode=True, mode="nearest")
        comp = {
            k: ndimage.zoom(v.astype(np.float32), f, order=1, grid_mode=True, mode="nearest") > 0.5
            for k, v in comp.items()
        }
        pixel_mm = view.field_mm / rows
    width = bone.shape[1]
    if cols != width:  # a narrower (or wider) panel: crop (or pad with air) about the centre
        c0 = (width - cols) // 2

        def fit(a: np.ndarray, fill: float | bool = 0) -> np.ndarray:
            if cols < width:
                return a[:, c0 : c0 + cols]
            out = np.full((rows, cols), fill, dtype=a.dtype)
            out[:, -c0 : -c0 + width] = a
            return out

        th = {k: fit(v) for k, v in th.items()}
        bone, body = fit(bone), fit(body)
        comp = {k: fit(v, False) for k, v in comp.items()}
        marks = {k: shift_landmark(v, -c0 * pixel_mm) if not k.endswith("angle_deg") else v for k, v in marks.items()}
    grid = Grid((rows, cols), pixel_mm)
    th = {k: v.astype(np.float64) for k, v in th.items()}
    return Anatomy(
        site,
        projection,
        grid,
        MappingProxyType(th),
        MappingProxyType(comp),
        bone > 0.5,
        body > 0.5,
        MappingProxyType(marks),
    )


def side_marker(site: str, projection: str) -> str:
    """The side-marker letter of a view ('R' for the right side the anatomy files draw)."""
    if uses_3d(site, projection):
        return phantom.load_site(site).views[projection].marker
    return "R"


def field_of_view_mm(site: str, projection: str) -> float:
    """Width (mm) of the field of ``site`` in ``projection``: the 3-D view's or the 2-D template's."""
    if uses_3d(site, projection):
        return phantom.load_site(site).views[projection].field_mm
    return FIELD_OF_VIEW_MM[site]


def build(
    site: str,
    projection: str = "frontal",
    shape: tuple[int, int] = (512, 512),
    pixel_mm: float | None = None,
    seed: int = 0,
    **options: float,
) -> Anatomy:
    """Anatomy of ``site`` in ``projection`` on a grid of ``shape`` pixels of ``pixel_mm`` (mm).

    Sites with a data file ``data/anatomy/<site>.yml`` are projected from 3-D anatomy
    (:mod:`calcifications.phantom`) for the views that file defines; their field of
    view is the view's (``pixel_mm`` is ignored). Other sites and views use the 2-D
    templates below: ``pixel_mm`` defaults to the site's field of view divided by 512
    pixels, scaled so that any ``shape`` shows the same anatomy; ``seed`` fixes the
    trabecular texture. Options: ``head_elevation_mm`` (2-D shoulder; superior
    migration of the humeral head).
    """
    if site not in SITES:
        raise ValueError(f"unknown site {site!r}; known sites: {', '.join(SITES)}")
    if projection not in views(site):
        raise ValueError(f"unknown projection {projection!r} for {site}; use one of {', '.join(views(site))}")
    if len(shape) != 2 or min(int(s) for s in shape) < 8:
        raise ValueError(f"shape must be two sizes ≥ 8 pixels, got {shape!r}")
    for key, value in options.items():
        if key != "head_elevation_mm" or site != "site_shoulder":
            raise ValueError(f"option {key!r} does not apply to {site}")
        if not math.isfinite(float(value)) or not 0 <= float(value) <= 30:
            raise ValueError(f"head_elevation_mm must be within 0–30 mm, got {value!r}")
    if pixel_mm is not None and (
        isinstance(pixel_mm, bool) or not math.isfinite(float(pixel_mm)) or float(pixel_mm) <= 0
    ):
        raise ValueError(f"pixel_mm must be positive and finite, got {pixel_mm!r}")
    if uses_3d(site, projection) and not options:
        return from_projection(site, projection, tuple(int(s) for s in shape))
    if projection not in PROJECTIONS:
        raise ValueError(f"projection {projection!r} of {site} has no 2-D template")
    if pixel_mm is None:
        pixel_mm = FIELD_OF_VIEW_MM[site] / 512.0 * 512.0 / shape[1]
    grid = Grid(tuple(int(s) for s in shape), float(pixel_mm))
    return assemble(body_spec(site, projection, grid.size_mm, **options), grid, site, projection, seed)


def side_by_side(left: Anatomy, right: Anatomy) -> Anatomy:
    """Two templates of equal height and pixel size joined left–right (e.g. both hands)."""
    if left.grid.shape[0] != right.grid.shape[0] or left.grid.pixel_mm != right.grid.pixel_mm:
        raise ValueError("side_by_side needs equal heights and pixel sizes")
    shift = left.grid.size_mm[0]
    keys = set(left.thickness_mm) | set(right.thickness_mm)
    zeros_l, zeros_r = np.zeros(left.grid.shape), np.zeros(right.grid.shape)
    th = {k: np.hstack([left.thickness_mm.get(k, zeros_l), right.thickness_mm.get(k, zeros_r)]) for k in keys}
    masks = {}
    for k in set(left.masks) | set(right.masks):
        a = left.masks.get(k, np.zeros(left.grid.shape, bool))
        b = right.masks.get(k, np.zeros(right.grid.shape, bool))
        masks[k] = np.hstack([a, b])
    landmarks = {f"left_{k}": v for k, v in left.landmarks.items()}
    landmarks.update({f"right_{k}": shift_landmark(v, shift) for k, v in right.landmarks.items()})
    grid = Grid((left.grid.shape[0], left.grid.shape[1] + right.grid.shape[1]), left.grid.pixel_mm)
    return Anatomy(
        left.site,
        left.projection,
        grid,
        MappingProxyType(th),
        MappingProxyType(masks),
        np.hstack([left.bone_mask, right.bone_mask]),
        np.hstack([left.body_mask, right.body_mask]),
        MappingProxyType(landmarks),
    )


def mirrored(anatomy: Anatomy) -> Anatomy:
    """The template flipped left–right (the other side of the body)."""
    width = anatomy.grid.size_mm[0]
    return replace(
        anatomy,
        thickness_mm=MappingProxyType({k: v[:, ::-1].copy() for k, v in anatomy.thickness_mm.items()}),
        masks=MappingProxyType({k: v[:, ::-1].copy() for k, v in anatomy.masks.items()}),
        bone_mask=anatomy.bone_mask[:, ::-1].copy(),
        body_mask=anatomy.body_mask[:, ::-1].copy(),
        landmarks=MappingProxyType(
            {
                k: _mirror_angle(v) if k.endswith("angle_deg") else shift_landmark(v, 0.0, mirror_width=width)
                for k, v in anatomy.landmarks.items()
            }
        ),
    )


def _mirror_angle(angle_deg: object) -> object:
    """An in-plane direction (degrees from the image x axis) seen in a left–right mirror."""
    if isinstance(angle_deg, (int, float)):
        return (180.0 - float(angle_deg)) % 180.0
    return angle_deg


def shift_landmark(value: object, dx: float, mirror_width: float | None = None) -> object:
    """A landmark (point, polyline, or nested) shifted by dx mm, optionally mirrored about x = width/2."""
    if isinstance(value, dict):
        return {k: shift_landmark(v, dx, mirror_width) for k, v in value.items()}
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        x, y = value
        if mirror_width is not None:
            x = mirror_width - x
        return (x + dx, y)
    if isinstance(value, tuple):
        return tuple(shift_landmark(v, dx, mirror_width) for v in value)
    return value
