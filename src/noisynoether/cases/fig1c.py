"""Fig. 1c: the multistable attractor network (Eq. 20), energy selects the route.

Paths from (3, 0.1) to (0.1, 3) at T = 1 (high E: direct) and T = 40 (low E: the path waits at
attractors on the way). The landscape has several local minima, so both are solved with
``find_paths`` (straight, via each stable state, random smooth starts); at T = 40 each start is
first solved with smoother sigmoids (n = 0.16 -> 0.02, continuation) in the full run (the quick
run relies on the solver's own coarse-to-fine retry instead). The fixed points (stable, saddles)
are found and drawn on the stationary density: long simulations from the origin
(REPRODUCTION.md: 100000 paths to t = 50), their final states binned finely and smoothed with a
Gaussian kernel (a binned kernel density estimate; the paper's 30-bin histogram has holes in the
tails). ``quick``: starts via the two intermediate stable states only at T = 1 (those next to x0
and x1 give starts close to the straight line) and the straight start alone at T = 40, on the
steep model itself without continuation (it creeps to max_steps on the full grid and the
solver's coarse-to-fine retry takes it to the global path through (2.35, 2.35)), one random
start at T = 1, and at T = 40 the 513-point grid alone (no refinement: S* = 6.589 there, against
6.6308 on 1025 points and 6.61086 in the full run; its E spread is the coarse grid's), with the
straight start's creep cut at max_steps = 400 before the retry, 10000 density paths. Measured
in the suite's fast-compile setting: the quick Fig. 1c 32.8 s -> 12.3 s (the refinement to
1025 points took 593 iterations; the simulation kernel is now compiled optimised, 6.1 -> 2.5 s).
"""

from __future__ import annotations

import time

import jax
import numpy as np
from scipy.ndimage import gaussian_filter

from .. import find_paths, fixed_points, models, simulate
from ._common import Steps, path_summary

X0, X1 = np.array([3.0, 0.1]), np.array([0.1, 3.0])
BOX = (np.array([-0.5, -0.5]), np.array([4.0, 4.0]))
DENSITY_RANGE = (-0.5, 4.0)  # both axes
DENSITY_BINS = 225  # bins of 0.02
DENSITY_BANDWIDTH = 0.06  # std of the Gaussian kernel, in state units


def _density(sde, num_paths, t_end=50.0, dt=0.025, chunk=10000, seed=1, steps=None):
    """Kernel density estimate of the states at t_end of paths started at the origin.

    The final states are binned into a fine 2-D histogram over DENSITY_RANGE^2, which is then
    convolved with a Gaussian of std DENSITY_BANDWIDTH (a binned Gaussian KDE). ``floor`` is
    the peak of one sample's kernel, 1 / (N 2 pi h^2): below it the estimate resolves nothing.
    """
    ts = np.arange(0.0, t_end + 0.5 * dt, dt)
    finals = []
    key = jax.random.PRNGKey(seed)
    for i in range(0, num_paths, chunk):
        key, sub = jax.random.split(key)
        m = min(chunk, num_paths - i)
        if steps is not None:
            steps(f"density: simulating paths {i + 1}-{i + m} of {num_paths} to t = {t_end:g}")
        sample = simulate(sde, np.zeros(2), ts, sub, m)
        finals.append(sample.xs[:, -1])
    finals = np.concatenate(finals)
    lo, hi = DENSITY_RANGE
    H, xe, ye = np.histogram2d(
        finals[:, 0], finals[:, 1], bins=DENSITY_BINS, range=[[lo, hi], [lo, hi]]
    )
    width = (hi - lo) / DENSITY_BINS
    H = gaussian_filter(H, DENSITY_BANDWIDTH / width, mode="constant") / (num_paths * width**2)
    return {
        "H": H,
        "xedges": xe,
        "yedges": ye,
        "num_paths": int(num_paths),
        "t_end": t_end,
        "bandwidth": DENSITY_BANDWIDTH,
        "floor": 1.0 / (num_paths * 2 * np.pi * DENSITY_BANDWIDTH**2),
        "outside_fraction": float(np.mean(np.any((finals < lo) | (finals > hi), axis=1))),
    }


def run(quick: bool = False, progress=None) -> dict:
    """Solve both durations, find the fixed points and the density; return the case data.

    ``progress``: None, True or a callable (see ``cases._common``): one line per step.
    """
    steps = Steps(progress, "fig1c")
    sde = models.multistable()
    # Each smoother model is compiled anew: the full run only (quick relies on coarse to fine).
    smoother = () if quick else [models.multistable(n=v) for v in (0.16, 0.08, 0.04, 0.02)]
    steps("fixed points of the drift")
    fps = fixed_points(sde, *BOX)
    stable = [fp.x for fp in fps if fp.kind == "stable"]
    if quick:  # the stable states next to x0 and x1 give starts close to the straight line
        stable = [x for x in stable if min(np.max(np.abs(x - X0)), np.max(np.abs(x - X1))) > 0.5]
    # Adaptive grids (accuracy=): a uniform grid steps over the sigmoid ramps. Starting grids
    # of 2^j + 1 points keep the compiled solvers shared between the starts and the rounds.
    settings = {
        1.0: dict(
            num_points=129,
            continuation=(),
            through=stable,
            num_starts=1 if quick else 4,
            accuracy=1e-4 if quick else 1e-7,
        ),
        40.0: dict(
            num_points=513 if quick else 1025,
            continuation=smoother,
            num_starts=0 if quick else 2,
            accuracy=None if quick else 1e-6,
            max_steps=400 if quick else 2000,
            through=[] if quick else stable,
        ),
    }
    paths, summary, sets = [], [], {}
    for T, opts in settings.items():
        t = time.perf_counter()
        smooth = opts["continuation"]
        steps(
            f"T = {T:g}: multi-start (straight, via {len(opts['through'])} stable states, "
            f"{opts['num_starts']} random)"
            + (f", each continued over {len(smooth)} smoother models" if smooth else "")
        )
        ps = find_paths(sde, X0, X1, 0.0, T, progress=steps.bars, **opts)
        sets[T] = {
            "seconds": time.perf_counter() - t,
            "attempts": ps.attempts,
            "num_minima": len(ps),
        }
        for rank, (res, label) in enumerate(zip(ps.paths, ps.labels, strict=True)):
            tag = f"T = {T:g}, #{rank + 1} ({label})" + (" global" if rank == 0 else "")
            row = path_summary(tag, res, {})
            row["action_error"] = res.action_error
            row["refinement"] = list(res.refinement)
            summary.append(row)
            paths.append(
                {
                    "T": T,
                    "rank": rank,
                    "label": label,
                    "ts": res.ts,
                    "xs": res.xs,
                    "energy": res.energy,
                    "tm": 0.5 * (res.ts[1:] + res.ts[:-1]),
                    "action": res.action,
                }
            )
    density = _density(sde, 10000 if quick else 100000, steps=steps)
    steps("done")
    return {
        "name": "fig1c",
        "title": "Fig. 1c: multistable network (Eq. 20), (3, 0.1) -> (0.1, 3)",
        "paths": paths,
        "summary": summary,
        "fixed_points": [
            {"x": fp.x, "kind": fp.kind, "eigenvalues": np.real(fp.eigenvalues)} for fp in fps
        ],
        "density": density,
        "charges_discussed": ["E"],
        "checks": {
            "fixed_points": {
                k: sum(fp.kind == k for fp in fps) for k in ("stable", "saddle", "unstable")
            },
            "find_paths": {f"T = {T:g}": v for T, v in sets.items()},
            "note": "adaptive grids (accuracy=); E spread measures the discretisation at the "
            "sigmoid ramps (see docs/paper-notes.md)",
        },
    }
