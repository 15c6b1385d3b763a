"""Every input check, one rule per concept: errors name the argument, the value, what is accepted.

Used by every public entry point (`check_endpoints`, `check_time_grid`, `check_positive`,
`check_choice`, `check_model_at`, ...). Messages follow lineax: the cause, then the fix.
"""

from __future__ import annotations

import functools
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from ._sde import SDE, check_spd


def _short(a) -> str:
    return np.array2string(np.asarray(a), precision=6, threshold=8)


def check_sde(sde) -> None:
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be a noisynoether.SDE; got {type(sde).__name__}")


def as_state(x, name: str) -> np.ndarray:
    """A state as a 1-D float64 array (a scalar becomes shape (1,))."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of numbers; got {x!r}") from err
    if arr.ndim == 0:
        arr = arr[None]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a state vector of shape (n,); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {_short(arr)}")
    return arr


def check_endpoints(x0, x1, names: tuple[str, str] = ("x0", "x1")) -> tuple[np.ndarray, np.ndarray]:
    """Two states of the same shape (n,), float64 and finite (a scalar becomes shape (1,))."""
    a, b = as_state(x0, names[0]), as_state(x1, names[1])
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape (n,); got {a.shape} and {b.shape}"
        )
    return a, b


def check_positive(
    value,
    name: str,
    *,
    integer: bool = False,
    allow_zero: bool = False,
    upper: float | None = None,
    allow_none: bool = False,
):
    """A finite real (or integer) > 0 (>= 0 with ``allow_zero``), below ``upper`` when given.

    Returns the value as ``float`` (or ``int``), or None when ``allow_none`` and it is None.
    """
    if value is None and allow_none:
        return None
    kind = "an integer" if integer else "a real number"
    ok_type = isinstance(value, numbers.Integral if integer else numbers.Real) or (
        isinstance(value, np.ndarray | np.generic | jax.Array)
        and np.ndim(value) == 0
        and np.issubdtype(np.asarray(value).dtype, np.integer if integer else np.number)
        and not np.iscomplexobj(value)
    )
    if isinstance(value, bool) or not ok_type:
        none = " or None" if allow_none else ""
        raise TypeError(f"{name} must be {kind}{none}; got {value!r}")
    v = int(value) if integer else float(value)
    bound = ">= 0" if allow_zero else "> 0"
    rng = f"{bound}" + ("" if upper is None else f" and < {upper:g}")
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {kind} {rng}; got {value!r}")
    if upper is not None and v >= upper:
        raise ValueError(f"{name} must be {kind} {rng}; got {value!r}")
    return v


def check_choice(value, name: str, choices) -> str:
    """One of a fixed set of strings; the message lists them."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_time_grid(t0, t1, num_points, ts) -> np.ndarray:
    """The grid from ``ts`` if given (checked against t0 < t1), else a uniform one."""
    return make_time_grid(t0, t1, num_points, ts)


def as_time_grid(ts, name: str = "ts", min_points: int = 3) -> np.ndarray:
    """A strictly increasing, finite 1-D time grid of at least ``min_points`` points."""
    try:
        ts = np.asarray(ts, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a 1-D array of times; got {ts!r}") from err
    if ts.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {ts.shape}")
    if ts.size < min_points:
        raise ValueError(f"{name} must have at least {min_points} points; got {ts.size}")
    bad = np.flatnonzero(~np.isfinite(ts))
    if bad.size:
        raise ValueError(f"{name} must be finite; {name}[{bad[0]}] = {ts[bad[0]]}")
    dts = np.diff(ts)
    bad = np.flatnonzero(dts <= 0)
    if bad.size:
        k = bad[0]
        raise ValueError(
            f"{name} must be strictly increasing; {name}[{k}] = {ts[k]:g} >= "
            f"{name}[{k + 1}] = {ts[k + 1]:g}"
        )
    return ts


def make_time_grid(t0, t1, num_points, ts) -> np.ndarray:
    """The grid from ``ts`` if given (checked against t0, t1), else a uniform one."""
    for name, val in (("t0", t0), ("t1", t1)):
        if not isinstance(val, numbers.Real) and np.ndim(val) != 0:
            raise TypeError(f"{name} must be a real number; got {val!r}")
        if not np.isfinite(float(val)):
            raise ValueError(f"{name} must be finite; got {val!r}")
    t0, t1 = float(t0), float(t1)
    if t1 <= t0:
        raise ValueError(f"t1 must be greater than t0; got t0 = {t0!r}, t1 = {t1!r}")
    if ts is not None:
        ts = as_time_grid(ts)
        scale = max(abs(t0), abs(t1), t1 - t0)
        if abs(ts[0] - t0) > 1e-12 * scale or abs(ts[-1] - t1) > 1e-12 * scale:
            raise ValueError(
                f"ts must start at t0 = {t0!r} and end at t1 = {t1!r}; got ts[0] = {ts[0]:g}, "
                f"ts[-1] = {ts[-1]:g}"
            )
        return ts
    if isinstance(num_points, bool) or not isinstance(num_points, numbers.Integral):
        raise TypeError(f"num_points must be an integer; got {num_points!r}")
    if num_points < 3:
        raise ValueError(f"num_points must be at least 3; got {num_points}")
    return np.linspace(t0, t1, int(num_points))


def as_path(xs, ts: np.ndarray, name: str = "xs") -> np.ndarray:
    try:
        xs = np.asarray(xs, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of shape (K, n); got {xs!r}") from err
    if xs.ndim == 1:
        xs = xs[:, None]
    if xs.ndim != 2 or xs.shape[0] != ts.shape[0]:
        raise ValueError(
            f"{name} must have shape (K, n) with K = len(ts) = {ts.shape[0]}; got shape {xs.shape}"
        )
    bad = np.argwhere(~np.isfinite(xs))
    if bad.size:
        raise ValueError(f"{name} must be finite; {name}[{bad[0][0]}] = {_short(xs[bad[0][0]])}")
    return xs


@functools.lru_cache(maxsize=256)
def _drift_on_points(sde):
    """The drift vmapped over (t, x) pairs, compiled once per model (validation is cheap then)."""
    return jax.jit(jax.vmap(lambda t, x, args: sde.f(t, x, args), in_axes=(0, 0, None)))


def check_model_on_path(sde: SDE, ts: np.ndarray, xs: np.ndarray, args, *, what="the path"):
    """Evaluate f and D at the interval midpoints of a path and reject what is malformed.

    Checks that f returns shape (n,) and is finite, and that D has a shape that fits n and is
    symmetric positive definite at every midpoint (for a callable D or G).
    """
    n = xs.shape[1]
    tm = 0.5 * (ts[:-1] + ts[1:])
    xm = 0.5 * (xs[:-1] + xs[1:])
    # The compiled, vectorised evaluation first (cheap once compiled); only when it fails or
    # returns the wrong shape is the drift called once, eagerly, to say precisely what is wrong.
    try:
        fs = np.asarray(_drift_on_points(sde)(tm, xm, args))
        traced_error = None
    except Exception as err:  # a user's function can fail in any way
        fs, traced_error = None, err
    if fs is None or fs.shape != (tm.shape[0], n):
        try:
            f0 = np.asarray(sde.f(jnp.asarray(tm[0]), jnp.asarray(xm[0]), args))
        except Exception as err:  # say where
            raise ValueError(f"drift failed at t = {tm[0]:g}, x = {_short(xm[0])}: {err}") from err
        if f0.shape != (n,):
            raise ValueError(
                f"drift must return an array of the state's shape ({n},) (from x0 and x1); "
                f"got shape {f0.shape} at t = {tm[0]:g}, x = {_short(xm[0])}"
            )
        what_failed = (
            f"the error was: {traced_error}"
            if traced_error is not None
            else f"under jax.vmap it returned shape {fs.shape}, not ({tm.shape[0]}, {n})"
        )
        raise ValueError(
            "drift works on one point but not under jax.jit / jax.vmap (the solvers compile "
            "it): write it with jax.numpy and without Python control flow on the state's "
            f"values (use jnp.where); {what_failed}"
        ) from traced_error
    bad = np.argwhere(~np.isfinite(fs))
    if bad.size:
        k = bad[0][0]
        raise ValueError(
            f"drift returned a non-finite value {_short(fs[k])} on {what} at interval {k}: "
            f"t = {tm[k]:g}, x = {_short(xm[k])}. Check the drift there, or start from another "
            "initial path."
        )
    _check_diffusion_on(sde, tm, xm, args, n)
    return fs


def _check_diffusion_on(sde: SDE, tm, xm, args, n: int) -> None:
    if sde.is_constant_diffusion:
        d = sde._const
        if d.ndim == 1 and d.shape != (n,) or d.ndim == 2 and d.shape != (n, n):
            raise ValueError(
                f"diffusion D has shape {d.shape} but the state has n = {n} components "
                f"(x0, x1 and the drift): D must be a number, shape ({n},) or ({n}, {n})"
            )
        return
    if sde.noise is not None:
        gs = np.asarray(jax.vmap(lambda t, x: jnp.asarray(sde.noise(t, x, args)))(tm, xm))
        if gs.ndim == 3:
            if gs.shape[1] != n:
                raise ValueError(f"noise G must have shape ({n}, m); got {gs.shape[1:]}")
            ranks = np.linalg.matrix_rank(gs)
            bad = np.flatnonzero(ranks < n)
            if bad.size:
                k = bad[0]
                raise ValueError(
                    f"noise G has rank {ranks[k]} < n = {n} at t = {tm[k]:g}, x = {_short(xm[k])}:"
                    " D = G G^T / 2 is rank deficient (singular) there."
                )
    ds = np.asarray(jax.vmap(lambda t, x: sde.D_raw(t, x, args))(tm, xm))
    shape = ds.shape[1:]
    if shape not in ((), (n,), (n, n)):
        raise ValueError(
            f"diffusion must return a number, shape ({n},) or ({n}, {n}) for n = {n}; "
            f"got shape {shape}"
        )
    if len(shape) == 2:
        sym = np.max(np.abs(ds - np.swapaxes(ds, 1, 2)), axis=(1, 2))
        eig = np.linalg.eigvalsh(0.5 * (ds + np.swapaxes(ds, 1, 2)))
        bad = np.flatnonzero(
            (sym > 1e-12 * np.max(np.abs(ds), axis=(1, 2))) | (eig[:, 0] <= 0) | ~np.isfinite(sym)
        )
    else:
        vals = ds.reshape(ds.shape[0], -1)
        bad = np.flatnonzero(np.any(~(vals > 0), axis=1))
    if bad.size:
        k = bad[0]
        check_spd(ds[k], "diffusion D", where=f"at t = {tm[k]:g}, x = {_short(xm[k])}")
