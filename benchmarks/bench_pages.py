"""Benchmark every page with widgets against a stock Jupyter Book page, side by side in one run.

Run with `make bench` (after bench_book.py has built the site), or alone:
`PYTHONPATH=tools .venv/bin/python benchmarks/bench_pages.py [--runs 3]`.

- The stock book: `jupyter-book create` built with the same pinned jupyter-book into
  _build/stock; its notebook page (notebooks.html) is the reference.
- Both sites are served from 127.0.0.1 twice: plainly, and gzip-compressed (level 6,
  as a real host serves them; local_browser.serve_directory(compress=True)).
- For every page with widgets (and the stock page): bytes downloaded (page load left
  alone until the network is idle, as Lighthouse counts; and read to the end), as stored
  and gzip-compressed; Lighthouse 12 (npm, pinned in tools/lighthouse; mobile defaults,
  CHROME_PATH=/usr/bin/chromium) performance, accessibility and best practices, the
  median of --runs runs, on each server; and the static update time of the page's
  widgets (a control changed in the browser until its output is redrawn).

Targets (issue 9): bytes <= half the stock page's; performance >= 0.90 compressed and
above the stock page's when both are plain; accessibility 1.00; best practices >= 0.96;
update <= 16 ms. The table goes to stdout and to benchmarks/results/pages.md.

Lighthouse's performance score simulates a slow phone from the CPU time it observes:
on a busy machine it is lower for every page alike, so compare the rows of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from local_browser import CHROMIUM_ARGS, chromium_path, page_weight, serve_directory
from vendor_js import npm_ci  # tools/ is on the path: `make bench` sets PYTHONPATH=tools

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
STOCK = ROOT / "_build" / "stock"
STOCK_SITE = STOCK / "_build" / "html"
STOCK_PAGE = "notebooks.html"
LIGHTHOUSE = ROOT / "_build" / "lighthouse"
RESULTS = ROOT / "benchmarks" / "results" / "pages.md"
BIN = Path(sys.executable).parent
CATEGORIES = ("performance", "accessibility", "best-practices")

# Change each control of a page's widgets as a reader would (select and checkbox chip:
# `change`; text box: `input`), timing the synchronous chain (view -> model -> jslink -> widget redraw) with
# performance.now(); a control whose change redraws nothing is not counted.
MEASURE_UPDATES = """
async (samples) => {
  const times = [];
  const views = [...document.querySelectorAll('.lw-view')];
  const snapshot = () => views.map(v => v.innerText).join('\\u0000');
  const controls = views.flatMap(v => [...v.querySelectorAll(
    'select, input[type=text], input[type=number], input[type=checkbox]')]);
  for (const control of controls) {
    for (let n = 0; n < samples; n++) {
      const before = snapshot();
      const start = performance.now();
      if (control.type === 'checkbox') {
        control.checked = !control.checked;
        control.dispatchEvent(new Event('change', {bubbles: true}));
      } else if (control.tagName === 'SELECT') {
        const option = control.options[(control.selectedIndex + 1 + n) % control.options.length];
        if (control.multiple) option.selected = !option.selected; else control.value = option.value;
        control.dispatchEvent(new Event('change', {bubbles: true}));
      } else {
        control.value = String([9.5, 10, 2.4, 7.5, 120][n % 5]);
        control.dispatchEvent(new Event('input', {bubbles: true}));
      }
      const elapsed = performance.now() - start;
      if (snapshot() !== before) times.push(elapsed);
      await new Promise(r => setTimeout(r, 5));
    }
  }
  return times;
}
"""


def build_stock() -> None:
    """Build the stock `jupyter-book create` book into _build/stock (skipped when built)."""
    if (STOCK_SITE / STOCK_PAGE).is_file():
        return
    shutil.rmtree(STOCK, ignore_errors=True)
    STOCK.mkdir(parents=True)
    book = STOCK / "book"
    subprocess.run([str(BIN / "jupyter-book"), "create", str(book)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [str(BIN / "jupyter-book"), "build", str(book), "--path-output", str(STOCK)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def install_lighthouse() -> Path:
    npm_ci(ROOT / "tools" / "lighthouse", LIGHTHOUSE, strict=False)
    return LIGHTHOUSE / "node_modules" / "lighthouse" / "cli" / "index.js"


def lighthouse(cli: Path, url: str) -> dict[str, float]:
    """One Lighthouse run (mobile defaults): the scores of CATEGORIES."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [
                "node",
                str(cli),
                url,
                "--output=json",
                f"--output-path={report}",
                "--quiet",
                f"--only-categories={','.join(CATEGORIES)}",
                "--chrome-flags=--headless=new " + " ".join(CHROMIUM_ARGS),
            ],
            check=True,
            env={**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        categories = json.loads(report.read_text("utf-8"))["categories"]
    return {name: categories[name]["score"] for name in CATEGORIES}


def median_scores(cli: Path, url: str, runs: int) -> dict[str, float]:
    results = [lighthouse(cli, url) for _ in range(runs)]
    return {name: statistics.median(r[name] for r in results) for name in CATEGORIES}


def widget_pages() -> list[str]:
    pages = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html") if not p.name.startswith("_"))
    return [p for p in pages if 'class="lw-view"' in (SITE / p).read_text("utf-8")]


def update_times(browser, base: str, path: str, samples: int = 20) -> list[float]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/{path}", wait_until="networkidle")
    views = page.locator(".lw-view")
    for n in range(views.count()):
        views.nth(n).scroll_into_view_if_needed()
        page.wait_for_function("v => v.dataset.lwState === 'ready'", arg=views.nth(n).element_handle(), timeout=30_000)
    # 'ready' means the runtime has the view; its controls are drawn a moment later (the widget's
    # module is imported asynchronously): without this wait a busy machine measured no control.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.lw-view')].every(v => v.innerText.trim())",
        timeout=30_000,
    )
    times = page.evaluate(MEASURE_UPDATES, samples)
    page.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page and server (median)")
    runs = parser.parse_args().runs
    if not (SITE / "index.html").is_file():
        raise SystemExit("no built site in _build/html: run `make build` first")
    build_stock()
    cli = install_lighthouse()
    pages = widget_pages()
    targets = [("stock", STOCK_SITE, STOCK_PAGE)] + [("book", SITE, p) for p in pages]

    from playwright.sync_api import sync_playwright

    rows: dict[str, dict] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        for site, folder, path in targets:
            with serve_directory(folder) as base:
                row = rows.setdefault(f"{site}:{path}", {})
                row["load"] = page_weight(browser, base, folder, path)
                row["read"] = page_weight(browser, base, folder, path, read_to_end=True)
                if site == "book":
                    row["update"] = update_times(browser, base, path)
        browser.close()
    for compress in (False, True):
        with serve_directory(SITE, compress) as ours, serve_directory(STOCK_SITE, compress) as stock:
            for site, _, path in targets:
                base = stock if site == "stock" else ours
                key = "gzip" if compress else "plain"
                rows[f"{site}:{path}"][key] = median_scores(cli, f"{base}/{path}", runs)
                print(f"lighthouse {key} {site}:{path}: {rows[f'{site}:{path}'][key]}", file=sys.stderr)

    stock_row = rows[f"stock:{STOCK_PAGE}"]
    table = report(rows, stock_row, runs)
    print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(table + "\n", "utf-8")


def _kib(n: int) -> str:
    return f"{n / 1024:,.0f} KiB"


def report(rows: dict, stock_row: dict, runs: int) -> str:
    half_raw, half_gzip = stock_row["load"].raw / 2, stock_row["load"].gzip / 2
    lines = [
        f"Pages with widgets against the stock `jupyter-book create` notebook page, one run "
        f"(Lighthouse {runs}× median, mobile defaults; bytes: page load until the network is idle, "
        f"as stored / gzip; 'read to end' also scrolls to the bottom).",
        "",
        "| page | bytes | gzip bytes | read to end | perf plain | perf gzip | accessibility | best practices | update median (max) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key, row in rows.items():
        site, path = key.split(":", 1)
        name = f"stock {path}" if site == "stock" else path
        update = row.get("update")
        update_text = f"{statistics.median(update):.1f} ms ({max(update):.1f})" if update else "–"
        lines.append(
            f"| {name} | {_kib(row['load'].raw)} | {_kib(row['load'].gzip)} | {_kib(row['read'].raw)} "
            f"| {row['plain']['performance']:.2f} | {row['gzip']['performance']:.2f} "
            f"| {row['plain']['accessibility']:.2f} | {row['plain']['best-practices']:.2f} | {update_text} |"
        )
    lines += [
        "",
        "Targets: bytes ≤ " + f"{_kib(int(half_raw))} (gzip ≤ {_kib(int(half_gzip))}); "
        f"performance ≥ 0.90 gzip and > {stock_row['plain']['performance']:.2f} (stock) plain; "
        "accessibility 1.00; best practices ≥ 0.96; update ≤ 16 ms.",
        "",
    ]
    misses = []
    for key, row in rows.items():
        site, path = key.split(":", 1)
        if site == "stock":
            continue
        checks = {
            "bytes": row["load"].raw <= half_raw and row["load"].gzip <= half_gzip,
            "perf gzip": row["gzip"]["performance"] >= 0.90,
            "perf plain above stock": row["plain"]["performance"] > stock_row["plain"]["performance"],
            "accessibility": row["plain"]["accessibility"] >= 1.0 and row["gzip"]["accessibility"] >= 1.0,
            "best practices": min(row["plain"]["best-practices"], row["gzip"]["best-practices"]) >= 0.96,
            "update": bool(row.get("update")) and statistics.median(row["update"]) <= 16,
        }
        missed = [name for name, ok in checks.items() if not ok]
        if missed:
            misses.append(f"{path}: misses {', '.join(missed)}")
    lines += misses or ["Every page with widgets meets every target."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
