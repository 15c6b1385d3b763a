"""Command line: ``noisynoether symmetries MODEL``: the symmetries of a built-in model.

Prints the continuous symmetries found on a sample of states (kind, name, residual, defect) and
the spread of each one's charge along a most likely path of the model, then the discrete
symmetries (signed permutations). ``add_parser`` adds the subcommand to an argparse
subparsers object; ``run`` executes it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

MODELS = ("ou", "drift-diffusion", "double-well", "multistable", "ring")

_MODEL_HELP = (
    "ou: 2-D isotropic Ornstein-Uhlenbeck (f = -x, D = 1; Fig. 1b); "
    "drift-diffusion: 1-D, v = 0.1, sigma = 1 (Fig. 1a); "
    "double-well: f = x - x^3, D = 0.05; "
    "multistable: the attractor network of Eq. 20 (Fig. 1c); "
    "ring: reverse diffusion on a blurred ring, in tau = t_max - t (Eq. 21, Fig. 2)"
)


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
    p.add_argument("model", choices=MODELS, metavar="MODEL", help=f"one of: {_MODEL_HELP}")
    p.add_argument(
        "--tol",
        type=float,
        default=1e-8,
        help="relative singular value below which a symmetry counts (default 1e-8)",
    )
    p.add_argument(
        "--points",
        type=int,
        default=60,
        help="number of sample states (seeded; default 60)",
    )
    return p


def _setup(name: str, num_points: int) -> dict:
    """The model, sample states and times, and the most likely path to solve."""
    from . import models

    rng = np.random.default_rng(0)
    if name == "ou":
        return dict(
            sde=models.ornstein_uhlenbeck(-np.eye(2), 1.0),
            points=rng.normal(scale=2.0, size=(num_points, 2)),
            times=None,
            path=dict(x0=[-2.0, 2.0], x1=[2.0, 2.0], t0=0.0, t1=1.0, num_points=1001),
        )
    if name == "drift-diffusion":
        return dict(
            sde=models.drift_diffusion(0.1, 1.0),
            points=np.linspace(-1.5, 1.5, num_points)[:, None],
            times=None,
            path=dict(x0=[0.5], x1=[-1.0], t0=0.0, t1=1.0, num_points=1001),
        )
    if name == "double-well":
        return dict(
            sde=models.double_well(),
            points=np.linspace(-2.0, 2.0, num_points)[:, None],
            times=None,
            path=dict(x0=[-1.0], x1=[1.0], t0=0.0, t1=10.0, num_points=1001),
        )
    if name == "multistable":
        return dict(
            sde=models.multistable(),
            points=rng.uniform(-0.5, 4.0, size=(num_points, 2)),
            times=None,
            path=dict(x0=[3.0, 0.1], x1=[0.1, 3.0], t0=0.0, t1=1.0, num_points=1001),
        )
    if name == "ring":
        from .cases.fig2 import PHIS, X0, R, time_grid

        _, tau = time_grid(401)
        # Times in tau across the reverse process: diffusion times t_max, 10, 3, 1, 10^-0.4.
        times = models.diffusion_time_to_tau(np.array([models.RING_T_MAX, 10.0, 3.0, 1.0, 0.4]))
        phi = PHIS[0]
        r = 12.0 * np.sqrt(rng.uniform(size=num_points))
        ang = rng.uniform(0, 2 * np.pi, size=num_points)
        return dict(
            sde=models.ring_reverse_diffusion(),
            points=np.stack([r * np.cos(ang), r * np.sin(ang)], axis=1),
            times=times,
            path=dict(
                x0=X0,
                x1=R * np.array([np.cos(phi), np.sin(phi)]),
                t0=tau[0],
                t1=tau[-1],
                ts=tau,
            ),
        )
    raise ValueError(f"MODEL must be one of {', '.join(MODELS)}; got {name!r}")


def _fmt(v) -> str:
    return f"{v:.3g}" if v is not None else "-"


def run(args) -> int:
    """Run ``noisynoether symmetries MODEL`` and print the tables; 0, or 1 if the path fails."""
    from rich.console import Console
    from rich.table import Table

    from . import most_likely_path
    from .symmetry import (
        Symmetry,
        charge_balance,
        find_discrete_symmetries,
        find_symmetries,
        symmetry_defect,
    )

    if args.points < 2:
        raise SystemExit(f"noisynoether symmetries: --points must be at least 2; got {args.points}")
    console = Console(width=max(Console().width, 120))
    start = time.perf_counter()
    s = _setup(args.model, args.points)
    sde, points, times = s["sde"], s["points"], s["times"]
    syms = find_symmetries(sde, points, times=times, tol=args.tol)
    discrete = find_discrete_symmetries(sde, points, times=times, tol=args.tol)
    pk = dict(s["path"])
    x0, x1, t0, t1 = pk.pop("x0"), pk.pop("x1"), pk.pop("t0"), pk.pop("t1")
    res = most_likely_path(sde, x0, x1, t0, t1, **pk)

    x0s = np.array2string(np.asarray(x0, float), precision=3, separator=", ")
    x1s = np.array2string(np.asarray(x1, float), precision=3, separator=", ")
    table = Table(
        title=f"Continuous symmetries of {args.model}  ({points.shape[0]} states, "
        f"{'default' if times is None else len(times)} times, tol {args.tol:g})"
    )
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
    console.print(table)
    console.print(syms.message)
    sv = syms.singular_values
    console.print(
        "relative singular values of the constraints (smallest 4): "
        + ", ".join(f"{v:.2g}" for v in sv[-4:][::-1])
    )
    if not syms.autonomous:
        bal = charge_balance(sde, res.ts, res.xs, Symmetry("time", None, None, "time", 0.0))
        console.print(
            f"[yellow]no energy conservation[/] (the model depends on time): along the path E "
            f"changes by {bal.leakage:.4g}, the explicit time dependence -dL/dt accounts for "
            f"{bal.source[-1]:.4g} (balance residual {bal.residual:.1e}, O(dt^2))"
        )

    dtable = Table(title=f"Discrete symmetries of {args.model}")
    for h in ("name", "P", "residual"):
        dtable.add_column(h, justify="right" if h == "residual" else "left")
    for d in discrete:
        mat = "; ".join(" ".join(f"{int(v):d}" for v in row) for row in d.matrix)
        dtable.add_row(d.name, f"[{mat}]", f"{d.residual:.1e}")
    if discrete:
        console.print(dtable)
        console.print(
            "each maps a most likely path x*(t) from x0 to x1 to the mirror path P x*(t) from "
            "P x0 to P x1, with the same action"
        )
    else:
        console.print("no discrete symmetry (signed permutation)")

    K = res.xs.shape[0]
    console.print(
        f"most likely path {x0s} -> {x1s}, t in [{t0:.4g}, {t1:.4g}], K = {K}: "
        f"{'converged' if res.converged else '[red]NOT converged[/]'}, S* = {res.action:.8g}, "
        f"{res.iterations} iterations. Q spread: max - min of p . xi(x_m) (midpoint charge, "
        "O(dt^2) for nonlinear drifts); exact Q spread: of the discrete charge of "
        f"charge_balance.  ({time.perf_counter() - start:.1f} s)"
    )
    return 0 if res.converged else 1


def main(argv=None) -> int:
    """Standalone entry (the package CLI wires ``add_parser``/``run`` into ``noisynoether``)."""
    parser = argparse.ArgumentParser(prog="noisynoether")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_parser(sub)
    return run(parser.parse_args(argv))
