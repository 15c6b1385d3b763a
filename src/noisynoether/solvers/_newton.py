"""Damped Newton on the exact block-tridiagonal Hessian (the default for small state dimension).

Each step solves (H + lam diag(H)) dx = -g by a block-tridiagonal Cholesky: the cost is
O(K n^3) per step, linear in the number of time points. The linear solvers:

- ``native``: the compiled kernel ``_blocktri.cc`` as an XLA FFI call (CPU; ``_native.py``);
- ``lapack``: LAPACK's banded Cholesky through a host callback (``_banded.py``);
- ``cyclic``: block cyclic reduction in pure JAX (``_cyclic.py``; fastest on a GPU at large K);
- ``scan``: a block Cholesky in ``lax.scan`` (``_banded.py``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._lagrangian import total_action
from . import _assemble, _banded, _cyclic, _lm, _native

LINEAR_SOLVERS = ("native", "lapack", "cyclic", "scan")


def linear_solve(name: str):
    """The solve function ``(B, C, rhs) -> (x, ok)`` called ``name`` (see LINEAR_SOLVERS)."""
    return {
        "native": _native.native_solve,
        "lapack": _banded.lapack_solve,
        "scan": _banded.scan_solve,
        "cyclic": _cyclic.cyclic_solve,
    }[name]


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


def _damping_diagonal(B):
    d = jnp.abs(jnp.diagonal(B, axis1=1, axis2=2))
    return jnp.maximum(d, 1e-12 * jnp.max(d))


def damped_step(B, C, g, lam, solve):
    """Solve (H + lam Dd) dx = -g, Dd = diag(H) (floored); returns (dx, ok, predicted decrease)."""
    dd = _damping_diagonal(B)
    n = B.shape[1]
    Bd = B + (lam * dd)[:, :, None] * jnp.eye(n, dtype=B.dtype)
    dx, ok = solve(Bd, C, -g)
    # For the exact solution of (H + lam Dd) dx = -g the model decrease is
    # -g.dx - dx.H dx / 2 = (lam dx.Dd dx - g.dx) / 2.
    pred = 0.5 * (lam * jnp.sum(dd * dx * dx) - jnp.sum(g * dx))
    return dx, ok, pred


def make_step(linear_solver: str):
    solve = linear_solve(linear_solver)

    def step(x, g, aux, lam):
        B, C = aux
        dx, ok, pred = damped_step(B, C, g, lam, solve)
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
