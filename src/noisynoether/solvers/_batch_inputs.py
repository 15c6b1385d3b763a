"""The inputs of ``most_likely_paths`` checked and shaped: states, end times, args, paths.

Every check names the argument, the value and what is accepted (``_checks``); the model is
checked on every initial (and solution) path at once, one compiled evaluation of f and D.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import (
    _check_model,
    as_points,
    as_state,
    check_bool,
    check_model_on_path,
    check_real,
)
from ._most_likely_path import _certify_model

__all__: list[str] = []  # helpers of _batch.py


def _take(tree, idx):
    return jax.tree_util.tree_map(lambda a: a[idx], tree)


def _batch_size(x0, x1, t1, args, batched_args) -> int:
    given = (("x0", x0, 2), ("x1", x1, 2), ("t1", t1, 1))  # (name, value, ndim when batched)
    sizes = {name: a.shape[0] for name, a, ndim in given if a.ndim == ndim}
    leaves = jax.tree_util.tree_leaves(args) if check_bool(batched_args, "batched_args") else []
    if leaves and np.ndim(leaves[0]) >= 1:
        sizes["args"] = np.shape(leaves[0])[0]
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{k} has {v}" for k, v in sizes.items())
        raise ValueError(
            f"most_likely_paths: the batched inputs must have the same number of problems B "
            f"(leading dimension); {listed}"
        )
    return next(iter(sizes.values()), 1)


def _states(x, name: str) -> np.ndarray:
    """(B, n) or (n,) finite float64 states."""
    if np.ndim(x) <= 1:
        return as_state(x, name)
    return as_points(x, name)


def _end_times(t0, t1) -> tuple[float, np.ndarray]:
    t0 = check_real(t0, "t0")
    if np.ndim(t1) == 0:
        return t0, np.asarray(check_real(t1, "t1"))
    try:
        t1 = np.asarray(t1, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"t1 must be a real number or a 1-D array of B end times; got {t1!r}"
        ) from err
    if t1.ndim != 1 or t1.size < 1:
        raise ValueError(
            f"t1 must be a real number or a 1-D array of B end times; got shape {t1.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(t1) | (t1 <= t0))
    if bad.size:
        raise ValueError(
            f"t1 must be finite and greater than t0 = {t0:g} for every problem; t1[{bad[0]}] = "
            f"{float(t1[bad[0]])!r}"
        )
    return t0, t1


def _check_args(args, batched_args: bool, B: int):
    if not check_bool(batched_args, "batched_args"):
        return args
    leaves = jax.tree_util.tree_leaves(args)
    if not leaves:
        raise ValueError("batched_args=True needs args with array leaves of leading dimension B")
    for leaf in leaves:
        if np.ndim(leaf) == 0 or np.shape(leaf)[0] != B:
            raise ValueError(
                f"with batched_args=True every leaf of args must have leading dimension B = {B} "
                f"(one entry per problem); got a leaf of shape {np.shape(leaf)}"
            )
    return jax.tree_util.tree_map(jnp.asarray, args)


def _check_paths(sde, ts, xs, args, batched_args, what):
    """The model's f and D on every midpoint of every path (B, K, n), one compiled call."""
    B, K, n = xs.shape
    if batched_args:  # each member with its own args
        for i in range(B):
            check_model_on_path(sde, ts[i], xs[i], _take(args, i), what=f"{what} {i}")
        return
    tm = np.broadcast_to(0.5 * (ts[:, :-1] + ts[:, 1:]), (B, K - 1)).reshape(-1)
    xm = (0.5 * (xs[:, :-1] + xs[:, 1:])).reshape(-1, n)
    _check_model(
        sde,
        tm,
        xm,
        args,
        source=f"the states of {what}s",
        locate=lambda k: f"on {what} {k // (K - 1)} at interval {k % (K - 1)}",
    )


def _initial_paths(initial, ts, x0, x1):
    s = (ts - ts[:, :1]) / (ts[:, -1:] - ts[:, :1])
    if initial is None:
        return x0[:, None, :] + s[:, :, None] * (x1 - x0)[:, None, :]
    try:
        xs = np.asarray(initial, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"initial must be an array of shape (B, K, n); got {initial!r}") from err
    B, K = ts.shape
    n = x0.shape[1]
    if xs.shape == (K, n):
        xs = np.broadcast_to(xs, (B, K, n))
    if xs.shape != (B, K, n):
        raise ValueError(
            f"initial must have shape (B, K, n) = {(B, K, n)} or (K, n); got {xs.shape}"
        )
    if not np.all(np.isfinite(xs)):
        raise ValueError("initial must be finite")
    xs = xs.copy()
    xs[:, 0], xs[:, -1] = x0, x1  # endpoints are pinned
    return xs


def _certify(sde, results, args, batched_args):
    """``_certify_model`` on every converged member: one compiled check when all pass."""
    ok = [i for i, r in enumerate(results) if r.converged]
    if not ok:
        return results
    if not batched_args:
        ts = np.stack([results[i].ts for i in ok])
        xs = np.stack([results[i].xs for i in ok])
        try:
            _check_paths(sde, ts, xs, args, False, "the solution path")
            return results
        except ValueError:
            pass  # find which members, as one path does
    out = list(results)
    for i in ok:
        out[i] = _certify_model(sde, results[i], _take(args, i) if batched_args else args)
    return out
