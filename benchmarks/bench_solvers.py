"""Time to a relative action error of 1e-8: damped Newton vs scipy L-BFGS-B, same objective.

Problem: the multistable network of the paper's Fig. 1c (Eq. 20, notebooks' parameters), from
(3, 0.1) to (0.1, 3) over T = 1, on uniform grids of K = 50, 1000 and 10000 points. Both solvers
minimise the same discrete midpoint action with the same exact JAX gradient (jitted); L-BFGS-B
gets the gradient as a NumPy callback. The reference S* is the Newton minimum at rounding level
(gradient ~1e-12); a solver "reaches" 1e-8 when |S - S*| <= 1e-8 |S*|.

Compile time is measured on a first call and reported apart; timings are the best of --repeat
runs after it. Newton is timed twice: with the default linear solver (the compiled C kernel
when it is built) and with LAPACK behind a host callback. Writes a JSON file and prints a table.

    python benchmarks/bench_solvers.py [--out results/benchmarks] [--sizes 50 1000 10000]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import scipy
from scipy.optimize import minimize

import noisynoether as nn
from noisynoether._lagrangian import total_action
from noisynoether.solvers._assemble import full_path

X0, X1, T = np.array([3.0, 0.1]), np.array([0.1, 3.0]), 1.0


def bench_newton(sde, K, repeat, linear_solver="auto"):
    def solve():
        return nn.most_likely_path(sde, X0, X1, 0.0, T, num_points=K, linear_solver=linear_solver)

    t = time.perf_counter()
    res = solve()
    first = time.perf_counter() - t
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        res = solve()
        times.append(time.perf_counter() - t)
    return res, first - min(times), min(times)


def bench_lbfgs(sde, K, S_ref, time_limit):
    ts = jnp.linspace(0.0, T, K)
    xa, xb = jnp.asarray(X0), jnp.asarray(X1)
    vg = jax.jit(jax.value_and_grad(lambda x: total_action(sde, ts, full_path(x, xa, xb), None)))
    x_init = np.asarray(X0 + (np.asarray(ts)[1:-1, None] / T) * (X1 - X0))
    t = time.perf_counter()
    vg(jnp.asarray(x_init))[0].block_until_ready()
    compile_s = time.perf_counter() - t

    def fun(z):
        v, g = vg(jnp.asarray(z.reshape(x_init.shape)))
        return float(v), np.asarray(g, dtype=np.float64).ravel()

    state = {"hit": None, "iters": 0}
    start = time.perf_counter()

    def callback(intermediate_result):
        state["iters"] += 1
        S = intermediate_result.fun
        if state["hit"] is None and abs(S - S_ref) <= 1e-8 * abs(S_ref):
            state["hit"] = time.perf_counter() - start
            raise StopIteration
        if time.perf_counter() - start > time_limit:
            raise StopIteration

    res = minimize(
        fun,
        x_init.ravel(),
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={"maxiter": 10**6, "maxfun": 10**7, "ftol": 0.0, "gtol": 0.0, "maxcor": 20},
    )
    return {
        "time_to_1e-8_s": state["hit"],
        "iterations": state["iters"],
        "final_rel_error": abs(res.fun - S_ref) / abs(S_ref),
        "wall_s": time.perf_counter() - start,
        "compile_s": compile_s,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    ap.add_argument("--sizes", nargs="+", type=int, default=[50, 1000, 10000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--lbfgs-time-limit", type=float, default=60.0)
    args = ap.parse_args()
    sde = nn.models.multistable()
    rows = []
    for K in args.sizes:
        res, compile_s, newton_s = bench_newton(sde, K, args.repeat)
        assert res.converged, res.message
        # The same Newton solver with LAPACK behind a host callback (the default before the
        # compiled kernel, and the fallback where it is not built).
        res_cb, _, callback_s = bench_newton(sde, K, args.repeat, linear_solver="lapack")
        assert res_cb.converged and abs(res_cb.action - res.action) <= 1e-12 * abs(res.action)
        lb = bench_lbfgs(sde, K, res.action, args.lbfgs_time_limit)
        hit = lb["time_to_1e-8_s"]
        rows.append(
            {
                "K": K,
                "S_star": res.action,
                "newton_s": newton_s,
                "newton_linear_solver": "native" if nn.native_available() else "lapack",
                "newton_lapack_callback_s": callback_s,
                "newton_compile_s": compile_s,
                "newton_iterations": res.iterations,
                "newton_grad_norm": res.grad_norm,
                "lbfgs": lb,
                "speedup": (hit / newton_s) if hit else None,
            }
        )
        print(f"K={K}: newton {newton_s:.4f} s, L-BFGS-B {hit if hit else 'not reached'}")
    head = (
        f"{'K':>6} {'Newton s':>10} {'callback s':>10} {'iters':>6} {'compile s':>10} "
        f"{'L-BFGS-B s':>12} {'L-BFGS its':>10} {'speedup':>9}"
    )
    print(
        "\nTime to relative action error 1e-8 (Fig. 1c network, T = 1); "
        f"L-BFGS-B capped at {args.lbfgs_time_limit:g} s. 'Newton s': default linear solver "
        f"({rows[0]['newton_linear_solver']}); 'callback s': LAPACK through a host callback."
    )
    print(head)
    for r in rows:
        lb = r["lbfgs"]
        hit = lb["time_to_1e-8_s"]
        hit_s = f"{hit:12.3f}" if hit else f"{'> ' + format(lb['wall_s'], '.0f'):>12}"
        sp = (
            f"{r['speedup']:9.0f}"
            if r["speedup"]
            else f"{'> ' + format(lb['wall_s'] / r['newton_s'], '.0f'):>9}"
        )
        print(
            f"{r['K']:>6} {r['newton_s']:10.4f} {r['newton_lapack_callback_s']:10.4f} "
            f"{r['newton_iterations']:6d} "
            f"{r['newton_compile_s']:10.2f} {hit_s} {lb['iterations']:10d} {sp}"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": __import__("os").cpu_count(),
        "jax": jax.__version__,
        "scipy": scipy.__version__,
        "backend": jax.default_backend(),
    }
    path = args.out / "bench_solvers.json"
    path.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
