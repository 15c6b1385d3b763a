"""Figures drawn from the case studies' data (matplotlib, imported lazily by the CLI)."""

from .fig1b import plot_fig1b

FIGURES = {"fig1b": plot_fig1b}

__all__ = ["FIGURES", "plot_fig1b"]
