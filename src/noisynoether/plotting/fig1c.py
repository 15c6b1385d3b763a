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


def plot_fig1c(data: dict, out_dir) -> list:
    with paper_style() as plt:
        from matplotlib.colors import LogNorm

        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
        ax = axes[0]
        d = data["density"]
        H = np.where(d["H"] > 0, d["H"], np.nan).T
        im = ax.pcolormesh(
            d["xedges"],
            d["yedges"],
            H,
            cmap="Greys",
            norm=LogNorm(vmin=np.nanmax(H) * 1e-4, vmax=np.nanmax(H)),
        )
        fig.colorbar(im, ax=ax, label=f"density at t = {d['t_end']:g} (from (0, 0))")
        for path in data["paths"]:
            c = COLORS.get(path["T"], "k")
            glob = path["rank"] == 0
            ax.plot(
                path["xs"][:, 0],
                path["xs"][:, 1],
                color=c,
                lw=2.2 if glob else 1.0,
                ls="-" if glob else "--",
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
        ax.plot(*data["paths"][0]["xs"][0], "k*", ms=11, zorder=6)
        ax.set(
            xlabel="$x$ (rate of population 1)",
            ylabel="$y$ (rate of population 2)",
            xlim=(-0.3, 3.8),
            ylim=(-0.3, 3.8),
            aspect="equal",
            title="most likely paths on the stationary density",
        )
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=7)
        ax = axes[1]
        for path in data["paths"]:
            if path["rank"] != 0:
                continue
            c = COLORS.get(path["T"], "k")
            ax.plot(
                path["tm"] / path["T"],
                path["energy"],
                color=c,
                lw=1.8,
                label=f"T = {path['T']:g}: mean E = {np.mean(path['energy']):.3g}",
            )
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.set(
            xlabel="$t / T$",
            ylabel="energy $E$ (Eq. 10)",
            xlim=(0, 1),
            title="E along the global minima (const. in the continuum)",
        )
        ax.legend(loc="best")
        fig.suptitle(data["title"], y=1.0)
        fig.tight_layout()
        return save(fig, out_dir, data["name"])
