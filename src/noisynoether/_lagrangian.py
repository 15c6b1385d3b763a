"""The discrete midpoint Lagrangian on time intervals (paper Eqs. 8, 10, 15, 17).

On the interval [t_k, t_{k+1}] with dt_k = t_{k+1} - t_k, midpoint time t_m and state
x_m = (x_k + x_{k+1}) / 2, velocity v_k = (x_{k+1} - x_k) / dt_k and residual
r_k = v_k - f(t_m, x_m):

    S     = sum_k dt_k / 4 * r_k^T D_k^-1 r_k                     (Eq. 8, midpoint rule)
    p_k   = 1/2 D_k^-1 r_k                                        (Eq. 15)
    E_k   = 1/4 v_k^T D_k^-1 v_k - 1/4 f_k^T D_k^-1 f_k           (Eq. 10)
    L_ij  = x_m,i p_j - x_m,j p_i                                 (Eq. 17)

with f_k and D_k evaluated at (t_m, x_m). Every function here is pure JAX and jittable; the
public, validated versions live in ``_charges.py``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def interval_term(sde, t_a, t_b, x_a, x_b, args):
    """The action of one interval, dt/4 r^T D^-1 r (a scalar)."""
    dt = t_b - t_a
    tm = 0.5 * (t_a + t_b)
    xm = 0.5 * (x_a + x_b)
    r = (x_b - x_a) / dt - sde.f(tm, xm, args)
    u = sde.D_inv_apply(tm, xm, r, args)
    q = jnp.vdot(r, u)
    # r^T D^-1 r < 0 (beyond rounding) means D is not positive definite at this midpoint: the
    # action is +inf there, so no Newton step is accepted into such a region.
    bad = q < -1e-10 * jnp.linalg.norm(r) * jnp.linalg.norm(u)
    return 0.25 * dt * jnp.where(bad, jnp.inf, q)


def _per_interval(fn, sde, ts, xs, args):
    return jax.vmap(fn, in_axes=(None, 0, 0, 0, 0, None))(
        sde, ts[:-1], ts[1:], xs[:-1], xs[1:], args
    )


def interval_actions(sde, ts, xs, args):
    """(K-1,) action of each interval."""
    return _per_interval(interval_term, sde, ts, xs, args)


def total_action(sde, ts, xs, args):
    """The discrete action S of a path (K, n)."""
    return jnp.sum(interval_actions(sde, ts, xs, args))


def midpoints(ts, xs):
    """Interval midpoint times (K-1,) and states (K-1, n)."""
    return 0.5 * (ts[:-1] + ts[1:]), 0.5 * (xs[:-1] + xs[1:])


def _momentum_one(sde, t_a, t_b, x_a, x_b, args):
    dt = t_b - t_a
    tm, xm = 0.5 * (t_a + t_b), 0.5 * (x_a + x_b)
    r = (x_b - x_a) / dt - sde.f(tm, xm, args)
    return 0.5 * sde.D_inv_apply(tm, xm, r, args)


def _energy_one(sde, t_a, t_b, x_a, x_b, args):
    dt = t_b - t_a
    tm, xm = 0.5 * (t_a + t_b), 0.5 * (x_a + x_b)
    v = (x_b - x_a) / dt
    f = sde.f(tm, xm, args)
    return 0.25 * (
        jnp.vdot(v, sde.D_inv_apply(tm, xm, v, args))
        - jnp.vdot(f, sde.D_inv_apply(tm, xm, f, args))
    )


def interval_momentum(sde, ts, xs, args):
    """(K-1, n) momentum p = 1/2 D^-1 (xdot - f) at interval midpoints (Eq. 15)."""
    return _per_interval(_momentum_one, sde, ts, xs, args)


def interval_energy(sde, ts, xs, args):
    """(K-1,) energy E = 1/4 xdot^T D^-1 xdot - 1/4 f^T D^-1 f at interval midpoints (Eq. 10)."""
    return _per_interval(_energy_one, sde, ts, xs, args)


def interval_angular_momentum(sde, ts, xs, args):
    """(K-1, n, n) angular momentum L_ij = x_i p_j - x_j p_i at interval midpoints (Eq. 17)."""
    p = interval_momentum(sde, ts, xs, args)
    _, xm = midpoints(ts, xs)
    outer = xm[:, :, None] * p[:, None, :]
    A = outer - jnp.swapaxes(outer, 1, 2)
    # Antisymmetrise once more: XLA may fuse the products differently in the two halves.
    return 0.5 * (A - jnp.swapaxes(A, 1, 2))


def interval_charge(sde, ts, xs, A, b, args):
    """(K-1,) Noether charge Q = p . (A x_m + b) of the affine generator x -> A x + b."""
    p = interval_momentum(sde, ts, xs, args)
    _, xm = midpoints(ts, xs)
    xi = xm @ A.T + b
    return jnp.sum(p * xi, axis=-1)
