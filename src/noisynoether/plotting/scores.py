"""Learned scores on the ring of Fig. 2: paths of the exact, plain and equivariant scores, and L_12.

``plot_scores(data, out_dir)`` draws, from the data of ``noisynoether scores`` (a
``scores.compare_scores`` result plus the density ``p(x | t = 0)``):

- the most likely reverse-SDE paths of every model to Fig. 2's end points over the density
  (colour: the end point; line style: the model);
- L_12 along each path against diffusion time t (the discrete charge of ``charge_balance``);
- its drift ``|L_12(t) - L_12(t_start)|`` on a log scale: solver precision (about 1e-13) for the
  exact and equivariant scores, the leak of the plain network's broken symmetry.
"""

from __future__ import annotations

import numpy as np

from ._style import paper_style, plain_log_ticks, save

PHI_COLORS = ("#2ca02c", "#1f77b4", "#ff7f0e", "#d62728")
MODEL_STYLES = {"exact": "-", "plain": "--", "equivariant": ":"}
MODEL_WIDTHS = {"exact": 2.4, "plain": 1.5, "equivariant": 1.9}
FLOOR = 1e-17  # drawn in place of an exact zero on the log axis


def _phi_label(phi: float) -> str:
    return f"$\\phi = {phi / np.pi:+.2g}\\pi$" if phi else "$\\phi = 0$"


def plot_scores(data: dict, out_dir, name: str = "scores") -> list:
    """Draw the learned-score figure into ``out_dir`` (``name``.png and .pdf); returns the paths.

    ``data``: ``{"t": (K,), "phis": [...], "models": {name: {"defect", "paths": [{"xs", "L12",
    ...}]}}, "density": {"x", "y", "p"}, "radius": R}`` (what ``cli.scores`` builds).
    """
    t = np.asarray(data["t"])
    tm = 0.5 * (t[:-1] + t[1:])
    R = data["radius"]
    with paper_style() as plt:
        fig, axes = plt.subplots(1, 3, figsize=(14.0, 4.6), width_ratios=[1.15, 1.0, 1.0])
        ax = axes[0]
        d = data["density"]
        ax.pcolormesh(d["x"], d["y"], d["p"], cmap="Greys", shading="auto", alpha=0.4)
        th = np.linspace(0, 2 * np.pi, 400)
        ax.plot(R * np.cos(th), R * np.sin(th), color="0.5", lw=0.8, ls=":")
        for name_m, entry in data["models"].items():
            style = MODEL_STYLES.get(name_m, "-.")
            width = MODEL_WIDTHS.get(name_m, 1.5)
            for i, path in enumerate(entry["paths"]):
                xs = path["xs"]
                color = PHI_COLORS[i % len(PHI_COLORS)]
                ax.plot(xs[:, 0], xs[:, 1], style, color=color, lw=width)
                drift = np.abs(path["L12"] - path["L12"][0])
                axes[1].plot(tm, path["L12"], style, color=color, lw=width)
                axes[2].plot(tm, np.maximum(drift, FLOOR), style, color=color, lw=width)
        ax.plot(0.0, 2 * R, "ko", ms=6)
        for i, phi in enumerate(data["phis"]):
            ax.plot([], [], color=PHI_COLORS[i % len(PHI_COLORS)], lw=2, label=_phi_label(phi))
        for name_m, entry in data["models"].items():
            label = f"{name_m} (defect {entry['defect']:.1e})"
            ax.plot([], [], MODEL_STYLES.get(name_m, "-."), color="k", lw=1.5, label=label)
        ax.set(xlabel="$x_1$", ylabel="$x_2$", aspect="equal", xlim=(-7.5, 7.5), ylim=(-7, 11))
        ax.set_title("most likely reverse-SDE paths over $p(x \\mid t = 0)$")
        ax.legend(loc="upper left", fontsize=6.5, frameon=False)
        for a in axes[1:]:
            a.set_xscale("log")
            a.invert_xaxis()
            a.set_xlabel("diffusion time $t$ (runs right: $10^{1.5} \\to 10^{-0.4}$)")
            plain_log_ticks(a.xaxis)
        axes[1].set_ylabel("$L_{12}$ (in $\\tau = T - t$)")
        axes[1].set_title("angular momentum along each path")
        axes[2].set_yscale("log")
        axes[2].set_ylabel("$|L_{12}(t) - L_{12}(T)|$")
        axes[2].set_title("its drift: solver precision, or the broken symmetry's leak")
        fig.suptitle(data.get("title", "Learned scores on the ring of Fig. 2"), fontsize=9)
        fig.tight_layout()
        return save(fig, out_dir, name)
