"""Benchmarks of the radiograph engine (issue 8, item 7).

Run: ``python benchmarks/bench_radiograph.py [--quick]`` (``make bench`` runs it).

1. Anatomy of one site and view built from scratch (3-D rasterisation and projection,
   no cache): wall time, CPU time and peak resident memory, in a child process. Targets
   ≤ 10 s, ≤ 1 GB on the 2-core machine. The machine is shared: the load average is
   printed, and on a loaded machine the CPU time is the fairer measure of the work.
2. Rendering a figure over cached anatomy: median wall and CPU time at 256², 512², 1024²
   of the image chain alone (physics, noise, DR display) and of a whole figure panel
   (lesions too) (target ≤ 100 ms at 512², about linear in pixels).
3. Typical whole figures (fig05, fig12, fig15, atherosclerosis) at 512² over cached anatomy:
   median wall and CPU time of ``figures.render_figure`` (target ≤ 100 ms).
4. Every figure of the book from scratch (an empty anatomy cache: a temporary
   ``CALCIFICATIONS_CACHE``), in a child process: wall and CPU time (user + system of the
   child), target ≤ 5 minutes (skipped with ``--quick``).
5. Each delivered figure file ≤ 80 KB (WebP at 512²).

``--only 3 4`` runs some sections; ``--out FILE`` also writes the table (``make bench`` writes
``benchmarks/results/radiograph.txt``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from calcifications import anatomy, figures, patterns, radiograph

ROOT = Path(__file__).resolve().parents[1]
EXPOSURE = radiograph.Exposure(
    energy_kev=32, fluence_photons_per_mm2=4e4, blur_fwhm_mm=0.35, reference="behind_object", scatter_fraction=0.12
)
WINDOW = radiograph.Window.dr()

_CHILD_BUILD = """
import resource, sys, time
from calcifications import phantom
site = phantom.load_site(sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
phantom.project(site, sys.argv[2], use_cache=False)
print(time.perf_counter() - t0, time.process_time() - c0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def build_from_scratch(site: str, view: str) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MB) to build one site and view's anatomy without the cache, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD_BUILD, site, view], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def scene_at(size: int) -> tuple[radiograph.Scene, np.ndarray]:
    """Knee (frontal, cached 3-D anatomy) with chondrocalcinosis on a size × size grid."""
    a = anatomy.build("site_knee", "frontal", (size, size))
    lesions = patterns.generate("linear_stratified", a, np.random.default_rng(0))
    return radiograph.make_scene(patterns.apply_lesions(a, lesions), a.grid.pixel_mm), a.bone_mask


def time_render(size: int, repeats: int, with_lesions: bool = True) -> tuple[float, float]:
    """Median (wall, CPU) time (ms) of one render over cached anatomy: the image chain (physics,
    noise, display) and, ``with_lesions``, the lesions drawn first (a whole figure panel)."""
    anatomy.build("site_knee", "frontal", (size, size))  # warm the disk and μ caches
    fixed = scene_at(size)
    walls, cpus = [], []
    for k in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        scene, bone = scene_at(size) if with_lesions else fixed
        radiograph.render(scene, EXPOSURE, WINDOW, np.random.default_rng(k), as_uint8=True, bone_mask=bone)
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def all_figures_from_scratch() -> tuple[float, float]:
    """(wall s, CPU s) to regenerate every figure with an empty anatomy cache (a temporary
    ``CALCIFICATIONS_CACHE``), in a child process; CPU is user + system time of the child."""
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "CALCIFICATIONS_CACHE": cache}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "calcifications.figures", "--out", out], check=True, env=env, capture_output=True
        )
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu


TYPICAL_FIGURES = ("fig05", "fig12", "fig15", "atherosclerosis")


def time_figures(ids: tuple[str, ...], repeats: int = 3) -> list[tuple[str, float, float]]:
    """(id, median wall ms, median CPU ms) of :func:`figures.render_figure` at 512² over cached
    anatomy (each figure rendered once first, to warm the disk and memory caches)."""
    out = []
    for figure_id in ids:
        figures.render_figure(figure_id)
        walls, cpus = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            figures.render_figure(figure_id)
            walls.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
        out.append((figure_id, statistics.median(walls), statistics.median(cpus)))
    return out


def time_lesions(figure_id: str, repeats: int = 5) -> float:
    """Median CPU ms of drawing a figure's lesions and making its scene (:func:`figures.panel_scene`
    of every panel, the anatomy already cached): the part of :func:`time_figures` that is not the
    image chain."""
    spec = figures.get_spec(figure_id)
    n = len(spec.panels)
    shape = figures.IMAGE_SHAPE
    panels = []
    for i, panel in enumerate(spec.panels):
        width = shape[1] // n + (shape[1] % n if i == n - 1 else 0)
        panels.append((panel, *figures.panel_anatomy(spec, panel, (shape[0], width), spec.zoom)))
    cpus = []
    for _ in range(repeats):
        rng = np.random.default_rng(spec.seed)
        c0 = time.process_time()
        for panel, panel_anatomy, shift in panels:
            figures.panel_scene(spec, panel, panel_anatomy, rng, shift)
        cpus.append((time.process_time() - c0) * 1000)
    return statistics.median(cpus)


def time_chain(figure_id: str, repeats: int = 5) -> float:
    """Median CPU ms of a figure's image chain (:func:`radiograph.render_log` of each panel's scene,
    :func:`radiograph.apply_window` of the joined film), its scenes made once beforehand: with
    :func:`time_lesions`, what is left of :func:`time_figures` is the acquisition (air, collimation,
    side markers) and the encoding to 8 bits."""
    spec = figures.get_spec(figure_id)
    n = len(spec.panels)
    shape = figures.IMAGE_SHAPE
    rng = np.random.default_rng(spec.seed)
    made = []
    for i, panel in enumerate(spec.panels):
        width = shape[1] // n + (shape[1] % n if i == n - 1 else 0)
        panel_anatomy, shift = figures.panel_anatomy(spec, panel, (shape[0], width), spec.zoom)
        a, _, scene = figures.panel_scene(spec, panel, panel_anatomy, rng, shift)
        made.append((scene, a.bone_mask, a.grid.pixel_mm, figures.panel_exposure(spec, panel)))
    cpus = []
    for k in range(repeats):
        noise = np.random.default_rng([spec.seed, k])
        c0 = time.process_time()
        logs = [radiograph.render_log(scene, exposure, noise) for scene, _, _, exposure in made]
        bones = np.hstack([bone for _, bone, _, _ in made])
        radiograph.apply_window(np.hstack(logs), spec.window, made[0][2], bones)
        cpus.append((time.process_time() - c0) * 1000)
    return statistics.median(cpus)


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark table (and with ``--out`` write it to a file too)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the full regeneration from scratch")
    parser.add_argument("--only", nargs="*", type=int, choices=(1, 2, 3, 4, 5), help="sections to run (default: all)")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    sections = set(args.only or (1, 2, 3, 4, 5)) - ({4} if args.quick else set())
    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    def load() -> str:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())

    say(f"load average at start: {load()} ({os.cpu_count()} cores shared; CPU time is the fairer measure)")
    if 1 in sections:
        say("1. anatomy from scratch (no cache), per site and view: wall, CPU, peak memory")
        from calcifications import phantom

        for site, views in (
            ("site_knee", None),
            ("site_ankle_foot", None),
            ("site_thigh", ("frontal",)),
            ("site_shoulder", ("frontal", "lateral")),
            ("site_hand", ("frontal",)),
        ):
            for view in views or phantom.load_site(site).views:
                wall, cpu, mb = build_from_scratch(site, view)
                flag = "ok" if min(wall, cpu) <= 10 and mb <= 1024 else "MISSES"
                say(
                    f"   {site:<16} {view:<16} {wall:6.1f} s wall {cpu:6.1f} s CPU {mb:7.0f} MB peak"
                    f"  ({flag}: ≤ 10 s, ≤ 1 GB)"
                )
        say(f"load average now: {load()}")
    if 2 in sections:
        for label, lesions in (
            ("image chain (physics, noise, DR display)", False),
            ("figure panel (lesions + chain)", True),
        ):
            say(f"2. {label} over cached anatomy (median)")
            base = None
            for size, repeats in ((256, 9), (512, 9), (1024, 5)):
                wall, cpu = time_render(size, repeats, lesions)
                base = base or cpu / size**2
                say(
                    f"   {size:>4}²  {wall:7.1f} ms wall {cpu:7.1f} ms CPU   CPU per pixel relative to 256² "
                    f"{cpu / (base * size**2):4.2f}"
                )
    if 3 in sections:
        say("3. typical whole figures at 512² over cached anatomy (render_figure, median of 5; lesions = drawing")
        say("   the lesions and the scene, panel_scene; chain = render_log and apply_window; the rest, total")
        say("   minus both, is the acquisition: air, collimation, markers, 8-bit encoding; medians of 5)")
        for figure_id, wall, cpu in time_figures(TYPICAL_FIGURES, repeats=5):
            lesions, chain = time_lesions(figure_id), time_chain(figure_id)
            say(
                f"   {figure_id:<16} {wall:7.1f} ms wall {cpu:7.1f} ms CPU: lesions {lesions:6.1f}, chain {chain:6.1f},"
                f" rest {cpu - lesions - chain:6.1f} ms CPU  ({'ok' if cpu <= 100 else 'MISSES'}: ≤ 100 ms)"
            )
    if 4 in sections:
        say(f"load average now: {load()}")
        wall, cpu = all_figures_from_scratch()
        n = len(figures.load_specs())
        say(
            f"4. all {n} figures from scratch (empty anatomy cache): {wall:.0f} s wall, {cpu:.0f} s CPU "
            f"({'ok' if min(wall, cpu) <= 300 else 'MISSES'}: ≤ 300 s; shared machine, CPU is the fairer measure)"
        )
        say(f"load average now: {load()}")
    if 5 in sections:
        sizes = {p.name: p.stat().st_size / 1024 for p in (ROOT / "figures").glob(f"*.{figures.FIGURE_FORMAT}")}
        if sizes:
            worst = max(sizes, key=sizes.get)
            say(
                f"5. delivered figures: {len(sizes)} files, largest {worst} {sizes[worst]:.1f} KB, "
                f"median {statistics.median(sizes.values()):.1f} KB (target ≤ 80 KB)"
            )
    say(f"   this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
