"""Fig. 1b: OU paths on the steady-state density, and E and L_12 along them."""

from __future__ import annotations

from ._style import paper_style, save

COLORS = {1.0: "#d62728", 10.0: "#1f77b4"}


def plot_fig1b(data: dict, out_dir) -> list:
    with paper_style() as plt:
        fig, axes = plt.subplots(
            1, 3, figsize=(10.5, 3.3), gridspec_kw={"width_ratios": [1.15, 1, 1]}
        )
        ax = axes[0]
        d = data["density"]
        im = ax.pcolormesh(d["x"], d["y"], d["p"], cmap="Greys", shading="auto")
        fig.colorbar(im, ax=ax, label="$p_\\infty(x)$")
        for path in data["paths"]:
            c = COLORS.get(path["T"], "k")
            ax.plot(path["xs"][:, 0], path["xs"][:, 1], color=c, lw=2, label=f"$T = {path['T']:g}$")
            ax.plot(path["xs_exact"][:, 0], path["xs_exact"][:, 1], color="w", lw=0.8, ls="--")
        ax.plot(*path["xs"][0], "ko", ms=4)
        ax.plot(*path["xs"][-1], "k^", ms=5)
        ax.plot(0, 0, "k+", ms=8)
        ax.plot([], [], color="0.5", lw=0.8, ls="--", label="closed form")
        ax.set(
            xlabel="$x_1$",
            ylabel="$x_2$",
            aspect="equal",
            xlim=(-3, 3),
            ylim=(-3, 3),
            title="most likely paths $(-2, 2) \\to (2, 2)$",
        )
        ax.legend(loc="lower left", frameon=True)
        for ax, key, label in (
            (axes[1], "energy", "energy $E$ (Eq. 10)"),
            (axes[2], "L12", "angular momentum $L_{12}$ (Eq. 17)"),
        ):
            for path, row in zip(data["paths"], data["summary"], strict=True):
                c = COLORS.get(path["T"], "k")
                ax.plot(
                    path["tm"] / path["T"], path[key], color=c, lw=2.5, label=f"$T = {path['T']:g}$"
                )
                exact = row["exact"]["E" if key == "energy" else "L12"]
                ax.axhline(exact, color="k", lw=0.8, ls="--")
                stats = row["energy"] if key == "energy" else row["charges"]["L12"]
                ax.annotate(
                    f"{stats['mean']:.4g} (spread {stats['spread']:.1e})",
                    (0.5, stats["mean"]),
                    textcoords="offset points",
                    xytext=(0, 6),
                    ha="center",
                    color=c,
                    fontsize=8,
                )
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo - 0.15 * (hi - lo), hi + 0.15 * (hi - lo))
            ax.set(xlabel="$t / T$", ylabel=label, xlim=(0, 1))
            ax.plot([], [], color="k", lw=0.8, ls="--", label="closed form")
            ax.legend(loc="center right")
        axes[1].set_title("energy is conserved (time translation)")
        axes[2].set_title("$L_{12}$ is conserved (rotation)")
        fig.suptitle(data["title"], y=1.02)
        fig.tight_layout()
        return save(fig, out_dir, data["name"])
