"""Matrix-free Newton-CG at large state dimension n: time, iterations, and agreement.

Model: a random rate network ``xdot = -x + W tanh(x) + noise`` with W = g G / sqrt(n), g = 0.8,
G standard normal (seeded), isotropic D = 0.1, from x0 to x1 (seeded, N(0, 1/4)) over T = 1 on
K = 200 points. For each n: compile (first call) and solve time (best of --repeat), outer and CG
iterations, gradient norm, and the smallest Hessian eigenvalue (LOBPCG). The baseline in the
same run is block Newton (dense n x n blocks, O(K n^3)) where n is small enough; the two paths
must agree.

    python benchmarks/bench_large_n.py [--sizes 16 64 256 1024] [--out results/benchmarks]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _timing import timed  # benchmarks/ is on sys.path when a script runs

import noisynoether as nn


@dataclass(frozen=True, eq=False)
class RateNetwork:
    W: np.ndarray

    def __call__(self, t, x, args):
        return -x + jnp.asarray(self.W) @ jnp.tanh(x)


def problem(n, seed=0):
    rng = np.random.default_rng(seed)
    W = 0.8 * rng.standard_normal((n, n)) / np.sqrt(n)
    sde = nn.SDE(drift=RateNetwork(W), diffusion=0.1)
    return sde, 0.5 * rng.standard_normal(n), 0.5 * rng.standard_normal(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[16, 64, 256, 1024])
    ap.add_argument("--K", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--dense-max", type=int, default=128, help="largest n for the block-Newton baseline"
    )
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    args = ap.parse_args()
    rows = []
    print(f"backend: {jax.default_backend()} ({jax.devices()[0].device_kind})")
    for n in args.sizes:
        sde, x0, x1 = problem(n)
        res, comp, best = timed(
            lambda sde=sde, x0=x0, x1=x1: nn.most_likely_path(
                sde, x0, x1, 0.0, 1.0, num_points=args.K, method="newton-cg"
            ),
            args.repeat,
        )
        row = {
            "n": n,
            "K": args.K,
            "cg_s": best,
            "cg_compile_s": comp,
            "converged": res.converged,
            "outer": res.iterations,
            "cg_iterations": res.stats["inner_iterations"],
            "grad_norm": res.grad_norm,
            "min_eig": res.min_eigenvalue,
            "action": res.action,
        }
        if n <= args.dense_max:
            dense, dcomp, dbest = timed(
                lambda sde=sde, x0=x0, x1=x1: nn.most_likely_path(
                    sde, x0, x1, 0.0, 1.0, num_points=args.K, method="newton"
                ),
                args.repeat,
            )
            row.update(
                newton_s=dbest,
                newton_compile_s=dcomp,
                max_path_difference=float(np.max(np.abs(dense.xs - res.xs))),
            )
        rows.append(row)
        print(row, flush=True)
    print(
        f"\n{'n':>6} {'CG s':>9} {'compile':>8} {'outer':>6} {'CG its':>7} {'|grad|':>9} "
        f"{'min eig':>10} {'block s':>9} {'|dx|':>9}"
    )
    for r in rows:
        print(
            f"{r['n']:>6} {r['cg_s']:9.3f} {r['cg_compile_s']:8.2f} {r['outer']:6d} "
            f"{r['cg_iterations']:7d} {r['grad_norm']:9.1e} {r['min_eig']:10.3e} "
            f"{r.get('newton_s', np.nan):9.3f} {r.get('max_path_difference', np.nan):9.1e}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench_large_n_{jax.default_backend()}.json"
    path.write_text(
        json.dumps({"backend": jax.default_backend(), "rows": rows}, indent=2, default=float)
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
