"""Symmetry discovery at network size: time and peak memory of find_symmetries and of the
permutation search of find_discrete_symmetries.

Continuous (``find_symmetries``, matrix-free): a rate network ``xdot = -x + W tanh(x)`` (W =
0.8 G / sqrt(n), seeded) whose last 3 units are a decoupled isotropic linear block (so(3): 3
rotations), D = 0.1 I, on 2n random states. The baseline in the same run is the dense path,
where it fits (n <= --dense-max): the two must give the same generators.

Discrete (``find_discrete_symmetries(permutations="graph")``): a network of 4 identical blocks
of n/4 units with a random hidden relabelling; the automorphism group (S_4 on the blocks) must
be found (3 generators) and verified on the drift. And n identical all-to-all units (S_n,
n - 1 generators: the longest stabiliser chain, one refinement per level).
``permutations="signed"`` (the double cover, 2n vertices) on the same block network (the
biases allow no sign changes: S_4 again) and on a ring whose coupling changes sign once (the
twisted rotation, Z_2n, one generator; no permutation alone holds).

Each size runs in its own process, so that its peak RSS (``resource.getrusage``) is its own.

    python benchmarks/bench_symmetry_scale.py [--sizes 32 64 128 256] [--signed-sizes 256 1024]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import noisynoether as nn


@dataclass(frozen=True, eq=False)
class Network:
    W: np.ndarray
    mask: np.ndarray

    def __call__(self, t, x, args):
        return -x + jnp.asarray(self.W) @ (jnp.tanh(x) * self.mask) - (1 - self.mask) * x


@dataclass(frozen=True, eq=False)
class Biased:
    W: np.ndarray
    b: np.ndarray

    def __call__(self, t, x, args):
        return -x + jnp.asarray(self.W) @ jnp.tanh(x) + jnp.asarray(self.b)


def continuous_problem(n, seed=0):
    rng = np.random.default_rng(seed)
    W = 0.8 * rng.standard_normal((n, n)) / np.sqrt(n)
    W[-3:], W[:, -3:] = 0.0, 0.0
    mask = np.r_[np.ones(n - 3), np.zeros(3)]
    return nn.SDE(drift=Network(W, mask), diffusion=0.1), rng.standard_normal((2 * n, n))


def block_problem(n, seed=0):
    """4 identical blocks of n/4 units, coupled all-to-all by one shared matrix, relabelled."""
    rng = np.random.default_rng(seed)
    m = n // 4
    B = 1.2 * rng.standard_normal((m, m)) / np.sqrt(m)
    C = 0.3 * rng.standard_normal((m, m)) / np.sqrt(m)
    W = np.kron(np.eye(4), B - C) + np.kron(np.ones((4, 4)), C)
    bias = np.tile(0.1 * rng.standard_normal(m), 4)
    perm = rng.permutation(n)
    W, bias = W[np.ix_(perm, perm)], bias[perm]
    return nn.SDE(drift=Biased(W, bias), diffusion=0.1), W, bias


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(kind, n, dense):
    if kind == "continuous":
        sde, pts = continuous_problem(n)
        method = "dense" if dense else "matrix-free"
        t = time.perf_counter()
        syms = nn.find_symmetries(sde, pts, times=0.0, method=method)
        wall = time.perf_counter() - t
        return {
            "kind": kind,
            "n": n,
            "method": method,
            "points": len(pts),
            "s": wall,
            "peak_mb": peak_mb(),
            "found": [s.name for s in syms.affine],
            "A": [s.A.tolist() for s in syms.affine] if n <= 32 else None,
            "max_residual": max((s.residual for s in syms.affine), default=0.0),
        }
    mode = "graph"
    if kind == "meanfield":  # n identical units, all-to-all: S_n, n - 1 generators
        W, bias = np.full((n, n), 0.5 / n), np.full(n, 0.1)
        sde = nn.SDE(drift=Biased(W, bias), diffusion=0.1)
    elif kind == "twisted":  # a ring whose coupling changes sign once: Z_2n, signed only
        W, bias, mode = np.zeros((n, n)), np.zeros(n), "signed"
        W[np.arange(1, n), np.arange(n - 1)], W[0, n - 1] = 1.2, -1.2
        sde = nn.SDE(drift=Biased(W, bias), diffusion=0.1)
    else:  # "discrete" (graph) or "signed" (the same network's double cover)
        sde, W, bias = block_problem(n)
        mode = "signed" if kind == "signed" else "graph"
    pts = np.random.default_rng(1).standard_normal((8, n))
    t = time.perf_counter()
    found = nn.find_discrete_symmetries(sde, pts, times=0.0, permutations=mode, weights=(W, bias))
    wall = time.perf_counter() - t
    return {
        "kind": kind,
        "n": n,
        "method": mode,
        "s": wall,
        "peak_mb": peak_mb(),
        "found": len(found),
        "max_residual": max((s.residual for s in found), default=0.0),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[32, 64, 128, 256])
    ap.add_argument("--graph-sizes", nargs="+", type=int, default=[64, 256, 1024])
    ap.add_argument("--meanfield-sizes", nargs="+", type=int, default=[256])
    ap.add_argument("--signed-sizes", nargs="+", type=int, default=[256, 1024])
    ap.add_argument("--dense-max", type=int, default=32)
    ap.add_argument("--out", default="results/benchmarks", type=Path)
    ap.add_argument("--one", nargs=3, metavar=("KIND", "N", "DENSE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        jax.config.update("jax_enable_x64", True)
        kind, n, dense = args.one[0], int(args.one[1]), args.one[2] == "1"
        print(json.dumps(run_one(kind, n, dense)))
        return
    jobs = [("continuous", n, False) for n in args.sizes]
    jobs += [("continuous", n, True) for n in args.sizes if n <= args.dense_max]
    jobs += [("discrete", n, False) for n in args.graph_sizes]
    jobs += [("meanfield", n, False) for n in args.meanfield_sizes]
    jobs += [(k, n, False) for n in args.signed_sizes for k in ("signed", "twisted")]
    rows = []
    print(f"backend: {jax.default_backend()}")
    print(f"{'kind':<11}{'n':>6}  {'method':<12}{'time s':>9}{'peak MB':>10}  found")
    for kind, n, dense in jobs:
        out = subprocess.run(
            [sys.executable, __file__, "--one", kind, str(n), "1" if dense else "0"],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            row = {"kind": kind, "n": n, "dense": dense, "error": out.stderr[-500:]}
            print(f"{kind:<11}{n:>6}  failed: {out.stderr.strip().splitlines()[-1:]}")
        else:
            row = json.loads(out.stdout.strip().splitlines()[-1])
            found = row["found"] if isinstance(row["found"], int) else len(row["found"])
            print(
                f"{kind:<11}{n:>6}  {row['method']:<12}{row['s']:>9.2f}{row['peak_mb']:>10.0f}"
                f"  {found} (max residual {row['max_residual']:.1e})"
            )
        rows.append(row)
    for n in args.sizes:  # the baseline: dense and matrix-free give the same generators
        pair = [r for r in rows if r.get("n") == n and r.get("kind") == "continuous" and r.get("A")]
        if len(pair) == 2:
            diff = max(
                float(np.max(np.abs(np.array(a) - np.array(b))))
                for a, b in zip(pair[0]["A"], pair[1]["A"], strict=True)
            )
            print(f"n = {n}: dense vs matrix-free generators differ by {diff:.1e}")
    for r in rows:
        r.pop("A", None)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "symmetry_scale.json"
    path.write_text(json.dumps(rows, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
