"""Anatomy of a site in a view: material path lengths, compartment masks and landmarks on an image grid.

Every site of the vocabulary is described in 3-D in ``data/anatomy/<site>.yml`` (format:
``data/anatomy/SCHEMA.md``) and projected along the beam by :mod:`calcifications.phantom`;
:func:`build` returns that projection as an :class:`Anatomy`: thickness maps (mm) by material
id, boolean compartment masks (``vascular``, ``subcutaneous``, ``fascial``, ``muscle``,
``periarticular``, ``intraarticular``, as present) and named landmarks (points and polylines
in image mm) on which :mod:`calcifications.patterns` places lesions.

Image coordinates are mm from the top-left corner of the image, x to the right, y downwards;
the beam runs into the image. The small chord primitives (:class:`Capsule`,
:class:`Ellipsoid`), :func:`displace`, :func:`eroded_chord` and :func:`trabecular_texture`
are the 2-D tools the lesion patterns draw with.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType

import numpy as np
from scipy import ndimage

from . import phantom
from .vocabulary import vocabulary

# Sites and compartments come from the vocabulary (one source of truth).
SITES: tuple[str, ...] = tuple(fid for fid, f in vocabulary().findings.items() if f.category == "site")
# The view names shared by every site that has them (a site file may define more: 'hip', 'forefoot'...).
PROJECTIONS: tuple[str, ...] = ("frontal", "lateral")
COMPARTMENTS: tuple[str, ...] = tuple(vocabulary().compartments)

# Reference field of view (mm across the 512-pixel image) per site, for callers that need a
# site's scale without a view (zoom defaults); each view's own field is its ``field_mm``.
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
class Anatomy:
    """A built anatomy: thickness maps (mm) by material id, compartment masks, landmarks (mm)."""

    site: str
    projection: str
    grid: Grid
    thickness_mm: Mapping[str, np.ndarray]
    masks: Mapping[str, np.ndarray]
    bone_mask: np.ndarray
    body_mask: np.ndarray
    landmarks: Mapping[str, object]


# ------------------------------------------------------- chord tools ----

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


# ------------------------------------------------------------ options ----
@dataclass(frozen=True)
class Option:
    """A build option of one site: a shift of some of its solids and landmarks.

    A value v (mm) of the option moves the solids ``solids`` and the landmarks
    ``landmarks`` by v along the body direction ``direction`` (unit vector); values must
    lie within ``range_mm``.
    """

    site: str
    solids: tuple[str, ...]
    landmarks: tuple[str, ...]
    direction: tuple[float, float, float]
    range_mm: tuple[float, float]
    note: str = ""


OPTIONS: Mapping[str, Option] = MappingProxyType(
    {
        "head_elevation_mm": Option(
            "site_shoulder",
            ("humerus",),
            ("humeral_head", "greater_tuberosity"),
            (0.0, -1.0, 0.0),
            (0.0, 30.0),
            "superior migration of the humeral head (rotator-cuff tear): the humerus rises, glenoid and acromion stay",
        )
    }
)


def check_options(site: str, options: Mapping[str, float]) -> dict[str, float]:
    """The build ``options`` of ``site`` as floats; ValueError for an unknown option or a bad value."""
    out: dict[str, float] = {}
    for key, value in options.items():
        option = OPTIONS.get(key)
        if option is None or option.site != site:
            raise ValueError(f"option {key!r} does not apply to {site}; options: {', '.join(OPTIONS)}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{key} must be a number of mm, got {value!r}") from None
        lo, hi = option.range_mm
        if isinstance(value, bool) or not math.isfinite(v) or not lo <= v <= hi:
            raise ValueError(f"{key} must be within {lo:g}–{hi:g} mm, got {value!r}")
        out[key] = v
    return out


def _moved_part(part: phantom.Part, offset: np.ndarray) -> phantom.Part:
    if isinstance(part, phantom.EllipsoidPart):
        return replace(part, center=tuple(float(c) for c in np.add(part.center, offset)))
    return replace(part, path=tuple(tuple(float(c) for c in np.add(p, offset)) for p in part.path))


def _moved_landmark(value: object, offset: np.ndarray) -> object:
    """A body-frame landmark (point or nested polylines) moved by ``offset`` mm; other values unchanged."""
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(isinstance(v, (int, float)) for v in value):
        return [float(c) for c in np.add(value, offset)]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (list, tuple)) for v in value):
        return [_moved_landmark(v, offset) for v in value]
    return value


def site_with_options(site: str, options: Mapping[str, float]) -> phantom.Site:
    """The parsed 3-D site ``site`` with its build ``options`` applied (a new data digest)."""
    data = phantom.load_site(site)
    options = check_options(site, options)
    if not options:
        return data
    offsets: dict[str, np.ndarray] = {}
    moved_marks = dict(data.landmarks)
    for key, v in sorted(options.items()):
        option = OPTIONS[key]
        shift = v * np.asarray(option.direction, float)
        for sid in option.solids:
            offsets[sid] = offsets.get(sid, np.zeros(3)) + shift
        for name in option.landmarks:
            if name in moved_marks:
                moved_marks[name] = _moved_landmark(moved_marks[name], shift)
    missing = set(offsets) - {s.id for s in data.solids}
    if missing:
        raise ValueError(f"{site} has no solids {sorted(missing)} for its options")

    def move(solid: phantom.Solid) -> phantom.Solid:
        off = offsets.get(solid.id)
        if off is None:
            return solid
        axis = None if solid.axis is None else tuple(tuple(float(c) for c in np.add(p, off)) for p in solid.axis)
        return replace(
            solid,
            parts=tuple(_moved_part(p, off) for p in solid.parts),
            carve=tuple(_moved_part(p, off) for p in solid.carve),
            axis=axis,
        )

    moved = {s.id: move(s) for s in data.solids}
    solids = tuple(replace(moved[s.id], avoid=tuple(moved.get(o.id, o) for o in s.avoid)) for s in data.solids)
    tag = ",".join(f"{k}={v:.6g}" for k, v in sorted(options.items()))
    return replace(
        data,
        solids=solids,
        landmarks=MappingProxyType(moved_marks),
        digest=hashlib.sha256(f"{data.digest}/{tag}".encode()).hexdigest()[:20],
    )


# --------------------------------------------------------------- views ----


def views(site: str) -> tuple[str, ...]:
    """The views (projections) of ``site``: those its 3-D data file defines."""
    if site not in SITES:
        raise ValueError(f"unknown site {site!r}; known sites: {', '.join(SITES)}")
    return tuple(phantom.load_site(site).views)


def uses_3d(site: str, projection: str) -> bool:
    """Whether ``site`` in ``projection`` is drawn from 3-D anatomy data: every view is, since the
    2-D templates are gone (kept for callers that still ask)."""
    return site in phantom.available_sites() and projection in phantom.load_site(site).views


def from_projection(
    site: str,
    projection: str,
    shape: tuple[int, int] = (512, 512),
    zoom: tuple[tuple[float, float], float] | None = None,
    options: Mapping[str, float] | None = None,
) -> Anatomy:
    """Anatomy of a 3-D site file projected in ``projection`` (cached in memory and on disk).

    See :func:`_from_projection`; ``options`` are build options (:data:`OPTIONS`). The
    result is shared between calls (its arrays are read-only).
    """
    key_zoom = None if zoom is None else ((float(zoom[0][0]), float(zoom[0][1])), float(zoom[1]))
    checked = check_options(site, options or {})
    return _from_projection_cached(
        site,
        projection,
        (int(shape[0]), int(shape[1])),
        key_zoom,
        tuple(sorted(checked.items())),
        phantom.load_site(site).digest,
    )


@lru_cache(maxsize=24)
def _from_projection_cached(
    site: str,
    projection: str,
    shape: tuple[int, int],
    zoom: tuple[tuple[float, float], float] | None,
    options: tuple[tuple[str, float], ...],
    digest: str,
) -> Anatomy:
    anatomy = _from_projection(site_with_options(site, dict(options)), projection, shape, zoom)
    for array in (*anatomy.thickness_mm.values(), *anatomy.masks.values(), anatomy.bone_mask, anatomy.body_mask):
        array.flags.writeable = False
    return anatomy


def _from_projection(
    data: phantom.Site,
    projection: str,
    shape: tuple[int, int] = (512, 512),
    zoom: tuple[tuple[float, float], float] | None = None,
) -> Anatomy:
    """Anatomy of the parsed 3-D site ``data`` projected in ``projection`` (cached path maps), on ``shape`` pixels.

    The field of view is the view's ``field_mm``, or with ``zoom = ((x, y), field_mm)`` a view
    re-centred on the image point (x, y) mm of the full view and ``field_mm`` wide. A shape
    other than 512² resamples the maps (linear interpolation): pixel size = field / rows; a
    narrower or wider shape is then cropped or padded with air about the centre.
    """
    site = data.site
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
    if projection not in views(site):
        raise ValueError(f"unknown projection {projection!r} for {site}; use one of {', '.join(views(site))}")
    return phantom.load_site(site).views[projection].marker


def field_of_view_mm(site: str, projection: str) -> float:
    """Width (mm) of the field of ``site`` in ``projection`` (the view's ``field_mm``)."""
    if projection not in views(site):
        raise ValueError(f"unknown projection {projection!r} for {site}; use one of {', '.join(views(site))}")
    return phantom.load_site(site).views[projection].field_mm


def build(
    site: str,
    projection: str = "frontal",
    shape: tuple[int, int] = (512, 512),
    pixel_mm: float | None = None,
    seed: int = 0,
    **options: float,
) -> Anatomy:
    """Anatomy of ``site`` in ``projection`` on a grid of ``shape`` pixels.

    The site's 3-D data file ``data/anatomy/<site>.yml`` is projected
    (:mod:`calcifications.phantom`) in the view named ``projection``; the field of view is
    the view's ``field_mm`` across ``shape[0]`` pixels, so ``pixel_mm`` (mm, checked when
    given) does not change it, and ``seed`` is not used (the anatomy's texture is seeded by
    the site data): both are kept for callers. ``options`` are the site's build options
    (:data:`OPTIONS`), e.g. ``head_elevation_mm`` (shoulder, 0–30 mm: superior migration of
    the humeral head). Bad input raises ValueError.
    """
    if site not in SITES:
        raise ValueError(f"unknown site {site!r}; known sites: {', '.join(SITES)}")
    if projection not in views(site):
        raise ValueError(f"unknown projection {projection!r} for {site}; use one of {', '.join(views(site))}")
    if len(shape) != 2 or min(int(s) for s in shape) < 8:
        raise ValueError(f"shape must be two sizes ≥ 8 pixels, got {shape!r}")
    checked = check_options(site, options)
    if pixel_mm is not None and (
        isinstance(pixel_mm, bool) or not math.isfinite(float(pixel_mm)) or float(pixel_mm) <= 0
    ):
        raise ValueError(f"pixel_mm must be positive and finite, got {pixel_mm!r}")
    return from_projection(site, projection, (int(shape[0]), int(shape[1])), options=checked)


def side_by_side(left: Anatomy, right: Anatomy) -> Anatomy:
    """Two anatomies of equal height and pixel size joined left–right (e.g. both hands)."""
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
    """The anatomy flipped left–right (the other side of the body)."""
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
