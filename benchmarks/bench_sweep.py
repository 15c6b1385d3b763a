"""A 24-problem sweep run serially, on a local Dask cluster of threads and one of processes.

Each run is a fresh Python process (so every one pays its own compiling, as a user's first
sweep does); the time is the ``nn.sweep`` call (cluster start, compiling, solving, gathering),
with the interpreter's start and ``import noisynoether`` reported apart. Two workloads:

- ``small``: the double well, K = 101, D in {0.05, 0.1} x T in {2, 5, 10} x 4 end-point pairs
  (24 problems, ~2 ms a solve): compiling dominates.
- ``large``: the Fig. 1c network (multistable), K = 4001, D in {0.16, 0.25} x T in {1, 2, 3}
  x both stable-state pairs x 2 (24 problems, ~0.1 s a solve): solving dominates.

The rows of every run are checked equal to the serial run's (to 1e-12, wall time aside).
Prints a table and writes ``bench_sweep.json`` into ``--out``.

    python benchmarks/bench_sweep.py [--workers 2] [--workloads small large] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKLOADS = {
    "small": {
        "D": [0.05, 0.1],
        "T": [2.0, 5.0, 10.0],
        "num_points": 101,
        "models": [
            {
                "name": "double-well",
                "endpoints": [[-1.0, 1.0], [1.0, -1.0], [-1.0, 0.5], [-0.5, 1.0]],
            }
        ],
    },
    "large": {
        "D": [0.16, 0.25],
        "T": [1.0, 2.0, 3.0],
        "num_points": 4001,
        "models": [
            {
                "name": "multistable",
                "endpoints": [
                    [[3.25, 0.35], [0.35, 3.25]],
                    [[0.35, 3.25], [3.25, 0.35]],
                    [[3.0, 0.1], [0.1, 3.0]],
                    [[0.1, 3.0], [3.0, 0.1]],
                ],
            }
        ],
    },
}

CHILD = """
import json, sys, time
t = time.perf_counter()
import noisynoether as nn
imported = time.perf_counter() - t
config, scheduler, workers, out = json.loads(sys.argv[1])
t = time.perf_counter()
table = nn.sweep(config, scheduler=scheduler, workers=workers)
elapsed = time.perf_counter() - t
table.to_parquet(out)
print(json.dumps({"import_s": imported, "sweep_s": elapsed,
                  "converged": int(table.converged.sum()), "rows": len(table)}))
"""


def run_child(config, scheduler, workers, out: Path) -> dict:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps([config, scheduler, workers, str(out)])],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    info["process_s"] = time.perf_counter() - t
    return info


def same_rows(a: Path, b: Path) -> str:
    """Returns "yes", or the columns that differ from the serial run (floats beyond 1e-12)."""
    import numpy as np
    import pandas as pd

    x, y = pd.read_parquet(a), pd.read_parquet(b)
    differ = []
    for col in x.columns:
        if col == "wall_time":
            continue
        u, v = x[col], y[col]
        if u.dtype.kind == "f":
            d = np.abs(u.to_numpy() - v.to_numpy())
            if np.nanmax(d, initial=0.0) > 1e-12 or not np.array_equal(np.isnan(u), np.isnan(v)):
                differ.append(f"{col} (max {np.nanmax(d):.1e}, rows {np.flatnonzero(d > 1e-12)})")
        elif not (u.astype(str) == v.astype(str)).all():
            differ.append(f"{col} (rows {np.flatnonzero(u.astype(str) != v.astype(str))})")
    return "yes" if not differ else "no: " + "; ".join(differ)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--repeat", type=int, default=2, help="runs of each scheduler, interleaved (best kept)"
    )
    ap.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    schedulers = ("serial", "threads", "processes")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.workloads:
            config = WORKLOADS[name]
            ref = Path(tmp) / f"{name}-serial.parquet"
            runs = {s: [] for s in schedulers}
            for rep in range(args.repeat):
                for scheduler in schedulers:
                    out = Path(tmp) / f"{name}-{scheduler}.parquet"
                    workers = None if scheduler == "serial" else args.workers
                    info = run_child(config, scheduler, workers, out)
                    info.update(workload=name, scheduler=scheduler, workers=workers, run=rep)
                    info["load"] = os.getloadavg()[0]
                    info["same_as_serial"] = same_rows(ref, out)
                    runs[scheduler].append(info)
                    results.append(info)
            for scheduler in schedulers:
                times = [r["sweep_s"] for r in runs[scheduler]]
                loads = ", ".join(f"{r['load']:.1f}" for r in runs[scheduler])
                last = runs[scheduler][-1]
                print(
                    f"{name:6s} {scheduler:10s} workers={last['workers']!s:5s} sweep best "
                    f"{min(times):6.2f} s (runs: {', '.join(f'{t:.1f}' for t in times)}; "
                    f"load {loads})  "
                    f"converged {last['converged']}/{last['rows']}  same rows as serial: "
                    f"{', '.join(sorted({r['same_as_serial'] for r in runs[scheduler]}))}",
                    flush=True,
                )
    meta = dict(cpus=os.cpu_count(), python=platform.python_version(), load=os.getloadavg())
    path = args.out / "bench_sweep.json"
    path.write_text(json.dumps(dict(meta=meta, results=results), indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
