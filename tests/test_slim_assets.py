"""Tests of tools/slim_assets.py: style sheets keep the rules the site can use, icons stay drawable."""

from __future__ import annotations

import slim_assets

CSS = """
.used{color:red}.unused{color:blue}
.used .unused{margin:0}
a:not(.never){text-decoration:none}
html[data-theme=dark] .used{color:white}
@media (min-width:960px){.unused{display:none}.used{display:block}}
@font-face{font-family:"X";src:url(x.woff)}
.fa-rocket:before{content:"\\f135"}.fa-ghost:before{content:"\\f6e2"}
"""


def test_rules_of_unused_classes_go_and_the_rest_stays():
    out = slim_assets.trim_css(CSS, {"used", "fa-rocket"})
    assert ".used{color:red}" in out and ".unused{color:blue}" not in out
    assert ".used .unused" not in out  # needs both names
    assert "a:not(.never)" in out  # names inside :not() are not required
    assert "html[data-theme=dark] .used" in out
    assert "@media (min-width:960px){.used{display:block}}" in out
    assert "@font-face" in out
    assert '.fa-rocket:before{content:"\\f135 "}' in out and "fa-ghost" not in out
    assert out.isascii()


def test_icon_code_points_are_read_from_the_kept_sheets(tmp_path):
    (tmp_path / "a.css").write_text(slim_assets.trim_css(CSS, {"used", "fa-rocket"}))
    (tmp_path / "b.css").write_text(':root{--pst-icon-x:"\\f058"}.x{content:"\\201c"}')
    assert slim_assets.used_codepoints(tmp_path) == {0xF135, 0xF058}
