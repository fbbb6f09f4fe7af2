"""Tests of calcifications.plots: the classification figure and its data."""

import hashlib

from matplotlib.figure import Figure

from calcifications import plots


def test_mechanism_shares_follow_the_essay():
    shares = {s.label: (s.low_percent, s.high_percent) for s in plots.mechanism_shares()}
    assert shares == {"Dystrophic + iatrogenic": (95.0, 98.0), "Metastatic + idiopathic": (2.0, 5.0)}
    assert all(s.cite == "faria2020" for s in plots.mechanism_shares())


def test_classification_figure_has_three_labelled_panels():
    fig = plots.classification_figure()
    assert isinstance(fig, Figure)
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert [t[:2] for t in titles] == ["A.", "B.", "C."]
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    for compartment in ("Subcutaneous", "Fascial", "Muscle", "Vascular", "Intra-articular", "Periarticular"):
        assert compartment in texts


def test_figure_png_is_reproducible():
    first = plots.figure_png(plots.classification_figure())
    second = plots.figure_png(plots.classification_figure())
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
    assert b"Software" not in first


def test_palette_is_okabe_ito():
    assert plots.OKABE_ITO["blue"] == "#0072B2" and plots.OKABE_ITO["orange"] == "#E69F00"
