"""The paper's case studies: each computes and returns plain data (dicts of arrays and numbers).

Nothing here plots or writes files; ``noisynoether.plotting`` draws the figures and the CLI
writes them. Each case's ``run(quick=False)`` returns ``{"name", "paths": [...], ...}`` where every
path entry has the keys the report needs (see ``path_summary``).
"""

from . import fig1a, fig1b, fig1c, fig2
from ._common import path_summary

CASES = {"fig1a": fig1a, "fig1b": fig1b, "fig1c": fig1c, "fig2": fig2}

__all__ = ["CASES", "fig1a", "fig1b", "fig1c", "fig2", "path_summary"]
