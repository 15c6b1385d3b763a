"""Newton-CG on random rate networks on an accelerator (GPU): n = 1024, 2048, 4096.

Same problem as bench_networks.py (xdot = -x + W tanh(x), W = g G / sqrt(n), D = 0.1 I, T = 1,
K = 200). For each (n, g): the Newton-CG loop (one compiled call) and the end certificate
(``_minimum.lowest_eigen_matfree``, one compiled call per Krylov restart), first call and best
of --repeat, on the default backend; then the whole ``most_likely_path`` with and without the
certificate (``check_minimum=False``) for n <= --full-max (the angular momentum, (K - 1) n^2
floats, is built only when read). With --profile, one warm whole solve per (n, g) is profiled
(cProfile, top 40 by cumulative time, written beside the JSON). Prints a table and writes
JSON (device_networks_<backend>.json).

    python benchmarks/device_networks.py [--n 1024 2048 4096] [--g 0.8 1.5] [--out DIR]

Budget: about 3-5 minutes on an H200 including compilation (each shape compiles once).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _timing import timed  # noqa: E402
from bench_networks import problem  # noqa: E402


def _profile(fn, path):
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(40)
    path.write_text(buf.getvalue())


def measure(n, g, K, repeat, full, profile_dir=None):
    import jax
    import jax.numpy as jnp

    import noisynoether as nn
    from noisynoether.solvers import _fixed_time, _minimum

    sde, x0, x1 = problem(n, g)
    ts = jnp.linspace(0.0, 1.0, K)
    xa, xb = jnp.asarray(x0), jnp.asarray(x1)
    x_int = jnp.asarray(np.linspace(x0, x1, K)[1:-1])
    fns = _fixed_time.compiled(sde, "newton-cg", "auto", 2000)

    def loop():
        st = fns["run"](ts, x_int, xa, xb, None, 1e-11, 200, 1e-5)
        return jax.block_until_ready(st)

    st, loop_first, loop_best = timed(loop, repeat, first_call=True)

    def cert():
        return _minimum.lowest_eigen_matfree(sde, ts, st.x, xa, xb, None, k=4)

    (w, _, _), cert_first, cert_best = timed(cert, repeat, first_call=True)
    row = dict(
        n=n,
        g=g,
        K=K,
        backend=jax.default_backend(),
        device=jax.devices()[0].device_kind,
        status=int(st.status),
        outer=int(st.steps),
        cg=int(st.work),
        action=float(st.S),
        loop_first_s=loop_first,
        loop_s=loop_best,
        certificate_first_s=cert_first,
        certificate_s=cert_best,
        min_eig_bound=float(w[0]),
    )
    if full:

        def solve(check=True):
            solver = nn.NewtonCG(check_minimum=check)
            res = nn.most_likely_path(sde, x0, x1, 0.0, 1.0, num_points=K, solver=solver)
            return jax.block_until_ready(res.xs), res

        (_, res), first, best = timed(solve, repeat, first_call=True)
        (_, res2), first2, best2 = timed(lambda: solve(False), repeat, first_call=True)
        row.update(
            solve_first_s=first,
            solve_s=best,
            converged=bool(res.converged),
            solve_iterations=int(res.iterations),
            solve_nocert_first_s=first2,
            solve_nocert_s=best2,
            max_dx_nocert=float(np.max(np.abs(np.asarray(res.xs) - np.asarray(res2.xs)))),
        )
        if profile_dir is not None:
            profile_dir.mkdir(parents=True, exist_ok=True)
            _profile(solve, profile_dir / f"profile_n{n}_g{g}.txt")
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", nargs="+", type=int, default=[1024, 2048, 4096])
    ap.add_argument("--g", nargs="+", type=float, default=[0.8, 1.5])
    ap.add_argument("--K", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--full-max", type=int, default=4096, help="largest n for most_likely_path")
    ap.add_argument("--profile", action="store_true", help="cProfile one warm whole solve")
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    a = ap.parse_args()
    import jax

    rows = []
    for n in a.n:
        for g in a.g:
            row = measure(n, g, a.K, a.repeat, n <= a.full_max, a.out if a.profile else None)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\nbackend {jax.default_backend()} ({jax.devices()[0].device_kind})")
    print(
        f"{'n':>5} {'g':>4} {'loop s':>8} {'(1st)':>7} {'cert s':>8} {'(1st)':>7} "
        f"{'solve s':>8} {'no cert':>8} {'outer/CG':>9} {'status':>6}"
    )
    for r in rows:
        print(
            f"{r['n']:>5} {r['g']:>4} {r['loop_s']:8.3f} {r['loop_first_s']:7.2f} "
            f"{r['certificate_s']:8.3f} {r['certificate_first_s']:7.2f} "
            f"{r.get('solve_s', float('nan')):8.3f} {r.get('solve_nocert_s', float('nan')):8.3f} "
            f"{r['outer']:>4}/{r['cg']:<4} {r['status']:>6}"
        )
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / f"device_networks_{jax.default_backend()}.json"
    path.write_text(json.dumps({"rows": rows}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
