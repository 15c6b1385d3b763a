"""The paper's case studies: each computes and returns plain data (dicts of arrays and numbers).

Nothing here plots or writes files; ``noisynoether.plotting`` draws the figures and the CLI
writes them. Each case's ``run(quick=False, progress=None)`` returns ``{"name", "paths": [...],
...}`` where every path entry has the keys the report needs (see ``path_summary``);
``progress`` (None, True or a callable taking one line) reports each step as it starts.

The case modules are imported on first use (``CASES``, ``from noisynoether.cases import
fig1c``), so that ``cases._common`` (read by ``plotting.plot_path``) stays light.
"""

from ._common import Steps, along, path_summary

CASE_NAMES = ("fig1a", "fig1b", "fig1c", "fig2")


def __getattr__(attr):
    from importlib import import_module

    if attr == "CASES":
        return {name: import_module(f".{name}", __name__) for name in CASE_NAMES}
    if attr in CASE_NAMES:
        return import_module(f".{attr}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


__all__ = [
    "CASES",
    "CASE_NAMES",
    "Steps",
    "along",
    "fig1a",
    "fig1b",
    "fig1c",
    "fig2",
    "path_summary",
]
