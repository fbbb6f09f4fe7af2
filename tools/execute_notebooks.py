"""Execute the book's notebooks in place, keeping their widget state, deterministically.

Each notebook runs top to bottom in a fresh kernel (nbclient, no timing
metadata) and keeps the widget state that the static site needs. The only
volatile parts of an executed notebook, the random widget model ids, are
renumbered in a canonical order (see canonical_widget_order), so executing an unchanged notebook
twice gives byte-identical files and git shows only real changes.

Usage: python tools/execute_notebooks.py [NOTEBOOK ...]   (default: chapters/**/*.ipynb)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import nbformat
import zmq
from nbclient import NotebookClient
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MODEL_ID = re.compile(r"[0-9a-f]{32}")
# The kernel manager gives each kernel CurveZMQ keys (ipykernel's kernelspec declares support):
# no plain-text TCP, and no "Kernel is running over TCP without encryption" warning per notebook.
KERNEL_CONFIG = Config({"KernelManager": {"transport_encryption": "auto" if zmq.has("curve") else "disabled"}})


def _references(model_state: dict) -> list[str]:
    return re.findall(r"IPY_MODEL_([0-9a-f]{32})", json.dumps(model_state, sort_keys=True))


def canonical_widget_order(nb: nbformat.NotebookNode) -> list[str]:
    """Order widget models independently of the kernel's (unordered) state dump.

    Models reachable from the displayed views come first, breadth-first, in
    cell order; the others (e.g. jslink models, which nothing references)
    follow, ordered by their content once the known ids are canonical.
    """
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    roots = [
        output["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    order: list[str] = []

    def visit(start: str) -> None:
        queue = [start]
        while queue:
            model_id = queue.pop(0)
            if model_id in order or model_id not in state:
                continue
            order.append(model_id)
            queue.extend(_references(state[model_id]))

    for root in roots:
        visit(root)
    while len(order) < len(state):
        known = {old: f"#{index}" for index, old in enumerate(order)}
        rest = [mid for mid in state if mid not in order]
        content = {
            mid: MODEL_ID.sub(lambda m, known=known: known.get(m.group(0), "?"), json.dumps(state[mid], sort_keys=True))
            for mid in rest
        }
        visit(min(rest, key=lambda mid: content[mid]))
    return order


def renumber_widget_ids(text: str, ordered_ids: list[str]) -> str:
    """Replace random widget model ids by sequential ones in the given order."""
    mapping = {old: f"{index + 1:032x}" for index, old in enumerate(ordered_ids)}
    return MODEL_ID.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)


def execute(path: Path) -> bool:
    """Execute one notebook in place; return True if its file changed."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        record_timing=False,
        store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
        config=KERNEL_CONFIG,
    )
    client.execute()
    nb.metadata.get("language_info", {}).pop("version", None)
    renumbered = renumber_widget_ids(nbformat.writes(nb), canonical_widget_order(nb))
    # Written again so that the models, now renumbered, are sorted by their new ids.
    text = nbformat.writes(nbformat.reads(renumbered, as_version=4)) + "\n"
    old = path.read_text("utf-8")
    if text != old:
        path.write_text(text, "utf-8")
        return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    paths = parser.parse_args().notebooks or sorted((ROOT / "chapters").rglob("*.ipynb"))
    paths = [p.resolve() for p in paths if ".ipynb_checkpoints" not in p.parts]
    for index, path in enumerate(paths, 1):
        start = time.perf_counter()
        changed = execute(path)
        status = "updated" if changed else "unchanged"
        print(f"[{index}/{len(paths)}] {path.relative_to(ROOT)}: {status} ({time.perf_counter() - start:.1f} s)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
