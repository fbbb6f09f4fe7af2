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
