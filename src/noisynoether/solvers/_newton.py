"""Damped Newton on the exact block-tridiagonal Hessian (the default for small state dimension).

Each step solves (H + lam diag(H)) dx = -g by a block-tridiagonal Cholesky (``_banded.py``): the
cost is O(K n^3) per step, linear in the number of time points.
"""

from __future__ import annotations

import jax.numpy as jnp

from .._lagrangian import total_action
from . import _assemble, _banded, _cyclic, _lm


def _damping_diagonal(B):
    d = jnp.abs(jnp.diagonal(B, axis1=1, axis2=2))
    return jnp.maximum(d, 1e-12 * jnp.max(d))


def make_step(linear_solver: str):
    solve = {
        "lapack": _banded.lapack_solve,
        "scan": _banded.scan_solve,
        "cyclic": _cyclic.cyclic_solve,
    }[linear_solver]

    def step(x, g, aux, lam):
        B, C = aux
        dd = _damping_diagonal(B)
        n = B.shape[1]
        Bd = B + (lam * dd)[:, :, None] * jnp.eye(n, dtype=B.dtype)
        dx, ok = solve(Bd, C, -g)
        # For the exact solution of (H + lam Dd) dx = -g the model decrease is
        # -g.dx - dx.H dx / 2 = (lam dx.Dd dx - g.dx) / 2.
        pred = 0.5 * (lam * jnp.sum(dd * dx * dx) - jnp.sum(g * dx))
        return dx, ok, pred, jnp.asarray(1, jnp.int32)

    return step


def solve(sde, ts, x_int, xa, xb, args, *, linear_solver, rtol, max_steps, lam0):
    """Minimise the discrete action over the interior points; returns the final LM state."""

    def evaluate(x):
        S, g, gscale, B, C = _assemble.value_grad_hessian(sde, ts, x, xa, xb, args)
        return S, g, gscale, (B, C)

    def value(x):
        return total_action(sde, ts, _assemble.full_path(x, xa, xb), args)

    return _lm.minimise(
        evaluate,
        make_step(linear_solver),
        x_int,
        lam0=lam0,
        rtol=rtol,
        max_steps=max_steps,
        value=value,
    )
