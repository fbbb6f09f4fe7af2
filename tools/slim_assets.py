"""Sphinx extension: after an HTML build, trim the theme's style sheets and icon fonts to what the site uses.

The theme ships about 600 KB of styles and icon fonts that every page downloads
(``pydata-sphinx-theme.css`` 397 KB, 92 % unused; Font Awesome's CSS 103 KB and
two web fonts, 268 KB, for about twenty icons). Once every page is written:

- each large style sheet (below) keeps only the rules whose class and id names
  occur somewhere in the site: in a page, a script under ``_static`` or a saved
  widget state (so classes that scripts add later are kept); rules without class
  or id (elements, ``:root``, attributes such as ``[data-theme=dark]``) and every
  at-rule but ``@media``/``@supports`` (whose content is trimmed) are kept as they are;
  names inside functional pseudo-classes (``:not(.x)``, ``:is(...)``) are not needed;
- Font Awesome's fonts are cut down (fontTools, from the vendored TrueType files)
  to the glyphs that the kept rules of every style sheet draw, saved as WOFF, and
  its ``@font-face`` rules point at them.

Only the ``html`` builder is touched (the PDF build keeps the full assets).
"""

from __future__ import annotations

import logging as std_logging
import re
from pathlib import Path

import tinycss2
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# Style sheets to trim, relative to _static (globs).
SHEETS = (
    "styles/pydata-sphinx-theme.css",
    "sphinx-design.min.css",
    "mystnb.*.css",
    "fontawesome/css/all.min.css",
)
FA_CSS = "fontawesome/css/all.min.css"
FA_FONTS = "fontawesome/webfonts"
NAME = re.compile(r"[.#](-?[A-Za-z_][A-Za-z0-9_-]*)")
FUNCTIONAL = re.compile(r":(?:not|is|where|has|matches|-webkit-any|-moz-any)\((?:[^()]|\([^()]*\))*\)")
ATTRIBUTE = re.compile(r"\[[^\]]*\]")
ESCAPED_CODEPOINT = re.compile(r'"\\([0-9a-fA-F]{4,6}) ?"')


def site_tokens(outdir: Path) -> set[str]:
    """Every word-like token of the site's pages, scripts and saved widget states."""
    tokens: set[str] = set()
    sources = [*outdir.rglob("*.html"), *(outdir / "_static").rglob("*.js"), *outdir.glob("_widgets/**/*.json")]
    for path in sources:
        tokens.update(re.findall(r"[A-Za-z0-9_-]+", path.read_text("utf-8", "replace")))
    return tokens


def _selector_used(selector: str, tokens: set[str]) -> bool:
    plain = FUNCTIONAL.sub("", ATTRIBUTE.sub("", selector))
    return all(name in tokens for name in NAME.findall(plain))


def _rule_used(prelude: str, tokens: set[str]) -> bool:
    return any(_selector_used(selector, tokens) for selector in prelude.split(","))


def trim_rules(rules, tokens: set[str]) -> list[str]:
    kept = []
    for rule in rules:
        if rule.type == "qualified-rule":
            if _rule_used(tinycss2.serialize(rule.prelude), tokens):
                kept.append(rule.serialize())
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports") and rule.content is not None:
            inner = trim_rules(tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True), tokens)
            if inner:
                kept.append(f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude)}{{{''.join(inner)}}}")
        elif rule.type == "at-rule":
            kept.append(rule.serialize())
    return kept


def trim_css(css: str, tokens: set[str]) -> str:
    """``css`` without the rules whose class or id names are not in ``tokens``."""
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    text = re.sub(r"\s*\n\s*", "\n", "".join(trim_rules(rules, tokens)))
    # tinycss2 writes escapes out as characters: escape them again, so the sheet stays ASCII.
    return re.sub(r"[^\x00-\x7f]", lambda m: f"\\{ord(m.group()):x} ", text)


def used_codepoints(static: Path) -> set[int]:
    """Private-use code points named in the site's style sheets (``content: "\\f135"``, ``--pst-icon-x: "\\f058"``)."""
    found: set[int] = set()
    for sheet in static.rglob("*.css"):
        found.update(int(h, 16) for h in ESCAPED_CODEPOINT.findall(sheet.read_text("utf-8", "replace")))
    return {c for c in found if c >= 0xE000}  # icon fonts use the private use area


def subset_fonts(static: Path, codepoints: set[int]) -> None:
    """Cut Font Awesome's fonts to ``codepoints`` (as WOFF) and point its @font-face rules at them."""
    from fontTools import subset

    std_logging.getLogger("fontTools").setLevel(std_logging.WARNING)  # its INFO lines flooded the build log
    css_path = static / FA_CSS
    css = css_path.read_text("utf-8")
    for ttf in sorted((static / FA_FONTS).glob("*.ttf")):
        stem = ttf.stem
        if stem not in css:
            continue
        options = subset.Options()
        options.flavor = "woff"
        options.layout_features = ["*"]
        font = subset.load_font(str(ttf), options)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(codepoints))
        subsetter.subset(font)
        target = ttf.with_name(f"{stem}.subset.woff")
        subset.save_font(font, str(target), options)
        # Every src list naming this font becomes the one subset file.
        css = re.sub(
            rf"src:url\(\.\./webfonts/{re.escape(stem)}\.[a-z0-9]+\)[^;}}]*",
            f'src:url(../webfonts/{target.name}) format("woff")',
            css,
        )
    css_path.write_text(css, "utf-8")


def slim(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name != "html":
        return
    outdir = Path(app.outdir)
    static = outdir / "_static"
    tokens = site_tokens(outdir)
    for pattern in SHEETS:
        for sheet in static.glob(pattern):
            before = sheet.stat().st_size
            sheet.write_text(trim_css(sheet.read_text("utf-8"), tokens), "utf-8")
            logger.info(
                f"slim_assets: {sheet.relative_to(outdir)} {before // 1024} KB -> {sheet.stat().st_size // 1024} KB"
            )
    if (static / FA_CSS).is_file():
        subset_fonts(static, used_codepoints(static))


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", slim, priority=950)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
