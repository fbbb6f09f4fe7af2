"""Show synthetic figures in a notebook as accessible HTML figures (image, alt text, caption).

A notebook cell ``show_figure("fig05")`` outputs one HTML ``<figure>`` whose image is
the committed file ``figures/fig05.webp``, referenced relative to the chapter
(``../figures/fig05.webp``), with the spec's alt text and caption. Notebooks stay
light (no image bytes inside them), the browser caches each image across pages,
and the alt text and caption have one source, the figure spec. The Jupyter Book
build copies ``figures/`` next to the chapters (:mod:`calcifications.book_figures`);
in JupyterLab the relative path resolves when the server's root is the repository.
``python -m calcifications.figures --out figures/`` regenerates the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from calcifications import figures

FIGURES_URL = "../figures"


@dataclass(frozen=True)
class HtmlFigure:
    """A figure ready for display: image URL (relative to the chapter), alt text and caption."""

    figure_id: str
    src: str
    alt: str
    caption: str

    def _repr_html_(self) -> str:
        return (
            f'<figure class="synthetic-figure" id="figure-{escape(self.figure_id)}">'
            f'<img src="{escape(self.src)}" alt="{escape(self.alt)}" width="512" height="512" '
            f'loading="lazy" style="max-width:100%;height:auto">'
            f"<figcaption>{escape(self.caption)}</figcaption></figure>"
        )

    def __repr__(self) -> str:
        return f"HtmlFigure({self.figure_id!r}: {self.caption})"


def show_figure(figure_id: str, base_url: str = FIGURES_URL) -> HtmlFigure:
    """The synthetic figure ``figure_id`` (e.g. "fig05") as an HTML figure pointing at its committed file."""
    spec = figures.get_spec(figure_id)
    src = f"{base_url.rstrip('/')}/{spec.id}.{figures.FIGURE_FORMAT}"
    return HtmlFigure(spec.id, src, spec.alt, spec.caption)
