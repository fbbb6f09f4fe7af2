"""Benchmarks of the radiograph engine (issue 8, item 7).

Run: ``python benchmarks/bench_radiograph.py [--quick]`` (``make bench`` runs it).

1. Anatomy of one site and view built from scratch (3-D rasterisation and projection,
   no cache): wall time, CPU time and peak resident memory, in a child process. Targets
   ≤ 10 s, ≤ 1 GB on the 2-core machine. The machine is shared: the load average is
   printed, and on a loaded machine the CPU time is the fairer measure of the work.
2. Rendering a figure over cached anatomy: median wall and CPU time at 256², 512², 1024²
   of the image chain alone (physics, noise, DR display) and of a whole figure panel
   (lesions too) (target ≤ 100 ms at 512², about linear in pixels).
3. Every figure of the book from scratch (empty anatomy cache), in a child process:
   target ≤ 5 minutes (skipped with ``--quick``).
4. Each delivered figure file ≤ 80 KB (WebP at 512²).
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


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the full regeneration from scratch")
    args = parser.parse_args(argv)
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    print("1. anatomy from scratch (no cache), per site and view: wall, CPU, peak memory")
    from calcifications import phantom

    for site, views in (
        ("site_knee", None),
        ("site_ankle_foot", None),
        ("site_thigh", ("frontal",)),
        ("site_shoulder", ("frontal",)),
        ("site_hand", ("frontal",)),
    ):
        for view in views or phantom.load_site(site).views:
            wall, cpu, mb = build_from_scratch(site, view)
            flag = "ok" if min(wall, cpu) <= 10 and mb <= 1024 else "MISSES"
            print(
                f"   {site:<16} {view:<16} {wall:6.1f} s wall {cpu:6.1f} s CPU {mb:7.0f} MB peak"
                f"  ({flag}: ≤ 10 s, ≤ 1 GB)"
            )
    print(f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for label, lesions in (
        ("image chain (physics, noise, DR display)", False),
        ("figure panel (lesions + chain)", True),
    ):
        print(f"2. {label} over cached anatomy (median)")
        base = None
        for size, repeats in ((256, 9), (512, 9), (1024, 5)):
            wall, cpu = time_render(size, repeats, lesions)
            base = base or cpu / size**2
            print(
                f"   {size:>4}²  {wall:7.1f} ms wall {cpu:7.1f} ms CPU   CPU per pixel relative to 256² "
                f"{cpu / (base * size**2):4.2f}"
            )
    if not args.quick:
        print(f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        wall, cpu = all_figures_from_scratch()
        n = len(figures.load_specs())
        print(
            f"3. all {n} figures from scratch (empty anatomy cache): {wall:.0f} s wall, {cpu:.0f} s CPU "
            f"({'ok' if min(wall, cpu) <= 300 else 'MISSES'}: ≤ 300 s; shared machine, CPU is the fairer measure)"
        )
    sizes = {p.name: p.stat().st_size / 1024 for p in (ROOT / "figures").glob(f"*.{figures.FIGURE_FORMAT}")}
    if sizes:
        worst = max(sizes, key=sizes.get)
        print(
            f"4. delivered figures: {len(sizes)} files, largest {worst} {sizes[worst]:.1f} KB, "
            f"median {statistics.median(sizes.values()):.1f} KB (target ≤ 80 KB)"
        )
    print(f"   this process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
