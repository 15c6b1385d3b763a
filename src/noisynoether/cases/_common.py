"""What every case study reports about a solved path, and how it reports its progress.

``path_summary`` reads only the result protocol shared by every path solver (``ts``, ``xs``,
``action``, ``energy``, ``momentum``, ``converged``, ``message``, ``iterations``, and
``status``/``stats`` where present), so it works with a ``PathResult``, an
``EnergyPathResult`` or a ``ShootResult``. Until every solver speaks that protocol,
``along`` also reads the older names (``EnergyPathResult.energy_along`` when ``energy`` is
the scalar target, ``ShootResult.ps`` and its accumulated ``action`` array).

Progress: every case's ``run(quick=False, progress=None)`` takes ``progress`` = None (silent),
True (one printed line per step) or a callable taking one line of text per step; a callable
with a true attribute ``bars`` also gets rich progress bars from the long loops (Monte Carlo
chunks, multi-start).
"""

from __future__ import annotations

import time

import numpy as np


def _stats(a) -> dict:
    a = np.asarray(a, dtype=float)
    return {
        "mean": float(np.mean(a)),
        "spread": float(np.ptp(a)),
        "min": float(np.min(a)),
        "max": float(np.max(a)),
    }


def along(res) -> dict:
    """The charges along any path result: energy (per interval, Eq. 10), momentum, total action.

    Returns ``{"energy": (K-1,) or (K,) array, "momentum": (K-1, n) or (K, n) array or None,
    "action": float}``: per interval (at the midpoints) for the fixed-time and fixed-energy
    solvers; at the nodes for an older ``ShootResult`` (its Hamiltonian and momenta).
    """
    energy = np.asarray(res.energy, dtype=float)
    if energy.ndim == 0:  # EnergyPathResult before the common protocol: energy is the target
        energy = np.asarray(res.energy_along, dtype=float)
    momentum = getattr(res, "momentum", None)
    if momentum is None:  # ShootResult before the common protocol
        momentum = getattr(res, "ps", None)
    action = np.asarray(res.action, dtype=float)
    total = float(action.reshape(-1)[-1]) if action.ndim else float(action)
    return {
        "energy": energy,
        "momentum": None if momentum is None else np.asarray(momentum, dtype=float),
        "action": total,
    }


def target_energy(res) -> float:
    """The energy a fixed-energy path was solved at (``target_energy``; ``energy`` before)."""
    e = getattr(res, "target_energy", None)
    return float(res.energy if e is None else e)


def _optional_float(res, name):
    v = getattr(res, name, None)
    return None if v is None else float(v)


def path_summary(label: str, res, charges: dict[str, np.ndarray]) -> dict:
    """The per-path row of a case's summary: S*, E, the named charges, convergence, the grid.

    ``res`` is any path result (see the module docstring); fields a solver does not report
    (``grad_norm``, ``min_eigenvalue``) are None.
    """
    dts = np.diff(res.ts)
    ch = along(res)
    status = getattr(res, "status", None)
    row = {
        "label": label,
        "action": ch["action"],
        "energy": _stats(ch["energy"]),
        "charges": {name: _stats(v) for name, v in charges.items()},
        "converged": bool(res.converged),
        "iterations": int(getattr(res, "iterations", 0)),
        "grad_norm": _optional_float(res, "grad_norm"),
        "min_hessian_eigenvalue": _optional_float(res, "min_eigenvalue"),
        "message": res.message,
        "grid": {
            "K": int(res.ts.size),
            "t0": float(res.ts[0]),
            "t1": float(res.ts[-1]),
            "dt_min": float(dts.min()),
            "dt_max": float(dts.max()),
        },
    }
    if status is not None:
        row["status"] = getattr(status, "name", str(status))
    return row


class Steps:
    """Reports a case study's steps to ``progress`` (see the module docstring), with timings."""

    def __init__(self, progress, name: str):
        if progress is True:
            self._report = lambda line: print(line, flush=True)
        else:
            self._report = progress or None
        self.bars = bool(getattr(progress, "bars", False))
        self._name = name
        self._start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self._report is not None:
            self._report(f"{self._name} [{time.perf_counter() - self._start:6.1f} s] {message}")
