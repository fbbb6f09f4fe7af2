"""Benchmark the book: clean build time, nbval time and the weight of every page.

Run with `make bench` (not part of `make test`). Page weight counts every
resource a page loads in Chromium (HTML, scripts, styles, fonts, images) until
the network is idle (the widget runtime's idle-time fetch included), as bytes
on the wire without compression and as gzip bytes (level 6), which is what a
compressing server would send (local_browser.page_weight).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from local_browser import CHROMIUM_ARGS, chromium_path, page_weight, serve_directory

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
BIN = Path(sys.executable).parent


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def page_weights() -> list[tuple[str, int, int, int]]:
    """Return (page, requests, bytes, gzip bytes) for every built page (local_browser.page_weight)."""
    from playwright.sync_api import sync_playwright

    pages = sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not p.name.startswith(("genindex", "search")) and not p.relative_to(SITE).as_posix().startswith("_")
    )
    rows = []
    with serve_directory(SITE) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for page_path in pages:
            weight = page_weight(browser, base, SITE, page_path)
            rows.append((page_path, weight.requests, weight.raw, weight.gzip))
        browser.close()
    return rows


def main() -> None:
    for folder in ("html", ".doctrees", "jupyter_execute"):
        shutil.rmtree(ROOT / "_build" / folder, ignore_errors=True)
    build = timed([str(BIN / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"])
    nbval = timed(
        [
            str(BIN / "python"),
            "-m",
            "pytest",
            "--nbval",
            "chapters",
            "-q",
            "--nbval-sanitize-with",
            "tools/nbval_sanitize.cfg",
        ]
    )
    print(f"clean book build: {build:.1f} s")
    print(f"nbval, all notebooks: {nbval:.1f} s")
    print()
    print("| page | requests | bytes | gzip bytes |")
    print("| --- | ---: | ---: | ---: |")
    for page, requests, raw, packed in page_weights():
        print(f"| {page} | {requests} | {raw / 1e6:.2f} MB | {packed / 1e6:.2f} MB |")


if __name__ == "__main__":
    main()
