"""Learned scores on the ring of Fig. 2: training time, and path error against training steps.

For each training budget (--steps) and each network kind (plain MLP, rotation-equivariant),
trains a score network by denoising score matching (``scores.train_ring_score``: same data,
seed, architecture and budget for both kinds), then solves the most likely reverse-SDE paths
of Fig. 2 (4 end points, K log-spaced times) through it and compares them with the exact
score's (the baseline, solved in the same run): max path distance, S* error, the largest
drift of L_12 along the paths (``charge_balance``) and the rotation defect
(``symmetry_defect``). Timings: training (compile separated: first chunk less the median
chunk), per-step cost, and the path solves.

    python benchmarks/bench_scores.py [--steps 500 2000 8000] [--num-points 201]
                                      [--out results/benchmarks]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import numpy as np

import noisynoether as nn
from noisynoether import scores


def _summary(entry, ref=None):
    paths = entry["paths"]
    out = {
        "defect": entry["defect"],
        "max_L12_drift": max(p["L12_max_drift"] for p in paths),
        "converged": all(p["converged"] for p in paths),
        "actions": [p["action"] for p in paths],
    }
    if ref is not None:
        out["max_path_distance"] = max(p["distance_to_reference"] for p in paths)
        out["max_abs_action_error"] = max(abs(p["action_difference"]) for p in paths)
        out["max_rel_action_error"] = max(
            abs(p["action_difference"]) / r["action"]
            for p, r in zip(paths, ref["paths"], strict=True)
        )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", nargs="+", type=int, default=[500, 2000, 8000])
    ap.add_argument("--num-points", type=int, default=201)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--learning-rate", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("results/benchmarks"))
    a = ap.parse_args()

    samples = scores.ring_samples(20000, jax.random.key(12345))
    key = jax.random.key(54321)
    exact_loss = scores.dsm_loss(nn.models.ring_score, samples, key, batch=20000)
    exact_sde = nn.models.ring_reverse_diffusion()
    t0 = time.perf_counter()
    base = scores.compare_scores({"exact": exact_sde}, reference="exact", num_points=a.num_points)
    exact_seconds = time.perf_counter() - t0
    ref = base["models"]["exact"]
    rows = [
        {
            "kind": "exact",
            "steps": 0,
            "dsm_loss": exact_loss,
            "paths_seconds": exact_seconds,
            **_summary(ref),
        }
    ]
    for steps in a.steps:
        for kind in scores.KINDS:
            res = scores.train_ring_score(
                kind,
                steps=steps,
                width=a.width,
                depth=a.depth,
                learning_rate=a.learning_rate,
                seed=a.seed,
                chunk=min(100, steps),
            )
            c = res.chunk_seconds
            per_step = float(np.median(c[1:]) / 100) if c.size > 1 else float("nan")
            sde = scores.learned_reverse_diffusion(res.network)
            t0 = time.perf_counter()
            cmp = scores.compare_scores(
                {"exact": exact_sde, kind: sde}, reference="exact", num_points=a.num_points
            )
            # includes re-solving the exact paths (compiled above: ~1 s)
            seconds = time.perf_counter() - t0
            row = {
                "kind": kind,
                "steps": res.steps,
                "train_seconds": res.seconds,
                "train_compile_seconds": res.compile_seconds,
                "ms_per_step": 1e3 * per_step,
                "final_train_loss": float(res.losses[-1]),
                "dsm_loss": scores.dsm_loss(res.network, samples, key, batch=20000),
                "paths_seconds": seconds,
                **_summary(cmp["models"][kind], ref),
            }
            rows.append(row)
            print(
                f"{kind:>12} {res.steps:>6} steps: train {res.seconds:6.1f} s "
                f"(compile {res.compile_seconds:4.1f} s, {row['ms_per_step']:.2f} ms/step), "
                f"loss {row['dsm_loss']:.5f} (exact {exact_loss:.5f}), path dist "
                f"{row['max_path_distance']:.3e}, |dS|/S {row['max_rel_action_error']:.2e}, "
                f"L12 drift {row['max_L12_drift']:.2e}, defect {row['defect']:.2e}",
                flush=True,
            )

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Learned scores, Fig. 2 paths (K = {a.num_points}, 4 end points)")
    cols = (
        "kind",
        "steps",
        "train s",
        "ms/step",
        "DSM loss",
        "max path dist",
        "max |dS|/S",
        "max L12 drift",
        "defect",
        "paths s",
    )
    for col in cols:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["kind"],
            str(r["steps"]),
            f"{r.get('train_seconds', 0.0):.1f}",
            f"{r.get('ms_per_step', float('nan')):.2f}",
            f"{r['dsm_loss']:.5f}",
            f"{r.get('max_path_distance', 0.0):.3e}",
            f"{r.get('max_rel_action_error', 0.0):.2e}",
            f"{r['max_L12_drift']:.2e}",
            f"{r['defect']:.2e}",
            f"{r['paths_seconds']:.1f}",
        )
    Console(width=160).print(table)
    a.out.mkdir(parents=True, exist_ok=True)
    path = a.out / "bench_scores.json"
    path.write_text(
        json.dumps({"args": {k: str(v) for k, v in vars(a).items()}, "rows": rows}, indent=2)
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
