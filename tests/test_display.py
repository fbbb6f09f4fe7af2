"""Tests of calcifications.display: accessible HTML figures from the specs."""

import base64
import re

import pytest

from calcifications import figures
from calcifications.display import show_figure


def test_html_figure_carries_the_image_alt_text_and_caption():
    shown = show_figure("fig05")
    html = shown._repr_html_()
    spec = figures.get_spec("fig05")
    assert html.startswith('<figure class="synthetic-figure" id="figure-fig05">')
    payload = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(payload) == figures.encode_png(figures.render_figure(spec))
    assert f'alt="{spec.alt}"' in html.replace("&quot;", '"').replace("&#x27;", "'")
    assert "<figcaption>Synthetic illustration." in html
    assert "0x" not in repr(shown)


def test_unknown_figure_is_refused():
    with pytest.raises(ValueError, match="unknown figure 'fig99'"):
        show_figure("fig99")
