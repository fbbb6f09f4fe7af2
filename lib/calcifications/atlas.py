"""The morphology atlas: one synthetic radiograph per morphology, and frames that vary a teaching parameter.

The table of defaults is data (``data/atlas.yml``): for each of the 18
morphology ids of the vocabulary, a site and projection where the pattern is
typical, the generator's teaching parameters, a fixed seed, the one-line
discriminating feature, alt text, the diagnoses it suggests (vocabulary ids)
and the references behind them. The same file lists the teaching parameters
that frame viewers may vary (weeks since trauma, phase, count...) with the
caption line of each value.

Images come from the radiograph engine (:func:`calcifications.figures.render_figure`
on a spec built from the table), are deterministic (the seed of the table) and
small (256 × 256 by default), since every image of the atlas page is embedded in it.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from importlib import resources
from posixpath import relpath
from types import MappingProxyType
from typing import Any

import numpy as np
import yaml

from . import anatomy as anat
from . import figures, patterns
from . import radiograph as rg
from .book import published_pages, section_anchor
from .vocabulary import vocabulary

TILE_SIZE: int = 256
SIZES: tuple[int, ...] = (128, 192, 256, 320, 384, 512)
MAX_FRAMES: int = 24
# Fluence behind the object as in the seed figures: quantum mottle stays below one grey level.
FLUENCE_PHOTONS_PER_MM2: float = 4.0e5
BLUR_FWHM_MM: float = 0.6


@dataclass(frozen=True)
class AtlasEntry:
    """One morphology of the atlas: where and how it is drawn, what it shows and suggests."""

    id: str
    name: str
    site: str
    projection: str
    params: Mapping[str, Any]
    seed: int
    zoom: Mapping[str, Any] | None
    energy_kev: float
    feature: str
    alt: str
    suggests: tuple[str, ...]
    cite: tuple[str, ...]


@dataclass(frozen=True)
class Stage:
    """Caption text for values below ``below`` (numbers) or equal to ``equals`` (names)."""

    text: str
    below: float | None = None
    equals: str | None = None


@dataclass(frozen=True)
class TeachingParameter:
    """A pattern parameter that a frame viewer varies: caption template, unit, stages, references."""

    name: str
    label: str
    label_singular: str
    unit: str
    stages: tuple[Stage, ...]
    cite: tuple[str, ...]


@dataclass(frozen=True)
class Atlas:
    """The validated atlas table: entries in vocabulary order and teaching parameters per morphology."""

    entries: Mapping[str, AtlasEntry]
    parameters: Mapping[str, Mapping[str, TeachingParameter]]


def _tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuple(v) for v in value)
    return value


def _zoom(raw: Any, site: str, projection: str, where: str) -> Mapping[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or "center" not in raw or "field_mm" not in raw:
        raise ValueError(f"{where}: zoom needs 'center' and 'field_mm'")
    bad = sorted(set(raw) - {"center", "field_mm", "points"})
    if bad:
        raise ValueError(f"{where}: unknown zoom key(s) {bad}; valid: ['center', 'field_mm', 'points']")
    fov = anat.field_of_view_mm(site, projection)
    if not 10 <= float(raw["field_mm"]) <= fov:
        raise ValueError(f"{where}: zoom field_mm must be between 10 and the view's field ({fov:g} mm)")
    return MappingProxyType(
        {
            "center": _tuple(raw["center"]),
            "field_mm": float(raw["field_mm"]),
            "points": _tuple(raw.get("points")),
        }
    )


def parse_atlas(raw: Any) -> Atlas:
    """Validate a parsed ``atlas.yml``; ValueError naming the entry and the problem."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("morphologies"), Mapping):
        raise ValueError("atlas.yml: expected a mapping with 'morphologies'")
    vocab = vocabulary()
    morphologies = [fid for fid, f in vocab.findings.items() if f.category == "morphology"]
    table = raw["morphologies"]
    missing, extra = sorted(set(morphologies) - set(table)), sorted(set(table) - set(morphologies))
    if missing or extra:
        raise ValueError(
            f"atlas.yml must cover exactly the vocabulary morphologies; missing {missing}, unknown {extra}"
        )
    beams = raw.get("beam_kev_by_site") or {}
    entries = {}
    for mid in morphologies:
        row = table[mid]
        where = f"atlas.yml: {mid}"
        for key in ("name", "site", "projection", "seed", "params", "feature", "alt", "suggests", "cite"):
            if key not in row:
                raise ValueError(f"{where}: missing {key!r}")
        if row["site"] not in anat.SITES or row["projection"] not in anat.views(row["site"]):
            raise ValueError(f"{where}: unknown site or projection {row['site']!r} {row['projection']!r}")
        patterns.check_parameters(mid, row["params"], where)
        unknown = [d for d in row["suggests"] if d not in vocab.diagnoses]
        if unknown or not row["suggests"]:
            raise ValueError(f"{where}: 'suggests' needs vocabulary diagnosis ids; unknown {unknown}")
        if not row["cite"]:
            raise ValueError(f"{where}: 'cite' needs at least one references.bib key")
        entries[mid] = AtlasEntry(
            id=mid,
            name=str(row["name"]),
            site=row["site"],
            projection=row["projection"],
            params=MappingProxyType({k: _tuple(v) for k, v in (row["params"] or {}).items()}),
            seed=int(row["seed"]),
            zoom=_zoom(row.get("zoom"), row["site"], row["projection"], where),
            energy_kev=float(row.get("energy_kev", beams.get(row["site"], 35))),
            feature=" ".join(str(row["feature"]).split()),
            alt=" ".join(str(row["alt"]).split()),
            suggests=tuple(row["suggests"]),
            cite=tuple(row["cite"]),
        )
    parameters: dict[str, Mapping[str, TeachingParameter]] = {}
    for mid, params in (raw.get("parameters") or {}).items():
        if mid not in entries:
            raise ValueError(f"atlas.yml: parameters for unknown morphology {mid!r}")
        own = {}
        for name, spec in params.items():
            stages = tuple(
                Stage(str(s["text"]), float(s["below"]) if "below" in s else None, s.get("equals"))
                for s in spec.get("stages") or ()
            )
            if not stages:
                raise ValueError(f"atlas.yml: parameter {mid}.{name} needs at least one stage")
            own[name] = TeachingParameter(
                name,
                str(spec["label"]),
                str(spec.get("label_singular", spec["label"])),
                str(spec.get("unit", "")),
                stages,
                tuple(spec.get("cite") or ()),
            )
        parameters[mid] = MappingProxyType(own)
    return Atlas(MappingProxyType(entries), MappingProxyType(parameters))


@lru_cache(maxsize=1)
def load_atlas() -> Atlas:
    """The atlas table of ``data/atlas.yml``, validated (cached)."""
    text = resources.files("calcifications").joinpath("data/atlas.yml").read_text("utf-8")
    return parse_atlas(yaml.safe_load(text))


def entry(morphology: str) -> AtlasEntry:
    """The atlas entry of a morphology id; ValueError if it is not one of the 18."""
    entries = load_atlas().entries
    if morphology not in entries:
        raise ValueError(f"unknown morphology {morphology!r}; known: {', '.join(entries)}")
    return entries[morphology]


def teaching_parameter(morphology: str, parameter: str) -> TeachingParameter:
    """The teaching parameter ``parameter`` of ``morphology``; ValueError if the atlas does not vary it."""
    own = load_atlas().parameters.get(entry(morphology).id, {})
    if parameter not in own:
        known = ", ".join(own) or "none"
        raise ValueError(f"{morphology!r} has no teaching parameter {parameter!r}; known: {known}")
    return own[parameter]


def figure_spec(morphology: str, **overrides: Any) -> figures.FigureSpec:
    """A figure spec drawing ``morphology`` with the atlas defaults, pattern parameters overridden."""
    e = entry(morphology)
    params = {**e.params, **overrides}
    return figures.FigureSpec(
        id=f"atlas-{e.id}",
        source_figure="",
        title=e.name,
        site=e.site,
        projection=e.projection,
        panels=(figures.PanelSpec((figures.PatternSpec(e.id, MappingProxyType(params)),)),),
        exposure=rg.Exposure(
            energy_kev=e.energy_kev,
            fluence_photons_per_mm2=FLUENCE_PHOTONS_PER_MM2,
            blur_fwhm_mm=BLUR_FWHM_MM,
            reference="behind_object",
        ),
        window=rg.Window.dr(),
        seed=e.seed,
        pixel_mm=anat.field_of_view_mm(e.site, e.projection) / figures.IMAGE_SHAPE[1],
        zoom_on=None,
        alt=f"Synthetic image. {e.alt}",
        caption=f"{figures.CAPTION_PREFIX} {e.name}. {e.feature}",
    )


def _size(size: Any) -> int:
    if isinstance(size, bool) or size not in SIZES:
        raise ValueError(f"size must be one of {SIZES} pixels, got {size!r}")
    return int(size)


def render(morphology: str, size: int = TILE_SIZE, **overrides: Any) -> np.ndarray:
    """The atlas image of ``morphology`` as a ``size`` × ``size`` uint8 array (deterministic).

    A magnified entry (``zoom`` in the table) is drawn by :func:`figures.panel_log` (the one
    zoom helper): a view of the 3-D anatomy re-centred on the zoom centre and ``field_mm`` wide.
    ``overrides`` replace the table's pattern parameters (e.g. ``weeks_since_trauma=3``);
    invalid values raise ValueError from the pattern generator.
    """
    size = _size(size)
    e = entry(morphology)
    spec = figure_spec(morphology, **overrides)
    zoom = None
    if e.zoom:
        zoom = figures.Zoom(
            e.zoom["center"] if isinstance(e.zoom["center"], str) else tuple(e.zoom["center"]),
            float(e.zoom["field_mm"]),
            None if e.zoom.get("points") is None else tuple(e.zoom["points"]),
        )
    rng = np.random.default_rng(spec.seed)
    log_img, bone, pixel_mm = figures.panel_log(spec, spec.panels[0], (size, size), rng, zoom)
    return rg.to_uint8(rg.apply_window(log_img, spec.window, pixel_mm, bone))


def _check_value(teaching: TeachingParameter, value: Any) -> Any:
    if any(s.equals is not None for s in teaching.stages):
        names = [s.equals for s in teaching.stages if s.equals is not None]
        if value not in names:
            raise ValueError(f"{teaching.name} must be one of {names}, got {value!r}")
        return value
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(float(value))
    ):
        raise ValueError(f"{teaching.name} must be a finite number, got {value!r}")
    return value.item() if isinstance(value, np.generic) else value


def frames(morphology: str, parameter: str, values: Iterable[Any], size: int = TILE_SIZE) -> list[np.ndarray]:
    """Pre-render ``morphology`` at each value of a teaching ``parameter`` (same seed, same anatomy).

    E.g. ``frames("zonal_peripheral", "weeks_since_trauma", [1, 3.5, 7, 16])``. Raises
    ValueError for an unknown morphology or parameter, no values, more than MAX_FRAMES values,
    or a value the generator rejects.
    """
    teaching = teaching_parameter(morphology, parameter)
    values = list(values) if not isinstance(values, (str, bytes)) else [values]
    if not values:
        raise ValueError("values must list at least one value")
    if len(values) > MAX_FRAMES:
        raise ValueError(f"at most {MAX_FRAMES} frames (page weight), got {len(values)}")
    checked = [_check_value(teaching, v) for v in values]
    return [render(morphology, size, **{parameter: v}) for v in checked]


def stage_text(morphology: str, parameter: str, value: Any) -> str:
    """What the image shows at this value of the teaching parameter (e.g. 'faint floccular calcification')."""
    teaching = teaching_parameter(morphology, parameter)
    value = _check_value(teaching, value)
    for stage in teaching.stages:
        if stage.equals is not None and value == stage.equals:
            return stage.text
        if stage.below is not None and float(value) < stage.below:
            return stage.text
    return teaching.stages[-1].text


def frame_label(morphology: str, parameter: str, value: Any) -> str:
    """Caption line of a frame, e.g. '6 weeks after trauma: mature peripheral rim … (zonal pattern)'."""
    teaching = teaching_parameter(morphology, parameter)
    value = _check_value(teaching, value)
    template = teaching.label_singular if not isinstance(value, str) and float(value) == 1 else teaching.label
    head = template.format(value=value)
    return f"{head[:1].upper()}{head[1:]}: {stage_text(morphology, parameter, value)}"


def frame_alt(morphology: str, parameter: str, value: Any) -> str:
    """Alt text of a frame: the synthetic view and what it shows at this value."""
    e = entry(morphology)
    site = vocabulary().findings[e.site].label.lower()
    return (
        f"Synthetic {e.projection} radiograph, {site}, {e.name.lower()}: {frame_label(morphology, parameter, value)}."
    )


def image_data_uri(image: np.ndarray) -> str:
    """A data URI of an 8-bit greyscale image in the book's figure format (WebP; deterministic bytes).

    The same lossy format as the committed figures: frames and tiles weigh about half as much
    as PNG, and each appears twice on a static page (the fallback and the widget state).
    """
    mime = f"image/{figures.FIGURE_FORMAT}"
    return f"data:{mime};base64," + base64.b64encode(figures.encode_figure(image)).decode("ascii")


# ----------------------------------------------------------------- the grid ----


def diagnosis_links(
    morphology: str, pages: Sequence[str] | None = None, from_folder: str = "chapters"
) -> list[tuple[str, str | None]]:
    """(label, href or None) of each diagnosis the morphology suggests.

    The href is ``<chapter>.html#<diagnosis-id-with-hyphens>`` relative to ``from_folder``;
    diagnoses whose chapter is not among ``pages`` (default: the table of contents) get None.
    """
    from .differential import knowledge_base

    pages = set(published_pages() if pages is None else pages)
    chapters = {d.id: d.chapter for d in knowledge_base().diagnoses}
    labels = {d.id: d.label for d in knowledge_base().diagnoses}  # the book's nomenclature
    out = []
    for did in entry(morphology).suggests:
        chapter = chapters[did]
        href = f"{relpath(chapter, from_folder)}.html#{section_anchor(did)}" if chapter in pages else None
        out.append((labels[did], href))
    return out


def tile_html(morphology: str, image: np.ndarray, pages: Sequence[str] | None = None) -> str:
    """One atlas tile: the image with alt text, the name, the discriminating feature, linked diagnoses."""
    e = entry(morphology)
    links = []
    for label, href in diagnosis_links(morphology, pages):
        links.append(f'<a href="{escape(href)}">{escape(label)}</a>' if href else escape(label))
    h, w = image.shape
    return (
        f'<figure class="atlas-tile" id="atlas-{section_anchor(e.id)}" data-morphology="{e.id}" '
        f'style="margin:0;border:1px solid #ccc;padding:6px;background:#fff">'
        f'<img src="{image_data_uri(image)}" alt="{escape(figure_spec(morphology).alt)}" width="{w}" height="{h}" '
        f'style="width:100%;height:auto;display:block;background:#000">'
        f'<figcaption style="font-size:0.85em;line-height:1.35">'
        f'<strong class="atlas-name">{escape(e.name)}</strong> '
        f'<span class="atlas-synthetic" style="color:#555">(synthetic)</span><br>'
        f'<span class="atlas-feature">{escape(e.feature)}</span><br>'
        f'<span class="atlas-suggests">Suggests: {"; ".join(links)}.</span>'
        f"</figcaption></figure>"
    )


@dataclass(frozen=True)
class AtlasGrid:
    """All atlas tiles as one HTML grid (one output cell); ``html`` holds the markup."""

    html: str
    morphologies: tuple[str, ...]
    image_bytes: int

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"AtlasGrid({len(self.morphologies)} synthetic tiles)"


def atlas_grid(
    pages: Sequence[str] | None = None, size: int = TILE_SIZE, morphologies: Sequence[str] | None = None
) -> AtlasGrid:
    """The atlas as a responsive grid of tiles, in vocabulary order (or the ``morphologies`` given).

    ``pages`` lists the book pages that exist (default: the table of contents), so only those are linked.
    """
    ids = tuple(load_atlas().entries) if morphologies is None else tuple(morphologies)
    if not ids:
        raise ValueError("morphologies must name at least one morphology")
    pages = list(published_pages() if pages is None else pages)
    tiles, total = [], 0
    for mid in ids:
        image = render(mid, size)
        total += len(figures.encode_figure(image))
        tiles.append(tile_html(mid, image, pages))
    html = (
        '<div class="atlas-grid" role="list" aria-label="Synthetic radiographs of the 18 calcification morphologies" '
        'style="display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px">'
        + "".join(f'<div role="listitem">{t}</div>' for t in tiles)
        + "</div>"
    )
    return AtlasGrid(html, ids, total)


def contact_sheet(size: int = TILE_SIZE, columns: int = 6) -> np.ndarray:
    """All 18 atlas images in one uint8 array (for checking by eye), separated by black gutters."""
    images = [render(mid, size) for mid in load_atlas().entries]
    rows = math.ceil(len(images) / columns)
    sheet = np.zeros((rows * (size + 4), columns * (size + 4)), np.uint8)
    for k, image in enumerate(images):
        r, c = divmod(k, columns)
        sheet[r * (size + 4) : r * (size + 4) + size, c * (size + 4) : c * (size + 4) + size] = image
    return sheet


__all__ = [
    "Atlas",
    "AtlasEntry",
    "AtlasGrid",
    "TeachingParameter",
    "atlas_grid",
    "contact_sheet",
    "diagnosis_links",
    "entry",
    "figure_spec",
    "frame_alt",
    "frame_label",
    "frames",
    "load_atlas",
    "image_data_uri",
    "render",
    "stage_text",
    "teaching_parameter",
    "tile_html",
]
