"""The matrix-free second-order certificate (Newton-CG), and the saddle escape.

A path on a symmetry axis can be a saddle of the action: its gradient vanishes by symmetry while
paths off the axis cost less. The Newton loop follows negative curvature in every iteration
(``_curvature.py``); what it misses shows up in the certificate after convergence
(``_zero_modes.py``), and ``escape`` steps along the eigenvector of the negative eigenvalue
(trying a range of step lengths, keeping the one that lowers S most) before Newton restarts.

Without the matrix (``lowest_eigen_matfree``), the certificate works on the pencil
``H v = mu P v`` with P the leak-only preconditioner of ``_newton_cg.py``: same inertia as H
(Sylvester), same null vectors, and a compact spectrum, so a block Krylov space of a few
dozen Hessian-vector products (``_krylov.block_lanczos``, one compiled call) resolves its
lowest eigenvalues, where an eigensolver on H itself must separate the lowest temporal mode's
cluster of n nearly equal eigenvalues (LOBPCG on H: 300 iterations, 85 s at n = 1024,
K = 200, and still not converged). The eigenvalues reported are Ostrowski's bounds
``mu_i lambda_min(P)``: of the same sign as the i-th lowest eigenvalue of H and no larger in
magnitude (a lower bound when positive): lambda_i(H) = mu_i theta_i with theta_i in
[lambda_min(P), lambda_max(P)] (Horn and Johnson, Thm. 4.5.9).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg as sla

from .._jit import jit
from . import _cg_hessian, _krylov, _newton_cg

#: Block Krylov steps of the certificate and the block size (zero modes of multiplicity up to
#: BLOCK are resolved): KRYLOV_STEPS * BLOCK Hessian-vector products.
KRYLOV_STEPS, BLOCK = 12, 2

#: A pencil eigenvalue below this (zero or negative curvature, or close to it) is resolved
#: further by restarting the Krylov space from the lowest Ritz vectors, at most RESTARTS times:
#: a zero mode is judged against 1e-10 |H| (``_zero_modes.ZERO_TOL``).
RESTART_BELOW, RESTARTS = 0.05, 3


@functools.lru_cache(maxsize=64)
def _pencil(sde, k: int, steps: int):
    """Jitted (mu, Ritz vectors) of the pencil (H, P) at one point: one compiled call."""

    def run(ts, x_int, xa, xb, args, X0):
        shape = x_int.shape
        hvp = _cg_hessian.hessian_operator(sde, ts, x_int, xa, xb, args)
        P, P_inv = _newton_cg.make_preconditioner(sde, ts, xa, xb, args)

        def block(op):  # (b, N) -> (b, N), one vector after another (memory of one product)
            return lambda Y: jax.lax.map(lambda y: op(y.reshape(shape)).ravel(), Y)

        mu, V = _krylov.block_lanczos(block(hvp), block(P), block(P_inv), X0, steps, k)
        norm = jnp.linalg.norm(V, axis=1, keepdims=True)  # 0: fewer Ritz pairs than k
        return mu, (V / jnp.where(norm > 0, norm, 1.0)).reshape(k, *shape)

    return jit(run)


def _p_range(ts, d0):
    """(lambda_min, lambda_max) of P = T (x) D0^-1."""
    diag, off = (np.asarray(a) for a in _newton_cg.leak_tridiagonal(jnp.asarray(ts)))
    t = sla.eigvalsh_tridiagonal(diag, off, select="i", select_range=(0, 0))[0]
    t_max = sla.eigvalsh_tridiagonal(diag, off, select="i", select_range=(len(diag) - 1,) * 2)[0]
    d = np.atleast_1d(np.asarray(d0, float))
    dd = np.linalg.eigvalsh(d) if d.ndim == 2 else np.abs(d)
    return t / np.max(dd), t_max / np.min(dd)


def lowest_eigen_matfree(sde, ts, x_int, xa, xb, args, *, k=4, steps=None):
    """(k lowest eigenvalue bounds, eigenvectors (k, M, n), scale) without the Hessian.

    The values are ``mu_i lambda_min(P)`` (module docstring): negative exactly when H has
    at least i negative eigenvalues (for i = 1: H is not positive semi-definite), zero for a
    null vector of H. The vectors are the pencil's: directions of negative curvature for a
    negative value, null vectors of H for a zero one. scale = lambda_max(P) ~ |H|, the
    scale against which an eigenvalue is judged zero. NaN values (and no vectors) if the
    solve is not finite: then no certificate, which ``_fixed_time`` must not read as a
    minimum.
    """
    M, n = np.shape(x_int)
    steps = KRYLOV_STEPS if steps is None else int(steps)
    k = int(max(1, min(k, (BLOCK * steps) // 2, (M * n) // (2 * steps))))
    d0 = sde.D_raw(0.5 * (ts[0] + ts[-1]), 0.5 * (xa + xb), args)
    p_min, scale = _p_range(ts, d0)
    fn = _pencil(sde, k, int(steps))
    rng = np.random.default_rng(0)
    X0 = rng.standard_normal((BLOCK, M * n))
    mu = None
    for _ in range(1 + RESTARTS):
        prev = mu
        mu, V = (np.asarray(a) for a in fn(ts, x_int, xa, xb, args, jnp.asarray(X0)))
        found = np.any(V.reshape(k, -1) != 0, axis=1)  # an exhausted space has fewer pairs
        mu, V = mu[found], V[found]
        if not (mu.size and np.all(np.isfinite(mu)) and np.all(np.isfinite(V))):
            return np.full(k, np.nan), None, scale
        if mu[0] >= RESTART_BELOW or (
            prev is not None and prev.size == mu.size and np.max(np.abs(mu - prev)) <= 1e-15
        ):
            break
        # Restart from the lowest Ritz vectors, with a little of every direction (a block of
        # exact eigenvectors spans an invariant space: nothing else would be found).
        lowest = V[:BLOCK].reshape(-1, M * n)
        X0 = rng.standard_normal((BLOCK, M * n)) * (1e-3 / np.sqrt(M * n))
        X0[: len(lowest)] += lowest
    return mu * p_min, V, scale


def escape(action_of, x_int: np.ndarray, v: np.ndarray):
    """Step from x along +-v; returns the best new interior path, or None if none lowers S."""
    extent = max(float(np.max(np.ptp(x_int, axis=0))), 1e-3)
    v = v / np.max(np.abs(v))
    S0 = action_of(x_int)
    best, best_S = None, S0
    for frac in 0.5 ** np.arange(12):
        for sign in (1.0, -1.0):
            trial = x_int + sign * frac * extent * v
            S = action_of(trial)
            if np.isfinite(S) and S < best_S - 1e-14 * abs(S0):
                best, best_S = trial, S
    return best
