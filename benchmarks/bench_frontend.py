"""Benchmark the static differential calculator in Chromium: input change to redrawn result.

Run with `make bench`. The calculator is scrolled into view first (the light
widget runtime draws a widget when it nears the viewport). Each sample toggles
one option of a control (as a reader's click does: the select's `change` event),
which runs the whole
browser chain synchronously: the control's view sets its model, jslink
copies the index to the calculator, which ranks all diagnoses and redraws.
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
  const widget = [...document.querySelectorAll('.widget-select-multiple, .widget-dropdown')]
    .find(w => w.querySelector('label')?.innerText.trim() === label);
  if (!widget) return null;
  const select = widget.querySelector('select');
  const times = [];
  for (let n = 0; n < samples; n++) {
    const option = select.options[n % select.options.length];
    const before = document.querySelector('.dd-output').innerHTML;
    const start = performance.now();
    if (select.multiple) option.selected = !option.selected; else select.value = option.value;
    select.dispatchEvent(new Event('change', {bubbles: true}));
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
            print(f"static update after a change of '{label}': median {statistics.median(times):.2f} ms, "
                  f"max {max(times):.2f} ms over {samples} changes (target: median <= 16 ms)")
        browser.close()


if __name__ == "__main__":
    main()
