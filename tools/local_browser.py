"""Local browser tooling shared by the browser tests, the benchmarks and the PDF printer.

A folder served on 127.0.0.1 (an ephemeral port) and Debian's Chromium,
started with the flags that keep it from calling home on a closed network.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

INSTALL_HINT = "sudo apt-get install -y chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--metrics-recording-only",
]


def chromium_path() -> str | None:
    """Return Debian's Chromium executable (or $CHROMIUM), or None."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - signature fixed by the base class
        pass


COMPRESSIBLE = (".html", ".js", ".mjs", ".css", ".json", ".svg", ".txt", ".xml", ".map", ".ttf")


class _GzipHandler(_QuietHandler):
    """Sends text files gzip-compressed (level 6) to clients that accept it, as real hosts do."""

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if (
            not path.is_file()
            or path.suffix not in COMPRESSIBLE
            or "gzip" not in self.headers.get("Accept-Encoding", "")
        ):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), 6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return io.BytesIO(body)


@contextmanager
def serve_directory(folder: Path, compress: bool = False) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 in a background thread (gzip-compressed with ``compress``); yield its base URL."""
    handler = _GzipHandler if compress else _QuietHandler
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class PageWeight:
    """What one page downloads: request count, bytes as stored and as gzip (level 6) would send them."""

    requests: int
    raw: int
    gzip: int
    outside: tuple[str, ...]


# Scroll to the bottom in steps, so that whatever a page loads lazily (the widget runtime,
# lazy images) is loaded as a reader who reads the whole page would load it.
SCROLL_THROUGH = """async () => {
  for (let y = 0; y < document.body.scrollHeight; y += innerHeight / 2) {
    scrollTo(0, y);
    await new Promise((r) => setTimeout(r, 60));
  }
  scrollTo(0, 0);
}"""


def page_weight(browser, base: str, folder: Path, path: str, read_to_end: bool = False) -> PageWeight:
    """Load ``base/path`` (served from ``folder``) and add up what it downloaded.

    By default the page is loaded and left alone until the network is idle (what Lighthouse's
    total byte weight counts: the page and all it fetches by itself, the idle-time fetches of
    the widget runtime included); with ``read_to_end`` it is also scrolled to the bottom, as a
    reader who reads it all would.

    Bodies are read from ``folder`` (every resource of these sites is one of their files); a
    request to another host is listed in ``outside`` and weighs nothing here.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    bodies: dict[str, bytes] = {}
    outside: list[str] = []

    def on_request(request) -> None:
        url = request.url
        if url.startswith(("data:", "blob:")):
            return
        if not url.startswith(base):
            outside.append(url)
            return
        file = folder / unquote(urlsplit(url).path).lstrip("/")
        if file.is_dir():
            file = file / "index.html"
        bodies.setdefault(
            urlsplit(url)._replace(query="", fragment="").geturl(), file.read_bytes() if file.is_file() else b""
        )

    page.on("request", on_request)
    page.goto(f"{base}/{path}", wait_until="networkidle")
    page.wait_for_timeout(1000)
    if read_to_end:
        page.evaluate(SCROLL_THROUGH)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    context.close()
    raw = sum(len(b) for b in bodies.values())
    packed = sum(len(gzip.compress(b, 6)) for b in bodies.values())
    return PageWeight(len(bodies), raw, packed, tuple(outside))
