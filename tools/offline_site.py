"""Sphinx extension: keep every page self-contained and its scripts unique.

- Drops duplicate script tags (sphinx-thebe can register its inline
  configuration twice, which is a page error: ``THEBE_JS_URL`` declared twice).
- Warns (an error under ``-W``) when a page would load a script or a style
  sheet from another host, so the site stays offline and private.
- Gives the root redirect page (written by sphinx-external-toc) the site's icon, so
  that browsers do not ask for a missing /favicon.ico (a 404 in the console).
- Drops MathJax when no page has an equation (Jupyter Book forces it into the
  single-page build used for the printed book).
- Drops sphinx-thebe's style sheet, configuration and script: thebe is off
  (``launch_buttons.thebe: false``), yet the extension ships them on every page.
- Moves images embedded in a page as ``data:`` URLs (notebook outputs) into files of
  their own under ``_images/`` (named by their content's hash), so that the page's HTML
  stays small and the browser can fetch them when needed;
- and lets the browser fetch a page's images when they near the screen (``loading="lazy"``;
  images already on the first screen are still fetched at once).
- Defers every head script but ``documentation_options.js`` (which the inline
  page options need at once), so that no script blocks the first paint.
"""

from __future__ import annotations

import re

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _filename(asset) -> str:
    return str(getattr(asset, "filename", asset) or "")


def _key(asset) -> tuple:
    # Priority is ignored: the same script registered twice at two priorities is still a duplicate.
    attributes = tuple(sorted((k, str(v)) for k, v in getattr(asset, "attributes", {}).items()))
    return (_filename(asset), attributes)


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def _is_thebe(asset) -> bool:
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "sphinx-thebe" in _filename(asset) or "THEBE_JS_URL" in body


# Scripts that must run before the inline snippets that follow them in <head>; on the search
# page also doctools.js, whose `_ready` the theme's undeferred searchtools.js calls at once.
RUN_AT_ONCE = ("documentation_options.js",)
RUN_AT_ONCE_ON_SEARCH = (*RUN_AT_ONCE, "doctools.js")


def _deferred(asset, at_once: tuple[str, ...] = RUN_AT_ONCE):
    """The same script, deferred (inline scripts, modules, async and data scripts are left as they are)."""
    from sphinx.builders.html._assets import _JavaScript

    attributes = dict(getattr(asset, "attributes", {}) or {})
    filename = _filename(asset)
    if (
        not filename
        or not isinstance(asset, _JavaScript)
        or filename.endswith(at_once)
        or {"defer", "async", "body"} & set(attributes)
        or attributes.get("type", "text/javascript") != "text/javascript"
    ):
        return asset
    attributes["defer"] = "defer"
    return _JavaScript(asset.filename, priority=asset.priority, **attributes)


IMG_TAG = re.compile(r"<img\b(?![^>]*\bloading=)")


DATA_IMAGE = re.compile(r'(<img\b[^>]*?\bsrc=")data:image/(png|jpeg|gif|webp);base64,([A-Za-z0-9+/=\s]+)"')
MIN_FILE_BYTES = 2048  # smaller images stay inline: a request costs more than they weigh


def images_to_files(body: str, outdir, link) -> str:
    """``body`` with each large ``data:`` image written to ``outdir/_images/`` and linked instead."""
    import base64
    import hashlib
    from pathlib import Path

    def move(match: re.Match) -> str:
        data = base64.b64decode(re.sub(r"\s", "", match.group(3)))
        if len(data) < MIN_FILE_BYTES:
            return match.group()
        extension = "jpg" if match.group(2) == "jpeg" else match.group(2)
        name = f"inline-{hashlib.sha256(data).hexdigest()[:20]}.{extension}"
        target = Path(outdir) / "_images" / name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return f'{match.group(1)}{link(f"_images/{name}")}"'

    return DATA_IMAGE.sub(move, body)


def lazy_images(body: str) -> str:
    """``body`` with ``loading="lazy"`` on every <img> that does not say otherwise."""
    return IMG_TAG.sub('<img loading="lazy"', body)


def _needs_math(app: Sphinx | None) -> bool:
    if app is None:
        return True
    return app.env.get_domain("math").has_equations()


def tidy_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    # Jupyter Book forces MathJax (from a CDN) into every page of the single-page build even
    # when no page has an equation; the book has none, so it is dropped in that case.
    if app is not None and not _needs_math(app):
        context["script_files"] = [
            asset
            for asset in context.get("script_files", [])
            if _filename(asset) != app.config.mathjax_path
            and not str(getattr(asset, "attributes", {}).get("body", "")).startswith("window.MathJax")
        ]
    for kind in ("script_files", "css_files"):
        if context.get(kind):
            context[kind] = [asset for asset in context[kind] if not _is_thebe(asset)]
    if context.get("body"):
        if app is not None:
            link = lambda path: context["pathto"](path, 1)  # noqa: E731 - a page-relative link
            context["body"] = images_to_files(context["body"], app.outdir, link)
        context["body"] = lazy_images(context["body"])
    at_once = RUN_AT_ONCE_ON_SEARCH if pagename == "search" else RUN_AT_ONCE
    context["script_files"] = [_deferred(asset, at_once) for asset in context.get("script_files", [])]
    for kind in ("script_files", "css_files"):
        assets = context.get(kind)
        if not assets:
            continue
        unique, seen = [], set()
        for asset in assets:
            key = _key(asset)
            if key in seen:
                continue
            seen.add(key)
            unique.append(asset)
            if _is_remote(_filename(asset)):
                logger.warning(f"{pagename}: loads {_filename(asset)} from another host; vendor it instead")
        context[kind] = unique


def add_icon_to_redirect(app: Sphinx, exception: Exception | None) -> None:
    from pathlib import Path

    if exception is not None or app.builder.format != "html" or not app.config.html_favicon:
        return
    redirect = Path(app.outdir) / "index.html"
    if not redirect.is_file():
        return
    text = redirect.read_text("utf-8")
    if 'http-equiv="Refresh"' in text and 'rel="icon"' not in text:
        icon = f"_static/{Path(app.config.html_favicon).name}"
        redirect.write_text(f'<link rel="icon" href="{icon}" />\n{text}', "utf-8")


def setup(app: Sphinx) -> dict:
    # Late priority: run after the theme and the other extensions have added their assets.
    app.connect("html-page-context", tidy_assets, priority=900)
    app.connect("build-finished", add_icon_to_redirect, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
