"""First-call (compile) time and run time of the solvers, with and without the library's XLA
compile options (``src/noisynoether/_jit.py``: XLA's classic CPU fusion emitters).

Each configuration runs in its own process (the options are probed once a process):
``fast`` (the default) against the baseline ``NOISYNOETHER_FAST_COMPILE=0`` (XLA's defaults),
in the same run. Per problem: the first call (compile + run, a fresh process so nothing is
cached) and the best of --repeat further calls; CPU seconds of the whole process too.

    python benchmarks/bench_compile.py [--repeat 3] [--out results/benchmarks]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROBLEMS = ("fig1c K=201", "fig1c K=10000", "energy dw K=401", "rnn n=256 K=200")


def _problem(name):
    import numpy as np

    import noisynoether as nn

    if name.startswith("fig1c"):
        K = int(name.split("K=")[1])
        sde = nn.models.multistable()
        return lambda: nn.most_likely_path(
            sde, np.array([-0.5, -0.5]), np.array([2.0, 2.0]), 0.0, 1.0, num_points=K
        )
    if name.startswith("energy"):
        dw = nn.models.double_well()
        return lambda: nn.path_with_energy(
            dw, np.array([-1.0]), np.array([1.0]), energy=0.01, num_points=401
        )
    n = 256
    rng = np.random.default_rng(0)
    W = 0.8 * rng.standard_normal((n, n)) / np.sqrt(n)
    rnn = nn.models.noisy_rnn(W, D=0.1)
    a, b = 0.1 * rng.standard_normal(n), 0.5 * rng.standard_normal(n)
    return lambda: nn.most_likely_path(rnn, a, b, 0.0, 1.0, num_points=200)


def _child(name, repeat):
    from _timing import timed

    import noisynoether  # noqa: F401  (x64 on before the problem is built)

    fn = _problem(name)
    cpu = time.process_time()
    res, compile_s, best = timed(fn, repeat)
    print(
        json.dumps(
            dict(
                first=compile_s + best,
                run=best,
                cpu=time.process_time() - cpu,
                action=float(res.action),
                converged=bool(res.converged),
            )
        )
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return _child(args.child, args.repeat)
    rows = []
    for name in PROBLEMS:
        row = {"problem": name}
        for mode, flag in (("fast", "1"), ("baseline", "0")):
            env = {**os.environ, "NOISYNOETHER_FAST_COMPILE": flag}
            out = subprocess.run(
                [sys.executable, __file__, "--child", name, "--repeat", str(args.repeat)],
                env=env, capture_output=True, text=True, check=True,
            )  # fmt: skip
            row[mode] = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        f, b = row["fast"], row["baseline"]
        print(
            f"{name:18s} first call {f['first']:6.2f} s vs {b['first']:6.2f} s "
            f"(x{b['first'] / f['first']:.2f}) | run {1e3 * f['run']:8.2f} ms vs "
            f"{1e3 * b['run']:8.2f} ms | process CPU {f['cpu']:6.2f} s vs {b['cpu']:6.2f} s | "
            f"|dS| {abs(f['action'] - b['action']):.1e}",
            flush=True,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "bench_compile.json"
    path.write_text(json.dumps(rows, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
