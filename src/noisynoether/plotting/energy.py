"""The ``noisynoether energy`` figure: T(E), S(T) and the paths at fixed E on the landscape.

The picture of the paper's Fig. 1c for a continuum of E (Sec. 4.1: high E is fast and direct,
E -> 0 slow and through attractors and saddles).
"""

from __future__ import annotations

import numpy as np

from ..cases._common import target_energy
from ._curves import plot_energy_duration
from ._style import paper_style

FIXED_POINT_MARKERS = {
    "stable": ("o", "k", "stable state"),
    "saddle": ("X", "tab:orange", "saddle"),
    "unstable": ("s", "tab:purple", "unstable state"),
}


def _streamlines(ax, sde, paths):
    import jax

    allx = np.concatenate([r.xs for r in paths])
    lo, hi = allx.min(0), allx.max(0)
    pad = 0.15 * (hi - lo) + 0.1
    gx, gy = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], 25),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], 25),
    )
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    f = np.asarray(jax.vmap(lambda x: sde.f(0.0, x, None))(pts))
    ax.streamplot(
        gx,
        gy,
        f[:, 0].reshape(gx.shape),
        f[:, 1].reshape(gx.shape),
        color="0.78",
        density=1.0,
        linewidth=0.6,
        zorder=0,
    )
    ax.set(xlim=(gx.min(), gx.max()), ylim=(gy.min(), gy.max()))


def _mark_fixed_points(ax, fixed_points, one_d: bool):
    shown = set()
    for fp in fixed_points:
        m, c, name = FIXED_POINT_MARKERS.get(fp.kind, ("d", "grey", fp.kind))
        label = None if name in shown else name
        shown.add(name)
        if one_d:
            ax.axhline(float(fp.x[0]), color=c, lw=0.9, ls=":", zorder=1, label=label)
        else:
            ax.plot(*fp.x[:2], m, color=c, ms=8, mec="w", zorder=5, label=label)


def plot_energy_paths(curve, sde, *, name: str, fixed_points=()):
    """Draw T(E), S(T) and the paths at each E (``noisynoether energy``); returns the figure.

    Args:
        curve: the ``EnergyDurationCurve`` of ``duration_vs_energy``.
        sde: the model (its drift is drawn under 2-D paths as streamlines).
        name: the model's name, for the titles.
        fixed_points: ``FixedPoint`` list to mark (lines in 1-D, markers in 2-D).
    """
    with paper_style() as plt:
        fig, ax = plt.subplots(
            1, 3, figsize=(15.5, 4.4), gridspec_kw={"width_ratios": [1, 1, 1.25]}
        )
        plot_energy_duration(curve, axes=ax[:2])
        ax[0].set_title(f"{name}: duration at fixed energy")
        ax[1].set_title("action against duration")
        cmap = plt.get_cmap("viridis")
        paths = curve.paths
        one_d = paths[0].xs.shape[1] == 1
        for i, res in enumerate(paths):
            E = target_energy(res)
            lab = f"E = {E:g}" + ("" if res.converged else " (not converged)")
            color = cmap(i / max(len(paths) - 1, 1))
            if one_d:
                t = res.ts - res.ts[0]
                ax[2].plot(t, res.xs[:, 0], color=color, label=lab, zorder=3)
                ax[2].plot(t[-1], res.xs[-1, 0], "^", color=color, mec="k", ms=6, zorder=4)
            else:
                ax[2].plot(res.xs[:, 0], res.xs[:, 1], color=color, label=lab, zorder=3)
        x0, x1 = paths[0].xs[0], paths[0].xs[-1]
        if one_d:
            ax[2].plot(0.0, x0[0], "o", color="w", mec="k", ms=8, zorder=6, label="start x0")
            ax[2].plot([], [], "^", color="w", mec="k", ms=6, label="end x1 (at T(E))")
            ax[2].set(
                xlabel="time along the path (E = 0: regularised, finite)",
                ylabel="$x$",
                title=f"{name}: $x(t)$ at fixed $E$",
            )
        else:
            _streamlines(ax[2], sde, paths)
            style = dict(color="k", mfc="none", mew=1.5, ms=12, zorder=6)  # fixed points show
            ax[2].plot(*x0[:2], "o", label="start x0", **style)
            ax[2].plot(*x1[:2], "^", label="end x1", **style)
            ax[2].set(
                xlabel="$x_1$", ylabel="$x_2$", title=f"{name}: paths at fixed $E$ on the drift"
            )
        _mark_fixed_points(ax[2], fixed_points, one_d)
        ax[2].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=7.5)
        fig.tight_layout()
        return fig
