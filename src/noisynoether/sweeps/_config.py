"""A sweep's configuration (a dict, or a TOML file read with the standard library's tomllib)
expanded into its list of problems: models x noise levels x durations x end points x grids.

The format (every key but ``models`` optional; a key inside a ``[[models]]`` entry overrides
the top-level one for that model)::

    D = [0.05, 0.1]        # noise levels: each replaces the model's D (number: D = d I,
                           # vector: diagonal D, matrix); default: the model's own D
    T = [2.0, 5.0]         # durations t1 - t0 (> 0); default: the registry's t1 - t0
    t0 = 0.0               # start time; default: the registry's t0
    num_points = 101       # K (>= 3), one or a list; default: the registry's

    [solver]               # most_likely_path's method, accuracy and solver options
    method = "newton"      # "auto" (default), "newton", "newton-cg"
    max_steps = 200        # rtol, max_steps, damping, check_minimum, linear_solver, max_cg...

    [[models]]
    name = "double-well"                   # a name of noisynoether.models._registry.MODELS
    params = { diffusion = 0.05 }          # keywords of its function in nn.models
    endpoints = [[-1.0, 1.0], [1.0, -1.0]] # [x0, x1] pairs (a state: a number or a list)

    [[models]]
    name = "multistable"
    endpoints = { fixed_points = "stable", lower = [-0.5, -0.5], upper = [4.0, 4.0] }
    # every ordered pair of the fixed points of that kind found in the box (nn.fixed_points);
    # lower/upper default to the registry's end points' box, padded by half its size

Problems are ordered model by model (in the file's order), then by D, T, end points and K.
Errors name the key and the value (``models[1].T[0] = -1.0``); the models are built here (no
solve, no compile) so a parameter a model refuses is a configuration error, found before any
work is sent out.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np

from ..models._registry import MODELS
from ..solvers import Newton, NewtonCG
from ._models import build_model, check_params
from ._tasks import SweepProblem

__all__ = ["load_config", "sweep_problems"]

_AXES = ("D", "T", "t0", "num_points", "solver")
_TOP_KEYS = (*_AXES, "models")
_MODEL_KEYS = ("name", "params", "endpoints", *_AXES)
_METHODS = ("auto", "newton", "newton-cg")
_KINDS = ("stable", "saddle", "unstable")


def _error(path: str, value, accepted: str, exc=ValueError):
    return exc(f"sweep config: {path} = {value!r}: {accepted}")


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def load_config(path) -> dict:
    """The configuration dict of a TOML file (``tomllib``); errors name the file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"sweep config: no such file {str(path)!r}")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"sweep config: {str(path)!r} is not valid TOML: {err}") from None


def _check_keys(table, accepted, path: str) -> None:
    if not isinstance(table, dict):
        raise _error(path, table, "expected a table (key = value pairs)", TypeError)
    for key in table:
        if key not in accepted:
            where = f"{path}.{key}" if path else key
            raise _error(where, table[key], f"unknown key; accepted: {', '.join(accepted)}")


def _as_list(value):
    return list(value) if isinstance(value, list) else [value]


def _numbers(value, path: str, *, positive=False, integer=False, minimum=None) -> list:
    out = []
    for j, v in enumerate(_as_list(value)):
        where = f"{path}[{j}]" if isinstance(value, list) else path
        ok = _is_number(v) and math.isfinite(v)
        ok = ok and (not integer or isinstance(v, int)) and (not positive or v > 0)
        ok = ok and (minimum is None or v >= minimum)
        if not ok:
            what = "an integer" if integer else "a finite number"
            what += f" >= {minimum}" if minimum is not None else " > 0" if positive else ""
            raise _error(where, v, f"expected {what} (or a list of them)")
        out.append(v)
    if not out:
        raise _error(path, value, "expected at least one value")
    return out


def _levels(value, path: str) -> list:
    """Noise levels: a number, or a list of levels each a number, a vector or a matrix."""
    out = []
    for j, level in enumerate(_as_list(value)):
        where = f"{path}[{j}]" if isinstance(value, list) else path
        try:
            arr = np.asarray(level, dtype=np.float64)
        except (TypeError, ValueError):
            arr = None
        bad = arr is None or arr.ndim > 2 or arr.size == 0 or not np.all(np.isfinite(arr))
        if bad or isinstance(level, bool):
            raise _error(
                where,
                level,
                "expected a noise level: a number (D = d I), a list (diagonal D) "
                "or a list of rows (a matrix), finite",
            )
        out.append(level)
    if not out:
        raise _error(path, value, "expected at least one noise level")
    return out


def _solver(table, path: str) -> dict:
    """method, accuracy and solver options, checked by making the solver object."""
    _check_keys(table, ("method", "accuracy", *Newton.option_names(), "max_cg"), path)
    opts = dict(table)
    method = opts.pop("method", "auto")
    if method not in _METHODS:
        raise _error(f"{path}.method", method, f"accepted: {', '.join(_METHODS)}")
    if "accuracy" in opts:
        _numbers(opts["accuracy"], f"{path}.accuracy", positive=True)
    opts.pop("accuracy", None)
    classes = {"newton": (Newton,), "newton-cg": (NewtonCG,), "auto": (Newton, NewtonCG)}
    for cls in classes[method]:
        names = set(cls.option_names())
        if method != "auto" and set(opts) - names:
            key = sorted(set(opts) - names)[0]
            raise _error(f"{path}.{key}", opts[key], f"not an option of method = {method!r}")
        try:
            cls(**{k: v for k, v in opts.items() if k in names})
        except (TypeError, ValueError) as err:
            raise type(err)(f"sweep config: {path}: {err}") from None
    return dict(table)


def _state(value, path: str) -> list[float]:
    vals = value if isinstance(value, list) else [value]
    if not vals or not all(_is_number(v) and math.isfinite(v) for v in vals):
        raise _error(path, value, "expected a state: a finite number or a list of them")
    return [float(v) for v in vals]


def _endpoint_pairs(spec, entry: dict, path: str, t0: float) -> list:
    """[(x0, x1, label)] from a list of [x0, x1] pairs or a fixed-point table."""
    model = MODELS[entry["name"]]
    if spec is None:
        return [(list(model.x0), list(model.x1), "default")]
    if isinstance(spec, dict):
        return _fixed_point_pairs(spec, entry, path, t0)
    if not isinstance(spec, list) or not spec:
        raise _error(path, spec, "expected a list of [x0, x1] pairs or a fixed_points table")
    pairs = []
    for j, pair in enumerate(spec):
        if not isinstance(pair, list) or len(pair) != 2:
            raise _error(f"{path}[{j}]", pair, "expected a pair [x0, x1]")
        x0, x1 = (_state(x, f"{path}[{j}][{k}]") for k, x in enumerate(pair))
        if len(x0) != len(x1):
            raise _error(f"{path}[{j}]", pair, "x0 and x1 must have the same length")
        pairs.append((x0, x1, f"given {j}"))
    return pairs


def _fixed_point_pairs(spec: dict, entry: dict, path: str, t0: float) -> list:
    from .._checks import default_box
    from .._fixed_points import fixed_points

    _check_keys(spec, ("fixed_points", "lower", "upper"), path)
    kind = spec.get("fixed_points")
    if kind not in _KINDS:
        raise _error(f"{path}.fixed_points", kind, f"accepted kinds: {', '.join(_KINDS)}")
    model = MODELS[entry["name"]]
    lo, hi = default_box(model.x0, model.x1)
    lo = _state(spec["lower"], f"{path}.lower") if "lower" in spec else lo
    hi = _state(spec["upper"], f"{path}.upper") if "upper" in spec else hi
    sde = build_model(entry["name"], entry.get("params"))
    try:
        found = [fp for fp in fixed_points(sde, lo, hi, t=t0) if fp.kind == kind]
    except (TypeError, ValueError) as err:
        raise type(err)(f"sweep config: {path}: {err}") from None
    if len(found) < 2:
        raise _error(
            path,
            spec,
            f"found {len(found)} {kind} fixed point(s) of {entry['name']!r} in the "
            f"box {np.asarray(lo).tolist()} .. {np.asarray(hi).tolist()}; a pair needs at least "
            "2: widen lower/upper or give the end points as a list of [x0, x1] pairs",
        )
    states = [np.asarray(fp, dtype=np.float64).tolist() for fp in found]
    return [
        (states[i], states[j], f"{kind} {i} -> {j}")
        for i in range(len(states))
        for j in range(len(states))
        if i != j
    ]


def _model_problems(entry: dict, top: dict, path: str) -> list[SweepProblem]:
    _check_keys(entry, _MODEL_KEYS, path)
    name = entry.get("name")
    if name not in MODELS:
        raise _error(f"{path}.name", name, f"accepted models: {', '.join(MODELS)}")
    model = MODELS[name]
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise _error(f"{path}.params", params, "expected a table of keyword = value", TypeError)
    check_params(name, params, f"{path}.params")

    def axis(key, default):
        if key in entry:
            return entry[key], f"{path}.{key}"
        return top.get(key, default), key

    D_value, D_path = axis("D", None)
    levels = [None] if D_value is None else _levels(D_value, D_path)
    T_value, T_path = axis("T", None if model.time_grid else model.t1 - model.t0)
    durations = [None] if T_value is None else _numbers(T_value, T_path, positive=True)
    t0_value, t0_path = axis("t0", model.t0)
    t0 = _numbers(t0_value, t0_path)
    if len(t0) != 1 or isinstance(t0_value, list):
        raise _error(t0_path, t0_value, "expected one start time (a number)")
    K_value, K_path = axis("num_points", model.num_points)
    grids = _numbers(K_value, K_path, integer=True, minimum=3)
    solver = {**top.get("solver", {}), **entry.get("solver", {})}
    solver = _solver(solver, f"{path}.solver" if "solver" in entry else "solver")
    for level in levels:
        try:
            build_model(name, params, level)
        except (TypeError, ValueError) as err:
            where = f"{path} ({name!r}" + ("" if level is None else f", D = {level!r}") + ")"
            raise type(err)(f"sweep config: {where}: {err}") from None
    pairs = _endpoint_pairs(entry.get("endpoints"), entry, f"{path}.endpoints", float(t0[0]))
    return [
        SweepProblem(
            model=name,
            x0=x0,
            x1=x1,
            T=T,
            t0=t0[0],
            D=level,
            num_points=K,
            params=params,
            solver=solver,
            endpoints=label,
        )
        for level in levels
        for T in durations
        for x0, x1, label in pairs
        for K in grids
    ]


def sweep_problems(config) -> list[SweepProblem]:
    """The list of problems of a sweep configuration (a dict, or the path of a TOML file).

    The format is in this module's docstring (``noisynoether.sweeps._config``) and the README:
    top-level axes ``D``, ``T``, ``t0``, ``num_points`` and a ``[solver]`` table, each
    overridable per ``[[models]]`` entry, whose ``name`` is a built-in model, ``params`` its
    function's keywords and ``endpoints`` a list of ``[x0, x1]`` pairs or
    ``{fixed_points = "stable", lower = [...], upper = [...]}`` (every ordered pair).

    Raises:
        TypeError, ValueError: naming the key and the value (``models[0].T[1] = -2``).
        FileNotFoundError: ``config`` names a file that does not exist.
    """
    if isinstance(config, str | Path):
        config = load_config(config)
    _check_keys(config, _TOP_KEYS, "")
    if "solver" in config:
        _solver(config["solver"], "solver")
    entries = config.get("models")
    if not isinstance(entries, list) or not entries:
        raise _error("models", entries, "expected at least one [[models]] entry", TypeError)
    problems = []
    for i, entry in enumerate(entries):
        problems.extend(_model_problems(entry, config, f"models[{i}]"))
    return problems
