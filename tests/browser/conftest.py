"""Fixtures for browser tests: the built site served on 127.0.0.1 and Debian's Chromium.

In CI (CI=true) a missing browser or a missing build is a failure, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local_browser import CHROMIUM_ARGS, INSTALL_HINT, chromium_path, serve_directory

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def site_url():
    if not (SITE / "index.html").is_file():
        _missing(f"no built site at {SITE}: run `make book` first")
    with serve_directory(SITE) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        _missing(f"Chromium not found; install it with: {INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
