"""Median time of calcifications.differential.rank() for a 20-finding case with labs.

Run: .venv/bin/python benchmarks/bench_differential.py [repetitions]
Target: a median of at most 1 ms per call.
"""

from __future__ import annotations

import statistics
import sys
import time

from calcifications.differential import knowledge_base, rank

FINDINGS = [
    "periarticular",
    "lobulated_multicystic_mass",
    "fluid_calcium_levels",
    "amorphous_cloud",
    "multiple",
    "bilateral_symmetric",
    "extensor_surfaces_large_joints",
    "within_bursa",
    "site_hip_pelvis",
    "site_shoulder",
    "site_elbow",
    "age_young_adult",
    "age_middle",
    "asymptomatic",
    "family_history_calcinosis",
    "no_kidney_disease",
    "no_trauma_history",
    "skin_ulcer_chalky_discharge",
    "joint_effusion",
    "diabetes",
]
LABS = {"calcium_mmol_l": 2.4, "phosphate_mg_dl": 7.1, "pth_pg_ml": 18.0, "uric_acid_mg_dl": 5.2}
TARGET_S = 1e-3


def median_seconds(repetitions: int, labs: dict | None) -> float:
    """Return the median wall time of one rank() call over ``repetitions`` calls."""
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        rank(FINDINGS, labs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(repetitions: int = 5000) -> int:
    """Print the benchmark and return 0 if the target is met."""
    assert len(set(FINDINGS)) == 20
    start = time.perf_counter()
    knowledge_base()
    load = time.perf_counter() - start
    for _ in range(100):  # warm up
        rank(FINDINGS, LABS)
    with_labs = median_seconds(repetitions, LABS)
    without = median_seconds(repetitions, None)
    print(f"knowledge base load (once, cached): {load * 1e3:.1f} ms")
    print(f"rank(), 20 findings + 4 labs: median {with_labs * 1e6:.0f} µs over {repetitions} calls")
    print(f"rank(), 20 findings, no labs: median {without * 1e6:.0f} µs over {repetitions} calls")
    print(f"target {TARGET_S * 1e6:.0f} µs: {'met' if max(with_labs, without) <= TARGET_S else 'MISSED'}")
    return 0 if max(with_labs, without) <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
