"""Newton-CG on random rate networks at size: where the time goes, before and after.

Model (issue 12): ``xdot = -x + W tanh(x)``, ``W = g G / sqrt(n)`` (G standard normal, seed 0),
D = 0.1 I, from x0 to x1 ~ N(0, 1/4) (seeded) over T = 1 on K = 200 points, solved by
``nn.NewtonCG()`` to the default tolerance. Each (n, g) runs in a fresh process (so that the
compile time is a first call's and the peak memory is this problem's): the first call
(compile + solve), then the best of --repeat solves (wall and process CPU time), split into
the Newton-CG loop, the end certificate and the rest (charges, checks). In the same process
the baseline is the certificate as it was before issue 12 (scipy LOBPCG on H, one host round
trip per Hessian-vector product, up to 300 iterations), timed once, for n <= --baseline-max.
With --cache, a second fresh process with JAX's persistent compilation cache
(``nn.enable_compilation_cache``) filled by the first shows the compile time it saves.

    python benchmarks/bench_networks.py [--n 256 1024] [--g 0.8 1.5] [--out results/benchmarks]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False)
class RateNetwork:
    W: np.ndarray

    def __call__(self, t, x, args):
        import jax.numpy as jnp

        return -x + jnp.asarray(self.W) @ jnp.tanh(x)


def problem(n, g, seed=0):
    import noisynoether as nn

    rng = np.random.default_rng(seed)
    W = g * rng.standard_normal((n, n)) / np.sqrt(n)
    sde = nn.SDE(drift=RateNetwork(W), diffusion=0.1)
    return sde, 0.5 * rng.standard_normal(n), 0.5 * rng.standard_normal(n)


def _clock(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def old_certificate(hvp, P_inv, shape, k=4):
    """The pre-issue-12 certificate: scipy LOBPCG on H, a host round trip per product."""
    import scipy.sparse.linalg as spla

    size = int(np.prod(shape))

    def op(fn):
        return spla.LinearOperator(
            (size, size),
            dtype=float,
            matvec=lambda v: np.ravel(fn(np.asarray(v, float).reshape(shape))),
        )

    A, M = op(hvp), op(P_inv)
    X = np.random.default_rng(0).standard_normal((size, k))
    w, _ = spla.lobpcg(A, X, M=M, largest=False, tol=1e-6, maxiter=300)
    return np.sort(w)


def child(n, g, K, repeat, baseline):
    """One (n, g) in this process; returns a dict of measurements."""
    import jax
    import jax.numpy as jnp

    import noisynoether as nn
    from noisynoether._lagrangian import total_action
    from noisynoether.solvers import _assemble, _minimum, _most_likely_path, _newton_cg

    sde, x0, x1 = problem(n, g)
    spent = {"certificate": 0.0, "certificate_cpu": 0.0, "loop": 0.0, "loop_cpu": 0.0}
    real_cert, real_compiled = _minimum.lowest_eigen_matfree, _most_likely_path.compiled

    def timed_cert(*a, **kw):
        out, w, c = _clock(lambda: real_cert(*a, **kw))
        spent["certificate"] += w
        spent["certificate_cpu"] += c
        return out

    def timed_compiled(*a, **kw):
        fns = dict(real_compiled(*a, **kw))
        run = fns["run"]

        def timed_run(*r):
            out, w, c = _clock(lambda: jax.block_until_ready(run(*r)))
            spent["loop"] += w
            spent["loop_cpu"] += c
            return out

        fns["run"] = timed_run
        return fns

    _minimum.lowest_eigen_matfree = timed_cert
    _most_likely_path.compiled = timed_compiled

    def solve():
        for key in spent:
            spent[key] = 0.0
        return nn.most_likely_path(sde, x0, x1, 0.0, 1.0, num_points=K, solver=nn.NewtonCG())

    res, first, first_cpu = _clock(solve)
    first_split = dict(spent)
    best = None
    for _ in range(repeat):
        _, wall, cpu = _clock(solve)
        if best is None or wall < best["wall"]:
            best = dict(wall=wall, cpu=cpu, **spent)
    row = dict(
        n=n,
        g=g,
        K=K,
        first_call_s=first,
        first_call_cpu_s=first_cpu,
        compile_loop_s=first_split["loop"] - best["loop"],
        compile_certificate_s=first_split["certificate"] - best["certificate"],
        solve_s=best["wall"],
        solve_cpu_s=best["cpu"],
        loop_s=best["loop"],
        loop_cpu_s=best["loop_cpu"],
        certificate_s=best["certificate"],
        certificate_cpu_s=best["certificate_cpu"],
        rest_s=best["wall"] - best["loop"] - best["certificate"],
        converged=bool(res.converged),
        outer=int(res.iterations),
        cg=int(res.stats["inner_iterations"]),
        action=float(res.action),
        grad_norm=float(res.grad_norm),
        min_eig_bound=res.min_eigenvalue,
        angular_momentum_MB=res.angular_momentum.nbytes / 2**20,
        peak_rss_MB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        backend=jax.default_backend(),
    )
    if baseline:
        ts = jnp.linspace(0.0, 1.0, K)
        xa, xb, x_int = jnp.asarray(x0), jnp.asarray(x1), jnp.asarray(res.xs[1:-1])
        grad = jax.grad(lambda x: total_action(sde, ts, _assemble.full_path(x, xa, xb), None))
        hvp = jax.jit(lambda v: jax.jvp(grad, (x_int,), (v,))[1])
        precond = jax.jit(_newton_cg.make_preconditioner(sde, ts, xa, xb, None)[1])
        w, wall, cpu = _clock(
            lambda: old_certificate(
                lambda v: np.asarray(hvp(jnp.asarray(v))),
                lambda r: np.asarray(precond(jnp.asarray(r))),
                x_int.shape,
            )
        )
        row.update(old_certificate_s=wall, old_certificate_cpu_s=cpu, old_min_eig=float(w[0]))
    return row


def run_child(n, g, a, cache_dir=None, baseline=False):
    env = dict(os.environ)
    if cache_dir is not None:
        env["NOISYNOETHER_BENCH_CACHE"] = str(cache_dir)
    cmd = [sys.executable, __file__, "--child", str(n), str(g), "--K", str(a.K)]
    cmd += ["--repeat", str(a.repeat)] + (["--baseline-max", str(n)] if baseline else [])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return dict(n=n, g=g, error=out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", nargs="+", type=int, default=[256, 1024])
    ap.add_argument("--g", nargs="+", type=float, default=[0.8, 1.5])
    ap.add_argument("--K", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline-max", type=int, default=256, help="largest n for the baseline")
    ap.add_argument("--cache", action="store_true", help="also time a persistent-cache run")
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        import noisynoether as nn

        if os.environ.get("NOISYNOETHER_BENCH_CACHE"):
            nn.enable_compilation_cache(os.environ["NOISYNOETHER_BENCH_CACHE"])
        n, g = int(a.child[0]), float(a.child[1])
        print(json.dumps(child(n, g, a.K, a.repeat, n <= a.baseline_max), default=float))
        return
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    rows = []
    for n in a.n:
        for g in a.g:
            row = run_child(n, g, a, baseline=n <= a.baseline_max)
            if a.cache and "error" not in row:
                with tempfile.TemporaryDirectory() as tmp:
                    run_child(n, g, a, cache_dir=tmp)  # fills the cache
                    warm = run_child(n, g, a, cache_dir=tmp)
                row["first_call_cached_s"] = warm.get("first_call_s")
            rows.append(row)
            print(json.dumps(row, default=float), flush=True)
    head = (
        f"{'n':>5} {'g':>4} {'solve s':>8} {'cpu s':>6} {'loop':>6} {'cert':>6} {'rest':>6} "
        f"{'1st call':>8} {'cached':>7} {'outer/CG':>9} {'min eig >=':>10} {'RSS MB':>7} "
        f"{'old cert s':>10}"
    )
    print("\n" + head)
    for r in rows:
        if "error" in r:
            print(f"{r['n']:>5} {r['g']:>4} error: {r['error'][-300:]}")
            continue
        print(
            f"{r['n']:>5} {r['g']:>4} {r['solve_s']:8.2f} {r['solve_cpu_s']:6.2f} "
            f"{r['loop_s']:6.2f} {r['certificate_s']:6.2f} {r['rest_s']:6.2f} "
            f"{r['first_call_s']:8.2f} {r.get('first_call_cached_s') or float('nan'):7.2f} "
            f"{r['outer']:>4}/{r['cg']:<4} {r['min_eig_bound']:10.4f} {r['peak_rss_MB']:7.0f} "
            f"{r.get('old_certificate_s', float('nan')):10.2f}"
        )
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / "bench_networks.json"
    path.write_text(json.dumps({"load_average": load, "rows": rows}, indent=2, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
