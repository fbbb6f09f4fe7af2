"""Synthetic radiographs from specs: the essay's 17 figures and the chapters' own.

The essay's figures are specified in ``data/seed_figures.yml``; figures that
chapters add for entities the essay does not illustrate live in
``data/figures/<chapter>.yml`` (same format, ``source_figure: ""``).

Each spec names the site, projection, patterns (with teaching parameters),
beam (effective energy in keV, fluence in photons/mm²), display window, a seed,
alt text and a caption. :func:`render_figure` turns a spec into a uint8 array;
``python -m calcifications.figures --out figures/`` writes ``<id>.png`` files,
byte-identical on every run (8-bit greyscale PNG, no timestamps or metadata).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
from collections.abc import Mapping, Sequence
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

IMAGE_SHAPE: tuple[int, int] = (512, 512)
MAX_PNG_BYTES: int = 60 * 1024
CAPTION_PREFIX = "Synthetic illustration."


@dataclass(frozen=True)
class PatternSpec:
    """One pattern to place: morphology id and its teaching parameters."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PanelSpec:
    """One panel of a figure: patterns, optional mirroring and anatomy options."""

    patterns: tuple[PatternSpec, ...]
    mirror: bool = False
    options: Mapping[str, float] = field(default_factory=dict)


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


def _pattern(raw: Any, where: str) -> PatternSpec:
    if not isinstance(raw, dict) or "id" not in raw:
        raise ValueError(f"{where}: a pattern needs an 'id'")
    if raw["id"] not in pat.MORPHOLOGIES:
        raise ValueError(f"{where}: unknown pattern {raw['id']!r}")
    params = dict(raw.get("params") or {})
    for key, value in params.items():
        if isinstance(value, list):
            params[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return PatternSpec(raw["id"], params)


def _figure(raw: Mapping[str, Any], source: str = "seed_figures.yml") -> FigureSpec:
    where = f"{source}: {raw.get('id', '?')}"
    for key in ("id", "source_figure", "title", "site", "projection", "alt", "caption", "seed"):
        if key not in raw:
            raise ValueError(f"{where}: missing {key!r}")
    if raw["site"] not in anat.SITES:
        raise ValueError(f"{where}: unknown site {raw['site']!r}")
    if raw["projection"] not in anat.PROJECTIONS:
        raise ValueError(f"{where}: unknown projection {raw['projection']!r}")
    if not str(raw["caption"]).startswith(CAPTION_PREFIX):
        raise ValueError(f"{where}: caption must start with {CAPTION_PREFIX!r}")
    if len(str(raw["alt"])) < 40:
        raise ValueError(f"{where}: alt text is too short to describe the image")
    panels_raw = raw.get("panels") or [{"patterns": raw.get("patterns", [])}]
    panels = tuple(
        PanelSpec(
            tuple(_pattern(p, where) for p in panel.get("patterns", [])),
            bool(panel.get("mirror", False)),
            dict(panel.get("options") or {}),
        )
        for panel in panels_raw
    )
    pixel_mm = float(raw.get("pixel_mm", anat.FIELD_OF_VIEW_MM[raw["site"]] / IMAGE_SHAPE[1]))
    return FigureSpec(
        id=raw["id"],
        source_figure=str(raw["source_figure"]),
        title=raw["title"],
        site=raw["site"],
        projection=raw["projection"],
        panels=panels,
        exposure=rg.Exposure(**(raw.get("exposure") or {})),
        window=rg.Window(**(raw.get("window") or {})),
        seed=int(raw["seed"]),
        pixel_mm=pixel_mm,
        zoom_on=raw.get("zoom_on"),
        alt=" ".join(str(raw["alt"]).split()),
        caption=" ".join(str(raw["caption"]).split()),
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


def panel_scene(
    spec: FigureSpec, panel: PanelSpec, shape: tuple[int, int], rng: np.random.Generator
) -> tuple[anat.Anatomy, tuple[pat.Lesion, ...], rg.Scene]:
    """Anatomy, lesions and scene of one panel, drawing pattern randomness from ``rng``."""
    anatomy = anat.build(spec.site, spec.projection, shape, spec.pixel_mm, seed=spec.seed, **panel.options)
    if panel.mirror:
        anatomy = anat.mirrored(anatomy)
    lesions: tuple[pat.Lesion, ...] = ()
    for p in panel.patterns:
        lesions += pat.generate(p.id, anatomy, rng, **p.params)
    return anatomy, lesions, rg.make_scene(pat.apply_lesions(anatomy, lesions), anatomy.grid.pixel_mm)


def render_figure(spec: FigureSpec | str, shape: tuple[int, int] = IMAGE_SHAPE) -> np.ndarray:
    """The figure as a uint8 greyscale array of ``shape`` (rows, columns); deterministic."""
    spec = get_spec(spec) if isinstance(spec, str) else spec
    rng = np.random.default_rng(spec.seed)
    n = len(spec.panels)
    scale = IMAGE_SHAPE[1] / shape[1]
    logs = []
    for i, panel in enumerate(spec.panels):
        width = shape[1] // n + (shape[1] % n if i == n - 1 else 0)
        sub = replace(spec, pixel_mm=spec.pixel_mm * scale)
        full = (shape[0], width)
        if spec.zoom_on:  # magnified view: build the whole field of view, then crop around the landmark
            fov = anat.FIELD_OF_VIEW_MM[spec.site]
            full = (max(shape[0], round(fov / sub.pixel_mm)), max(width, round(fov / sub.pixel_mm)))
        anatomy, _, scene = panel_scene(sub, panel, full, rng)
        log_img = rg.render_log(scene, spec.exposure, rng)
        if spec.zoom_on:
            x, y = anatomy.landmarks[spec.zoom_on]
            r0 = int(np.clip(round(y / sub.pixel_mm) - shape[0] // 2, 0, full[0] - shape[0]))
            c0 = int(np.clip(round(x / sub.pixel_mm) - width // 2, 0, full[1] - width))
            log_img = log_img[r0 : r0 + shape[0], c0 : c0 + width]
        logs.append(log_img)
    log_img = np.hstack(logs)
    display = rg.to_uint8(rg.apply_window(log_img, spec.window, spec.pixel_mm * scale))
    for k in range(1, n):  # a thin black gutter between panels
        x = sum(log.shape[1] for log in logs[:k])
        display[:, max(x - 1, 0) : x + 1] = 0
    return display


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


def write_figures(out: Path, ids: Sequence[str] | None = None, stream: Any = None) -> list[Path]:
    """Render and write ``figNN.png`` for the chosen ids (all by default), one progress line each."""
    stream = sys.stdout if stream is None else stream
    out.mkdir(parents=True, exist_ok=True)
    specs = [s for s in load_specs() if ids is None or s.id in ids]
    written = []
    for k, spec in enumerate(specs, 1):
        data = encode_png(render_figure(spec))
        path = out / f"{spec.id}.png"
        path.write_bytes(data)
        flag = "" if len(data) <= MAX_PNG_BYTES else "  (over size budget)"
        print(
            f"[{k:2d}/{len(specs)}] {spec.id}  {spec.title[:52]:<52} {len(data) / 1024:5.1f} KB{flag}",
            file=stream,
            flush=True,
        )
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m calcifications.figures [--out figures/] [--only fig01 fig05]``."""
    parser = argparse.ArgumentParser(description="Write the synthetic seed figures as PNG files.")
    parser.add_argument("--out", type=Path, default=Path("figures"), help="output folder (default: figures/)")
    parser.add_argument("--only", nargs="*", help="figure ids to write (default: all)")
    args = parser.parse_args(argv)
    if args.only:
        for fid in args.only:
            get_spec(fid)
    write_figures(args.out, args.only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
