"""The lowest eigenvalues of a block-tridiagonal Hessian inside a compiled call.

Shift-invert Lanczos: ``steps`` solves with ``H - sigma I`` (the Newton solver's own block
solve, factorised once where it can be: ``_newton.linear_factor``; sigma = -ZERO_TOL max|diag
H|, just below zero, as ``_zero_modes.lowest_eigenpairs`` shifts on the host), full
reorthogonalisation, then the Ritz values of the small tridiagonal matrix. The largest values
theta of ``(H - sigma I)^-1`` give H's lowest, ``sigma + 1/theta``; each is accepted when its
Ritz residual is at most RESIDUAL theta (its error is then of order the residual squared over
the gap). ``ok`` is False where a solve failed (H - sigma I is not positive definite: H has a
negative eigenvalue), a value is not finite, or a Ritz pair has not converged: the caller then
uses the host routine, which also gives the eigenvectors that a negative or zero eigenvalue
needs.

Used by ``most_likely_paths`` for its members' certificates. Unlike LAPACK's banded
eigen-solver, which holds Python's GIL (1.05 ms a member at K = 200, n = 2, measured: two
threads run no faster than one), a compiled call releases it, so the certificates of one
chunk of members run on the second core while the next chunk's Newton loops run on the first.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._assemble import shift_diagonal
from ._curvature import start_vector
from ._zero_modes import NUM_LOWEST, ZERO_TOL

__all__ = ["lowest_eigenvalues"]

#: Lanczos steps (fewer when H has fewer unknowns). At K = 200, n = 2 (Fig. 1c) 16 steps give
#: the 4 lowest eigenvalues within 1e-12 of a dense eigh, all Ritz pairs accepted; 12 do not.
STEPS = 16

#: A Ritz pair is accepted when |beta_m s_m| <= RESIDUAL theta.
RESIDUAL = 1e-7


def lowest_eigenvalues(B, C, prepare, *, k: int = NUM_LOWEST, steps: int = STEPS):
    """(k lowest eigenvalues of H (k,), scale = max|diag H|, ok) for the block-tridiagonal H
    with diagonal blocks B (M, n, n) and off-diagonal blocks C (M-1, n, n);
    ``prepare(B, C) -> apply`` with ``apply(rhs) -> (x, ok)`` solving H x = rhs
    (``_newton.linear_factor``: the compiled kernel factorises once). Fewer than k values
    (padded with NaN, ok False) when H has fewer than k unknowns."""
    M, n, _ = B.shape
    N = M * n
    steps = int(min(steps, N))
    scale = jnp.max(jnp.abs(jnp.diagonal(B, axis1=1, axis2=2)))
    sigma = -ZERO_TOL * jnp.maximum(scale, 1e-300)
    apply = prepare(shift_diagonal(B, jnp.full((M, n), -sigma, B.dtype)), C)
    q0 = start_vector(M, n, B.dtype).reshape(N)
    q0 = q0 / jnp.linalg.norm(q0)

    def body(j, c):
        Q, alpha, beta, q, good = c
        Q = Q.at[j].set(q)
        w, ok = apply(q.reshape(M, n))
        w = w.reshape(N)
        a = jnp.vdot(q, w)
        # Full reorthogonalisation against the basis so far, twice, as matrix-vector products
        # on the flat (steps, N) basis (2.6x faster than contracting the (steps, M, n) one).
        for _ in range(2):
            w = w - Q.T @ (Q @ w)
        b = jnp.linalg.norm(w)
        q_next = w / jnp.where(b > 1e-300, b, 1.0)
        return Q, alpha.at[j].set(a), beta.at[j].set(b), q_next, good & ok

    init = (
        jnp.zeros((steps, N), B.dtype),
        jnp.zeros(steps, B.dtype),
        jnp.zeros(steps, B.dtype),
        q0,
        jnp.asarray(True),
    )
    _, alpha, beta, _, good = jax.lax.fori_loop(0, steps, body, init)
    T = jnp.diag(alpha) + jnp.diag(beta[:-1], 1) + jnp.diag(beta[:-1], -1)
    theta, S = jnp.linalg.eigh(T)
    m = min(k, steps)
    theta, S = theta[::-1][:m], S[:, ::-1][:, :m]  # the largest first: H's lowest
    residual = jnp.abs(beta[-1] * S[-1])
    w = sigma + 1.0 / theta
    ok = good & jnp.all(theta > 0) & jnp.all(residual <= RESIDUAL * theta)
    ok = ok & jnp.all(jnp.isfinite(w)) & (m == k)
    if m < k:
        w = jnp.concatenate([w, jnp.full(k - m, jnp.nan, w.dtype)])
    return w, scale, ok
