"""Print the whole book to one PDF: the single-page HTML build, printed by Chromium.

Usage: python tools/print_book.py   (run `make pdf`, which builds the single page first)
Writes _build/pdf/soft-tissue-calcifications.pdf. The page is served on
127.0.0.1 only, and printed with Debian's Chromium through Playwright.
"""

from __future__ import annotations

from pathlib import Path

from local_browser import CHROMIUM_ARGS, INSTALL_HINT, chromium_path, serve_directory

ROOT = Path(__file__).resolve().parent.parent
SINGLE = ROOT / "_build" / "singlehtml"
OUT = ROOT / "_build" / "pdf" / "soft-tissue-calcifications.pdf"


DRAW_WIDGETS = """async () => {
  for (const view of document.querySelectorAll('.lw-view')) {
    view.scrollIntoView();
    for (let n = 0; n < 100 && !['ready', 'failed'].includes(view.dataset.lwState); n++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  scrollTo(0, 0);
}"""


def main() -> None:
    page_file = SINGLE / "chapters" / "index.html"
    if not page_file.is_file():
        raise SystemExit("no single-page build: run `make pdf`")
    # The single page is written next to the root document (chapters/) but its links assume the
    # site root, so it is printed from a copy at the root.
    (SINGLE / "book.html").write_bytes(page_file.read_bytes())
    executable = chromium_path()
    if executable is None:
        raise SystemExit(f"Chromium not found; install it with: {INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    OUT.parent.mkdir(parents=True, exist_ok=True)
    with serve_directory(SINGLE) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{base}/book.html", wait_until="networkidle")
        # The light widget runtime draws a widget when it nears the viewport: draw them all
        # (a widget that cannot be drawn prints its static fallback instead).
        page.evaluate(DRAW_WIDGETS)
        # Printed answers are shown, not hidden behind a click.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.emulate_media(media="print")
        page.pdf(
            path=str(OUT),
            format="A4",
            print_background=True,
            margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"},
        )
        browser.close()
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
