"""What every case study reports about a solved path."""

from __future__ import annotations

import numpy as np


def _stats(a) -> dict:
    a = np.asarray(a, dtype=float)
    return {
        "mean": float(np.mean(a)),
        "spread": float(np.ptp(a)),
        "min": float(np.min(a)),
        "max": float(np.max(a)),
    }


def path_summary(label: str, res, charges: dict[str, np.ndarray]) -> dict:
    """The per-path row of a case's summary: S*, E, the named charges, convergence, the grid."""
    dts = np.diff(res.ts)
    return {
        "label": label,
        "action": float(res.action),
        "energy": _stats(res.energy),
        "charges": {name: _stats(v) for name, v in charges.items()},
        "converged": bool(res.converged),
        "iterations": int(res.iterations),
        "grad_norm": float(res.grad_norm),
        "min_hessian_eigenvalue": None if res.min_eigenvalue is None else float(res.min_eigenvalue),
        "message": res.message,
        "grid": {
            "K": int(res.ts.size),
            "t0": float(res.ts[0]),
            "t1": float(res.ts[-1]),
            "dt_min": float(dts.min()),
            "dt_max": float(dts.max()),
        },
    }
