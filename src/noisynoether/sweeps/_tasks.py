"""One problem of a sweep (``SweepProblem``) and the task that solves it into one table row.

``solve_problem`` is what a Dask worker (or the serial loop) runs: it builds the model, solves
the most likely path (``most_likely_path``, Eq. 8) and returns a plain dict, the problem's row.
It never raises for a problem: an exception inside becomes a row with ``status = "RAISED"``,
the error and its traceback, so one bad problem never stops the others.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import traceback
from typing import Any

import numpy as np

from ._models import build_model

__all__ = ["SweepProblem", "solve_problem", "RAISED"]

#: The status of a row whose task raised (the solver's statuses are ``nn.Status`` names).
RAISED = "RAISED"


def _frozen(value):
    """A hashable, picklable copy of a TOML/JSON-like value (lists -> tuples, dicts -> items)."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | np.ndarray):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _thawed(value):
    """Back from ``_frozen``'s tuples to lists (for JSON and for the model functions)."""
    if isinstance(value, tuple):
        return [_thawed(v) for v in value]
    return value


def _state(value, name: str) -> tuple[float, ...]:
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"SweepProblem: {name} must be a number or a flat list; got {value!r}")
    return tuple(float(v) for v in arr)


@dataclasses.dataclass(frozen=True)
class SweepProblem:
    """One most likely path to solve in a sweep: a model, a noise level, a duration, end points.

    Made by ``sweep_problems`` from a configuration, or by hand. Immutable and picklable, so it
    travels to Dask workers as it is.

    Attributes:
        model: a built-in model's name (``noisynoether.models._registry.MODELS``: ``ou``,
            ``ou-nonnormal``, ``drift-diffusion``, ``double-well``, ``multistable``, ``ring``).
        x0, x1: the end states (numbers for a 1-D model).
        T: the duration t1 - t0 (> 0); None for the model's own time grid (the ring's).
        t0: the start time.
        D: the noise level: None (the model's own diffusion), a number (D = d I), a vector
            (diagonal D) or a matrix; it replaces the model's D (paper Eq. 5).
        num_points: K, points of the uniform time grid.
        params: keyword arguments of the model's function in ``nn.models`` (a dict).
        solver: ``method`` (``"auto"``, ``"newton"``, ``"newton-cg"``), ``accuracy`` and the
            solver's options (``rtol``, ``max_steps``, ...), passed to ``most_likely_path``.
        endpoints: a label for the pair of end points (``"given 0"``, ``"stable 0 -> 1"``).
    """

    model: str
    x0: Any
    x1: Any
    T: float | None = 1.0
    t0: float = 0.0
    D: Any = None
    num_points: int = 101
    params: Any = ()
    solver: Any = ()
    endpoints: str = ""

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "x0", _state(self.x0, "x0"))
        set_(self, "x1", _state(self.x1, "x1"))
        set_(self, "T", None if self.T is None else float(self.T))
        set_(self, "t0", float(self.t0))
        set_(self, "num_points", int(self.num_points))
        for name in ("params", "solver"):
            value = getattr(self, name)
            set_(self, name, _frozen(dict(value) if not isinstance(value, dict) else value))
        set_(self, "D", _frozen(self.D))

    @property
    def params_dict(self) -> dict:
        """The model's keyword arguments as a dict."""
        return {k: _thawed(v) for k, v in self.params}

    @property
    def solver_dict(self) -> dict:
        """``method``, ``accuracy`` and the solver's options as a dict."""
        return {k: _thawed(v) for k, v in self.solver}

    @property
    def D_value(self):
        """The noise level as given (None, a number, or a nested list)."""
        return _thawed(self.D)


def _problem_columns(p: SweepProblem) -> dict:
    D = p.D_value
    return {
        "model": p.model,
        "params": json.dumps(p.params_dict, sort_keys=True),
        "D": float(D) if isinstance(D, int | float) else math.nan,
        "diffusion": "" if D is None else json.dumps(D),
        "t0": p.t0,
        "T": math.nan if p.T is None else p.T,
        "endpoints": p.endpoints,
        "x0": list(p.x0),
        "x1": list(p.x1),
        "num_points": p.num_points,
        "solver": json.dumps(p.solver_dict, sort_keys=True),
    }


_EMPTY_RESULT = {
    "action": math.nan,
    "converged": False,
    "status": RAISED,
    "message": "",
    "iterations": None,
    "grad_norm": math.nan,
    "energy_mean": math.nan,
    "energy_spread": math.nan,
    "wall_time": math.nan,
    "error": "",
    "traceback": "",
}


def error_row(problem: SweepProblem, err: BaseException, *, wall_time=math.nan, where="") -> dict:
    """The row of a problem whose task raised ``err`` (``where``: e.g. "on the worker")."""
    text = f"{type(err).__name__}: {err}"
    return {
        **_problem_columns(problem),
        **_EMPTY_RESULT,
        "message": f"raised {text}{' ' + where if where else ''}; the other problems ran",
        "wall_time": wall_time,
        "error": text,
        "traceback": "".join(traceback.format_exception(err)),
    }


def _times(problem: SweepProblem):
    """(t0, t1, ts): the uniform grid on [t0, t0 + T], or the model's own grid when T is None."""
    if problem.T is not None:
        return problem.t0, problem.t0 + problem.T, None
    from ..models._registry import MODELS

    ts = problem.t0 + MODELS[problem.model].times(problem.num_points)
    return float(ts[0]), float(ts[-1]), ts


def solve_problem(problem: SweepProblem) -> dict:
    """Solve one problem; its row (a dict of plain values). Never raises for the problem.

    The row holds the problem's columns (model, params, D, t0, T, end points, K, solver), the
    result (action S*, converged, status name, message, iterations, final gradient norm, mean
    and spread of the energy E along the path, Eq. 10), the wall time of the solve (which
    includes compiling when this process meets the model and K for the first time) and, when
    the task raised, ``status = "RAISED"`` with the error and its traceback.
    """
    from ..solvers import most_likely_path

    start = time.perf_counter()
    try:
        sde = build_model(problem.model, problem.params_dict, problem.D_value)
        t0, t1, ts = _times(problem)
        opts = problem.solver_dict
        res = most_likely_path(
            sde,
            np.asarray(problem.x0),
            np.asarray(problem.x1),
            t0,
            t1,
            num_points=problem.num_points,
            ts=ts,
            **opts,
        )
        energy = np.asarray(res.energy, dtype=np.float64)
        row = {
            **_problem_columns(problem),
            "action": float(res.action),
            "converged": bool(res.converged),
            "status": res.status.name,
            "message": str(res.message),
            "iterations": int(res.iterations),
            "grad_norm": float(res.grad_norm),
            "energy_mean": float(np.mean(energy)),
            "energy_spread": float(np.ptp(energy)),
            "wall_time": 0.0,
            "error": "",
            "traceback": "",
        }
    except Exception as err:  # one problem's failure is its row, never the sweep's
        return error_row(problem, err, wall_time=time.perf_counter() - start)
    row["wall_time"] = time.perf_counter() - start
    return row
