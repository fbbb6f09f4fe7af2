"""One source of truth for the package itself: its modules, its version and its data files."""

from __future__ import annotations

import ast
import pkgutil
import re
import tomllib
from importlib import metadata, resources
from pathlib import Path

import yaml

import calcifications
from calcifications.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lib" / "calcifications"


def test_package_docstring_names_every_module():
    modules = {m.name for m in pkgutil.iter_modules([str(PACKAGE)])}
    named = set(re.findall(r"^\s+``(\w+)``", calcifications.__doc__, flags=re.MULTILINE))
    assert named == modules, f"not in the package docstring: {sorted(modules - named)}; gone: {sorted(named - modules)}"


def test_the_version_is_written_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "calcifications.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", calcifications.__version__)
    assert metadata.version("calcifications") == calcifications.__version__, "re-install: make setup"


def test_no_docstring_points_to_a_file_that_is_not_in_the_repository():
    # The engine's contract (differential-api.md) lives outside the repository: quote it, do not cite its name.
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(node):
                for name in re.findall(r"``([\w./-]+\.(?:md|yml|json|js))``", ast.get_docstring(node)):
                    if name.startswith("spec/"):
                        continue  # the shared folder beside the repository, named as such
                    found = (PACKAGE / name).exists() or (ROOT / name).exists() or any(PACKAGE.rglob(Path(name).name))
                    assert found, f"{path.name}: docstring names {name!r}, which is not in the repository"


def test_classification_data_holds_only_what_the_figure_reads():
    raw = yaml.safe_load(resources.files("calcifications").joinpath("data/classification.yml").read_text("utf-8"))
    assert set(raw) == {"shares_percent"}, "mechanisms and compartments come from vocabulary.yml only"
    mechanisms = [m for share in raw["shares_percent"] for m in share["group"]]
    assert sorted(mechanisms) == sorted(vocabulary().mechanisms), "share groups must cover each mechanism once"


# ---------------------------------------------------------------- the lock (requirements/*.txt, `make lock`)

GROUPS = ("runtime", "book", "test", "lab")
# name[extras]==version [; marker] then one or more "--hash=sha256:..." continuation lines.
_PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[\w,.-]+\])?==([^\s;]+)(?:\s*;[^\\\n]*)?((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})+)",
    re.MULTILINE,
)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(group: str) -> dict[str, str]:
    text = (ROOT / "requirements" / f"{group}.txt").read_text("utf-8")
    requirement_lines = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    pins = {_canonical(m.group(1)): m.group(2) for m in _PIN.finditer(text)}
    assert len(pins) == len(requirement_lines), f"requirements/{group}.txt: every pin needs its hashes"
    return pins


def test_every_group_is_pinned_with_hashes_and_the_groups_agree():
    versions: dict[str, set[str]] = {}
    for group in GROUPS:
        for name, version in _pins(group).items():
            versions.setdefault(name, set()).add(version)
    assert {name: v for name, v in versions.items() if len(v) > 1} == {}
    assert not (ROOT / "requirements.lock").exists() and not (ROOT / "requirements.in").exists()


def test_binder_installs_the_runtime_group_only():
    lines = [line.strip() for line in (ROOT / ".binder" / "requirements.txt").read_text("utf-8").splitlines()]
    assert [line for line in lines if line and not line.startswith("#")] == [
        "--require-hashes",
        "-r ../requirements/runtime.txt",
    ]
    runtime = _pins("runtime")
    assert {"numpy", "ipywidgets", "anywidget", "ipykernel"} <= set(runtime)
    for tool in ("playwright", "pytest", "hypothesis", "nbval", "jupyter-book", "jupyterlab", "ruff"):
        assert tool not in runtime, f"Binder must not install {tool}"


def test_the_runtime_lock_satisfies_the_library_bounds_of_pyproject():
    from packaging.requirements import Requirement

    runtime = _pins("runtime")
    for line in tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]:
        requirement = Requirement(line)
        assert requirement.specifier.contains(runtime[_canonical(requirement.name)]), line
