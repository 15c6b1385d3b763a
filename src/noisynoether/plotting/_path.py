"""``plot_path``: any path result in two coordinates over the drift field, and its charges.

Reads only the result protocol shared by the path solvers (``ts``, ``xs``, ``energy``,
``momentum``; see ``cases._common.along``), so it draws a ``PathResult``, an
``EnergyPathResult`` or a ``ShootResult`` alike. matplotlib is imported when the function is
called, never when ``noisynoether`` is imported.
"""

from __future__ import annotations

import numpy as np

from ..cases._common import along

FIELD_KINDS = ("stream", "quiver")


def _check_coords(coords, n: int) -> tuple[int, int]:
    try:
        i, j = (int(c) for c in coords)
    except (TypeError, ValueError):
        raise TypeError(f"coords must be a pair of state indices; got {coords!r}") from None
    if n >= 2 and (i == j or not (0 <= i < n and 0 <= j < n)):
        raise ValueError(f"coords must be two different indices in [0, {n - 1}]; got {coords!r}")
    return i, j


def _field_grid(lo, hi, num, pad):
    return np.linspace(lo - pad, hi + pad, num)


def _pad(*extents) -> float:
    """One margin for both axes of the field: 15 % of the larger extent of the path."""
    return 0.15 * max(max(extents), 1e-12)


def _drift(sde, t, points, args):
    import jax

    f = jax.vmap(lambda x: sde.f(t, x, args))(np.asarray(points, dtype=np.float64))
    return np.asarray(f, dtype=np.float64)


def _draw_field(ax, sde, args, t, xs, coords, field, grid):
    """The drift in the plane of ``coords`` (other coordinates at the path's middle node)."""
    i, j = coords
    pad = _pad(np.ptp(xs[:, i]), np.ptp(xs[:, j]))
    gx, gy = np.meshgrid(
        _field_grid(xs[:, i].min(), xs[:, i].max(), grid, pad),
        _field_grid(xs[:, j].min(), xs[:, j].max(), grid, pad),
    )
    pts = np.repeat(xs[len(xs) // 2][None, :], gx.size, axis=0)
    pts[:, i], pts[:, j] = gx.ravel(), gy.ravel()
    f = _drift(sde, t, pts, args)
    u, v = f[:, i].reshape(gx.shape), f[:, j].reshape(gx.shape)
    if field == "stream":
        ax.streamplot(gx, gy, u, v, color="0.72", density=1.1, linewidth=0.6, zorder=0)
    else:
        ax.quiver(gx, gy, u, v, color="0.6", angles="xy", zorder=0)


def _draw_field_1d(ax, sde, args, ts, xs, field, grid):
    """dx/dt = f(t, x) as arrows (1, f) in the (t, x) plane."""
    gt = np.linspace(ts[0], ts[-1], grid)
    gx = _field_grid(xs[:, 0].min(), xs[:, 0].max(), grid, _pad(np.ptp(xs[:, 0])))
    T, X = np.meshgrid(gt, gx)
    import jax

    f = jax.vmap(lambda t, x: sde.f(t, x, args))(T.ravel(), X.ravel()[:, None])
    F = np.asarray(f, dtype=np.float64)[:, 0].reshape(T.shape)
    if field == "stream":
        ax.streamplot(T, X, np.ones_like(F), F, color="0.72", density=1.0, linewidth=0.6, zorder=0)
    else:
        ax.quiver(T, X, np.ones_like(F), F, color="0.6", angles="xy", zorder=0)


def _midpoints_or_nodes(ts, values):
    """The times matching ``values``: the interval midpoints (K-1 values) or the nodes (K)."""
    return 0.5 * (ts[1:] + ts[:-1]) if len(values) == len(ts) - 1 else ts


def _draw_charges(ax_e, ax_p, res, ts, coords, color, label):
    ch = along(res)
    E, p = ch["energy"], ch["momentum"]
    ax_e.plot(_midpoints_or_nodes(ts, E), E, color=color, lw=1.6, label=label)
    if E.size:
        ax_e.annotate(
            f"mean {np.mean(E):.6g}, spread {np.ptp(E):.1e}",
            (0.02, 0.95),
            xycoords="axes fraction",
            va="top",
            fontsize=8,
        )
    if E.size:  # a conserved E is drawn flat, not as rounding noise magnified
        lo, hi = float(np.min(E)), float(np.max(E))
        pad = max(0.5 * (hi - lo), 0.05 * max(abs(lo), abs(hi)), 1e-12)
        ax_e.set_ylim(lo - pad, hi + 2 * pad)
    ax_e.ticklabel_format(axis="y", useOffset=False)
    ax_e.set(ylabel="energy $E$ (Eq. 10)")
    if p is None:
        return
    tp = _midpoints_or_nodes(ts, p)
    comps = coords if p.shape[1] >= 2 else (0,)
    for c, ls in zip(comps, ("-", "--"), strict=False):
        ax_p.plot(tp, p[:, c], color=color, ls=ls, lw=1.4, label=f"$p_{{{c + 1}}}$")
    ax_p.set(xlabel="$t$", ylabel="momentum $p$ (Eq. 15)")
    ax_p.legend(fontsize=8, loc="best")


def plot_path(
    result,
    *,
    coords=(0, 1),
    sde=None,
    args=None,
    ax=None,
    charges=None,
    field: str = "stream",
    field_time: float | None = None,
    grid: int = 25,
    color: str = "C3",
    label: str | None = None,
):
    """Draw a most likely path in two coordinates over the drift field, and its charges.

    The path ``result.xs`` is drawn in the plane of ``coords`` (for a 1-D model: x against
    t), its start (circle) and end (triangle) marked; with ``sde`` the drift f(t, x, args)
    is drawn under it (streamlines or arrows; for n > 2 the other coordinates are held at the
    path's middle node, for a time-dependent f at ``field_time``). With charges, a second
    panel shows the energy E of Eq. 10 along the path (constant for an autonomous model) and
    a third the momentum p of Eq. 15 (constant along a translation symmetry) in the chosen
    coordinates.

    Works with any path result (``PathResult``, ``EnergyPathResult``, ``ShootResult``): it
    reads only ``ts``, ``xs``, ``energy`` and ``momentum``.

    Args:
        result: a path result.
        coords: the two state indices to draw (ignored for a 1-D model).
        sde: the model, to draw its drift field; None draws no field.
        args: the model's ``args``.
        ax: a matplotlib Axes for the path; None makes a new figure.
        charges: draw the charges panels: default True for a new figure, False with ``ax``;
            or a pair of Axes ``(ax_energy, ax_momentum)`` to draw them into.
        field: ``"stream"`` (streamlines) or ``"quiver"`` (arrows).
        field_time: the time at which a time-dependent drift is drawn (default the path's
            start time).
        grid: points per axis of the drift field's grid.
        color, label: the path's colour and legend label.

    Returns:
        The matplotlib Figure (its ``axes`` are the path panel, then the charges panels).

    Raises:
        ValueError: ``coords`` outside the state or equal, an unknown ``field``, a ``grid``
            below 2, or ``charges=True`` together with ``ax=``.
        TypeError: ``coords`` not a pair of integers, ``charges`` neither a bool nor two Axes,
            or a result without ``ts`` (K,) and ``xs`` (K, n).
    """
    import matplotlib.pyplot as plt

    ts = np.asarray(result.ts, dtype=np.float64)
    xs = np.asarray(result.xs, dtype=np.float64)
    if xs.ndim != 2 or ts.shape != (xs.shape[0],):
        raise TypeError(
            f"result must have ts (K,) and xs (K, n); got shapes {ts.shape} and {xs.shape}"
        )
    n = xs.shape[1]
    i, j = _check_coords(coords, n)
    if field not in FIELD_KINDS:
        raise ValueError(f"field must be one of {FIELD_KINDS}; got {field!r}")
    if int(grid) < 2:
        raise ValueError(f"grid must be an integer >= 2; got {grid!r}")
    if charges is None:
        charges = ax is None
    ax_e = ax_p = None
    if charges is not True and charges is not False:
        try:
            ax_e, ax_p = charges
        except (TypeError, ValueError):
            raise TypeError(
                f"charges must be True, False or a pair of Axes; got {charges!r}"
            ) from None
    elif charges and ax is not None:
        raise ValueError(
            "charges=True with ax= needs axes for the charges: pass "
            "charges=(ax_energy, ax_momentum), or charges=False"
        )
    if ax is None and charges is True:
        fig = plt.figure(figsize=(10.0, 4.2), layout="constrained")
        gs = fig.add_gridspec(2, 2, width_ratios=[1.15, 1])
        ax = fig.add_subplot(gs[:, 0])
        ax_e = fig.add_subplot(gs[0, 1])
        ax_p = fig.add_subplot(gs[1, 1], sharex=ax_e)
    elif ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 4.2), layout="constrained")
    else:
        fig = ax.figure

    t_field = float(ts[0]) if field_time is None else float(field_time)
    if n == 1:
        if sde is not None:
            _draw_field_1d(ax, sde, args, ts, xs, field, int(grid))
        ax.plot(ts, xs[:, 0], color=color, lw=2.0, label=label, zorder=3)
        start, end = (ts[0], xs[0, 0]), (ts[-1], xs[-1, 0])
        ax.set(xlabel="$t$", ylabel="$x$")
    else:
        if sde is not None:
            _draw_field(ax, sde, args, t_field, xs, (i, j), field, int(grid))
        ax.plot(xs[:, i], xs[:, j], color=color, lw=2.0, label=label, zorder=3)
        start, end = (xs[0, i], xs[0, j]), (xs[-1, i], xs[-1, j])
        ax.set(xlabel=f"$x_{{{i + 1}}}$", ylabel=f"$x_{{{j + 1}}}$")
    seen = {line.get_label() for line in ax.get_lines()}  # several paths on one axes: one entry
    ax.plot(*start, "o", color="k", mfc="w", mew=1.5, ms=7, zorder=5, label="start")
    ax.plot(*end, "^", color="k", ms=7, zorder=5, label="end")
    for line in ax.get_lines()[-2:]:
        if line.get_label() in seen:
            line.set_label("_nolegend_")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    if ax_e is not None:
        _draw_charges(ax_e, ax_p, result, ts, (i, j), color, label)
    return fig
