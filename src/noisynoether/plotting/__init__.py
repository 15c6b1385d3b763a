"""Figures drawn from the case studies' data (matplotlib, imported lazily by the CLI)."""

from .fig1a import plot_fig1a
from .fig1b import plot_fig1b
from .fig1c import plot_fig1c
from .fig2 import plot_fig2

FIGURES = {"fig1a": plot_fig1a, "fig1b": plot_fig1b, "fig1c": plot_fig1c, "fig2": plot_fig2}

__all__ = ["FIGURES", "plot_fig1a", "plot_fig1b", "plot_fig1c", "plot_fig2"]
