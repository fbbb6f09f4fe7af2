"""Schematic figures for the book (matplotlib, colour-blind-safe Okabe-Ito palette).

Figures are built with the object-oriented API (``matplotlib.figure.Figure``),
so a notebook cell that returns one displays it exactly once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml
from IPython.display import Image
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse, FancyBboxPatch, Polygon, Rectangle

# Okabe & Ito (2008) palette: distinguishable with the common colour-vision deficiencies.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
TISSUE = {
    "skin": "#C9A27E",
    "fat": OKABE_ITO["yellow"],
    "muscle": "#D98C7A",
    "fascia": OKABE_ITO["black"],
    "cortex": "#F7F7F7",
    "medulla": "#E8D9B0",
    "artery": OKABE_ITO["vermillion"],
    "vein": OKABE_ITO["blue"],
    "nerve": OKABE_ITO["green"],
    "cartilage": OKABE_ITO["sky"],
    "synovium": OKABE_ITO["purple"],
    "tendon": "#8C8C8C",
}


@dataclass(frozen=True)
class Share:
    """A share of all soft-tissue calcifications, as a range in percent."""

    label: str
    low_percent: float
    high_percent: float
    cite: str


@lru_cache(maxsize=1)
def classification_data() -> dict:
    """Load ``data/classification.yml``: the shares of the mechanism groups (ids from the vocabulary)."""
    text = resources.files("calcifications").joinpath("data/classification.yml").read_text("utf-8")
    data = yaml.safe_load(text)
    for share in data["shares_percent"]:
        if not 0 <= share["low"] <= share["high"] <= 100:
            raise ValueError(f"data/classification.yml: bad share {share}")
    return data


def mechanism_shares() -> tuple[Share, ...]:
    """Return the shares of the mechanism groups as the source essay gives them."""
    return tuple(
        Share(s["label"], float(s["low"]), float(s["high"]), s["cite"]) for s in classification_data()["shares_percent"]
    )


def _label(ax: Axes, text: str, xy: tuple[float, float], xytext: tuple[float, float], colour: str = "black") -> None:
    ax.annotate(
        text,
        xy=xy,
        xytext=xytext,
        fontsize=8.5,
        ha="center",
        va="center",
        color=colour,
        arrowprops={"arrowstyle": "-", "color": "#333333", "linewidth": 0.8},
        bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "#999999", "linewidth": 0.6},
    )


def draw_limb_cross_section(ax: Axes) -> None:
    """Draw a schematic axial section of the mid-thigh with its soft-tissue compartments labelled."""
    ax.add_patch(Circle((0, 0), 10.0, facecolor=TISSUE["skin"], edgecolor="black", linewidth=0.8))
    ax.add_patch(Circle((0, 0), 9.6, facecolor=TISSUE["fat"], edgecolor="none"))
    ax.add_patch(Circle((0, 0), 7.6, facecolor=TISSUE["muscle"], edgecolor=TISSUE["fascia"], linewidth=1.6))
    # Intermuscular septa split anterior, medial and posterior muscle groups.
    for angle in (200, 290, 20):
        rad = np.deg2rad(angle)
        ax.plot(
            [0.4 + 2.0 * np.cos(rad), 7.6 * np.cos(rad)],
            [0.2 + 2.0 * np.sin(rad), 7.6 * np.sin(rad)],
            color=TISSUE["fascia"],
            linewidth=1.2,
        )
    ax.add_patch(Circle((0.4, 0.2), 2.0, facecolor=TISSUE["cortex"], edgecolor="black", linewidth=0.8))
    ax.add_patch(Circle((0.4, 0.2), 1.1, facecolor=TISSUE["medulla"], edgecolor="none"))
    # Neurovascular bundles: femoral (anteromedial) and sciatic nerve (posterior).
    ax.add_patch(Circle((-4.4, 3.2), 0.55, facecolor="white", edgecolor=TISSUE["artery"], linewidth=2.2))
    ax.add_patch(Circle((-5.3, 2.4), 0.65, facecolor="white", edgecolor=TISSUE["vein"], linewidth=2.2))
    ax.add_patch(Circle((0.8, -5.0), 0.5, facecolor=TISSUE["nerve"], edgecolor="black", linewidth=0.5))
    ax.text(-1.0, 5.0, "anterior\ngroup", fontsize=7, ha="center", style="italic")
    ax.text(-4.6, -2.0, "medial\ngroup", fontsize=7, ha="center", style="italic")
    ax.text(3.6, -3.4, "posterior\ngroup", fontsize=7, ha="center", style="italic")
    _label(ax, "Subcutaneous\n(skin and fat)", (7.0, 6.8), (11.0, 10.8))
    _label(ax, "Fascial\n(deep fascia, septa)", (7.6 * np.cos(0.35), 7.6 * np.sin(0.35)), (13.0, 3.2))
    _label(ax, "Muscle\n(muscle bellies)", (3.8, -1.8), (12.6, -5.0))
    _label(ax, "Vascular\n(artery and vein walls)", (-4.8, 2.8), (-11.0, 10.4))
    _label(ax, "Bone\n(not soft tissue)", (0.4, 1.6), (-2.0, -12.2))
    ax.set_xlim(-15.5, 16.5)
    ax.set_ylim(-13.5, 12.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("A. Mid-thigh, axial section (schematic)", fontsize=10, loc="left")


def draw_joint_schematic(ax: Axes) -> None:
    """Draw a schematic synovial joint separating intra-articular from periarticular tissues."""
    # Two bone ends with hyaline cartilage caps, a joint space and fibrocartilage wedges.
    ax.add_patch(
        FancyBboxPatch(
            (-4, 1.2),
            8,
            7,
            boxstyle="round,pad=0,rounding_size=2.5",
            facecolor=TISSUE["cortex"],
            edgecolor="black",
            linewidth=0.8,
        )
    )
    ax.add_patch(
        FancyBboxPatch(
            (-4, -8.2),
            8,
            7,
            boxstyle="round,pad=0,rounding_size=2.5",
            facecolor=TISSUE["cortex"],
            edgecolor="black",
            linewidth=0.8,
        )
    )
    ax.add_patch(Rectangle((-4, 0.7), 8, 0.6, facecolor=TISSUE["cartilage"], edgecolor="none"))
    ax.add_patch(Rectangle((-4, -1.3), 8, 0.6, facecolor=TISSUE["cartilage"], edgecolor="none"))
    ax.add_patch(
        Polygon(
            [(-4.6, 0.6), (-2.6, 0.0), (-4.6, -0.6)], facecolor=TISSUE["cartilage"], edgecolor="black", linewidth=0.5
        )
    )
    ax.add_patch(
        Polygon([(4.6, 0.6), (2.6, 0.0), (4.6, -0.6)], facecolor=TISSUE["cartilage"], edgecolor="black", linewidth=0.5)
    )
    # Capsule lined by synovium encloses the joint space.
    ax.add_patch(Ellipse((0, 0), 11.4, 6.6, facecolor="none", edgecolor=TISSUE["synovium"], linewidth=2.4))
    # Periarticular structures outside the capsule: a tendon and its bursa, a ligament.
    ax.add_patch(Rectangle((6.4, -7.5), 1.1, 15.5, facecolor=TISSUE["tendon"], edgecolor="black", linewidth=0.5))
    ax.add_patch(Ellipse((5.85, 3.6), 0.9, 2.6, facecolor=OKABE_ITO["orange"], edgecolor="black", linewidth=0.5))
    ax.plot([-5.3, -5.9, -5.3], [4.5, 0, -4.5], color=TISSUE["tendon"], linewidth=3.2, solid_capstyle="round")
    _label(ax, "Intra-articular:\nhyaline cartilage", (1.5, 1.0), (1.6, 10.6))
    _label(ax, "Intra-articular:\nfibrocartilage (meniscus)", (-3.6, 0.0), (-8.8, -10.6))
    _label(ax, "Intra-articular:\nsynovium, joint space", (0.0, -3.3), (2.6, -10.6))
    _label(ax, "Periarticular:\ntendon", (7.0, 6.5), (10.8, 9.8))
    _label(ax, "Periarticular:\nbursa", (6.1, 3.6), (11.2, 3.2))
    _label(ax, "Periarticular:\nligament, capsule", (-5.7, 2.0), (-10.6, 7.0))
    ax.set_xlim(-14.5, 14.5)
    ax.set_ylim(-12.5, 12.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("B. Synovial joint (schematic)", fontsize=10, loc="left")


def draw_mechanism_shares(ax: Axes) -> None:
    """Draw the share of all soft-tissue calcifications held by each mechanism group (percent)."""
    shares = mechanism_shares()
    colours = (OKABE_ITO["blue"], OKABE_ITO["orange"])
    for row, (share, colour) in enumerate(zip(shares, colours)):
        ax.barh(row, share.low_percent, color=colour, edgecolor="black", linewidth=0.6)
        # The uncertain part of the range is hatched, not solid.
        ax.barh(
            row,
            share.high_percent - share.low_percent,
            left=share.low_percent,
            color="white",
            edgecolor=colour,
            hatch="////",
            linewidth=0.6,
        )
        ax.text(
            share.high_percent + 1.5, row, f"{share.low_percent:g}–{share.high_percent:g} %", va="center", fontsize=9
        )
    ax.set_yticks(range(len(shares)), [s.label for s in shares], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 112)
    ax.set_xlabel("share of all soft-tissue calcifications (%); hatched: range given", fontsize=8.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title("C. How often each mechanism is the cause (Faria et al. 2020)", fontsize=10, loc="left")


def classification_figure() -> Figure:
    """Return the Classification chapter's figure: compartments (A, B) and mechanism shares (C)."""
    fig = Figure(figsize=(10, 7.2), dpi=100, layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=(5, 1.5))
    draw_limb_cross_section(fig.add_subplot(grid[0, 0]))
    draw_joint_schematic(fig.add_subplot(grid[0, 1]))
    draw_mechanism_shares(fig.add_subplot(grid[1, :]))
    return fig


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """Encode a figure as PNG bytes, with no timestamp or version metadata (reproducible)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def show(fig: Figure, dpi: int = 100) -> Image:
    """Return a figure as an image for display in a notebook (one PNG output, no pyplot state)."""
    return Image(data=figure_png(fig, dpi), format="png")
