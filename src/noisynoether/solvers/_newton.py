"""Damped Newton on the exact block-tridiagonal Hessian (the default for small state dimension).

Each step solves (H + lam diag(H)) dx = -g by a block-tridiagonal Cholesky: the cost is
O(K n^3) per step, linear in the number of time points. The linear solvers:

- ``native``: the compiled kernel ``_blocktri.cc`` as an XLA FFI call (CPU; ``_native.py``);
- ``lapack``: LAPACK's banded Cholesky through a host callback (``_banded.py``);
- ``cyclic``: block cyclic reduction in pure JAX (``_cyclic.py``; fastest on a GPU at large K);
- ``scan``: a block Cholesky in ``lax.scan`` (``_banded.py``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .._lagrangian import total_action
from . import _assemble, _banded, _curvature, _cyclic, _lm, _native

LINEAR_SOLVERS = ("native", "lapack", "cyclic", "scan")


def linear_solve(name: str):
    """The solve function ``(B, C, rhs) -> (x, ok)`` called ``name`` (see LINEAR_SOLVERS)."""
    return {
        "native": _native.native_solve,
        "lapack": _banded.lapack_solve,
        "scan": _banded.scan_solve,
        "cyclic": _cyclic.cyclic_solve,
    }[name]


def linear_factor(name: str):
    """``prepare(B, C) -> apply``, ``apply(rhs) -> (x, ok)``: many solves with one matrix.

    The compiled kernel factorises once (``native_factor``) and substitutes per right-hand
    side (measured at M = 198, n = 2: 2-3 us a substitution against ~11 us a solve); the
    other solvers solve anew each time.
    """
    if name == "native":

        def prepare_native(B, C):
            factors, ok = _native.native_factor(B, C)
            return lambda rhs: (_native.native_substitute(*factors, rhs), ok)

        return prepare_native
    solve = linear_solve(name)
    return lambda B, C: functools.partial(solve, B, C)


def auto_linear_solver(K: int) -> str:
    """The fastest available linear solver for K time points on the default backend.

    CPU: the compiled kernel when it is built (``native``), else LAPACK through a callback.
    GPU (measured on an H200, benchmarks/device_check.py): the callback up to a few thousand
    points, block cyclic reduction beyond (K = 10 000: 0.11 s vs 0.31 s); the sequential scan
    is far slower there (14 s).
    """
    if jax.default_backend() != "cpu":
        return "cyclic" if K > 4000 else "lapack"
    return "native" if _native.native_available() else "lapack"


def damped_step(B, C, g, lam, solve, *, with_undamped: bool = False):
    """Solve (H + lam Dd) dx = -g, Dd = diag(H) (floored); returns (dx, ok, predicted decrease),
    and with ``with_undamped`` also whether H itself is positive definite: both matrices are
    factorised in one batched call of the solver (measured 13 us an iteration less than a
    second call, on Fig. 1c at K = 200)."""
    dd = _assemble.damping_diagonal(B)
    damped = _assemble.shift_diagonal(B, lam * dd)
    if with_undamped:
        xs, oks = jax.vmap(solve, in_axes=(0, None, 0))(
            jnp.stack([damped, B]), C, jnp.stack([-g, g])
        )
        dx, ok = xs[0], oks[0]
    else:
        dx, ok = solve(damped, C, -g)
    # For the exact solution of (H + lam Dd) dx = -g the model decrease is
    # -g.dx - dx.H dx / 2 = (lam dx.Dd dx - g.dx) / 2.
    pred = 0.5 * (lam * jnp.sum(dd * dx * dx) - jnp.sum(g * dx))
    return (dx, ok, pred, oks[1]) if with_undamped else (dx, ok, pred)


def make_step(linear_solver: str, *, definite: bool = False):
    """The damped Newton step for ``_lm.minimise``; with ``definite``, it also returns whether
    the undamped Hessian is positive definite (for the driver's ``handoff`` and curvature
    probe), from the same solver call (``damped_step(with_undamped=True)``)."""
    solve = linear_solve(linear_solver)

    def step(x, g, aux, lam):
        dx, ok, pred, *undamped = damped_step(*aux, g, lam, solve, with_undamped=definite)
        return dx, ok, pred, jnp.asarray(1, jnp.int32), *undamped

    return step


def energy_retime(sde, value, ts, xa, xb, args):
    """``moves(x, S)`` for ``_lm.minimise``: the path's shape re-timed at constant energy.

    In a long horizon the most likely path waits near fixed points, and how the waiting is
    shared between them is nearly free: the Hessian's soft modes are re-timings of the path,
    along a curved valley where damped Newton creeps (a fraction of a transition's width per
    step). The minimiser conserves the energy E (Eq. 10): along it |xdot|_D^2 = |f|_D^2 + 4E.
    This proposal keeps the current path's nodes as its shape, gives segment k the duration
    dt_k = |dx_k|_D / sqrt(|f(x_m)|_D^2 + 4E) with E chosen (by bisection) so that they add
    up to T, and interpolates the re-timed path back onto the time grid. For an autonomous
    model that lands at the bottom of the soft valley; the driver takes it only when it
    lowers S (measured: the double well at T = 30 converges in 8 iterations instead of
    creeping past 200).
    """
    T = ts[-1] - ts[0]
    tm = 0.5 * (ts[:-1] + ts[1:])

    def norms(xs):
        d = jnp.diff(xs, axis=0)
        xm = 0.5 * (xs[:-1] + xs[1:])
        fm = jax.vmap(lambda t, x: sde.f(t, x, args))(tm, xm)
        dn = jax.vmap(lambda t, x, r: jnp.vdot(r, sde.D_inv_apply(t, x, r, args)))(tm, xm, d)
        fn = jax.vmap(lambda t, x, r: jnp.vdot(r, sde.D_inv_apply(t, x, r, args)))(tm, xm, fm)
        return jnp.sqrt(jnp.maximum(dn, 0.0)), fn

    def moves(x, S):
        xs = _assemble.full_path(x, xa, xb)
        dn, fn = norms(xs)

        def duration(E):
            return jnp.sum(dn / jnp.sqrt(jnp.maximum(fn + 4.0 * E, 1e-300)))

        lo = -0.25 * jnp.min(fn)
        hi = jnp.maximum(1.0, jnp.abs(lo)) + jnp.max(fn)

        def grow(c):
            return c * 4.0

        hi = jax.lax.while_loop(lambda h: (duration(h) > T) & (h < 1e300), grow, hi)

        def bisect(_, c):
            a, b = c
            m = 0.5 * (a + b)
            long = duration(m) > T
            return jnp.where(long, m, a), jnp.where(long, b, m)

        a, b = jax.lax.fori_loop(0, 110, bisect, (lo, hi))
        E = 0.5 * (a + b)
        dts = dn / jnp.sqrt(jnp.maximum(fn + 4.0 * E, 1e-300))
        tt = ts[0] + jnp.concatenate([jnp.zeros(1, ts.dtype), jnp.cumsum(dts)])
        tt = tt * (T / jnp.maximum(tt[-1] - ts[0], 1e-300))  # exact end time despite rounding
        new = jax.vmap(lambda col: jnp.interp(ts[1:-1], tt, col), in_axes=1, out_axes=1)(xs)
        Sn = value(new)
        ok = jnp.isfinite(Sn) & jnp.all(jnp.isfinite(new)) & (Sn < S)
        return jnp.where(ok, Sn, S), jnp.where(ok, new, x)

    return moves


def solve(sde, ts, x_int, xa, xb, args, *, linear_solver, rtol, max_steps, lam0, full=True):
    """Minimise the discrete action over the interior points; returns the final LM state."""

    def evaluate(x):
        S, g, gscale, B, C = _assemble.value_grad_hessian(sde, ts, x, xa, xb, args)
        return S, g, gscale, (B, C)

    def value(x):
        return total_action(sde, ts, _assemble.full_path(x, xa, xb), args)

    return _lm.minimise(
        evaluate,
        make_step(linear_solver, definite=True),
        x_int,
        lam0=lam0,
        rtol=rtol,
        max_steps=max_steps,
        value=value,
        **(
            dict(
                curvature=_curvature.make_curvature(
                    linear_solve(linear_solver), linear_factor(linear_solver)
                ),
                moves=energy_retime(sde, value, ts, xa, xb, args),
            )
            if full
            else dict(handoff=True)
        ),
    )
