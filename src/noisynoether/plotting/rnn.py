"""The worked RNN example's figure (``noisynoether rnn``), from ``cases.rnn_analysis.run``'s data.

Panels: (a) the training loss; (b) the transition paths A -> B at each duration and in infinite
time, projected on the choice axis (B - A) and the trial states' main direction across it, with
the fixed points; (c) S*(T) against T with the barrier S*(inf); (d) the energy (Eq. 10) along
each path against t / T: constant without input, moved by the input pulse; (e) escape rates:
Monte Carlo (when run) against the Arrhenius factor exp(-S*(inf)) in 1/D.
"""

from __future__ import annotations

import numpy as np

from ._style import paper_style, save


def _plane(data):
    a, b = data["A"].x, data["B"].x
    e1 = (b - a) / np.linalg.norm(b - a)
    xs = np.concatenate([np.asarray(r.xs) for r in data["paths"].values()])
    xs = xs - xs.mean(0)
    xs = xs - np.outer(xs @ e1, e1)
    e2 = np.linalg.svd(xs, full_matrices=False)[2][0]
    return lambda x: np.stack([(np.asarray(x) - a) @ e1, (np.asarray(x) - a) @ e2], -1)


def plot_rnn(data, out_dir, name: str = "rnn") -> list:
    """Draw the figure into ``out_dir`` (``name``.png and .pdf); returns the file paths."""
    with paper_style() as plt:
        fig, ax = plt.subplots(1, 5, figsize=(17, 3.4))
        ax[0].semilogy(data["network"]["losses"])
        ax[0].set(
            xlabel="Adam step",
            ylabel="training loss",
            title=f"(a) training, accuracy {data['network']['accuracy']:.2f}",
        )
        proj = _plane(data)
        cmap = plt.get_cmap("viridis")
        finite = [k for k in data["paths"] if k.startswith("T=")]
        for i, k in enumerate(finite):
            p = proj(data["paths"][k].xs)
            ax[1].plot(p[:, 0], p[:, 1], color=cmap(i / max(1, len(finite))), label=k)
        for k, style in (("uphill", "r-"), ("downhill", "r--")):
            p = proj(data["paths"][k].xs)
            ax[1].plot(
                p[:, 0], p[:, 1], style, lw=1.5, label="E = 0 (T = inf)" if k == "uphill" else None
            )
        p = proj(data["paths"]["driven"].xs)
        ax[1].plot(p[:, 0], p[:, 1], "k:", label="with input pulse")
        for fp in data["fixed_points"]:
            q = proj(fp.x)
            ax[1].plot(*q, "o" if fp.kind == "stable" else "x", color="k", ms=6)
        ax[1].set(xlabel="along B - A", ylabel="across", title="(b) changes of mind A -> B")
        ax[1].legend(frameon=False, fontsize=6)
        Ts = [data["paths"][k].ts[-1] - data["paths"][k].ts[0] for k in finite]
        ax[2].loglog(Ts, [float(data["paths"][k].action) for k in finite], "o-", label="S*(T)")
        ax[2].axhline(data["barrier"], color="r", ls="--", label="S*(inf) (E = 0)")
        ax[2].set(xlabel="duration T", ylabel="action", title="(c) S*(T) -> S*(inf)")
        ax[2].legend(frameon=False)
        for i, k in enumerate(finite):
            r = data["paths"][k]
            tm = 0.5 * (r.ts[1:] + r.ts[:-1])
            ax[3].semilogy(
                tm / r.ts[-1],
                np.abs(np.asarray(r.energy)) + 1e-16,
                color=cmap(i / max(1, len(finite))),
                label=k,
            )
        r = data["paths"]["driven"]
        tm = 0.5 * (r.ts[1:] + r.ts[:-1])
        ax[3].semilogy(
            tm / r.ts[-1], np.abs(np.asarray(r.energy)) + 1e-16, "k:", label="with input pulse"
        )
        ax[3].set(xlabel="t / T", ylabel="|E| (Eq. 10)", title="(d) energy along the paths")
        ax[3].legend(frameon=False, fontsize=6)
        rows = data["escape"]["rows"]
        inv = np.array([1 / row["D"] for row in rows])
        ax[4].semilogy(
            inv, [row["arrhenius"] for row in rows], "r--", label="exp(-S*(inf)) (no prefactor)"
        )
        mc = [row for row in rows if row["mc_rate"]]
        if mc:
            ax[4].semilogy(
                [1 / row["D"] for row in mc],
                [row["mc_rate"] for row in mc],
                "ko",
                label="Monte Carlo rate",
            )
        ax[4].set(xlabel="1 / D", ylabel="escape A -> B", title="(e) escape rates")
        ax[4].legend(frameon=False, fontsize=6)
        fig.tight_layout()
        paths = save(fig, out_dir, name)
        plt.close(fig)
    return paths
