"""The action-duration and duration-energy curves: S*(T), E(T), T(E) and S(T).

``ActionDurationCurve.plot`` and ``EnergyDurationCurve.plot`` (``transitions/_curves.py``)
draw through these; matplotlib is imported when a function is called.
"""

from __future__ import annotations

import numpy as np


def _axes_pair(axes):
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
        return fig, axes
    if len(axes) != 2:
        raise ValueError(f"axes must be a pair of matplotlib Axes; got {len(axes)}")
    return axes[0].figure, axes


def _energy_scale(ax, which: str, energies) -> None:
    """A log axis for positive energies; symlog (linear near 0) when some are <= 0."""
    from ._style import plain_log_ticks

    e = np.asarray(energies, dtype=float)
    set_scale = getattr(ax, f"set_{which}scale")
    if e.size and np.all(e > 0):
        set_scale("log")
        _pad_log_limits(ax, which, e)
    else:  # linear within 1e-3 of the largest |E| (rounded to a decade), log beyond
        top = float(np.max(np.abs(e))) if e.size else 0.0
        set_scale("symlog", linthresh=10.0 ** (np.floor(np.log10(top)) - 3) if top > 0 else 1.0)
    plain_log_ticks(getattr(ax, f"{which}axis"))


def _pad_log_limits(ax, axis_name, values) -> None:
    """Room for the markers at both ends of a log axis (the top point is not clipped)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size:
        lo, hi = v.min(), v.max()
        f = (hi / lo) ** 0.08 if hi > lo else 1.5
        getattr(ax, f"set_{axis_name}lim")(lo / f, hi * f)


def plot_action_duration(curve, axes=None):
    """S*(T) and E(T) side by side, with -dS*/dT against E (the identity dS*/dT = -E).

    Args:
        curve: an ``ActionDurationCurve``.
        axes: two matplotlib Axes, or None for a new figure.

    Returns:
        The matplotlib Figure.
    """
    from ._style import plain_log_ticks

    fig, axes = _axes_pair(axes)
    T = np.asarray(curve.durations, dtype=float)
    order = np.argsort(T)
    T, S = T[order], np.asarray(curve.actions, dtype=float)[order]
    E = np.asarray(curve.energies, dtype=float)[order]
    dS = np.asarray(curve.dS_dT, dtype=float)[order]
    ax = axes[0]
    ax.plot(T, S, "o-", clip_on=False, zorder=3)
    ax.set(xlabel="duration $T$", ylabel="$S^*(T)$ (Eq. 8)", xscale="log")
    ax.margins(y=0.08)
    _pad_log_limits(ax, "x", T)
    plain_log_ticks(ax.xaxis)
    ax = axes[1]
    ax.plot(T, E, "o-", label="$E$ (Eq. 10)", clip_on=False, zorder=3)
    ax.plot(T, -dS, "x", color="k", label="$-dS^*/dT$", clip_on=False, zorder=4)
    ax.set(xlabel="duration $T$", ylabel="energy $E$", xscale="log")
    both = np.concatenate([E, -dS])
    _energy_scale(ax, "y", both[np.isfinite(both)])
    ax.margins(y=0.08)
    _pad_log_limits(ax, "x", T)
    plain_log_ticks(ax.xaxis)
    ax.legend()
    return fig


def plot_energy_duration(curve, axes=None):
    """T(E) and S(T) = W(E) - E T(E) side by side; the E = 0 path (T = inf) as a dashed line.

    Args:
        curve: an ``EnergyDurationCurve``.
        axes: two matplotlib Axes, or None for a new figure.

    Returns:
        The matplotlib Figure.
    """
    from ._style import plain_log_ticks

    fig, axes = _axes_pair(axes)
    E = np.asarray(curve.energies, dtype=float)
    T = np.asarray(curve.durations, dtype=float)
    S = np.asarray(curve.actions, dtype=float)
    fin = np.isfinite(T)
    order = np.argsort(E[fin])
    ax = axes[0]
    ax.plot(E[fin][order], T[fin][order], "o-", clip_on=False, zorder=3)
    ax.set(xlabel="energy $E$", ylabel="duration $T(E)$", yscale="log")
    _energy_scale(ax, "x", E[fin])
    _pad_log_limits(ax, "y", T[fin])
    plain_log_ticks(ax.yaxis)
    for e in E[~fin]:
        ax.annotate(
            f"$E = {e:g}$: $T = \\infty$",
            (0.97, 0.95),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize=8,
        )
    ax = axes[1]
    order = np.argsort(T[fin])
    ax.plot(T[fin][order], S[fin][order], "o-", label="$S = W - E\\,T$", clip_on=False, zorder=3)
    for e, s in zip(E[~fin], S[~fin], strict=True):
        ax.axhline(s, ls="--", color="k", label=f"$S$ at $E = {e:g}$ ($T = \\infty$)")
    ax.set(xlabel="duration $T(E)$", ylabel="$S^*$ (Eq. 8)", xscale="log")
    ax.margins(y=0.08)
    _pad_log_limits(ax, "x", T[fin])
    plain_log_ticks(ax.xaxis)
    ax.legend()
    return fig
