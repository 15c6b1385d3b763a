"""``noisynoether energy MODEL``: the E-T-S curves and the paths at several energies.

Solves ``path_with_energy`` for a range of energies E (largest first, each warm-started from
the previous), prints a table of E, T(E), W(E), S = W - E T and the check dW/dE = T, and draws
T(E), S*(T) and the paths on the drift's landscape (``plotting.plot_energy_paths``) into
``--out`` (PNG) with a JSON summary. Only autonomous models (energy is conserved, Eq. 10).
``add_parser`` adds the subcommand to an argparse subparsers object; ``run`` executes it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ..cases._common import target_energy
from ..models._registry import MODELS, autonomous_models
from ._args import finite_float, int_at_least, output_folder

# Per model: log-spaced energies ending at E = 0 (the path through the fixed points).
DEFAULT_ENERGIES = {
    "double-well": [3.0, 1.0, 0.3, 0.1, 0.03, 0.01, 1e-3, 0.0],
    "multistable": [30.0, 10.0, 3.0, 1.0, 0.3, 0.0],
    "ou-nonnormal": [10.0, 3.0, 1.0, 0.3, 0.1, 0.0],
    "ou": [10.0, 3.0, 1.0, 0.3, 0.1, 0.0],
    "drift-diffusion": [3.0, 1.0, 0.3, 0.1, 0.0],
}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``energy`` subcommand to an argparse subparsers object; return its parser."""
    p = subparsers.add_parser(
        "energy",
        help="most likely paths at fixed energy: the E-T-S curves and the paths on the landscape",
        description="Solve the most likely path at each of several energies E (Eq. 10) from the "
        "geometric action (path_with_energy), print T(E), W(E), S = W - E T and the check "
        "dW/dE = T, and draw T(E), S*(T) and the paths on the landscape into --out (PNG). An "
        "earlier run's files in --out are kept (the new ones go to OUT/run-2/) unless --force.",
    )
    names = autonomous_models()
    help_models = "; ".join(f"{n}: {MODELS[n].description}" for n in names)
    p.add_argument("model", choices=names, metavar="MODEL", help=f"one of: {help_models}")
    p.add_argument(
        "--energies",
        type=finite_float,
        nargs="+",
        default=None,
        help="energies to solve (default: a log-spaced set per model, ending at E = 0)",
    )
    p.add_argument(
        "--num-points",
        type=int_at_least(3),
        default=401,
        help="nodes per path, at least 3 (default 401)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results/energy"),
        help="output folder (default: results/energy/)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an earlier run's files")
    p.set_defaults(_run=run, _parser=p)
    return p


def _table(title, curve):
    from rich.table import Table

    table = Table(title=title)
    for col in ("E", "T(E)", "W(E)", "S = W - E T", "dW/dE - T", "converged", "iterations"):
        table.add_column(col, justify="right")
    for i, res in enumerate(curve.paths):
        resid = curve.identity_residual[i]
        table.add_row(
            f"{target_energy(res):.4g}",
            f"{res.duration:.8g}",
            f"{res.geometric_action:.10g}",
            f"{float(res.action):.10g}",
            "" if not np.isfinite(resid) else f"{resid:.1e}",
            "yes" if curve.converged[i] else "[red]no[/]",
            str(res.iterations),
        )
    return table


def _summary(args, model, curve) -> dict:
    return dict(
        model=args.model,
        x0=list(model.x0),
        x1=list(model.x1),
        num_points=args.num_points,
        rows=[
            dict(
                energy=target_energy(r),
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


def _fixed_points(sde, curve):
    """The fixed points in the box the paths span (padded), for the figure."""
    from .. import fixed_points

    allx = np.concatenate([r.xs for r in curve.paths])
    lo, hi = allx.min(0), allx.max(0)
    pad = 0.15 * (hi - lo) + 0.1
    return fixed_points(sde, lo - pad, hi + pad)


def run(args) -> int:
    """Execute ``noisynoether energy``; returns the exit status.

    0 when every path was computed (a path that did not meet the tolerance is reported in the
    table, the JSON and the figure, with a warning); 1 when a solve failed (non-finite path).
    """
    import matplotlib

    matplotlib.use("Agg")  # files only; set before pyplot is imported by the figure

    from ..plotting import plot_energy_paths
    from ..transitions import duration_vs_energy
    from ._console import console

    name = args.model
    png_name, json_name = f"energy_{name}.png", f"energy_{name}.json"
    out = output_folder(args, [png_name, json_name])
    con = console(120)
    model = MODELS[name]
    energies = args.energies if args.energies is not None else DEFAULT_ENERGIES[name]
    sde = model.factory()
    t = time.perf_counter()
    con.print(
        f"[bold]energy {name}[/]: solving {len(energies)} energies "
        f"({', '.join(f'{e:g}' for e in sorted(energies, reverse=True))}), each with two more "
        "solves for dW/dE..."
    )
    curve = duration_vs_energy(sde, model.x0, model.x1, energies, num_points=args.num_points)
    con.print(_table(f"Most likely paths at fixed energy: {name}, {model.x0} -> {model.x1}", curve))
    con.print("  drawing the figure (with the fixed points of the drift)")
    fig = plot_energy_paths(curve, sde, name=name, fixed_points=_fixed_points(sde, curve))
    fig.savefig(out / png_name, dpi=130)
    import matplotlib.pyplot as plt

    plt.close(fig)
    (out / json_name).write_text(json.dumps(_summary(args, model, curve), indent=2))
    con.print(f"wrote {out / png_name} and {out / json_name} ({time.perf_counter() - t:.1f} s)")
    bad = [float(e) for e, c in zip(curve.energies, curve.converged, strict=True) if not c]
    if bad:
        con.print(
            f"[yellow]warning[/]: not converged to tolerance at E = {bad} (see the messages in "
            "the JSON; on steep models the E = 0 string iteration stalls with W steady to about "
            "1e-7); they are drawn and marked '(not converged)'"
        )
    finite = all(np.all(np.isfinite(r.xs)) for r in curve.paths)
    return 0 if finite else 1
