"""``most_likely_paths`` on an accelerator: a batch against a loop of single solves.

Two workloads, each on the default backend (``layout="auto"``: members vectorised off the CPU):

- ``fig1c``: B Fig. 1c problems (``multistable()``, T = 1, K = 200, end points scattered by 0.1
  around the two attractors), as ``bench_batch.py`` on the CPU;
- ``network``: B problems of the rate network of ``bench_networks.py`` (n, g = 0.8, K = 200,
  Newton-CG), end points scattered by 0.5.

For each: the batch (first call, then best of --repeat) and a loop of single solves over the
first --loop problems (scaled to B), with the largest |dS*| between the two. Prints a table and
writes JSON (device_batch_<backend>.json).

    python benchmarks/device_batch.py [--workloads fig1c network] [--B 1000 16] [--n 1024]
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


def workload(name, B, n, rng):
    import noisynoether as nn

    if name == "fig1c":
        from noisynoether.cases.fig1c import X0, X1

        sde = nn.models.multistable()
        x0 = X0 + 0.1 * rng.standard_normal((B, 2))
        x1 = X1 + 0.1 * rng.standard_normal((B, 2))
        return sde, x0, x1
    sde, a, b = problem(n, 0.8)
    return sde, a + 0.5 * rng.standard_normal((B, n)), b + 0.5 * rng.standard_normal((B, n))


def measure(name, B, n, K, loop, repeat):
    import jax

    import noisynoether as nn

    sde, x0, x1 = workload(name, B, n, np.random.default_rng(0))
    batch, first, best = timed(
        lambda: nn.most_likely_paths(sde, x0, x1, 0.0, 1.0, num_points=K), repeat, first_call=True
    )
    jax.block_until_ready(batch.xs)
    L = min(loop, B)

    def singles():
        return [nn.most_likely_path(sde, x0[i], x1[i], 0.0, 1.0, num_points=K) for i in range(L)]

    one, one_first, one_best = timed(singles, repeat, first_call=True)
    dS = max(abs(float(batch.action[i]) - float(r.action)) for i, r in enumerate(one))
    return dict(
        workload=name,
        backend=jax.default_backend(),
        B=B,
        n=int(x0.shape[1]),
        K=K,
        layout=batch.stats["layout"],
        batch_first_s=first,
        batch_s=best,
        loop_s_scaled=one_best * B / L,
        loop_first_s=one_first,
        converged=int(np.sum(batch.converged)),
        max_dS=dS,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", nargs="+", default=["fig1c", "network"])
    ap.add_argument("--B", nargs="+", type=int, default=[1000, 16], help="one per workload")
    ap.add_argument("--n", type=int, default=1024, help="network size")
    ap.add_argument("--K", type=int, default=200)
    ap.add_argument("--loop", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    a = ap.parse_args()
    import jax

    rows = []
    for name, B in zip(a.workloads, a.B, strict=True):
        row = measure(name, B, a.n, a.K, a.loop, a.repeat)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\nbackend {jax.default_backend()} ({jax.devices()[0].device_kind})")
    print(f"{'workload':>9} {'B':>5} {'n':>5} {'layout':>6} {'batch s':>8} {'(1st)':>7} "
          f"{'loop s':>8} {'x':>6} {'conv':>5} {'max dS':>8}")  # fmt: skip
    for r in rows:
        print(
            f"{r['workload']:>9} {r['B']:>5} {r['n']:>5} {r['layout']:>6} {r['batch_s']:8.3f} "
            f"{r['batch_first_s']:7.1f} {r['loop_s_scaled']:8.3f} "
            f"{r['loop_s_scaled'] / r['batch_s']:6.1f} {r['converged']:>5} {r['max_dS']:8.1e}"
        )
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / f"device_batch_{jax.default_backend()}.json"
    path.write_text(json.dumps({"rows": rows}, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
