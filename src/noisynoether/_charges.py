"""The action and the Noether charges of any path (paper Eqs. 8, 10, 15, 17), validated.

Each function takes a model, a time grid ``ts`` (K,) and a path ``xs`` (K, n) and returns its
value on the K-1 intervals of the grid, at their midpoints (see ``_lagrangian.py`` for the
discretisation).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from . import _lagrangian as lag
from ._checks import as_path, as_time_grid, check_model_on_path, check_sde
from ._jit import jit

__all__ = ["action", "momentum", "energy", "angular_momentum", "noether_charge"]


@functools.partial(jit, static_argnums=(0, 1))
def _evaluate(kind, sde, ts, xs, args):
    return {
        "action": lag.total_action,
        "momentum": lag.interval_momentum,
        "energy": lag.interval_energy,
        "angular_momentum": lag.interval_angular_momentum,
    }[kind](sde, ts, xs, args)


def _prepare(sde, ts, xs, args):
    check_sde(sde)
    ts = as_time_grid(ts)
    xs = as_path(xs, ts)
    check_model_on_path(sde, ts, xs, args)
    return ts, xs


def action(sde, ts, xs, args=None) -> float:
    """The discrete action S = sum_k dt_k/4 r_k^T D_k^-1 r_k of a path (Eq. 8, midpoint rule).

    Args:
        sde: the model.
        ts: (K,) strictly increasing times.
        xs: (K, n) states at those times.
        args: PyTree passed to the drift and diffusion.

    Returns:
        The action as a float (the path's probability is proportional to exp(-S), Eq. 7).
    """
    ts, xs = _prepare(sde, ts, xs, args)
    return float(_evaluate("action", sde, ts, xs, args))


def momentum(sde, ts, xs, args=None) -> np.ndarray:
    """(K-1, n) momentum p = 1/2 D^-1 (xdot - f) on each interval (Eq. 15).

    Conserved along a most likely path when f and D do not depend on x (translation symmetry).
    """
    ts, xs = _prepare(sde, ts, xs, args)
    return np.asarray(_evaluate("momentum", sde, ts, xs, args))


def energy(sde, ts, xs, args=None) -> np.ndarray:
    """(K-1,) energy E = 1/4 xdot^T D^-1 xdot - 1/4 f^T D^-1 f on each interval (Eq. 10).

    Conserved along a most likely path when f and D do not depend on t (time translation).
    """
    ts, xs = _prepare(sde, ts, xs, args)
    return np.asarray(_evaluate("energy", sde, ts, xs, args))


def angular_momentum(sde, ts, xs, args=None) -> np.ndarray:
    """(K-1, n, n) angular momentum L_ij = x_i p_j - x_j p_i on each interval (Eq. 17).

    ``L[:, i, j]`` is conserved when f is equivariant under rotations in the (x_i, x_j) plane
    and D is isotropic in that plane.
    """
    ts, xs = _prepare(sde, ts, xs, args)
    return np.asarray(_evaluate("angular_momentum", sde, ts, xs, args))


def noether_charge(sde, ts, xs, A, b=None, args=None) -> np.ndarray:
    """(K-1,) Noether charge Q = p . (A x + b) of the affine generator xi(x) = A x + b (Eq. 4).

    Momentum along a unit vector u is ``A = 0, b = u``; the angular momentum L_ij is
    ``A = e_j e_i^T - e_i e_j^T``, ``b = 0``. Q is conserved along a most likely path when the
    flow of xi leaves the Lagrangian invariant (f equivariant, A D + D A^T = 0).
    """
    ts, xs = _prepare(sde, ts, xs, args)
    n = xs.shape[1]
    A = np.asarray(A, dtype=np.float64)
    if A.shape != (n, n):
        raise ValueError(f"A must have shape ({n}, {n}) for a state of n = {n}; got {A.shape}")
    b = np.zeros(n) if b is None else np.asarray(b, dtype=np.float64)
    if b.shape != (n,):
        raise ValueError(f"b must have shape ({n},); got {b.shape}")
    return np.asarray(_charge_jit(sde, ts, xs, jnp.asarray(A), jnp.asarray(b), args))


@functools.partial(jit, static_argnums=(0,))
def _charge_jit(sde, ts, xs, A, b, args):
    return lag.interval_charge(sde, ts, xs, A, b, args)
