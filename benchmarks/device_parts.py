"""Where Newton-CG's time goes on an accelerator: its parts timed one by one.

Same problem as bench_networks.py / device_networks.py (rate network, D = 0.1 I, T = 1,
K = 200). Each part is one jitted call, timed after compilation (best of --repeat), on the
default backend: the action's value and gradient, a Hessian-vector product, the preconditioner
and its inverse, the negative-curvature probe (12 Lanczos steps), 3 CG steps, the network's
matrix product alone, and an empty ``while_loop`` iteration (the backend's per-iteration
latency). The whole Newton-CG loop is timed too, so that the parts can be set against it.
Prints a table and writes JSON (device_parts_<backend>.json).

    python benchmarks/device_parts.py [--n 1024 4096] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_networks import problem  # noqa: E402


def _time(fn, *args, repeat):
    import jax

    jax.block_until_ready(fn(*args))
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t)
    return best


def parts(n, K, repeat):
    import jax
    import jax.numpy as jnp

    from noisynoether._lagrangian import total_action
    from noisynoether.solvers import _assemble, _fixed_time, _newton_cg

    sde, x0, x1 = problem(n, 0.8)
    ts = jnp.linspace(0.0, 1.0, K)
    xa, xb = jnp.asarray(x0), jnp.asarray(x1)
    x = jnp.asarray(np.linspace(x0, x1, K)[1:-1])
    v = jnp.asarray(np.random.default_rng(1).standard_normal(x.shape))
    P, P_inv = _newton_cg.make_preconditioner(sde, ts, xa, xb, None)

    def action_of(y):
        return total_action(sde, ts, _assemble.full_path(y, xa, xb), None)

    grad = jax.grad(action_of)

    def hvp(y, w):
        return jax.jvp(grad, (y,), (w,))[1]

    W = jnp.asarray(sde.drift.W if hasattr(sde.drift, "W") else np.eye(n))
    out = {}
    out["value_and_grad"] = _time(
        jax.jit(lambda y: _assemble.value_and_grad(sde, ts, y, xa, xb, None)), x, repeat=repeat
    )
    out["hvp"] = _time(jax.jit(hvp), x, v, repeat=repeat)
    out["P"] = _time(jax.jit(P), v, repeat=repeat)
    out["P_inv"] = _time(jax.jit(P_inv), v, repeat=repeat)
    out["matmul (K-1, n) x (n, n)"] = _time(
        jax.jit(lambda y: jnp.tanh(y) @ W.T), jnp.concatenate([x, xb[None]]), repeat=repeat
    )

    def probe(y):
        return _newton_cg.lowest_direction(lambda w: hvp(y, w), P, P_inv, y.shape, y.dtype)

    out["probe (12 Lanczos steps)"] = _time(jax.jit(probe), x, repeat=repeat)

    def cg3(y, g):
        return _newton_cg._pcg(lambda w: hvp(y, w), P_inv, -g, 0.0, 3)

    out["CG, 3 steps"] = _time(jax.jit(cg3), x, v, repeat=repeat)

    def spin(k):
        return jax.lax.while_loop(
            lambda c: c[0] < k, lambda c: (c[0] + 1, c[1] * 1.0000001), (0, 1.0)
        )

    out["empty while_loop, 100 iterations"] = _time(jax.jit(spin), 100, repeat=repeat)
    fns = _fixed_time.compiled(sde, "newton-cg", "auto", 2000)
    run = fns["run"]
    st = jax.block_until_ready(run(ts, x, xa, xb, None, 1e-11, 200, 1e-5))
    out["whole Newton-CG loop"] = _time(run, ts, x, xa, xb, None, 1e-11, 200, 1e-5, repeat=repeat)
    return out, int(st.steps), int(st.work)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", nargs="+", type=int, default=[1024, 4096])
    ap.add_argument("--K", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    a = ap.parse_args()
    import jax

    import noisynoether  # noqa: F401  (float64 on)

    rows = {}
    for n in a.n:
        times, outer, cg = parts(n, a.K, a.repeat)
        rows[n] = dict(times=times, outer=outer, cg=cg)
        print(f"\nn = {n}, K = {a.K}: the loop ran {outer} outer / {cg} CG iterations")
        for name, s in times.items():
            print(f"  {name:<36} {1e3 * s:10.3f} ms")
    backend = jax.default_backend()
    print(f"\nbackend {backend} ({jax.devices()[0].device_kind})")
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / f"device_parts_{backend}.json"
    path.write_text(json.dumps({"backend": backend, "K": a.K, "rows": rows}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
