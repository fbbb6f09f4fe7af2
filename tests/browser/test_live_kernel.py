"""The other way the book is used: a chapter opened in JupyterLab with a live kernel.

JupyterLab (the project's .venv) is started on 127.0.0.1 with a random free port and a
token, on a copy of the chapter (so nothing is ever saved into the book); Chromium opens
the notebook, runs every cell, types lab values into the differential calculator and
checks that its ranking changes, with zero JavaScript errors. The standard ipywidgets/anywidget path of
JupyterLab is what runs here, not the static site's light runtime.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "approach.ipynb"  # the differential calculator
START_TIMEOUT = 60  # seconds for JupyterLab to answer
# jupyterlab-myst logs its markdown diagnostics as console errors: references to other pages of
# the book (a glossary term, a label in another chapter) cannot resolve in one notebook, and
# MyST asks for `#label` in links. They are about the prose, not the page's code: reported
# apart, never counted as JavaScript errors. Anything else in the console fails the test.
MYST_DIAGNOSTICS = ("Legacy syntax used for link target", "Cross reference target was not found")
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True, "windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a copy of the chapter; yields (base URL, token)."""
    work = tmp_path_factory.mktemp("lab")
    (work / "chapters").mkdir()
    shutil.copy2(ROOT / "chapters" / NOTEBOOK, work / "chapters" / NOTEBOOK)
    shutil.copy2(ROOT / "_toc.yml", work / "_toc.yml")  # the calculator links the published chapters
    home = work / "home"
    # Start the notebook's kernel without asking, keep every cell in the page (no windowing),
    # and do not offer news from the network.
    for name, settings in SETTINGS.items():
        path = home / "settings" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings), "utf-8")
    env = {
        **os.environ,
        # Private settings, workspaces and runtime files: nothing from the user's own Jupyter.
        "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    port, token = _free_port(), secrets.token_hex(16)
    command = [
        str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
        "--ServerApp.port_retries=0", "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:  # CI runs as root
        command.append("--allow-root")
    log = work / "lab.log"
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/api/status?token={token}", process, log)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).first.click()


def test_chapter_calculator_follows_its_controls_in_jupyterlab(browser, lab, screenshots):
    base, token = lab
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.extend(
        line for line in m.text.splitlines() if not line.startswith(MYST_DIAGNOSTICS)))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{base}/lab/tree/chapters/{NOTEBOOK}?token={token}", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        # The kernel is ready once the status bar says so (the toolbar's indicator is idle earlier).
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(e => /\\| Idle/.test(e.innerText))",
            timeout=60_000)
        _menu(page, "Run", "Run All Cells")
        try:
            page.wait_for_function("() => /\\[\\d+\\]/.test(document.querySelector('.jp-CodeCell .jp-InputPrompt').innerText)",
                                   timeout=15_000)
        except PlaywrightTimeout:  # a request sent while the kernel was still connecting: ask again
            _menu(page, "Run", "Run All Cells")
        page.wait_for_selector(".jp-OutputArea .dd-list .dd-row", timeout=60_000)
        ranking = "() => document.querySelector('.jp-OutputArea .dd-list').innerText"
        before = page.evaluate(ranking)
        calculator = page.locator(".jp-OutputArea").filter(has=page.locator(".dd-list")).first
        calculator.get_by_label("Calcium").fill("10")
        calculator.get_by_label("Phosphate").fill("7.5")
        page.wait_for_function(f"before => ({ranking})() !== before", arg=before, timeout=15_000)
        assert page.locator(".jp-OutputArea .dd-list .dd-row").count() > 0
    except Exception:
        page.screenshot(path=str(screenshots / "live-kernel-failure.png"))
        raise
    finally:
        context.close()
    assert errors == [], f"JavaScript errors in JupyterLab: {errors}"
