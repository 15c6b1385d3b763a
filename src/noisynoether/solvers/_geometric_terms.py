"""The discrete geometric action of ``path_with_energy`` and its jitted pieces.

With ``|v|_D^2 = v^T D^-1 v`` and ``<u, v>_D = u^T D^-1 v``, each segment d = phi_{k+1} -
phi_k of the curve contributes ``1/2 ( |d|_D sqrt(|f_m|_D^2 + 4E + reg) - <d, f_m>_D )`` to W,
with f and D at the segment midpoint (second order); see ``_geometric.py`` for the method.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .._jit import jit
from . import _curvature, _lm, _newton

__all__ = ["compiled", "segment_parts"]


def segment_parts(sde, a, b, args):
    """(|d|_D^2, |f_m|_D^2, <d, f_m>_D) of the segment from a to b."""
    d = b - a
    xm = 0.5 * (a + b)
    f = sde.f(0.0, xm, args)
    Dd = sde.D_inv_apply(0.0, xm, d, args)
    Df = sde.D_inv_apply(0.0, xm, f, args)
    return jnp.vdot(d, Dd), jnp.vdot(f, Df), jnp.vdot(d, Df)


def _segment_W(sde, args):
    """The segment's term of W as a function of z = (a, b) (2n,), E and reg."""

    def term(z, E, reg2):
        n = z.shape[0] // 2
        dd, ff, df = segment_parts(sde, z[:n], z[n:], args)
        return 0.5 * (jnp.sqrt(dd) * jnp.sqrt(ff + 4.0 * E + reg2) - df)

    return term


def _segments(xs):
    return jnp.concatenate([xs[:-1], xs[1:]], axis=1)


def _solve(sde, x_int, xa, xb, ref, tau, mu, E, reg2, args, rtol, max_steps, lam0):
    """Minimise W + P (P pins the nodes' tangential positions to ``ref``) by damped Newton.

    Returns the final LM state and the gradient of W alone at its end (M, n).
    """
    term = _segment_W(sde, args)
    n = xa.shape[0]

    def full(x):
        return jnp.concatenate([xa[None], x, xb[None]], axis=0)

    def value(x):
        u = jnp.sum(tau * (x - ref), axis=1)
        vals = jax.vmap(term, in_axes=(0, None, None))(_segments(full(x)), E, reg2)
        return jnp.sum(vals) + 0.5 * jnp.sum(mu * u * u)

    def evaluate(x):
        z = _segments(full(x))
        vals, gz = jax.vmap(jax.value_and_grad(term), in_axes=(0, None, None))(z, E, reg2)
        hz = jax.vmap(jax.hessian(term), in_axes=(0, None, None))(z, E, reg2)
        u = jnp.sum(tau * (x - ref), axis=1)
        g = gz[:-1, n:] + gz[1:, :n] + (mu * u)[:, None] * tau
        gscale = jnp.max(jnp.abs(gz))
        B = hz[:-1, n:, n:] + hz[1:, :n, :n] + mu[:, None, None] * tau[:, :, None] * tau[:, None, :]
        C = hz[1:-1, :n, n:]
        S = jnp.sum(vals) + 0.5 * jnp.sum(mu * u * u)
        return S, g, gscale, (B, C)

    linear_solver = _newton.auto_linear_solver(x_int.shape[0] + 2)
    st = _lm.minimise(
        evaluate,
        _newton.make_step(linear_solver),
        x_int,
        lam0=lam0,
        rtol=rtol,
        max_steps=max_steps,
        value=value,
        curvature=_curvature.make_curvature(
            _newton.linear_solve(linear_solver), _newton.linear_factor(linear_solver)
        ),
    )
    gz = jax.vmap(jax.grad(term), in_axes=(0, None, None))(_segments(full(st.x)), E, reg2)
    return st, gz[:-1, n:] + gz[1:, :n]


def _stiffness(sde, xs, E, reg2, args):
    """Per-node stiffness used to scale the tangential pin (M,)."""
    # The normal stiffness of a segment's |d|_D sqrt(|f|_D^2 + 4E): about
    # |d|_D sqrt(...) / |d|^2 (the second derivative of a length across the segment).
    dd, ff, _ = jax.vmap(lambda a, b: segment_parts(sde, a, b, args))(xs[:-1], xs[1:])
    h2 = jnp.sum((xs[1:] - xs[:-1]) ** 2, axis=1)
    k = jnp.sqrt(dd) * jnp.sqrt(ff + 4.0 * E + reg2) / jnp.maximum(h2, 1e-300)
    n = xs.shape[1]
    hz = jax.vmap(jax.hessian(_segment_W(sde, args)), in_axes=(0, None, None))(
        _segments(xs), E, reg2
    )
    B = hz[:-1, n:, n:] + hz[1:, :n, :n]
    # Plus W's own curvature, which is large next to a fixed point at E = 0 (the kink of
    # |f|_D there, smoothed by eps), so that the pin dominates along the path.
    return 0.5 * (k[:-1] + k[1:]) + jnp.abs(jnp.trace(B, axis1=1, axis2=2))


def _drift_norm2(sde, xs, args):
    """|f|_D^2 at each node."""
    Df = jax.vmap(lambda x: sde.D_inv_apply(0.0, x, sde.f(0.0, x, args), args))(xs)
    f = jax.vmap(lambda x: sde.f(0.0, x, args))(xs)
    return jnp.sum(f * Df, axis=1)


def _parts(sde, xs, args):
    return jax.vmap(lambda a, b: segment_parts(sde, a, b, args))(xs[:-1], xs[1:])


@functools.lru_cache(maxsize=64)
def compiled(sde):
    """Jitted pieces for one model (jit then caches per shape): parts, solve, stiffness,
    drift_norm2."""
    return dict(
        parts=jit(functools.partial(_parts, sde)),
        solve=jit(functools.partial(_solve, sde), static_argnames=("max_steps",)),
        stiffness=jit(functools.partial(_stiffness, sde)),
        drift_norm2=jit(functools.partial(_drift_norm2, sde)),
    )
