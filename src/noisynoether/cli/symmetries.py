"""``noisynoether symmetries MODEL``: the symmetries of a built-in model.

Prints the continuous symmetries found on a sample of states (kind, name, residual, defect) and
the spread of each one's charge along a most likely path of the model (the registry's default
end points, ``models._registry``), then the discrete symmetries (signed permutations).
``add_parser`` adds the subcommand to an argparse subparsers object; ``run`` executes it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ..models._registry import MODELS
from ._args import fraction, int_at_least


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``symmetries`` subcommand to an argparse subparsers object; return its parser."""
    p = subparsers.add_parser(
        "symmetries",
        help="find the symmetries of a built-in model and the charges they conserve",
        description="Find the affine symmetries xi(x) = A x + b of a built-in model on a sample "
        "of states (find_symmetries), time translation if it is autonomous, and its discrete "
        "symmetries (find_discrete_symmetries); solve one most likely path and print the "
        "spread of each symmetry's charge along it (Noether: about 0 for a symmetry).",
    )
    help_models = "; ".join(f"{m.name}: {m.description}" for m in MODELS.values())
    p.add_argument("model", choices=list(MODELS), metavar="MODEL", help=f"one of: {help_models}")
    p.add_argument(
        "--tol",
        type=fraction,
        default=1e-8,
        help="relative singular value below which a symmetry counts, in (0, 1) (default 1e-8)",
    )
    p.add_argument(
        "--points",
        type=int_at_least(2),
        default=60,
        help="number of sample states, at least 2 (seeded; default 60)",
    )
    p.set_defaults(_run=run, _parser=p)
    return p


def _samples(name: str, num_points: int):
    """(states, times) on which the symmetries are sought: around the model's region of interest."""
    rng = np.random.default_rng(0)
    if name in ("ou", "ou-nonnormal"):
        return rng.normal(scale=2.0, size=(num_points, 2)), None
    if name == "drift-diffusion":
        return np.linspace(-1.5, 1.5, num_points)[:, None], None
    if name == "double-well":
        return np.linspace(-2.0, 2.0, num_points)[:, None], None
    if name == "multistable":
        return rng.uniform(-0.5, 4.0, size=(num_points, 2)), None
    if name == "ring":
        from ..models import RING_T_MAX, diffusion_time_to_tau

        # Times in tau across the reverse process: diffusion times t_max, 10, 3, 1, 10^-0.4.
        times = diffusion_time_to_tau(np.array([RING_T_MAX, 10.0, 3.0, 1.0, 0.4]))
        r = 12.0 * np.sqrt(rng.uniform(size=num_points))
        ang = rng.uniform(0, 2 * np.pi, size=num_points)
        return np.stack([r * np.cos(ang), r * np.sin(ang)], axis=1), times
    raise ValueError(f"MODEL must be one of {', '.join(MODELS)}; got {name!r}")


def _symmetry_table(title, syms, sde, points, times, res):
    from rich.table import Table

    from ..symmetry import charge_balance, symmetry_defect

    table = Table(title=title)
    for h in ("kind", "name", "residual", "defect", "Q mean", "Q spread", "exact Q spread"):
        table.add_column(h, justify="left" if h in ("kind", "name") else "right")
    for sym in syms:
        defect = symmetry_defect(sde, sym, points, times=times)
        q = sym.charge(res.ts, res.xs)
        bal = charge_balance(sde, res.ts, res.xs, sym)
        table.add_row(
            sym.kind,
            sym.name,
            f"{sym.residual:.1e}",
            f"{defect:.1e}",
            f"{np.mean(q):.6g}",
            f"{np.ptp(q):.1e}",
            f"{np.ptp(bal.charge):.1e}",
        )
    return table


def _discrete_table(title, discrete):
    from rich.table import Table

    dtable = Table(title=title)
    for h in ("name", "P", "residual"):
        dtable.add_column(h, justify="right" if h == "residual" else "left")
    for d in discrete:
        mat = "; ".join(" ".join(f"{int(v):d}" for v in row) for row in d.matrix)
        dtable.add_row(d.name, f"[{mat}]", f"{d.residual:.1e}")
    return dtable


def run(args) -> int:
    """Run ``noisynoether symmetries MODEL`` and print the tables; 0, or 1 if the path fails."""
    from .. import most_likely_path
    from ..symmetry import Symmetry, charge_balance, find_discrete_symmetries, find_symmetries
    from ._console import console

    con = console(120)
    start = time.perf_counter()
    model = MODELS[args.model]
    sde = model.factory()
    points, times = _samples(args.model, args.points)
    con.print(f"[bold]symmetries {args.model}[/]: searching on {points.shape[0]} states...")
    syms = find_symmetries(sde, points, times=times, tol=args.tol)
    discrete = find_discrete_symmetries(sde, points, times=times, tol=args.tol)
    ts = model.times()
    x0, x1 = np.asarray(model.x0, float), np.asarray(model.x1, float)
    con.print(f"  solving the most likely path {model.x0} -> {model.x1} on {ts.size} times...")
    res = most_likely_path(sde, x0, x1, ts[0], ts[-1], ts=ts)

    con.print(
        _symmetry_table(
            f"Continuous symmetries of {args.model}  ({points.shape[0]} states, "
            f"{'default' if times is None else len(times)} times, tol {args.tol:g})",
            syms,
            sde,
            points,
            times,
            res,
        )
    )
    con.print(syms.message)
    sv = syms.singular_values
    con.print(
        "relative singular values of the constraints (smallest 4): "
        + ", ".join(f"{v:.2g}" for v in sv[-4:][::-1])
    )
    if not syms.autonomous:
        bal = charge_balance(sde, res.ts, res.xs, Symmetry("time", None, None, "time", 0.0))
        con.print(
            f"[yellow]no energy conservation[/] (the model depends on time): along the path E "
            f"changes by {bal.leakage:.4g}, the explicit time dependence -dL/dt accounts for "
            f"{bal.source[-1]:.4g} (balance residual {bal.residual:.1e}, O(dt^2))"
        )
    if discrete:
        con.print(_discrete_table(f"Discrete symmetries of {args.model}", discrete))
        con.print(
            "each maps a most likely path x*(t) from x0 to x1 to the mirror path P x*(t) from "
            "P x0 to P x1, with the same action"
        )
    else:
        con.print("no discrete symmetry (signed permutation)")

    x0s = np.array2string(x0, precision=3, separator=", ")
    x1s = np.array2string(x1, precision=3, separator=", ")
    con.print(
        f"most likely path {x0s} -> {x1s}, t in [{ts[0]:.4g}, {ts[-1]:.4g}], K = {ts.size}: "
        f"{'converged' if res.converged else '[red]NOT converged[/]'}, "
        f"S* = {float(res.action):.8g}, {res.iterations} iterations. Q spread: max - min of "
        "p . xi(x_m) (midpoint charge, O(dt^2) for nonlinear drifts); exact Q spread: of the "
        f"discrete charge of charge_balance.  ({time.perf_counter() - start:.1f} s)"
    )
    return 0 if res.converged else 1
