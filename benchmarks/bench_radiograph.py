"""Benchmark of the radiograph engine: render time by image size, peak memory, PNG size.

Run: ``python benchmarks/bench_radiograph.py``. Renders a knee template with a
pattern (the anatomy is built once per size, outside the timing) through the full
chain: Beer–Lambert, Poisson noise, detector blur, log, window with unsharp mask.
Targets: median ≤ 50 ms at 512², roughly linear growth with pixel count, peak
memory ≤ 200 MB at 1024², encoded PNG ≤ 60 KB at 512².
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np

from calcifications import anatomy, figures, patterns, radiograph

EXPOSURE = radiograph.Exposure(energy_kev=32, fluence_photons_per_mm2=4e5, blur_fwhm_mm=0.6, reference="behind_object")
WINDOW = radiograph.Window(gamma=0.8, unsharp_amount=0.45, unsharp_scale_mm=15)


def scene_at(size: int) -> radiograph.Scene:
    """Knee (frontal) with chondrocalcinosis on a size × size grid, same field of view at every size."""
    a = anatomy.build("site_knee", "frontal", (size, size))
    lesions = patterns.generate("linear_stratified", a, np.random.default_rng(0))
    return radiograph.make_scene(patterns.apply_lesions(a, lesions), a.grid.pixel_mm)


def time_render(scene: radiograph.Scene, repeats: int) -> float:
    """Median wall time (ms) of one full render."""
    rng = np.random.default_rng(1)
    radiograph.render(scene, EXPOSURE, WINDOW, rng, as_uint8=True)  # warm the μ cache
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        radiograph.render(scene, EXPOSURE, WINDOW, rng, as_uint8=True)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def peak_memory_mb(scene: radiograph.Scene) -> float:
    """Peak traced allocation (MB) during one render."""
    tracemalloc.start()
    radiograph.render(scene, EXPOSURE, WINDOW, np.random.default_rng(2), as_uint8=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    """Print the benchmark table."""
    rows = []
    base = None
    for size, repeats in ((256, 41), (512, 31), (1024, 11)):
        scene = scene_at(size)
        ms = time_render(scene, repeats)
        base = base or ms / size**2
        rows.append((size, ms, ms / (base * size**2)))
    print(f"{'size':>9} {'median ms':>10} {'ms / (256² ms × pixel ratio)':>30}")
    for size, ms, ratio in rows:
        print(f"{size:>4}×{size:<4} {ms:>10.1f} {ratio:>30.2f}")
    print(f"peak memory at 1024²: {peak_memory_mb(scene_at(1024)):.1f} MB (target ≤ 200 MB)")
    img = radiograph.render(scene_at(512), EXPOSURE, WINDOW, np.random.default_rng(3), as_uint8=True)
    print(f"PNG at 512²: {len(figures.encode_png(img)) / 1024:.1f} KB (target ≤ 60 KB)")
    sizes = [len(figures.encode_png(figures.render_figure(s))) / 1024 for s in figures.load_specs()]
    print(f"seed figures: largest PNG {max(sizes):.1f} KB, median {statistics.median(sizes):.1f} KB")
    target = rows[1][1]
    print(f"512² median {target:.1f} ms: {'meets' if target <= 50 else 'MISSES'} the 50 ms target")


if __name__ == "__main__":
    main()
