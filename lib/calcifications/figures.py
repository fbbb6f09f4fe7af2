"""Synthetic radiographs from specs: the essay's 17 figures and the chapters' own.

The essay's figures are specified in ``data/seed_figures.yml``; figures that
chapters add for entities the essay does not illustrate live in
``data/figures/<chapter>.yml`` (same format, ``source_figure: ""``).

Each spec names the site, projection (a view of the site: ``frontal``,
``lateral``, or another view its anatomy file defines), patterns (with teaching
parameters), beam (effective energy in keV, fluence in photons/mm²), display
window, a seed, alt text and a caption; optionally ``zoom`` (a magnified field:
``{center: landmark or [x, y] mm, field_mm: width shown}``), ``marker`` (the side
marker letter, default from the view; ``false`` for none: a lead letter the radiographer
placed inside the collimated field, see :func:`render_film`), ``panels`` and ``subject``
(the patient's habitus, positioning and exposure factor, :mod:`calcifications.subjects`;
a panel may give its own ``subject`` keys, which update the figure's: two films of one
patient, or the two sides of a bilateral film, then differ as real films do).
:func:`render_figure` turns a spec (or a figure id) into a uint8 array; another
module can build a :class:`FigureSpec` with :func:`make_spec` and render it.
``python -m calcifications.figures --out figures/`` writes ``<id>.webp`` files
(lossy WebP, byte-identical on every run: no timestamps or metadata) and
``--sheet`` a contact sheet of all figures for review.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing
import os
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from PIL import Image

from . import anatomy as anat
from . import patterns as pat
from . import radiograph as rg
from . import subjects as subj

IMAGE_SHAPE: tuple[int, int] = (512, 512)
MAX_PNG_BYTES: int = 60 * 1024
MAX_FIGURE_BYTES: int = 80 * 1024
FIGURE_FORMAT = "webp"
WEBP_QUALITY = 82
CAPTION_PREFIX = "Synthetic illustration."


@dataclass(frozen=True)
class PatternSpec:
    """One pattern to place: morphology id and its teaching parameters."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PanelSpec:
    """One panel of a figure: patterns, optional mirroring, anatomy options and its subject
    (patient habitus, positioning and exposure factor: :mod:`calcifications.subjects`)."""

    patterns: tuple[PatternSpec, ...]
    mirror: bool = False
    options: Mapping[str, float] = field(default_factory=dict)
    subject: subj.Subject = subj.IDENTITY


@dataclass(frozen=True)
class Zoom:
    """A magnified field: centre (landmark name or (x, y) mm in the full view), width shown (mm).

    ``points`` picks which points of a multi-point landmark to average.
    """

    center: str | tuple[float, float]
    field_mm: float
    points: tuple[int, ...] | None = None


@dataclass(frozen=True)
class FigureSpec:
    """A seed figure: id, title, site, projection, panels, beam, window, seed, alt text and caption."""

    id: str
    source_figure: str
    title: str
    site: str
    projection: str
    panels: tuple[PanelSpec, ...]
    exposure: rg.Exposure
    window: rg.Window
    seed: int
    pixel_mm: float
    zoom_on: str | None
    alt: str
    caption: str
    zoom: Zoom | None = None
    marker: str | None = "auto"


def _pattern(raw: Any, where: str) -> PatternSpec:
    if not isinstance(raw, dict) or "id" not in raw:
        raise ValueError(f"{where}: a pattern needs an 'id'")
    if raw["id"] not in pat.MORPHOLOGIES:
        raise ValueError(f"{where}: unknown pattern {raw['id']!r}")
    params = dict(raw.get("params") or {})
    pat.check_parameters(raw["id"], params, where)
    for key, value in params.items():
        if isinstance(value, list):
            params[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return PatternSpec(raw["id"], params)


def _zoom(raw: Any, where: str) -> Zoom | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or "center" not in raw or "field_mm" not in raw:
        raise ValueError(f"{where}: zoom needs 'center' and 'field_mm'")
    bad = sorted(set(raw) - {"center", "field_mm", "points"})
    if bad:
        raise ValueError(f"{where}: unknown zoom key(s) {bad}; valid: ['center', 'field_mm', 'points']")
    field = float(raw["field_mm"])
    if not 10 <= field <= 600:
        raise ValueError(f"{where}: zoom field_mm must be within 10–600 mm, got {raw['field_mm']!r}")
    center = raw["center"] if isinstance(raw["center"], str) else tuple(float(v) for v in raw["center"])
    return Zoom(
        center,
        field,
        None if raw.get("points") is None else tuple(int(i) for i in raw["points"]),
    )


SPEC_KEYS = {
    "id",
    "source_figure",
    "title",
    "site",
    "projection",
    "alt",
    "caption",
    "seed",
    "panels",
    "patterns",
    "exposure",
    "window",
    "pixel_mm",
    "zoom_on",
    "zoom",
    "marker",
    "subject",
    "note",
}
PANEL_KEYS = ("mirror", "options", "patterns", "subject")


def make_spec(raw: Mapping[str, Any], source: str = "spec") -> FigureSpec:
    """A validated :class:`FigureSpec` from a mapping in the figure-file format (see the module doc).

    Required: id, title, site, projection, seed, alt (≥ 40 characters), caption (starting
    "Synthetic illustration."), and ``patterns`` (a list of {id, params}) or ``panels``.
    ``source_figure`` defaults to "" (not an essay figure). Unknown keys, sites, views,
    patterns or pattern parameters raise ValueError naming the valid ones.
    """
    raw = {"source_figure": "", **dict(raw)}
    return _figure(raw, source)


def _figure(raw: Mapping[str, Any], source: str = "seed_figures.yml") -> FigureSpec:
    where = f"{source}: {raw.get('id', '?')}"
    bad = sorted(set(raw) - SPEC_KEYS)
    if bad:
        raise ValueError(f"{where}: unknown key(s) {bad}; valid: {sorted(SPEC_KEYS)}")
    for key in ("id", "source_figure", "title", "site", "projection", "alt", "caption", "seed"):
        if key not in raw:
            raise ValueError(f"{where}: missing {key!r}")
    if raw["site"] not in anat.SITES:
        raise ValueError(f"{where}: unknown site {raw['site']!r}; known: {', '.join(anat.SITES)}")
    if raw["projection"] not in anat.views(raw["site"]):
        raise ValueError(
            f"{where}: unknown projection {raw['projection']!r} for {raw['site']}; "
            f"use one of {', '.join(anat.views(raw['site']))}"
        )
    if not str(raw["caption"]).startswith(CAPTION_PREFIX):
        raise ValueError(f"{where}: caption must start with {CAPTION_PREFIX!r}")
    if len(str(raw["alt"])) < 40:
        raise ValueError(f"{where}: alt text is too short to describe the image")
    panels_raw = raw.get("panels") or [{"patterns": raw.get("patterns", [])}]
    for panel in panels_raw:
        bad = sorted(set(panel) - set(PANEL_KEYS))
        if bad:
            raise ValueError(f"{where}: unknown panel key(s) {bad}; valid: {list(PANEL_KEYS)}")
    subject = subj.raw_values(raw.get("subject"), where)  # the figure's; a panel's own keys update it
    panels = tuple(
        PanelSpec(
            tuple(_pattern(p, where) for p in panel.get("patterns", [])),
            bool(panel.get("mirror", False)),
            dict(panel.get("options") or {}),
            subj.make_subject({**subject, **subj.raw_values(panel.get("subject"), f"{where} panel {k + 1}")}, where),
        )
        for k, panel in enumerate(panels_raw)
    )
    fov = anat.field_of_view_mm(raw["site"], raw["projection"])
    pixel_mm = float(raw.get("pixel_mm", fov / IMAGE_SHAPE[1]))
    if not np.isfinite(pixel_mm) or pixel_mm <= 0:
        raise ValueError(f"{where}: pixel_mm must be positive, got {raw.get('pixel_mm')!r}")
    zoom = _zoom(raw.get("zoom"), where)
    if zoom is None and raw.get("zoom_on"):  # legacy: a landmark and a pixel size
        zoom = Zoom(str(raw["zoom_on"]), pixel_mm * IMAGE_SHAPE[1])
    elif zoom is None and "pixel_mm" in raw:
        zoom = Zoom((fov / 2, fov / 2), pixel_mm * IMAGE_SHAPE[1])  # the pixel size sets the field
    marker = raw.get("marker", "auto")
    if marker not in ("auto", "R", "L", False, None):
        raise ValueError(f"{where}: marker must be 'R', 'L', false or omitted, got {marker!r}")
    try:
        exposure = rg.Exposure(**(raw.get("exposure") or {}))
        # digital-radiography processing unless a figure asks otherwise: films are read processed
        window = rg.Window(**{"mode": "dr", **(raw.get("window") or {})})
    except TypeError as error:
        raise ValueError(f"{where}: {error}") from None
    return FigureSpec(
        id=raw["id"],
        source_figure=str(raw["source_figure"]),
        title=raw["title"],
        site=raw["site"],
        projection=raw["projection"],
        panels=panels,
        exposure=exposure,
        window=window,
        seed=int(raw["seed"]),
        pixel_mm=pixel_mm,
        zoom_on=raw.get("zoom_on"),
        alt=" ".join(str(raw["alt"]).split()),
        caption=" ".join(str(raw["caption"]).split()),
        zoom=zoom,
        marker=None if marker in (False, None) else marker,
    )


def _spec_files() -> list[Any]:
    """The seed figures first, then the chapters' own figures (``data/figures/*.yml``), by file name."""
    data = resources.files("calcifications").joinpath("data")
    folder = data.joinpath("figures")
    chapter_files = (
        sorted((f for f in folder.iterdir() if f.name.endswith(".yml")), key=lambda f: f.name)
        if folder.is_dir()
        else []
    )
    return [data.joinpath("seed_figures.yml"), *chapter_files]


@lru_cache(maxsize=1)
def load_specs() -> tuple[FigureSpec, ...]:
    """All figure specs (the essay's 17, then the chapters' own), validated, in order."""
    specs: list[FigureSpec] = []
    for source in _spec_files():
        table = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        specs.extend(_figure(raw, source.name) for raw in table.get("figures", []))
    ids = [s.id for s in specs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate figure ids: {duplicates}")
    return tuple(specs)


def seed_specs() -> tuple[FigureSpec, ...]:
    """The specs of the essay's own figures (those with a ``source_figure``)."""
    return tuple(s for s in load_specs() if s.source_figure)


def get_spec(figure_id: str) -> FigureSpec:
    """The spec with this id (e.g. 'fig01'); ValueError if unknown."""
    for spec in load_specs():
        if spec.id == figure_id:
            return spec
    raise ValueError(f"unknown figure {figure_id!r}; known: {', '.join(s.id for s in load_specs())}")


POINT_PARAMS: tuple[str, ...] = ("location", "start", "end")


def _is_point(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    )


def _landmark_shift(full: anat.Anatomy, panel: anat.Anatomy) -> tuple[float, float]:
    """Translation (mm) from the full view's image coordinates to a panel's (zoomed or cropped) ones."""
    for key, value in full.landmarks.items():
        other = panel.landmarks.get(key)
        if _is_point(value) and _is_point(other) and not key.endswith(("_deg", "_mm")):
            return float(other[0]) - float(value[0]), float(other[1]) - float(value[1])
    return 0.0, 0.0


def panel_params(
    params: Mapping[str, Any],
    shift: tuple[float, float],
    mirror_width: float | None = None,
    subject: subj.Subject = subj.IDENTITY,
    size_mm: tuple[float, float] = (0.0, 0.0),
) -> dict[str, Any]:
    """A pattern's parameters with explicit (x, y) points moved from the full view into the panel.

    Figure specs give points (``location``, ``start``, ``end``) in mm of the full, unzoomed
    view; a zoomed or narrower panel has its own origin (``shift``), and a mirrored panel
    flips x about ``mirror_width``, and a panel's ``subject`` moves them with its anatomy
    (a field of ``size_mm``). Landmark names need no change.
    """
    out = dict(params)
    for key in POINT_PARAMS:
        if _is_point(out.get(key)):
            x, y = float(out[key][0]) + shift[0], float(out[key][1]) + shift[1]
            if mirror_width is not None:
                x = mirror_width - x
            out[key] = subj.forward_point(subject, (x, y), size_mm) if not subject.is_identity else (x, y)
    return out


def panel_scene(
    spec: FigureSpec,
    panel: PanelSpec,
    anatomy: anat.Anatomy,
    rng: np.random.Generator,
    shift: tuple[float, float] = (0.0, 0.0),
) -> tuple[anat.Anatomy, tuple[pat.Lesion, ...], rg.Scene]:
    """Anatomy (mirrored if the panel asks, then varied by the panel's subject), lesions and scene
    of one panel over ``anatomy``, drawing pattern randomness from ``rng``.

    ``shift`` (mm) moves the patterns' explicit points from the full view into this panel; a
    mirrored panel (the other side of the body) also flips them; the subject moves them with
    the anatomy, so lesions keep their place in it.
    """
    width = None
    if panel.mirror:
        anatomy = anat.mirrored(anatomy)
        width = anatomy.grid.size_mm[0]
    subject = subj.fitted(panel.subject, anatomy)  # magnified just enough to keep the field filled
    anatomy = subj.apply(anatomy, subject)
    size = anatomy.grid.size_mm
    lesions: tuple[pat.Lesion, ...] = ()
    for p in panel.patterns:
        lesions += pat.generate(p.id, anatomy, rng, **panel_params(p.params, shift, width, subject, size))
    return anatomy, lesions, rg.make_scene(pat.apply_lesions(anatomy, lesions), anatomy.grid.pixel_mm)


def zoom_center(anatomy: anat.Anatomy, zoom: Zoom) -> tuple[float, float]:
    """The (x, y) mm of a zoom's centre in the full view (a landmark's point or mean of points)."""
    if not isinstance(zoom.center, str):
        return float(zoom.center[0]), float(zoom.center[1])
    if zoom.center not in anatomy.landmarks:
        raise ValueError(
            f"zoom centre {zoom.center!r} is not a landmark of {anatomy.site} {anatomy.projection}; "
            f"landmarks: {', '.join(sorted(anatomy.landmarks))}"
        )
    points = np.asarray(anatomy.landmarks[zoom.center], float).reshape(-1, 2)
    if zoom.points is not None:
        points = points[list(zoom.points)]
    x, y = points.mean(axis=0) if len(points) != 3 else points[1]
    return float(x), float(y)


def panel_anatomy(
    spec: FigureSpec, panel: PanelSpec, shape: tuple[int, int], zoom: Zoom | None = None
) -> tuple[anat.Anatomy, tuple[float, float]]:
    """The anatomy of one panel of ``shape`` pixels, projected from the site's 3-D data (cached),
    and the shift (mm) from the full view's image coordinates to the panel's.

    A zoom is a new view of the anatomy (same directions, centred on the zoom centre,
    ``field_mm`` wide), projected afresh, so it stays sharp; a narrower panel is the middle of
    the view. The panel's build options (e.g. ``head_elevation_mm``) apply to both.
    """
    options = dict(panel.options)
    base = anat.from_projection(spec.site, spec.projection, options=options)
    window = None if zoom is None else (zoom_center(base, zoom), zoom.field_mm)
    anatomy = anat.from_projection(spec.site, spec.projection, shape, zoom=window, options=options)
    return anatomy, _landmark_shift(base, anatomy)


def panel_log(
    spec: FigureSpec, panel: PanelSpec, shape: tuple[int, int], rng: np.random.Generator, zoom: Zoom | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Log image, bone mask and pixel size (mm) of one panel of ``shape`` pixels, magnified by ``zoom``
    (see :func:`panel_anatomy`; the one zoom helper of figures and atlas). Explicit points of the
    spec are read in the full view, then moved into the panel."""
    return panel_film_log(spec, panel, shape, rng, zoom)[:3]


def panel_film_log(
    spec: FigureSpec, panel: PanelSpec, shape: tuple[int, int], rng: np.random.Generator, zoom: Zoom | None = None
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """:func:`panel_log` and the panel's lesion mask (every lesion pixel, swelling included: what
    the collimation must keep in the field and the side marker must not cover)."""
    anatomy, shift = panel_anatomy(spec, panel, shape, zoom)
    anatomy, lesions, scene = panel_scene(spec, panel, anatomy, rng, shift)
    lesion = np.zeros(anatomy.grid.shape, bool)
    for item in lesions:
        lesion |= item.thickness_mm > 1e-3
    log_img = rg.render_log(scene, panel_exposure(spec, panel), rng)
    return log_img, anatomy.bone_mask, anatomy.grid.pixel_mm, lesion


def panel_exposure(spec: FigureSpec, panel: PanelSpec) -> rg.Exposure:
    """The figure's exposure with the fluence scaled by the panel subject's ``fluence``."""
    fluence = spec.exposure.fluence_photons_per_mm2
    if fluence is None or panel.subject.fluence == 1.0:
        return spec.exposure
    return replace(spec.exposure, fluence_photons_per_mm2=fluence * panel.subject.fluence)


def panel_letters(spec: FigureSpec) -> list[tuple[str | None, str | None]]:
    """(side marker, panel letter) of each panel.

    A figure whose panels include a mirrored one is one film of both sides (e.g. both hands):
    each panel carries the marker of its own side. Panels that are all the same side are
    separate films of it (e.g. before and after treatment): each carries the side's marker and
    a letter, A, B, ... Extremity films are viewed as the beam sees them, so a left hand, the
    mirror image of a right, lies on the image left with its thumb towards the middle.
    """
    side = None
    if spec.marker is not None:
        side = spec.marker if spec.marker != "auto" else anat.side_marker(spec.site, spec.projection)
    bilateral = any(p.mirror for p in spec.panels)
    out: list[tuple[str | None, str | None]] = []
    for k, panel in enumerate(spec.panels):
        letter = {"R": "L", "L": "R"}.get(side, side) if panel.mirror and side else side
        label = chr(ord("A") + k) if len(spec.panels) > 1 and not bilateral else None
        out.append((letter, label))
    return out


ACQUISITION_STREAM: int = 0xAC9
"""Second word of the acquisition generator's seed ([figure seed, this]): collimation, air grain and
marker placement draw from a stream of their own, so the lesions and quantum noise are unchanged."""


@dataclass(frozen=True)
class Film:
    """A rendered figure (uint8 ``image``) and its acquisition: the collimated fields' primary-beam
    share (``field``, float32 in [0, 1]), what they had to keep (``keep``: lesions and each panel's
    middle), the lead side markers placed, the collimated fields (one per film) and the body
    (the pixels the anatomy covers) and the pixel size (mm) of the rendered panels."""

    image: np.ndarray
    field: np.ndarray
    keep: np.ndarray
    markers: tuple[rg.LeadMarker, ...]
    fields: tuple[rg.Collimation, ...]
    body: np.ndarray
    pixel_mm: float


def render_figure(spec: FigureSpec | str, shape: tuple[int, int] = IMAGE_SHAPE) -> np.ndarray:
    """The figure as a uint8 greyscale array of ``shape`` (rows, columns); deterministic
    (see :func:`render_film`)."""
    return render_film(spec, shape).image


def _film_regions(spec: FigureSpec, widths: list[int]) -> list[tuple[int, int, list[int]]]:
    """Collimated fields as (first column, stop column, panel indices): one film of both sides
    (a mirrored panel) is one field; separate films of one side (before and after) one each."""
    edges = np.concatenate([[0], np.cumsum(widths)]).astype(int)
    if any(p.mirror for p in spec.panels):
        return [(0, int(edges[-1]), list(range(len(widths))))]
    return [(int(edges[k]), int(edges[k + 1]), [k]) for k in range(len(widths))]


def render_film(spec: FigureSpec | str, shape: tuple[int, int] = IMAGE_SHAPE) -> Film:
    """The figure as a :class:`Film`; deterministic.

    ``spec`` is a :class:`FigureSpec` (e.g. from :func:`make_spec`) or a figure id. Panels sit
    side by side. Then the acquisition (:mod:`calcifications.radiograph`, ``data/acquisition.yml``,
    drawn from the figure's seed): the direct-exposure air made grainy and uneven, a collimated
    field per film (a little rotated and off-centre, never cutting a lesion or the middle of a
    panel), a lead side marker per panel placed inside the field near a shutter edge (its letter
    from :func:`panel_letters`), and panel letters (top left) burned in.
    """
    spec = get_spec(spec) if isinstance(spec, str) else spec
    if len(shape) != 2 or min(shape) < 16:
        raise ValueError(f"shape must be two sizes ≥ 16 pixels, got {shape!r}")
    rng = np.random.default_rng(spec.seed)
    n = len(spec.panels)
    logs, bones, lesions = [], [], []
    pixel_mm = spec.pixel_mm
    for i, panel in enumerate(spec.panels):
        width = shape[1] // n + (shape[1] % n if i == n - 1 else 0)
        log_img, bone, pixel_mm, lesion = panel_film_log(spec, panel, (shape[0], width), rng, spec.zoom)
        logs.append(log_img)
        bones.append(bone)
        lesions.append(lesion)
    log_img = np.hstack(logs)
    display = rg.apply_window(log_img, spec.window, pixel_mm, np.hstack(bones))
    acq = rg.load_acquisition()
    arng = np.random.default_rng([spec.seed, ACQUISITION_STREAM])
    body = log_img >= spec.window.air_threshold
    widths = [part.shape[1] for part in logs]
    lesion_all = np.hstack(lesions)
    bone_all = np.hstack(bones) & body
    keep = lesion_all.copy()
    x = 0
    for width in widths:  # the middle of each panel: the region the figure is of
        mh, mw = (1 - acq.keep_center_fraction) / 2 * shape[0], (1 - acq.keep_center_fraction) / 2 * width
        keep[int(mh) : int(np.ceil(shape[0] - mh)), x + int(mw) : x + int(np.ceil(width - mw))] = True
        x += width
    # the side marker covers neither a lesion nor bone (2 mm clear of both); where the bone leaves no
    # room near the field's edge, it may lie over as little bone as it can, never over a lesion
    clear = max(1, round(2.0 / pixel_mm))
    avoid_lesion = rg._dilated(lesion_all, clear) if lesion_all.any() else lesion_all
    avoid = avoid_lesion | rg._dilated(np.hstack(bones), clear)
    display = rg.expose_air(display, body, arng, pixel_mm, acq)
    weight = np.ones(shape, np.float32)
    fields, markers = [], []
    letters = panel_letters(spec)
    starts = np.concatenate([[0], np.cumsum(widths)]).astype(int)
    for c0, c1, members in _film_regions(spec, widths):
        part = (shape[0], c1 - c0)
        field = rg.draw_collimation(part, arng, keep[:, c0:c1], pixel_mm, acq, bone_all[:, c0:c1], body[:, c0:c1])
        field = replace(field, center=(field.center[0], field.center[1] + c0))
        w = rg.field_weight(shape, field, acq.penumbra_mm / pixel_mm)
        w[:, :c0], w[:, c1:] = 1.0, 1.0
        region = np.zeros(shape, np.float32)
        region[:, c0:c1] = 1.0
        display = display * (1 - region) + region * rg.collimate(display, w, field, arng, acq)
        weight[:, c0:c1] = w[:, c0:c1]
        fields.append(field)
        for k in members:
            letter = letters[k][0]
            marker_rng = np.random.default_rng([spec.seed, ACQUISITION_STREAM, k + 1])
            if letter is None:
                continue
            columns = (int(starts[k]), int(starts[k + 1]))
            marker = rg.place_marker(letter, field, shape, body, avoid, marker_rng, pixel_mm, columns, acq)
            if marker is None:
                marker_rng = np.random.default_rng([spec.seed, ACQUISITION_STREAM, k + 1])
                bone_px = np.hstack(bones)  # no bone-free room: over as little bone as the positions allow
                marker = rg.place_marker(
                    letter, field, shape, bone_px, avoid_lesion, marker_rng, pixel_mm, columns, acq
                )
            if marker is not None:
                display = rg.burn_marker(display, marker, pixel_mm, acq)
                markers.append(marker)
    image = rg.to_uint8(display)
    scale = max(1, round(shape[0] / 400))
    x = 0
    for k, ((_, label), part) in enumerate(zip(letters, logs)):
        if label is not None:
            draw_marker(image, label, x + 6 + 7 * scale, 6, scale=scale)
        if k:  # a thin black gutter between panels
            image[:, max(x - 1, 0) : x + 1] = 0
        x += part.shape[1]
    return Film(image, weight, keep, tuple(markers), tuple(fields), body, pixel_mm)


# 5 × 7 glyphs of the panel letters (1 = lit).
_GLYPHS = {
    "R": ("11110", "10001", "10001", "11110", "10100", "10010", "10001"),
    "L": ("10000", "10000", "10000", "10000", "10000", "10000", "11111"),
    "A": ("01110", "10001", "10001", "11111", "10001", "10001", "10001"),
    "B": ("11110", "10001", "10001", "11110", "10001", "10001", "11110"),
    "C": ("01111", "10000", "10000", "10000", "10000", "10000", "01111"),
}


def draw_marker(image: np.ndarray, letter: str, right: int, top: int, scale: int = 2) -> None:
    """Burn a small letter (white on a dark square: a panel letter, an annotation) whose right
    edge is at column ``right``."""
    glyph = _GLYPHS.get(letter)
    if glyph is None:
        return
    h, w = 7 * scale, 5 * scale
    r0, c0 = top, right - w - 2 * scale
    if r0 < 0 or c0 < 0 or r0 + h + 2 * scale > image.shape[0]:
        return
    image[r0 : r0 + h + 2 * scale, c0 : c0 + w + 2 * scale] = 20
    for i, row in enumerate(glyph):
        for j, bit in enumerate(row):
            if bit == "1":
                image[
                    r0 + scale + i * scale : r0 + scale + (i + 1) * scale,
                    c0 + scale + j * scale : c0 + scale + (j + 1) * scale,
                ] = 235


def encode_png(image: np.ndarray) -> bytes:
    """8-bit greyscale PNG bytes, optimized, with no timestamp or text chunks."""
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError("encode_png expects a 2-D uint8 array")
    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def image_digest(image: np.ndarray) -> str:
    """SHA-256 of the array's shape, dtype and bytes (for reproducibility checks)."""
    h = hashlib.sha256(f"{image.shape}{image.dtype}".encode())
    h.update(np.ascontiguousarray(image).tobytes())
    return h.hexdigest()


def encode_webp(image: np.ndarray, quality: int = WEBP_QUALITY) -> bytes:
    """Lossy greyscale WebP bytes (deterministic for a given libwebp), no metadata."""
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError("encode_webp expects a 2-D uint8 array")
    buffer = io.BytesIO()
    Image.fromarray(image, mode="L").save(buffer, format="WEBP", quality=quality, method=6, exact=False)
    return buffer.getvalue()


def encode_figure(image: np.ndarray) -> bytes:
    """The delivered figure file's bytes (format FIGURE_FORMAT)."""
    return encode_webp(image) if FIGURE_FORMAT == "webp" else encode_png(image)


def figure_path(folder: Path, figure_id: str) -> Path:
    """Where the figure ``figure_id`` lives in ``folder`` (e.g. figures/fig01.webp)."""
    return folder / f"{figure_id}.{FIGURE_FORMAT}"


def default_jobs() -> int:
    """Worker processes for :func:`write_figures`: the CPUs this process may use (2 on the
    development machine), at most 4 (each worker keeps its own in-memory anatomy cache)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


def worker_start_method() -> str:
    """How :func:`write_figures` starts its workers: "fork" where the platform has it (the workers
    inherit the loaded specs and modules, no re-import per worker), else "spawn" (macOS and Windows
    Pythons; each worker imports the package, same bytes)."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def figure_groups(specs: Sequence[FigureSpec]) -> list[tuple[str, ...]]:
    """Figure ids grouped by site and projection (a group builds its anatomy once, in one
    worker), the largest groups first so that the workers finish together."""
    groups: dict[tuple[str, str], list[str]] = {}
    for spec in specs:
        groups.setdefault((spec.site, spec.projection), []).append(spec.id)
    return [tuple(ids) for ids in sorted(groups.values(), key=len, reverse=True)]


def _encoded_group(ids: tuple[str, ...]) -> list[tuple[str, bytes]]:
    """The delivered file bytes of the figures ``ids`` (one worker's task)."""
    return [(fid, encode_figure(render_figure(get_spec(fid)))) for fid in ids]


def write_figures(out: Path, ids: Sequence[str] | None = None, stream: Any = None, jobs: int = 1) -> list[Path]:
    """Render and write ``<id>.webp`` for the chosen ids (all by default), one progress line each.

    ``jobs`` > 1 renders the site/view groups (:func:`figure_groups`) in that many worker
    processes; every figure is a pure function of its spec and the site data, so the files are
    the same bytes whatever the number of workers (tests/test_rasterising_speedups.py). The
    progress lines then come in the order the groups finish.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    stream = sys.stdout if stream is None else stream
    out.mkdir(parents=True, exist_ok=True)
    specs = [s for s in load_specs() if ids is None or s.id in ids]
    titles = {s.id: s.title for s in specs}
    written: list[Path] = []

    def record(fid: str, data: bytes) -> None:
        path = figure_path(out, fid)
        path.write_bytes(data)
        flag = "" if len(data) <= MAX_FIGURE_BYTES else "  (over size budget)"
        print(
            f"[{len(written) + 1:2d}/{len(specs)}] {fid}  {titles[fid][:52]:<52} {len(data) / 1024:5.1f} KB{flag}",
            file=stream,
            flush=True,
        )
        written.append(path)

    groups = figure_groups(specs)
    if jobs == 1 or len(groups) < 2:
        for fid, data in _encoded_group(tuple(titles)):
            record(fid, data)
        return written
    context = multiprocessing.get_context(worker_start_method())
    with ProcessPoolExecutor(max_workers=min(jobs, len(groups)), mp_context=context) as pool:
        futures = [pool.submit(_encoded_group, group) for group in groups]
        for future in as_completed(futures):
            for fid, data in future.result():
                record(fid, data)
    order = {s.id: k for k, s in enumerate(specs)}
    return sorted(written, key=lambda path: order[path.stem])


def contact_sheet(folder: Path, ids: Sequence[str] | None = None, tile: int = 256, columns: int = 6) -> np.ndarray:
    """All figures of ``folder`` (as written) in one uint8 array, ids burned in small, no captions."""
    specs = [s for s in load_specs() if ids is None or s.id in ids]
    rows = -(-len(specs) // columns)
    sheet = np.zeros((rows * (tile + 6), columns * (tile + 6)), np.uint8)
    for k, spec in enumerate(specs):
        path = figure_path(folder, spec.id)
        if path.exists():
            with Image.open(path) as opened:
                image = opened.convert("L")
        else:
            image = Image.fromarray(render_figure(spec))
        r, c = divmod(k, columns)
        tile_img = np.asarray(image.resize((tile, tile), Image.Resampling.LANCZOS))
        sheet[r * (tile + 6) : r * (tile + 6) + tile, c * (tile + 6) : c * (tile + 6) + tile] = tile_img
    return sheet


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m calcifications.figures [--out figures/] [--only fig01 fig05] [--sheet]``."""
    parser = argparse.ArgumentParser(description="Write the synthetic figures (WebP) and a contact sheet.")
    parser.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures/)")
    parser.add_argument("--only", nargs="*", help="figure ids to write (default: all)")
    parser.add_argument(
        "--sheet",
        nargs="?",
        const=True,
        default=False,
        help="also write a contact sheet PNG (default <out>/contact-sheet.png); "
        "with --sheet alone and existing figures, only the sheet is rebuilt if --only is empty",
    )
    parser.add_argument("--sheet-only", action="store_true", help="only (re)build the contact sheet from <out>")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help=f"worker processes (default: {default_jobs()}, the CPUs available, at most 4; 1: no workers)",
    )
    args = parser.parse_args(argv)
    if args.only:
        for fid in args.only:
            get_spec(fid)
    if not args.sheet_only:
        jobs = default_jobs() if args.jobs is None else args.jobs
        if jobs < 1:
            parser.error(f"--jobs must be at least 1, got {jobs}")
        write_figures(args.out, args.only, jobs=jobs)
    if args.sheet or args.sheet_only:
        target = args.out / "contact-sheet.png" if args.sheet is True or args.sheet_only else Path(args.sheet)
        Image.fromarray(contact_sheet(args.out, args.only or None), mode="L").save(target, format="PNG", optimize=True)
        print(f"contact sheet: {target}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
