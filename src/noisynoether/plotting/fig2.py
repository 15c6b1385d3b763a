"""Fig. 2: the noised ring densities, and the most likely reverse-SDE paths with their L_12."""

from __future__ import annotations

import numpy as np

from ._style import paper_style, save

# Green (lowest |L_12|) to red (highest), as in the paper's caption.
RANK_COLORS = ("#2ca02c", "#bcbd22", "#ff7f0e", "#d62728")
PHI_TEX = {"pi/4": "\\pi/4", "0": "0", "-pi/4": "-\\pi/4", "-pi/2": "-\\pi/2"}
# Where each path passes the density panels' times t > 0: marker and its name in the titles.
TIME_MARKERS = ("s", "D", "v")
MARKER_NAMES = {"s": "squares", "D": "diamonds", "v": "triangles"}


def _state_at(ts, xs, t):
    """The path's state at diffusion time t (ts decreasing), by linear interpolation."""
    return np.array([np.interp(t, ts[::-1], xs[::-1, k]) for k in range(xs.shape[1])])


def plot_fig2(data: dict, out_dir) -> list:
    ring = data["ring"]
    R = ring["radius"]
    with paper_style() as plt:
        fig = plt.figure(figsize=(11.0, 6.4))
        gs = fig.add_gridspec(3, 2, width_ratios=[1.0, 2.3], wspace=0.32, hspace=0.45)
        t_start, t_end = ring["t_start"], ring["t_end"]
        marked = [d["t"] for d in data["densities"] if t_end < d["t"] < t_start]
        for i, d in enumerate(data["densities"]):
            ax = fig.add_subplot(gs[i, 0])
            im = ax.pcolormesh(
                d["x"], d["y"], d["p"], cmap="viridis", shading="auto", rasterized=True
            )
            cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, format="%.3f")
            cb.ax.tick_params(labelsize=7)
            ax.set_aspect("equal")
            mark = ""
            if d["t"] in marked:
                mark = f" ({MARKER_NAMES[TIME_MARKERS[marked.index(d['t'])]]} on the paths)"
            ax.set_title(f"$p(x \\mid t)$ at diffusion time $t = {d['t']:g}${mark}", fontsize=8)
            ax.set_ylabel("$x_2$")
            ax.tick_params(labelsize=7)
            if i == len(data["densities"]) - 1:
                ax.set_xlabel("$x_1$")

        ax = fig.add_subplot(gs[:, 1])
        d0 = data["densities"][0]
        ax.pcolormesh(
            d0["x"], d0["y"], d0["p"], cmap="Greys", shading="auto", alpha=0.35, rasterized=True
        )
        th = np.linspace(0, 2 * np.pi, 400)
        ax.plot(R * np.cos(th), R * np.sin(th), color="0.45", lw=0.8, ls=":")
        absL = np.array([abs(row["charges"]["L12"]["mean"]) for row in data["summary"]])
        rank = np.argsort(np.argsort(absL))
        for path, row, rk in zip(data["paths"], data["summary"], rank, strict=True):
            L = round(row["charges"]["L12"]["mean"], 6) + 0.0  # no "-0.0000"
            label = f"$\\phi = {PHI_TEX.get(path['label'], path['label'])}$: $L_{{12}} = {L:+.4f}$"
            xs = path["xs"]
            ax.plot(xs[:, 0], xs[:, 1], color=RANK_COLORS[rk], lw=2.2, label=label)
            ax.plot(*xs[-1], "o", color=RANK_COLORS[rk], ms=5, mec="k", mew=0.5)
            for t, m in zip(marked, TIME_MARKERS, strict=False):
                ax.plot(*_state_at(path["ts"], xs, t), m, color="w", mec="k", ms=5, zorder=6)
        pf = data["pfode"]["xs"]
        r_end = data["pfode"]["final_radius"]
        ax.plot(pf[:, 0], pf[:, 1], color="w", lw=3.2, zorder=4)
        ax.plot(
            pf[:, 0], pf[:, 1], "k--", lw=1.6, zorder=4, label=f"PF-ODE (ends at $r = {r_end:.2f}$)"
        )
        ax.plot(*pf[-1], "kD", ms=5, zorder=5)
        ax.plot(*ring["x0"], "ko", ms=7, zorder=5)
        ax.set(
            xlabel="$x_1$",
            ylabel="$x_2$",
            aspect="equal",
            xlim=(-7.0, 8.0),
            ylim=(-7.0, 11.0),
        )
        for t, m in zip(marked, TIME_MARKERS, strict=False):
            ax.plot([], [], m, color="w", mec="k", ms=5, label=f"$t = {t:g}$ on each path")
        ax.set_title(
            f"most likely reverse-SDE paths, diffusion time $t = 10^{{1.5}} \\approx {t_start:.1f}"
            f" \\to 10^{{-0.4}} \\approx {t_end:.2f}$\n"
            "green: lowest $|L_{12}|$, red: highest ($L_{12}$ in $\\tau = T - t$;"
            " the paper's $t$: $-L_{12}$)"
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=7.5)
        fig.suptitle(data["title"], y=0.995, fontsize=9)
        return save(fig, out_dir, data["name"])
