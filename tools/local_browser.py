"""Local browser tooling shared by the browser tests, the benchmarks and the PDF printer.

A folder served on 127.0.0.1 (an ephemeral port) and Debian's Chromium,
started with the flags that keep it from calling home on a closed network.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


INSTALL_HINT = "sudo apt-get install -y chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability", "--metrics-recording-only",
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


@contextmanager
def serve_directory(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 in a background thread; yield its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
