"""Fixed points of rate networks from given starts (``nn.fixed_points(sde, starts=...)``).

Model: ``xdot = -x + W tanh(x) + noise`` with W = g G / sqrt(n) + 2 m m^T / n (G standard
normal, m a random +-1 pattern: two attractors +-x* and a saddle; seeded). Starts: 200 states
around the two patterns (0.3 N(0, 1) + 1.5 m or - 1.5 m). For each n: compile (first call)
and search time (best of --repeat), points found and their kinds, the largest |f|_2. Baseline in
the same run: the dense Levenberg-Marquardt (Jacobian formed and factorised per start) where n
allows, against the matrix-free one (conjugate gradients on the normal equations).

    python benchmarks/bench_rnn_fixed_points.py [--sizes 16 128 1024] [--g 0.8] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
from _timing import timed  # benchmarks/ is on sys.path when a script runs

import noisynoether as nn
from noisynoether import _fixed_point_lm


def problem(n, g, starts=200, seed=1):
    rng = np.random.default_rng(seed)
    m = rng.choice([-1.0, 1.0], n)
    W = g * rng.normal(size=(n, n)) / np.sqrt(n) + 2.0 * np.outer(m, m) / n
    x0 = 0.3 * rng.normal(size=(starts, n)) + 1.5 * rng.choice([-1.0, 1.0], (starts, 1)) * m
    return nn.models.noisy_rnn(W, D=0.1), W, x0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[16, 128, 1024])
    ap.add_argument("--g", type=float, default=0.8)
    ap.add_argument("--starts", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("results/benchmarks"))
    a = ap.parse_args()
    rows = []
    for n in a.sizes:
        sde, W, x0 = problem(n, a.g, a.starts)
        modes = ["matrix-free"] + (["dense"] if n <= 128 else [])
        for mode in modes:
            _fixed_point_lm.DENSE_MAX_N = 10**9 if mode == "dense" else 0
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fps, compile_s, solve_s = timed(
                    lambda sde=sde, x0=x0: nn.fixed_points(sde, starts=x0), a.repeat
                )
            resid = max(float(np.linalg.norm(-p.x + W @ np.tanh(p.x))) for p in fps)
            rows.append(
                dict(
                    n=n,
                    g=a.g,
                    starts=a.starts,
                    mode=mode,
                    compile_s=compile_s,
                    time_s=solve_s,
                    kinds=[f"{p.kind}/{p.unstable_dim}" for p in fps],
                    max_residual=resid,
                    warnings=[str(w.message)[:160] for w in caught],
                )
            )
            r = rows[-1]
            print(
                f"n={n:5d} g={a.g} {mode:11s} compile {compile_s:6.2f} s  search {solve_s:6.2f} s"
                f"  {len(fps)} points {r['kinds']}  max |f| {resid:.1e}",
                flush=True,
            )
    _fixed_point_lm.DENSE_MAX_N = 32
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "bench_rnn_fixed_points.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
