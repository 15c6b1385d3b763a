"""Fig. 1c: the multistable attractor network (Eq. 20), energy selects the route.

Paths from (3, 0.1) to (0.1, 3) at T = 1 (high E: direct) and T = 40 (low E: the path waits at
attractors on the way). The landscape has several local minima, so both are solved with
``find_paths`` (straight, via each stable state, random smooth starts); at T = 40 each start is
first solved with smoother sigmoids (n = 0.16 -> 0.02, continuation), which is what makes the
steep problem converge. The fixed points (stable, saddles) are found and drawn on the
stationary density (2-D histogram of long simulations from the origin).
"""

from __future__ import annotations

import time

import jax
import numpy as np

from .. import find_paths, fixed_points, models, simulate
from ._common import path_summary

X0, X1 = np.array([3.0, 0.1]), np.array([0.1, 3.0])
BOX = (np.array([-0.5, -0.5]), np.array([4.0, 4.0]))


def _density(sde, num_paths, t_end=50.0, dt=0.025, chunk=10000, seed=1):
    """2-D histogram (30 bins) of the states at t_end of paths started at the origin."""
    ts = np.arange(0.0, t_end + 0.5 * dt, dt)
    finals = []
    key = jax.random.PRNGKey(seed)
    for i in range(0, num_paths, chunk):
        key, sub = jax.random.split(key)
        sample = simulate(sde, np.zeros(2), ts, sub, min(chunk, num_paths - i))
        finals.append(sample.xs[:, -1])
    finals = np.concatenate(finals)
    H, xe, ye = np.histogram2d(finals[:, 0], finals[:, 1], bins=30, density=True)
    return {"H": H, "xedges": xe, "yedges": ye, "num_paths": int(num_paths), "t_end": t_end}


def run(quick: bool = False, *, progress: bool = False) -> dict:
    """Solve both durations, find the fixed points and the density; return the case data."""
    sde = models.multistable()
    smoother = [models.multistable(n=v) for v in (0.16, 0.08, 0.04, 0.02)]
    fps = fixed_points(sde, *BOX)
    stable = [fp.x for fp in fps if fp.kind == "stable"]
    # Adaptive grids (accuracy=): a uniform grid steps over the sigmoid ramps. Starting grids
    # of 2^j + 1 points keep the compiled solvers shared between the starts and the rounds.
    settings = {
        1.0: dict(
            num_points=129,
            continuation=(),
            num_starts=1 if quick else 4,
            accuracy=1e-4 if quick else 1e-7,
        ),
        40.0: dict(
            num_points=513 if quick else 1025,
            continuation=smoother,
            num_starts=0 if quick else 2,
            accuracy=1e-3 if quick else 1e-6,
            max_steps=2000,
        ),
    }
    paths, summary, sets = [], [], {}
    for T, opts in settings.items():
        t = time.perf_counter()
        ps = find_paths(sde, X0, X1, 0.0, T, through=stable, progress=progress, **opts)
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
    density = _density(sde, 20000 if quick else 100000)
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
            "note": "uniform grids; E spread measures the discretisation at the sigmoid ramps "
            "(see docs/paper-notes.md)",
        },
    }
