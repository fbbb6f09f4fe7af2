"""Fetch the JavaScript, styles and fonts of the static site into ``_vendor/``.

The packages and their integrity hashes are pinned in ``tools/vendor.json``;
they come from the npm registry (``npm pack``), are checked against the
pinned hash, and are never committed. anywidget's front-end comes from the
installed Python package. A small RequireJS configuration maps module names
to these same-origin files, so no widget ever reaches for a CDN.

Usage: python tools/vendor_js.py [--out _vendor]
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINS = json.loads((ROOT / "tools" / "vendor.json").read_text("utf-8"))["packages"]

# Resolved against this file's own URL so it works from pages at any depth.
REQUIRE_CONFIG = """\
// RequireJS paths for the widget manager: every module is served by this site.
(function () {
  var base = document.currentScript.src.replace(/[^/]*$/, "");
  require.config({
    paths: {
      "anywidget": base + "anywidget/index",
      "@jupyter-widgets/html-manager/dist": base + "html-manager",
      "@jupyter-widgets": base + "html-manager"
    }
  });
})();
"""


def _integrity(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def _npm_pack(spec: str, workdir: Path) -> Path:
    result = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(workdir)],
        check=True, capture_output=True, text=True, cwd=workdir,
    )
    return workdir / result.stdout.strip().splitlines()[-1]


def _extract(tarball: Path, patterns: list[str], dest: Path, strip: str) -> int:
    count = 0
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix("package/")
            if member.isfile() and any(fnmatch.fnmatch(name, p) for p in patterns):
                target = dest / name.removeprefix(strip)
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                count += 1
    return count


def anywidget_frontend() -> Path:
    """Return anywidget's AMD front-end shipped by the installed Python package."""
    path = Path(sys.prefix) / "share" / "jupyter" / "nbextensions" / "anywidget" / "index.js"
    if not path.is_file():
        raise SystemExit(f"anywidget front-end not found at {path}: is anywidget installed in this venv?")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_vendor")
    root = parser.parse_args().out
    for pin in PINS.values():
        shutil.rmtree(root / pin["dest"].split("/")[0], ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, pin in PINS.items():
            tarball = _npm_pack(f"{name}@{pin['version']}", Path(tmp))
            if _integrity(tarball) != pin["integrity"]:
                raise SystemExit(f"{name}@{pin['version']}: integrity mismatch, refusing to vendor it")
            count = _extract(tarball, pin["files"], root / pin["dest"], pin["strip"])
            print(f"vendored {name}@{pin['version']} ({count} files)")
    out = root / "widgets"
    (out / "anywidget").mkdir()
    shutil.copy2(anywidget_frontend(), out / "anywidget" / "index.js")
    (out / "require-config.js").write_text(REQUIRE_CONFIG, "utf-8")
    print(f"vendored files ready in {root}")


if __name__ == "__main__":
    main()
