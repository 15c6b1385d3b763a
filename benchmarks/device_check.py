"""Accelerator check: the default solver path on this backend against the CPU path, and timings.

Solves the Fig. 1c network at T = 1 (K = 1000, 10000) and the Fig. 1b OU paths with the
backend's default linear solver (``scan`` on a GPU) and with ``lapack`` (a host callback), and
compares with the same solves run in a subprocess on the CPU backend. Prints a table and
writes JSON.

    python benchmarks/device_check.py [--out results/benchmarks]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

PROBLEMS = [("multistable", 1000), ("multistable", 10000), ("ou_T10", 2001)]


def solve_all(linear_solver):
    import numpy as np

    import noisynoether as nn

    out = {}
    for name, K in PROBLEMS:
        if name == "multistable":
            sde, x0, x1, T = nn.models.multistable(), [3.0, 0.1], [0.1, 3.0], 1.0
        else:
            sde, x0, x1, T = nn.models.ornstein_uhlenbeck(-np.eye(2), 1.0), [-2, 2], [2, 2], 10.0
        kw = dict(num_points=K, linear_solver=linear_solver)
        nn.most_likely_path(sde, x0, x1, 0.0, T, **kw)
        t = time.perf_counter()
        res = nn.most_likely_path(sde, x0, x1, 0.0, T, **kw)
        out[f"{name}/K={K}"] = {
            "seconds": time.perf_counter() - t,
            "action": res.action,
            "iterations": res.iterations,
            "converged": res.converged,
            "grad_norm": res.grad_norm,
            "xs": res.xs.tolist(),
        }
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(solve_all("auto")))
        return
    import jax
    import numpy as np

    env = dict(os.environ, JAX_PLATFORMS="cpu")
    cpu = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--child"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    backend = jax.default_backend()
    results = {
        "cpu": cpu,
        f"{backend}/auto": solve_all("auto"),
        f"{backend}/lapack": solve_all("lapack"),
        f"{backend}/cyclic": solve_all("cyclic"),
    }
    print(f"backend {backend}: {jax.devices()[0].device_kind}")
    print(
        f"{'problem':>22} {'run':>14} {'seconds':>9} {'iters':>6} {'S*':>18} "
        f"{'max |dx| vs cpu':>16}"
    )
    for run, res in results.items():
        for key, r in res.items():
            dx = float(np.max(np.abs(np.array(r["xs"]) - np.array(cpu[key]["xs"]))))
            print(
                f"{key:>22} {run:>14} {r['seconds']:9.4f} {r['iterations']:6d} "
                f"{r['action']:18.12f} {dx:16.1e}"
            )
    for res in results.values():
        for r in res.values():
            del r["xs"]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"device_check_{backend}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
