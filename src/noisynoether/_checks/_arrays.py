"""Checks of arrays: states, end points, time grids, paths, sample points, generators, boxes."""

from __future__ import annotations

import numbers

import numpy as np

from ._values import _short


def as_state(x, name: str) -> np.ndarray:
    """A state as a 1-D float64 array (a scalar becomes shape (1,))."""
    if isinstance(x, str | bool | np.bool_) or np.iscomplexobj(x):
        raise TypeError(f"{name} must be an array of real numbers; got {x!r}")
    try:  # a FixedPoint converts to its state (its __array__)
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


def as_points(points, name: str = "points") -> np.ndarray:
    """(m, n) float64 array of finite sample states, m >= 1."""
    if callable(points) or isinstance(points, str) or np.iscomplexobj(points):
        raise TypeError(
            f"{name} must be an (m, n) array of real states; got {type(points).__name__}"
        )
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be an (m, n) array of states; got {type(points).__name__}"
        ) from err
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        hint = " (for a 1-D model pass points[:, None])" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be an (m, n) array of states{hint}; got shape {arr.shape}")
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name} must be finite; {name}[{bad[0][0]}] = {_short(arr[bad[0][0]])}")
    return arr


def as_times(times, name: str = "times", default=None) -> np.ndarray:
    """Distinct, finite sample times in increasing order (``default`` when None)."""
    if times is None and default is not None:
        times = default
    if times is None or isinstance(times, str) or np.iscomplexobj(times):
        raise TypeError(f"{name} must be a number or a 1-D array of real times; got {times!r}")
    try:
        arr = np.atleast_1d(np.asarray(times, dtype=np.float64))
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a number or a 1-D array of times; got {times!r}") from err
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of times; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {_short(arr)}")
    return np.unique(arr)


def grid(times: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (time, point) pair: (T*m,) times and (T*m, n) states."""
    tt = np.repeat(times, points.shape[0])
    xx = np.tile(points, (times.size, 1))
    return tt, xx


def as_generator(generator, n: int, name: str = "generator"):
    """("affine", A, b) or ("time", None, None) from a Symmetry or a pair (A, b)."""
    if hasattr(generator, "kind") and hasattr(generator, "A") and hasattr(generator, "b"):
        if generator.kind == "time":
            return "time", None, None
        A, b = generator.A, generator.b
    elif isinstance(generator, tuple | list) and len(generator) == 2:
        A, b = generator
    else:
        raise TypeError(
            f"{name} must be a Symmetry or a pair (A, b) of an (n, n) matrix and an (n,) vector "
            f"(b may be None); got {type(generator).__name__}"
        )
    if np.iscomplexobj(A) or (b is not None and np.iscomplexobj(b)):
        raise TypeError(f"{name} must hold real arrays (A, b); got complex values")
    try:
        A = np.asarray(A, dtype=np.float64)
        b = np.zeros(n) if b is None else np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must hold numeric arrays (A, b); got {generator!r}") from err
    if A.shape != (n, n):
        raise ValueError(f"{name}: A must have shape ({n}, {n}) for n = {n}; got {A.shape}")
    if b.shape != (n,):
        raise ValueError(f"{name}: b must have shape ({n},) for n = {n}; got {b.shape}")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        raise ValueError(f"{name} must be finite; got A = {_short(A)}, b = {_short(b)}")
    return "affine", A, b


def check_box(lower, upper, names: tuple[str, str] = ("lower", "upper")):
    """Two corners of a box, same shape, ``lower < upper`` in every component."""
    lo, hi = check_endpoints(lower, upper, names)
    bad = np.flatnonzero(hi <= lo)
    if bad.size:
        i = bad[0]
        raise ValueError(
            f"{names[0]} must be below {names[1]} in every component; got "
            f"{names[0]}[{i}] = {lo[i]:g} >= {names[1]}[{i}] = {hi[i]:g}"
        )
    return lo, hi


def default_box(a, b, pad: float = 0.5, *, cube: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The box spanned by states a and b, enlarged by ``pad`` times its size on each side.

    A side of zero length gets the size ``1e-3 max(1, |x|)``, so the box is never flat.
    ``cube=True`` (where fixed points are sought by default: the E = 0 starts of
    ``path_with_energy``, ``barrier``, ``find_paths``): every side as long as the longest, so
    that fixed points off the segment count whatever its direction (for end points on an axis,
    (1, 0) -> (-1, 0), the plain box is flat across the axis). The plain box: the sweeps'.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    floor = 1e-3 * max(1.0, float(np.max(np.abs(hi))))
    span = np.maximum(hi - lo, floor)
    if cube:
        span = np.full_like(span, float(np.max(span)))
        mid = 0.5 * (lo + hi)
        lo, hi = mid - 0.5 * span, mid + 0.5 * span
    return lo - pad * span, hi + pad * span


def as_matrix(value, name: str, n: int | None = None) -> np.ndarray:
    """A finite real square matrix (a number is a 1 x 1 matrix), of size n when given."""
    if value is None:
        raise TypeError(f"{name} is required: a real square matrix; got None")
    try:
        if isinstance(value, str | bool) or np.iscomplexobj(value):
            raise TypeError
        arr = np.atleast_2d(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError) as err:  # complex, a string, a ragged nested list
        raise TypeError(f"{name} must be a real square matrix; got {_short_repr(value)}") from err
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix; got shape {arr.shape}")
    if n is not None and arr.shape != (n, n):
        raise ValueError(f"{name} must have shape ({n}, {n}); got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {_short(arr)}")
    return arr


def _short_repr(value, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_vector(value, name: str, n: int) -> np.ndarray:
    """A finite real vector of shape (n,) (a number when n = 1)."""
    arr = as_state(value, name)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},); got {arr.shape}")
    return arr
