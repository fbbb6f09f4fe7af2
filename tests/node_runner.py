"""Run exported functions of the book's browser modules (lib/calcifications/static/*.js) under node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from calcifications.widgets import static_module

RUNNER = Path(__file__).parent / "js" / "run_module.mjs"


def run_js(module: str, function: str, cases: list) -> list:
    """Call ``function`` of ``static/<module>`` once per case (a list of arguments); return the results."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required for the front-end tests (it is on every machine of this project)")
    result = subprocess.run(
        [node, str(RUNNER), str(static_module(module)), function],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)
