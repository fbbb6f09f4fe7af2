"""Fetch and build the JavaScript, styles and fonts of the static site into ``_vendor/``.

- Styles and fonts (``tools/vendor.json``): ``npm pack`` from the npm registry,
  checked against the pinned integrity hash.
- The light widget runtime (``tools/widget-runtime``): ``npm ci`` from its lock
  file (every package pinned with its integrity hash) into
  ``_build/widget-runtime``, then bundled by esbuild (``build.mjs``) into
  ``_vendor/widgets/runtime.js`` and ``loader.js``. The npm ``anywidget`` must be
  the same version as the Python package (its front-end is the same file).

Nothing built here is committed. Usage: python tools/vendor_js.py [--out _vendor]
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINS = json.loads((ROOT / "tools" / "vendor.json").read_text("utf-8"))["packages"]
RUNTIME_SOURCE = ROOT / "tools" / "widget-runtime"
RUNTIME_WORK = ROOT / "_build" / "widget-runtime"
NPM_QUIET = ["--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]


def _integrity(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def _npm_pack(spec: str, workdir: Path) -> Path:
    result = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
        cwd=workdir,
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


def check_anywidget_pin() -> str:
    """Return the pinned anywidget version; fail if npm and Python disagree."""
    lock = json.loads((RUNTIME_SOURCE / "package-lock.json").read_text("utf-8"))
    npm = lock["packages"]["node_modules/anywidget"]["version"]
    python = version("anywidget")
    if npm != python:
        raise SystemExit(f"anywidget {python} (Python) but {npm} (npm, tools/widget-runtime): pin the same version")
    return npm


def npm_ci(source: Path, work: Path, strict: bool = True) -> None:
    """Install ``source``'s locked packages into ``work`` (skipped when the lock is unchanged).

    ``npm ci`` checks every package against the lock's integrity hash. ``strict=False`` uses
    ``npm install --no-save`` instead (same lock and hashes), for Lighthouse, one of whose
    packages asks for a dependency at tag "latest", which ``npm ci`` refuses.
    """
    lock = (source / "package-lock.json").read_bytes()
    installed = work / "node_modules" / ".package-lock.json"
    if (
        (work / "package-lock.json").is_file()
        and (work / "package-lock.json").read_bytes() == lock
        and installed.is_file()
    ):
        return
    work.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(source / name, work / name)
    command = ["npm", "ci"] if strict else ["npm", "install", "--no-save"]
    subprocess.run([*command, *NPM_QUIET], check=True, cwd=work)


def build_runtime(out: Path) -> None:
    check_anywidget_pin()
    npm_ci(RUNTIME_SOURCE, RUNTIME_WORK)
    for name in ("build.mjs", "src"):
        target = RUNTIME_WORK / name
        if target.is_dir():
            shutil.rmtree(target)
        copy = shutil.copytree if (RUNTIME_SOURCE / name).is_dir() else shutil.copy2
        copy(RUNTIME_SOURCE / name, target)
    subprocess.run(["node", "build.mjs", str(out)], check=True, cwd=RUNTIME_WORK)
    for name in ("runtime.js", "loader.js"):
        print(f"built widgets/{name} ({(out / name).stat().st_size / 1000:.0f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_vendor")
    root = parser.parse_args().out
    for folder in [pin["dest"].split("/")[0] for pin in PINS.values()] + ["widgets"]:
        shutil.rmtree(root / folder, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, pin in PINS.items():
            tarball = _npm_pack(f"{name}@{pin['version']}", Path(tmp))
            if _integrity(tarball) != pin["integrity"]:
                raise SystemExit(f"{name}@{pin['version']}: integrity mismatch, refusing to vendor it")
            count = _extract(tarball, pin["files"], root / pin["dest"], pin["strip"])
            print(f"vendored {name}@{pin['version']} ({count} files)")
    build_runtime(root / "widgets")
    print(f"vendored files ready in {root}")


if __name__ == "__main__":
    main()
