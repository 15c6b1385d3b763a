"""Negative curvature inside the Newton loop: detect it, find its direction, step along it.

On a symmetry axis the gradient of the action is symmetric, so every Newton or damped-Newton
step (a function of the gradient and a Hessian that commutes with the symmetry) keeps the path
on the axis, and the iteration converges to, or crawls along, a saddle of the action. The way
off is a direction of negative curvature, which breaks the symmetry. In each iteration:

1. ``make_curvature`` (block-tridiagonal Hessians: fixed-time Newton and the geometric solver)
   tries the undamped block Cholesky. When it succeeds, H is positive definite: nothing to do.
   When it fails, it shifts H by sigma diag(H) (sigma = the current damping, multiplied by 4
   until the factorisation succeeds) and runs a few inverse iterations with the shifted matrix,
   started from a vector with a fixed random part (so it has a component off any symmetry
   axis). The vector v is a direction of negative curvature when v^T H v < -tol |H| (a zero
   mode of a continuous symmetry has v^T H v ~ 0 and is not one).
2. ``search`` (used by the driver ``_lm.minimise``) tries x + s a R v for both signs s,
   a = 4, 2, 1, ..., 1/2^9 and R the length of the damped Newton step (the damping acts as a
   trust region), and keeps the longest step whose decrease is at least a tenth of the
   quadratic model's (More and Sorensen (1979) search along a curve that mixes this direction
   with the Newton step; here the driver takes whichever of the two steps lowers the action
   more).

The driver reports convergence only at a point where no negative curvature was found (a
second-order stationary point, up to zero modes); one where the gradient is at tolerance, the
curvature is negative and no step along it lowers the action is reported as a saddle.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _assemble

#: v^T H v below -NEG_TOL * max|diag H| (|v| = 1) counts as negative curvature.
NEG_TOL = 1e-10


def _shifted(B, sigma):
    """H + sigma diag(H): the damped matrix of ``_newton.damped_step``."""
    return _assemble.shift_diagonal(B, sigma * _assemble.damping_diagonal(B))


def start_vector(M: int, n: int, dtype):
    """(M, n): a half sine along the path times (1 + 0.1 r), r a fixed random field."""
    s = (jnp.arange(M, dtype=dtype) + 1.0) / (M + 1.0)
    pert = jax.random.normal(jax.random.PRNGKey(0), (M, n), dtype)
    return jnp.sin(jnp.pi * s)[:, None] * (1.0 + 0.1 * pert)


def _inverse_iteration(Bs, C, prepare, steps):
    """Unit vector (M, n) after ``steps`` inverse iterations with the shifted matrix, and ok.

    The start vector is a half sine along the path (the smoothest mode, where the lowest
    eigenvector of a path Hessian usually lies) times (1 + 0.1 r), r a fixed random field: it
    has a component off every symmetry axis. ``prepare``: ``_newton.linear_factor``'s (the
    compiled kernel factorises once for all the iterations).
    """
    v0 = start_vector(*Bs.shape[:2], Bs.dtype)
    apply = prepare(Bs, C)

    def body(_, c):
        v, ok = c
        w, ok_w = apply(v)
        return w / jnp.maximum(jnp.linalg.norm(w), 1e-300), ok & ok_w

    return jax.lax.fori_loop(0, steps, body, (v0 / jnp.linalg.norm(v0), jnp.asarray(True)))


def make_curvature(solve, prepare, *, steps: int = 16):
    """``curvature(x, g, aux, lam, definite=None) -> (negative, found, v, c)`` for
    block-tridiagonal Hessians; ``solve`` and ``prepare`` (for many solves with one matrix) as
    ``_newton.linear_solve`` and ``_newton.linear_factor`` give them.

    ``aux = (B, C)``. ``negative``: H is not positive definite and no certificate says the
    failure is only a zero mode (a flat direction); ``found``: v (unit, (M, n)) has
    c = v^T H v < -NEG_TOL |H|. The direction comes from ``steps`` inverse iterations with
    H + sigma diag(H), sigma the damping, multiplied by 4 until the shifted matrix is positive
    definite: then the lowest eigenvalue of the shifted matrix is at most 3/4 of the next one
    when H has a negative one, and a few iterations find a direction of negative curvature
    (an exact eigenvector is not needed; the search below decides). ``definite``: whether H
    is positive definite, when the step has found out already (``_newton.make_step``);
    else a factorisation here finds out.
    """

    def curvature(x, g, aux, lam, definite=None):
        B, C = aux
        pd = solve(B, C, g)[1] if definite is None else definite
        scale = jnp.max(jnp.abs(jnp.diagonal(B, axis1=1, axis2=2)))

        def probe(_):
            def grow(c):
                sigma, _, i = c
                return sigma * 4.0, solve(_shifted(B, sigma * 4.0), C, g)[1], i + 1

            sigma0 = jnp.maximum(lam, 1e-6)
            sigma, ok, _ = jax.lax.while_loop(
                lambda c: ~c[1] & (c[2] < 30),
                grow,
                (sigma0, solve(_shifted(B, sigma0), C, g)[1], 0),
            )
            v, ok_v = _inverse_iteration(_shifted(B, sigma), C, prepare, steps)
            c = jnp.vdot(v, _assemble.block_matvec(B, C, v))
            usable = ok & ok_v & jnp.all(jnp.isfinite(v))
            found = usable & (c < -NEG_TOL * scale)
            return ~usable | found, found, jnp.where(usable, v, 0.0), jnp.where(usable, c, 0.0)

        def skip(_):
            zero = jnp.zeros((), x.dtype)
            return jnp.asarray(False), jnp.asarray(False), jnp.zeros_like(x), zero

        return jax.lax.cond(pd, skip, probe, None)

    return curvature


def search(value, x, S, g, v, c, radius):
    """A step along the direction of negative curvature v (unit, with c = v^T H v < 0).

    Trials x + s a R v / |v|_inf for s = +-1 (the downhill sign first), a = 4, 2, 1, ...,
    2^-9 and R = ``radius`` (the length of the damped Newton step, floored: the damping acts as
    the trust region): the longest one whose decrease is at least a tenth of the quadratic
    model's, -c (a R)^2 / 2; if none is, the one that lowers S most. A step of the Newton
    step's length breaks the symmetry and lets Newton slide into the nearest basin; a long
    jump along the curvature could land in a far, costlier one. Returns ``(S_new, x_new)``;
    S_new = S and x_new = x when no trial is finite and lower.
    """
    # On a symmetry axis g.v = 0 and both signs are equally good.
    sign = jnp.where(jnp.vdot(g, v) > 0, -1.0, 1.0)
    alphas = 0.5 ** jnp.arange(-2.0, 10.0)
    scale = radius / jnp.max(jnp.abs(v))
    steps = jnp.concatenate([sign * alphas, -sign * alphas]) * scale
    vals = jax.vmap(lambda a: value(x + a * v))(steps)
    vals = jnp.where(jnp.isfinite(vals), vals, jnp.inf)
    model = S + 0.1 * 0.5 * c * steps**2
    ok = vals <= model
    # Longest satisfying step (the trials are ordered long to short within each sign; the
    # downhill sign wins ties); else the lowest value.
    i = jnp.where(jnp.any(ok), jnp.argmax(ok), jnp.argmin(vals))
    return jnp.minimum(vals[i], S), jnp.where(vals[i] < S, x + steps[i] * v, x)
