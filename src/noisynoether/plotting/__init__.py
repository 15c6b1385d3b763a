"""Figures: any path result (``plot_path``), the curves, the case studies and the CLI's figures.

Every figure of the package is drawn here. matplotlib is imported only when a figure is drawn
(``import noisynoether`` never imports it), and the backend is left to the user (the command
line selects Agg itself). ``FIGURES[name](data, out_dir)`` draws a case study's figure from
the data its ``run`` returned and writes PNG and PDF files.
"""

from ._curves import plot_action_duration, plot_energy_duration
from ._path import plot_path

_CASE_FIGURES = {
    "fig1a": "plot_fig1a",
    "fig1b": "plot_fig1b",
    "fig1c": "plot_fig1c",
    "fig2": "plot_fig2",
}


def _case_figure(name):
    from importlib import import_module

    return getattr(import_module(f".{name}", __name__), _CASE_FIGURES[name])


def __getattr__(attr):  # lazy: the case figures import pyplot at module level
    if attr == "FIGURES":
        return {name: _case_figure(name) for name in _CASE_FIGURES}
    if attr == "plot_energy_paths":
        from .energy import plot_energy_paths

        return plot_energy_paths
    for name, func in _CASE_FIGURES.items():
        if attr == func:
            return _case_figure(name)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


__all__ = [
    "FIGURES",
    "plot_path",
    "plot_action_duration",
    "plot_energy_duration",
    "plot_energy_paths",
    "plot_fig1a",
    "plot_fig1b",
    "plot_fig1c",
    "plot_fig2",
]
