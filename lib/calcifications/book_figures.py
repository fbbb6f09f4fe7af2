"""Sphinx extension: copy the committed figure files into the built site.

Chapters show figures with ``<img src="../figures/<id>.webp">`` (raw HTML in
notebook outputs, which Sphinx does not follow), so the build copies
``<book>/figures/*.webp`` to ``<html>/figures/``. Enable it in ``_config.yml``::

    sphinx:
      extra_extensions: [calcifications.book_figures]
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any


def copy_figures(app: Any, exception: Exception | None) -> None:
    """After a successful HTML build, copy ``figures/*.webp`` into ``<outdir>/figures``."""
    if exception is not None or app.builder.format != "html":
        return
    source = Path(app.srcdir) / "figures"
    if not source.is_dir():
        return
    target = Path(app.outdir) / "figures"
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.webp")):
        shutil.copyfile(path, target / path.name)


def setup(app: Any) -> dict[str, Any]:
    app.connect("build-finished", copy_figures)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
