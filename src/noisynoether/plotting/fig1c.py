"""Fig. 1c: the network's density, fixed points and most likely paths; E along them."""

from __future__ import annotations

import numpy as np

from ._style import paper_style, save

MARKERS = {
    "stable": ("o", "k", "stable state"),
    "saddle": ("X", "tab:orange", "saddle"),
    "unstable": ("s", "tab:purple", "unstable"),
}
COLORS = {1.0: "#d62728", 40.0: "#1f77b4"}


def _energy_panel(ax, path, color):
    """E along one global minimum on its own linear axis, the mean and spread written on it."""
    E = path["energy"]
    ax.plot(path["tm"] / path["T"], E, color=color, lw=1.6)
    ax.axhline(np.mean(E), color="k", lw=0.7, ls="--")
    ax.annotate(
        f"T = {path['T']:g}: mean E = {np.mean(E):.4g}, spread {np.ptp(E):.2g}",
        (0.02, 0.96),
        xycoords="axes fraction",
        va="top",
        color=color,
        fontsize=8,
        bbox={"fc": "w", "ec": "none", "alpha": 0.8},
    )
    lo, hi = float(np.min(E)), float(np.max(E))
    pad = 0.25 * (hi - lo) or 0.1 * max(abs(hi), 1e-12)
    ax.set(xlim=(0, 1), ylim=(lo - pad, hi + 2.2 * pad), ylabel="$E$ (Eq. 10)")


def plot_fig1c(data: dict, out_dir) -> list:
    with paper_style() as plt:
        from matplotlib.colors import LogNorm

        fig = plt.figure(figsize=(10.5, 4.6))
        gs = fig.add_gridspec(2, 2, width_ratios=[1.25, 1], hspace=0.35, wspace=0.3)
        ax = fig.add_subplot(gs[:, 0])
        d = data["density"]
        floor = d.get("floor", 0.0)
        H = np.where(d["H"] > floor, d["H"], np.nan).T
        vmax = np.nanmax(H)
        im = ax.pcolormesh(
            d["xedges"],
            d["yedges"],
            H,
            cmap="Greys",
            norm=LogNorm(vmin=max(floor, vmax * 1e-4), vmax=vmax),
            rasterized=True,
        )
        bw = f", kernel std {d['bandwidth']:g}" if "bandwidth" in d else ""
        fig.colorbar(
            im,
            ax=ax,
            label=f"density at t = {d['t_end']:g} from (0, 0) ({d['num_paths']} paths{bw})",
        )
        for path in data["paths"]:
            c = COLORS.get(path["T"], "k")
            glob = path["rank"] == 0
            ax.plot(
                path["xs"][:, 0],
                path["xs"][:, 1],
                color=c,
                lw=2.2 if glob else 1.0,
                ls="-" if glob else "--",
                zorder=4,
                label=f"T = {path['T']:g}: S* = {path['action']:.3f}"
                + (" (global)" if glob else f" ({path['label']})"),
            )
        shown = set()
        for fp in data["fixed_points"]:
            m, c, name = MARKERS.get(fp["kind"], ("d", "grey", fp["kind"]))
            ax.plot(
                *fp["x"], m, color=c, ms=7, mec="w", zorder=5, label=None if name in shown else name
            )
            shown.add(name)
        x0, x1 = data["paths"][0]["xs"][0], data["paths"][0]["xs"][-1]
        ax.plot(*x0, "*", color="gold", ms=15, mec="k", mew=1.0, zorder=7, label="start")
        ax.plot(*x1, "*", color="w", ms=15, mec="k", mew=1.0, zorder=7, label="end")
        ax.set(
            xlabel="$x$ (rate of population 1)",
            ylabel="$y$ (rate of population 2)",
            xlim=(-0.3, 3.8),
            ylim=(-0.3, 3.8),
            aspect="equal",
            title="most likely paths on the stationary density",
        )
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=7)
        glob = [p for p in data["paths"] if p["rank"] == 0]
        axes_e = [fig.add_subplot(gs[k, 1]) for k in range(len(glob[:2]))]
        for k, (axe, path) in enumerate(zip(axes_e, glob, strict=False)):
            _energy_panel(axe, path, COLORS.get(path["T"], "k"))
            if k == 0:
                axe.set_title("E along the global minima (constant in the continuum)")
        axes_e[-1].set_xlabel("$t / T$")
        fig.suptitle(data["title"], y=1.0)
        return save(fig, out_dir, data["name"])
