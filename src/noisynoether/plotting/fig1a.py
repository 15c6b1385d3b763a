"""Fig. 1a: conditioned drift-diffusion paths against the most likely path, and p along it."""

from __future__ import annotations

from ._style import paper_style, save

BLUE, ENS = "#1f77b4", "#d62728"


def plot_fig1a(data: dict, out_dir) -> list:
    path = data["paths"][0]
    ens = path["ensemble"]
    with paper_style() as plt:
        fig, axes = plt.subplots(1, 2, figsize=(8.6, 3.9), gridspec_kw={"width_ratios": [2.2, 1]})
        ax = axes[0]
        ts = ens["ts"]
        for i, x in enumerate(ens["raw"]):
            ax.plot(
                ts,
                x,
                color="0.6",
                lw=0.4,
                alpha=0.35,
                zorder=1,
                label=f"kept paths ({len(ens['raw'])} of {ens['count']} shown)" if i == 0 else None,
            )
        ax.fill_between(
            ts,
            ens["mean"] - ens["std"],
            ens["mean"] + ens["std"],
            color=ENS,
            alpha=0.15,
            lw=0,
            zorder=2,
            label="ensemble mean $\\pm$ std",
        )
        ax.plot(ts, ens["mean"], color=ENS, lw=1.8, zorder=3, label="ensemble mean")
        ax.plot(
            ts, ens["median"], color="#7f0000", lw=1.1, ls="--", zorder=3, label="ensemble median"
        )
        ax.plot(
            path["ts"], path["xs"], color=BLUE, lw=2.2, zorder=4, label="most likely path (Eq. 19)"
        )
        lo, hi = ens["bounds"]
        for b in (lo, hi):
            ax.axhline(b, color="k", lw=0.9, ls="--", zorder=0)
        ax.plot(path["ts"][0], path["xs"][0], "ko", ms=4, zorder=5)
        ax.set(
            xlabel="$t$",
            ylabel="$x$",
            xlim=(ts[0], ts[-1]),
            ylim=(lo - 0.12, hi + 0.12),
            title=(
                f"{ens['count']} of {ens['num_paths']} paths absorbed at $x = {lo:g}$ "
                f"with $t_{{hit}} \\in [{ens['hit_window'][0]:g}, {ens['hit_window'][1]:g}]$"
            ),
        )
        leg = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
        for h in leg.legend_handles[:1]:  # the raw paths' handle: visible in the legend
            h.set_alpha(1.0)
            h.set_linewidth(1.0)

        ax = axes[1]
        ax.plot(path["tm"], path["p"], color=BLUE, lw=2.2, label="most likely path")
        ax.axhline(path["p_exact"], color="k", lw=0.8, ls="--", label="Eq. 19")
        row = data["summary"][0]["charges"]["p"]
        ax.annotate(
            f"{row['mean']:.6g} (spread {row['spread']:.1e})",
            (0.5 * (path["tm"][0] + path["tm"][-1]), row["mean"]),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            color=BLUE,
            fontsize=8,
        )
        p0 = path["p_exact"]
        ax.set(
            xlabel="$t$",
            ylabel="momentum $p$ (Eq. 15)",
            xlim=(path["ts"][0], path["ts"][-1]),
            ylim=(p0 - 0.5, p0 + 0.5),
            title="$p$ is conserved (translation)",
        )
        ax.legend(loc="lower right")
        fig.suptitle(data["title"], y=1.02)
        fig.tight_layout()
        return save(fig, out_dir, data["name"])
