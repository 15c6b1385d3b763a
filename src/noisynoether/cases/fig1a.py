"""Fig. 1a: the drift-diffusion model of decision making, momentum along the most likely path.

``xdot = v + sigma eta`` with v = 0.1, sigma = 1 (D = 1/2), evidence starting at x0 = 0.5 and
absorbing decision bounds at -1 and +1. Monte Carlo as the authors ran it: Euler-Maruyama with
dt = 0.025 (40 steps on [0, 1]) for 100000 paths, keeping those absorbed at the wrong bound -1
with hitting time in [0.95, 1.0] (the authors kept 981). Their ensemble is compared with the most
likely path from 0.5 to -1 over T = 1 *ignoring* the bounds: the straight line of Eq. 19, with
constant momentum ``p = (xdot - v) / sigma^2 = (-1.5 - 0.1) / 1 = -1.6`` (translation symmetry).
"""

from __future__ import annotations

import jax
import numpy as np

from .. import models, most_likely_path
from ..sampling import conditioned_ensemble, simulate
from ._common import Steps, path_summary

V, SIGMA = 0.1, 1.0
X0, X_WRONG, BOUNDS = 0.5, -1.0, (-1.0, 1.0)
T, DT = 1.0, 0.025
HIT_WINDOW = (0.95, 1.0)
NUM_PATHS, NUM_PATHS_QUICK = 100_000, 20_000
SEED = 0
MAX_PLOTTED = 300
AUTHORS_KEPT = 981


def exact_momentum() -> float:
    """Eq. 19: p = (xdot - v) / sigma^2 on the straight line from X0 to X_WRONG over T."""
    return ((X_WRONG - X0) / T - V) / SIGMA**2


def run(quick: bool = False, progress=None) -> dict:
    """Sample the bounded drift-diffusion model, condition it, and solve the most likely path.

    ``progress``: None, True or a callable (see ``cases._common``): one line per step.
    """
    steps = Steps(progress, "fig1a")
    sde = models.drift_diffusion(V, SIGMA)
    num_steps = round(T / DT)
    ts = np.linspace(0.0, T, num_steps + 1)
    num_paths = NUM_PATHS_QUICK if quick else NUM_PATHS
    steps(f"simulating {num_paths} paths with absorbing bounds {BOUNDS}")
    sample = simulate(
        sde,
        X0,
        ts,
        jax.random.PRNGKey(SEED),
        num_paths,
        lower=BOUNDS[0],
        upper=BOUNDS[1],
        progress=steps.bars,
    )
    ens = conditioned_ensemble(sample, boundary=-1, hit_window=HIT_WINDOW)
    steps(f"kept {ens.count} paths absorbed at -1 in {HIT_WINDOW}; solving the most likely path")
    res = most_likely_path(sde, X0, X_WRONG, 0.0, T, num_points=num_steps + 1)
    p = res.momentum[:, 0]
    row = path_summary("most likely path (T = 1)", res, {"p": p})
    p_exact = exact_momentum()
    line = X0 + (X_WRONG - X0) * res.ts / T

    mean = ens.mean[:, 0]
    plotted = ens.xs[:MAX_PLOTTED, :, 0]
    checks = {
        "num_paths": num_paths,
        "kept": ens.count,
        "kept_fraction": ens.fraction,
        "authors_kept": AUTHORS_KEPT,
        "authors_kept_fraction": AUTHORS_KEPT / NUM_PATHS,
        "absorbed_lower_fraction": float(np.mean(sample.hit_boundary == -1)),
        "absorbed_upper_fraction": float(np.mean(sample.hit_boundary == 1)),
        "max_abs_mean_minus_most_likely": float(np.max(np.abs(mean - res.xs[:, 0])))
        if ens.count
        else float("nan"),
        "p_mean": float(np.mean(p)),
        "p_spread": float(np.ptp(p)),
        "p_exact": p_exact,
        "p_max_error": float(np.max(np.abs(p - p_exact))),
        "path_max_error_vs_straight_line": float(np.max(np.abs(res.xs[:, 0] - line))),
    }
    return {
        "name": "fig1a",
        "title": (
            "Fig. 1a: drift-diffusion, v = 0.1, sigma = 1, x0 = 0.5, bounds +/-1, "
            "paths to -1 at T = 1"
        ),
        "paths": [
            {
                "label": row["label"],
                "T": T,
                "ts": res.ts,
                "xs": res.xs[:, 0],
                "tm": 0.5 * (res.ts[:-1] + res.ts[1:]),
                "p": p,
                "p_exact": p_exact,
                "ensemble": {
                    "ts": ens.ts,
                    "raw": plotted,
                    "count": ens.count,
                    "num_paths": num_paths,
                    "hit_window": HIT_WINDOW,
                    "bounds": BOUNDS,
                    "mean": mean,
                    "median": ens.median[:, 0],
                    "std": ens.std[:, 0],
                    "q05": ens.quantiles[0.05][:, 0],
                    "q95": ens.quantiles[0.95][:, 0],
                },
            }
        ],
        "summary": [row],
        "charges_discussed": ["p"],
        "checks": checks,
    }
