"""Show synthetic figures in a notebook as accessible HTML figures (image, alt text, caption).

A notebook cell ``show_figure("fig05")`` renders the figure with the library
and outputs one HTML ``<figure>``: the PNG inline, the spec's alt text and its
caption. The same output works in Jupyter and on the static site, and the alt
text and caption have one source, the figure spec.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html import escape

from calcifications import figures


@dataclass(frozen=True)
class HtmlFigure:
    """A figure ready for display: PNG bytes, alt text and caption (plain text)."""

    figure_id: str
    png: bytes
    alt: str
    caption: str

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return (
            f'<figure class="synthetic-figure" id="figure-{escape(self.figure_id)}">'
            f'<img src="data:image/png;base64,{data}" alt="{escape(self.alt)}" width="512" height="512" '
            f'style="max-width:100%;height:auto">'
            f"<figcaption>{escape(self.caption)}</figcaption></figure>"
        )

    def __repr__(self) -> str:
        return f"HtmlFigure({self.figure_id!r}: {self.caption})"


def show_figure(figure_id: str) -> HtmlFigure:
    """Render a synthetic figure by id (e.g. "fig05") for display with its alt text and caption."""
    spec = figures.get_spec(figure_id)
    return HtmlFigure(spec.id, figures.encode_png(figures.render_figure(spec)), spec.alt, spec.caption)
