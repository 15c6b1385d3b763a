"""A paper-like matplotlib style, without touching the user's global rcParams or backend.

(The command line selects the Agg backend itself; importing this module does not.)
"""

from __future__ import annotations

import contextlib

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 150,
    "savefig.bbox": "tight",
}


@contextlib.contextmanager
def paper_style():
    with plt.rc_context(STYLE):
        yield plt


def save(fig, out_dir, name) -> list:
    """Write name.png and name.pdf into out_dir; returns the paths."""
    from pathlib import Path

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for p in paths:
        fig.savefig(p)
    plt.close(fig)
    return paths


def _plain(value, _pos=None) -> str:
    return f"{value:g}"


def plain_log_ticks(axis) -> None:
    """Label a log (or symlog) axis with plain numbers ("6", not "6x10^0").

    Call it after the data are drawn: on a log axis the labelled ticks are 1, 2, 3, 5 x 10^k
    over less than a decade, 1, 2, 5 x 10^k up to three decades and 10^k beyond (so that the
    labels never run into each other); minor ticks stay, unlabelled. ``axis`` is ``ax.xaxis``
    or ``ax.yaxis``.
    """
    import numpy as np

    if axis.get_scale() == "log":
        lo, hi = sorted(axis.get_view_interval())
        decades = np.log10(hi / lo) if lo > 0 else np.inf
        subs = (1.0, 2.0, 3.0, 5.0) if decades < 1 else (1.0, 2.0, 5.0) if decades <= 3 else (1.0,)
        axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(_plain))
    axis.set_minor_formatter(NullFormatter())
