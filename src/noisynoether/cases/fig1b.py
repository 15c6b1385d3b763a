"""Fig. 1b: the 2-D Ornstein-Uhlenbeck model, energy and angular momentum.

``xdot = -x + sqrt(2) eta`` (D = 1, steady state N(0, I)), paths from (-2, 2) to (2, 2) over
T = 1 (fast: high E and |L_12|, direct) and T = 10 (slow: E and L_12 near 0, the path dives to
the attractor at the origin first). Checked against the closed form
``x(t) = (x_T - x_0 e^{-T}) sinh(t)/sinh(T) + x_0 e^{-t}`` per coordinate.
"""

from __future__ import annotations

import numpy as np

from .. import models, most_likely_path
from ._common import Steps, path_summary

X0, X1 = np.array([-2.0, 2.0]), np.array([2.0, 2.0])
DURATIONS = (1.0, 10.0)


def exact_path(ts, T):
    """The closed form of REPRODUCTION.md, per coordinate."""
    t = np.asarray(ts)[:, None]
    return (X1 - X0 * np.exp(-T)) * np.sinh(t) / np.sinh(T) + X0 * np.exp(-t)


def exact_charges(T):
    """E and L_12 of the exact path (constant along it), from p(0) = C(T)^-1 (x1 - m(T))."""
    ex = models.linear_bridge(-np.eye(2), 1.0, X0, X1, T, [0.0])
    p, x = ex["momentum"][0], X0
    f = -x
    return {
        "action": ex["action"],
        "E": float(p @ p + p @ f),
        "L12": float(x[0] * p[1] - x[1] * p[0]),
    }


def run(quick: bool = False, progress=None) -> dict:
    """Solve both paths and return the data of the figure and the report.

    ``progress``: None, True or a callable (see ``cases._common``): one line per step.
    """
    steps = Steps(progress, "fig1b")
    sde = models.ornstein_uhlenbeck(-np.eye(2), 1.0)
    K = 201 if quick else 2001
    paths, summaries = [], []
    for T in DURATIONS:
        steps(f"T = {T:g}: most likely path on {K} points")
        res = most_likely_path(sde, X0, X1, 0.0, T, num_points=K)
        L12 = res.angular_momentum[:, 0, 1]
        exact = exact_charges(T)
        xs_exact = exact_path(res.ts, T)
        row = path_summary(f"T = {T:g}", res, {"L12": L12})
        row["exact"] = {
            "action": exact["action"],
            "E": exact["E"],
            "L12": exact["L12"],
            "path_max_error": float(np.max(np.abs(res.xs - xs_exact))),
            "action_rel_error": abs(res.action - exact["action"]) / exact["action"],
        }
        summaries.append(row)
        tm = 0.5 * (res.ts[:-1] + res.ts[1:])
        paths.append(
            {
                "T": T,
                "ts": res.ts,
                "xs": res.xs,
                "xs_exact": xs_exact,
                "tm": tm,
                "energy": res.energy,
                "L12": L12,
            }
        )
    g = np.linspace(-3.0, 3.0, 241)
    X, Y = np.meshgrid(g, g)
    density = np.exp(-(X**2 + Y**2) / 2) / (2 * np.pi)
    return {
        "name": "fig1b",
        "title": "Fig. 1b: 2-D Ornstein-Uhlenbeck, f = -x, D = 1, (-2, 2) -> (2, 2)",
        "paths": paths,
        "summary": summaries,
        "density": {"x": g, "y": g, "p": density},
        "charges_discussed": ["E", "L12"],
    }
