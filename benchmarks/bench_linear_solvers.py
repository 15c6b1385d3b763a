"""Whole Newton solves with each linear solver: is a pure-JAX solve within 2x of the C++ kernel?

Issue 10 item 6 offered two routes for the compiled block-tridiagonal kernel: build it on the
FFI headers JAX ships, or drop it if a pure-JAX solve (block cyclic reduction, or the
``lax.scan`` block Cholesky) is within 2x of it for whole solves. This measures that: the full
``most_likely_path`` call (compile first, then best of --repeat, same run) with
``linear_solver`` = native (the kernel), cyclic, scan and lapack (host callback), at
K = 50, 1000, 10000 points and n = 2 (the Fig. 1c network) and n = 8 (a random rate network
``xdot = -x + W tanh(x)``, W = 0.8 G / sqrt(n), D = 0.1, as in bench_large_n.py). All runs must
agree on the action to 1e-10 (relative).

    python benchmarks/bench_linear_solvers.py [--sizes 50 1000 10000] [--dims 2 8] [--repeat 3]
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import noisynoether as nn

jax.config.update("jax_enable_x64", True)

SOLVERS = ("native", "cyclic", "scan", "lapack")


from bench_large_n import problem as rate_network_problem  # noqa: E402  (same folder)
from bench_large_n import timed  # noqa: E402


def problem(n, seed=0):
    """Fig. 1c's network at n = 2; the random rate network of bench_large_n otherwise."""
    if n == 2:
        return nn.models.multistable(), np.array([3.0, 0.1]), np.array([0.1, 3.0])
    return rate_network_problem(n, seed)


def per_solve(sizes, dims, repeat, solvers):
    """One linear solve H x = r (random SPD blocks), jitted, best of 20 x repeat (seconds)."""
    from noisynoether.solvers import _newton

    rows = []
    for n in dims:
        for K in sizes:
            M = K - 2
            rng = np.random.default_rng(0)
            A = rng.standard_normal((M, n, n))
            B = jnp.asarray(A @ np.swapaxes(A, 1, 2) + 4 * n * np.eye(n))
            C = jnp.asarray(rng.standard_normal((M - 1, n, n)))
            r = jnp.asarray(rng.standard_normal((M, n)))
            row = {"n": n, "K": K}
            for ls in solvers:
                fn = jax.jit(_newton.linear_solve(ls))
                jax.block_until_ready(fn(B, C, r))
                best = np.inf
                for _ in range(repeat):
                    t = time.perf_counter()
                    for _ in range(20):
                        out = fn(B, C, r)
                    jax.block_until_ready(out)
                    best = min(best, (time.perf_counter() - t) / 20)
                row[ls] = best
            rows.append(row)
            print(f"n={n} K={K}: " + "  ".join(f"{ls} {row[ls] * 1e3:.3f} ms" for ls in solvers))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[50, 1000, 10000])
    ap.add_argument("--dims", nargs="+", type=int, default=[2, 8])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    ap.add_argument("--per-solve", action="store_true", help="time single linear solves only")
    ap.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=SOLVERS)
    args = ap.parse_args()
    solvers = [s for s in args.solvers if s != "native" or nn.native_available()]
    if args.per_solve:
        with jax.default_device(jax.devices("cpu")[0]):
            per_solve(args.sizes, args.dims, args.repeat, solvers)
        return
    rows = []
    with jax.default_device(jax.devices("cpu")[0]):
        for n in args.dims:
            sde, x0, x1 = problem(n)
            for K in args.sizes:
                row = {"n": n, "K": K}
                ref = None
                for ls in solvers:
                    run = functools.partial(
                        nn.most_likely_path, sde, x0, x1, 0.0, 1.0, num_points=K, linear_solver=ls
                    )
                    res, compile_s, best = timed(run, args.repeat)
                    assert res.converged, (n, K, ls, res.message)
                    ref = res.action if ref is None else ref
                    assert abs(res.action - ref) <= 1e-10 * abs(ref), (n, K, ls)
                    row[ls] = best
                    row[ls + "_compile"] = compile_s
                    row[ls + "_iterations"] = res.iterations
                rows.append(row)
                cells = "  ".join(f"{ls} {row[ls]:.4f} s" for ls in solvers)
                print(f"n={n} K={K}: {cells}", flush=True)
    print(f"\nWhole most_likely_path solves (best of {args.repeat}, compile excluded)")
    print(f"{'n':>3} {'K':>6} " + " ".join(f"{ls + ' s':>10}" for ls in solvers), end="")
    pure = [s for s in ("cyclic", "scan") if s in solvers]
    ratio = "native" in solvers and pure
    print("  best pure-JAX / native" if ratio else "")
    for r in rows:
        line = f"{r['n']:>3} {r['K']:>6} " + " ".join(f"{r[ls]:>10.4f}" for ls in solvers)
        if ratio:
            line += f"  {min(r[s] for s in pure) / r['native']:>8.1f}x"
        print(line)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "linear_solvers.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
