"""Tests of calcifications.display: accessible HTML figures pointing at the committed files."""

import re
from pathlib import Path

import pytest

from calcifications import figures
from calcifications.display import show_figure

ROOT = Path(__file__).resolve().parents[1]


def test_html_figure_points_at_the_committed_file_with_alt_text_and_caption():
    shown = show_figure("fig05")
    html = shown._repr_html_()
    spec = figures.get_spec("fig05")
    assert html.startswith('<figure class="synthetic-figure" id="figure-fig05">')
    src = re.search(r'<img src="([^"]+)"', html).group(1)
    assert src == "../figures/fig05.webp"
    assert (ROOT / "chapters" / src).resolve() == (ROOT / "figures" / "fig05.webp").resolve()
    assert (ROOT / "figures" / "fig05.webp").exists()
    assert "base64" not in html  # notebooks stay light
    assert f'alt="{spec.alt}"' in html.replace("&quot;", '"').replace("&#x27;", "'")
    assert "<figcaption>Synthetic illustration." in html
    assert "0x" not in repr(shown)


def test_every_figure_of_the_book_has_its_file():
    for spec in figures.load_specs():
        src = show_figure(spec.id).src
        assert (ROOT / "chapters" / src).resolve().is_file(), spec.id


def test_sphinx_extension_copies_the_figures(tmp_path):
    from types import SimpleNamespace

    from calcifications import book_figures

    (tmp_path / "src" / "figures").mkdir(parents=True)
    (tmp_path / "src" / "figures" / "fig01.webp").write_bytes(b"RIFF")
    app = SimpleNamespace(
        srcdir=str(tmp_path / "src"), outdir=str(tmp_path / "out"), builder=SimpleNamespace(format="html")
    )
    book_figures.copy_figures(app, None)
    assert (tmp_path / "out" / "figures" / "fig01.webp").read_bytes() == b"RIFF"


def test_unknown_figure_is_refused():
    with pytest.raises(ValueError, match="unknown figure 'fig99'"):
        show_figure("fig99")
