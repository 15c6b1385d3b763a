"""Throughput of most_likely_paths (one compiled call for a batch) against a loop of single solves.

Issue 12 item 3: 1000 Fig. 1c paths (``nn.models.multistable()``, T = 1, K = 200), end points
scattered around the two attractors (x0 ~ (3, 0.1), x1 ~ (0.1, 3), Gaussian scatter of std
--scatter), in under 0.5 s on the 2-core CPU after compilation and at least 3x faster than a
loop of ``most_likely_path`` calls, with the same answers to 1e-9. Measured here, in one run:

- ``batch``: ``most_likely_paths`` (default: members one after another inside one compiled
  call, then each member's certificate on the host), with and without ``check_minimum``;
- ``batch vmap``: the same with ``layout="vmap"`` (vectorised members; --vmap);
- ``loop``: ``most_likely_path`` for the first --loop problems (after one call that
  compiles), per path times B.

Compile first (one call), then the best of --repeat. Agreement: largest |dS*| and largest
|dx| between the batch and the single solves over the looped problems.

    python benchmarks/bench_batch.py [--B 1000] [--K 200] [--loop 100] [--repeat 2] [--vmap]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import numpy as np
from _timing import timed  # benchmarks/ is on sys.path when a script runs

import noisynoether as nn
from noisynoether.cases.fig1c import X0, X1

jax.config.update("jax_enable_x64", True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--B", type=int, default=1000, help="problems in the batch")
    ap.add_argument("--K", type=int, default=200, help="points per path")
    ap.add_argument("--T", type=float, default=1.0)
    ap.add_argument("--scatter", type=float, default=0.1, help="std of the end points' scatter")
    ap.add_argument("--loop", type=int, default=100, help="single solves timed (then x B/loop)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--vmap", action="store_true", help="also time layout='vmap'")
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    args = ap.parse_args()

    sde = nn.models.multistable()
    rng = np.random.default_rng(0)
    x0 = X0 + args.scatter * rng.standard_normal((args.B, 2))
    x1 = X1 + args.scatter * rng.standard_normal((args.B, 2))
    B, K, L = args.B, args.K, min(args.loop, args.B)
    rows = []

    def batch_row(name, **kw):
        res, compile_s, best = timed(
            lambda: nn.most_likely_paths(sde, x0, x1, 0.0, args.T, num_points=K, **kw),
            args.repeat,
        )
        rows.append(
            dict(
                run=name, B=B, K=K, seconds=best, per_path_ms=1e3 * best / B,
                compile_s=compile_s, converged=int(res.num_converged),
                handoffs=res.stats["handoffs"], iterations_mean=float(res.iterations.mean()),
                iterations_max=int(res.iterations.max()),
            )
        )  # fmt: skip
        return res

    batch = batch_row("batch (map)")
    batch_row("batch (map), check_minimum=False", check_minimum=False)
    if args.vmap:
        batch_row("batch (vmap)", layout="vmap")

    def loop(**kw):
        return [
            nn.most_likely_path(sde, x0[i], x1[i], 0.0, args.T, num_points=K, **kw)
            for i in range(L)
        ]

    for name, kw in (("loop of most_likely_path", {}), ("loop, check_minimum=False", {})):
        kw = dict(check_minimum=False) if "False" in name else {}
        t = time.perf_counter()  # compile (cheap and, where one hands off, full loop)
        for i in range(min(5, L)):
            nn.most_likely_path(sde, x0[i], x1[i], 0.0, args.T, num_points=K, **kw)
        compile_s = time.perf_counter() - t
        t = time.perf_counter()
        singles = loop(**kw)
        best = time.perf_counter() - t
        rows.append(
            dict(
                run=name + f" (x{B}/{L})", B=B, K=K, seconds=best * B / L,
                per_path_ms=1e3 * best / L, compile_s=compile_s,
                converged=int(sum(r.converged for r in singles)) * B // L, handoffs=None,
                iterations_mean=float(np.mean([r.iterations for r in singles])),
                iterations_max=int(max(r.iterations for r in singles)),
            )
        )  # fmt: skip
        if not kw:
            reference = singles

    dS = max(abs(batch[i].action - reference[i].action) for i in range(L))
    dx = max(float(np.max(np.abs(batch[i].xs - reference[i].xs))) for i in range(L))
    loop_s = rows[-2]["seconds"]
    for row in rows:
        row["speedup_vs_loop"] = loop_s / row["seconds"]

    print(f"\n{B} Fig. 1c paths, K = {K}, T = {args.T:g}, backend {jax.default_backend()}")
    head = f"{'run':42s} {'seconds':>9s} {'ms/path':>8s} {'vs loop':>8s} {'compile':>8s} {'conv':>6s} {'iters':>11s}"  # noqa: E501
    print(head)
    for r in rows:
        print(
            f"{r['run']:42s} {r['seconds']:9.3f} {r['per_path_ms']:8.3f} "
            f"{r['speedup_vs_loop']:7.1f}x {r['compile_s']:7.1f}s {r['converged']:6d} "
            f"{r['iterations_mean']:5.1f}/{r['iterations_max']:<5d}"
        )
    print(f"agreement with the {L} single solves: max |dS*| = {dS:.2e}, max |dx| = {dx:.2e}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "batch.json"
    out.write_text(json.dumps(dict(rows=rows, max_dS=dS, max_dx=dx, B=B, K=K), indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
