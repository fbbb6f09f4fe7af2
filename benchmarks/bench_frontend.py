"""Benchmark the static differential calculator in Chromium: input change to redrawn result.

Run with `make bench`. Each sample ticks or clears one item of a finding
group (a reader's click on a chip), which runs the whole browser chain
synchronously: the calculator sets its model, ranks all diagnoses and redraws.
The time is measured inside the page with performance.now(), after checking
that the ranking on the page really changed. Target: median <= 16 ms.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from local_browser import CHROMIUM_ARGS, chromium_path, serve_directory

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"

MEASURE = """
async ([label, samples]) => {
  const group = [...document.querySelectorAll('.dd-group')]
    .find(g => g.querySelector('legend')?.innerText.trim() === label);
  const boxes = [...group.querySelectorAll('input[type=checkbox]')];
  const times = [];
  for (let n = 0; n < samples; n++) {
    const box = boxes[n % boxes.length];
    const before = document.querySelector('.dd-output').innerHTML;
    const start = performance.now();
    box.click();
    const elapsed = performance.now() - start;
    if (document.querySelector('.dd-output').innerHTML === before) throw new Error('no redraw after change ' + n);
    times.push(elapsed);
    await new Promise(r => setTimeout(r, 5));
  }
  return times;
}
"""


def main(samples: int = 60) -> None:
    from playwright.sync_api import sync_playwright

    with serve_directory(SITE) as base, sync_playwright() as playwright:
        url = f"{base}/chapters/approach.html"
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(url, wait_until="networkidle")
        page.locator(".lw-view").first.scroll_into_view_if_needed()
        page.wait_for_selector(".dd-row", timeout=30_000)
        for label in ("Compartment", "Site", "Clinical setting"):
            times = page.evaluate(MEASURE, [label, samples])
            if times is None:
                print(f"no list or drop-down labelled '{label}' on the calculator: skipped")
                continue
            print(
                f"static update after a change of '{label}': median {statistics.median(times):.2f} ms, "
                f"max {max(times):.2f} ms over {samples} changes (target: median <= 16 ms)"
            )
        browser.close()


if __name__ == "__main__":
    main()
