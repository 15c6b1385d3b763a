"""Command line: ``noisynoether energy MODEL``: the E-T-S curves and the paths at several energies.

Solves ``path_with_energy`` for a range of energies E (largest first, each warm-started from
the previous), prints a table of E, T(E), W(E), S = W - E T and the check dW/dE = T, and draws
T(E), S*(T) and the paths on the drift's landscape (the picture of the paper's Fig. 1c for a
continuum of E; Sec. 4.1: high E is fast and direct, E -> 0 slow and through attractors and
saddles) into ``--out`` (PNG) with a ``summary.json``. ``add_parser`` adds the subcommand to an
argparse subparsers object; ``run`` executes it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

MODELS = ("double-well", "multistable", "ou")

_SETUPS = {
    "double-well": dict(x0=[-1.0], x1=[1.0], energies=[3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 1e-3, 0.0]),
    "multistable": dict(
        x0=[3.25, 0.35], x1=[0.35, 3.25], energies=[30.0, 10.0, 3.0, 1.0, 0.3, 0.0]
    ),
    "ou": dict(x0=[0.0, 0.0], x1=[-0.7, 1.2], energies=[10.0, 3.0, 1.0, 0.3, 0.1, 0.0]),
}

_MODEL_HELP = (
    "double-well: f = x - x^3, D = 0.05, from -1 to 1; "
    "multistable: the attractor network of Eq. 20 (Fig. 1c), from (3.25, 0.35) to (0.35, 3.25); "
    "ou: a non-normal 2-D Ornstein-Uhlenbeck process with correlated noise, from 0 to (-0.7, 1.2)"
)


def _model(name: str):
    from . import models

    if name == "double-well":
        return models.double_well(0.05)
    if name == "multistable":
        return models.multistable()
    return models.ornstein_uhlenbeck([[-1.0, 3.0], [0.0, -2.0]], [[0.5, 0.2], [0.2, 0.3]])


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``energy`` subcommand to an argparse subparsers object; return its parser."""
    p = subparsers.add_parser(
        "energy",
        help="most likely paths at fixed energy: the E-T-S curves and the paths on the landscape",
        description="Solve the most likely path at each of several energies E (Eq. 10) from the "
        "geometric action (path_with_energy), print T(E), W(E), S = W - E T and the check "
        "dW/dE = T, and draw T(E), S*(T) and the paths on the landscape into --out (PNG).",
    )
    p.add_argument("model", choices=MODELS, metavar="MODEL", help=f"one of: {_MODEL_HELP}")
    p.add_argument(
        "--energies",
        type=float,
        nargs="+",
        default=None,
        help="energies to solve (default: a log-spaced set per model, ending at E = 0)",
    )
    p.add_argument("--num-points", type=int, default=401, help="nodes per path (default 401)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results/energy"),
        help="output folder (default: results/energy/)",
    )
    return p


def _plot(name, sde, curve, path_png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True)
    curve.plot(axes=ax[:2])
    cmap = plt.get_cmap("viridis")
    n = len(curve.paths)
    for i, res in enumerate(curve.paths):
        lab = f"E = {res.energy:g}" + ("" if res.converged else " (not converged)")
        color = cmap(i / max(n - 1, 1))
        if res.xs.shape[1] == 1:
            t = res.ts if np.isfinite(res.duration) else res.ts
            ax[2].plot(t - t[0], res.xs[:, 0], color=color, label=lab)
        else:
            ax[2].plot(res.xs[:, 0], res.xs[:, 1], color=color, label=lab)
    if curve.paths[0].xs.shape[1] == 2:
        allx = np.concatenate([r.xs for r in curve.paths])
        lo, hi = allx.min(0), allx.max(0)
        pad = 0.15 * (hi - lo) + 0.1
        gx, gy = np.meshgrid(
            np.linspace(lo[0] - pad[0], hi[0] + pad[0], 25),
            np.linspace(lo[1] - pad[1], hi[1] + pad[1], 25),
        )
        import jax
        import jax.numpy as jnp

        pts = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], 1))
        f = np.asarray(jax.vmap(lambda x: sde.f(0.0, x, None))(pts))
        ax[2].streamplot(
            gx,
            gy,
            f[:, 0].reshape(gx.shape),
            f[:, 1].reshape(gx.shape),
            color="0.75",
            density=1.0,
            linewidth=0.6,
        )
        ax[2].set(xlabel="x1", ylabel="x2", title=f"{name}: paths at fixed E on the drift")
    else:
        ax[2].set(
            xlabel="time along the path (E = 0: regularised)",
            ylabel="x",
            title=f"{name}: x(t) at fixed E",
        )
    ax[2].legend(fontsize=7)
    fig.savefig(path_png, dpi=130)
    plt.close(fig)


def run(args) -> int:
    """Execute ``noisynoether energy``; returns the exit status.

    0 when every path was computed (a path that did not meet the tolerance is reported in the
    table, the JSON and the figure, with a warning); 1 when a solve failed (non-finite path).
    """
    from rich.console import Console
    from rich.table import Table

    from .transitions import duration_vs_energy

    console = Console(width=max(Console().width, 120))
    setup = _SETUPS[args.model]
    energies = args.energies if args.energies is not None else setup["energies"]
    sde = _model(args.model)
    t = time.perf_counter()
    console.print(f"[bold]energy {args.model}[/]: solving {len(energies)} energies...")
    curve = duration_vs_energy(sde, setup["x0"], setup["x1"], energies, num_points=args.num_points)
    table = Table(
        title=f"Most likely paths at fixed energy: {args.model}, {setup['x0']} -> {setup['x1']}"
    )
    for col in ("E", "T(E)", "W(E)", "S = W - E T", "dW/dE - T", "converged", "iterations"):
        table.add_column(col, justify="right")
    for i, res in enumerate(curve.paths):
        table.add_row(
            f"{res.energy:.4g}",
            f"{res.duration:.8g}",
            f"{res.geometric_action:.10g}",
            f"{res.action:.10g}",
            ""
            if not np.isfinite(curve.identity_residual[i])
            else f"{curve.identity_residual[i]:.1e}",
            "yes" if curve.converged[i] else "[red]no[/]",
            str(res.iterations),
        )
    console.print(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / f"energy_{args.model}.png"
    _plot(args.model, sde, curve, png)
    summary = dict(
        model=args.model,
        x0=setup["x0"],
        x1=setup["x1"],
        num_points=args.num_points,
        rows=[
            dict(
                energy=float(r.energy),
                duration=None if not np.isfinite(r.duration) else float(r.duration),
                geometric_action=float(r.geometric_action),
                action=float(r.action),
                converged=bool(c),
                message=r.message,
            )
            for r, c in zip(curve.paths, curve.converged, strict=True)
        ],
        identity_error=None if not np.isfinite(curve.identity_error) else curve.identity_error,
    )
    (out / f"energy_{args.model}.json").write_text(json.dumps(summary, indent=2))
    console.print(
        f"wrote {png} and {out / f'energy_{args.model}.json'} ({time.perf_counter() - t:.1f} s)"
    )
    bad = [float(e) for e, c in zip(curve.energies, curve.converged, strict=True) if not c]
    if bad:
        console.print(
            f"[yellow]warning[/]: not converged to tolerance at E = {bad} (see the messages in "
            "the JSON; on steep models the E = 0 string iteration stalls with W steady to about "
            "1e-7); they are drawn and marked '(not converged)'"
        )
    finite = all(np.all(np.isfinite(r.xs)) for r in curve.paths)
    return 0 if finite else 1
