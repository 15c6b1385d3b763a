"""The lowest eigenvalues of a block-tridiagonal Hessian: the certificate's fast route.

Shift-invert Lanczos run by the compiled kernel (``_blocktri.cc``): H - sigma I factorised
once (sigma = -ZERO_TOL max|diag H|, just below zero, as ``_zero_modes.lowest_eigenpairs``
shifts), ``steps`` substitutions with full reorthogonalisation (twice), then the Ritz values of
the small tridiagonal matrix. The largest values theta of ``(H - sigma I)^-1`` give H's
lowest, ``sigma + 1/theta`` (each an upper bound of the eigenvalue it approximates, by
interlacing); they are accepted when every Ritz residual is at most RESIDUAL theta (the error
is then of order the residual squared over the gap) and when exactly k eigenvalues of H lie
below the k-th value plus a margin (Sylvester's inertia, ``count_below`` in the kernel): a
Krylov space of one start vector holds one copy of a repeated eigenvalue, so an isotropic
model's doubled eigenvalues would otherwise be reported once, with a higher one in place of
the second copy (found on a 2-D Ornstein-Uhlenbeck path: 0.0546, 0.0546, 0.2034, 0.4513 where
a dense eigh has 0.0546, 0.0546, 0.2034, 0.2034). ``ok`` is False where the factorisation
failed (H has an eigenvalue below sigma: not a minimum), a value is not finite, a Ritz pair
has not converged or the count disagrees: the caller then uses the host routine (LAPACK's
banded eigen-solver or ARPACK), which also gives the eigenvectors that a negative or zero
eigenvalue needs.

Two entry points, one recurrence: ``lowest_eigenvalues`` inside a compiled call (the batch's
certificates, ``lax.map`` over a chunk on a thread of its own: a compiled call releases
Python's GIL, LAPACK's banded eigen-solver does not), and ``lowest_eigenvalues_host`` from
NumPy (a single path's certificate, ``_zero_modes.certificate``: nothing compiles per grid
shape; the kernel releases the GIL while it runs). Measured at Fig. 1c's K = 200 / 1001 /
4001: 0.15 / 0.55 / 2.3 ms with the count, against 1.1 / 3.1 / 10.6 ms for LAPACK's banded
solver or ARPACK, and closer to a 60-step Lanczos (1e-15 against 5e-12 to 3e-10 relative;
docs/benchmarks.md).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np

from . import _native
from ._assemble import shift_diagonal
from ._curvature import start_vector
from ._zero_modes import NUM_LOWEST, ZERO_TOL

__all__ = ["lowest_eigenvalues", "lowest_eigenvalues_host"]

#: Lanczos steps (fewer when H has fewer unknowns). At K = 200, n = 2 (Fig. 1c) 16 steps give
#: the 4 lowest eigenvalues within 1e-12 of a dense eigh, all Ritz pairs accepted; 12 do not.
STEPS = 16

#: A Ritz pair is accepted when |beta_m s_m| <= RESIDUAL theta.
RESIDUAL = 1e-7

#: The count is taken just above the k-th value: at w_k (1 + MARGIN) + ZERO_TOL |H| (far above
#: the Ritz values' error, ~1e-12 relative; a (k+1)-th eigenvalue closer than that also fails
#: the check, and the host routine resolves the cluster).
MARGIN = 1e-6


def _ritz(alpha, beta, sigma, k, xp):
    """(w (k,), converged) from the tridiagonal matrix (alpha, beta) of (H - sigma I)^-1;
    ``xp`` is jax.numpy or numpy (the compiled and the host route)."""
    steps = alpha.shape[-1]
    T = xp.diag(alpha) + xp.diag(beta[:-1], 1) + xp.diag(beta[:-1], -1)
    theta, S = xp.linalg.eigh(T)
    m = min(k, steps)
    theta, S = theta[::-1][:m], S[:, ::-1][:, :m]  # the largest first: H's lowest
    residual = xp.abs(beta[-1] * S[-1])
    w = sigma + 1.0 / theta
    ok = xp.all(theta > 0) & xp.all(residual <= RESIDUAL * theta) & xp.all(xp.isfinite(w))
    if m < k:
        w = xp.concatenate([w, xp.full(k - m, xp.nan, dtype=w.dtype)])
    return w, ok & (m == k)


def _tau(w, scale):
    """Where the count is taken: just above the k-th value."""
    return w[-1] + MARGIN * abs(w[-1]) + ZERO_TOL * scale


def lowest_eigenvalues(B, C, *, k: int = NUM_LOWEST, steps: int = STEPS):
    """(k lowest eigenvalues of H (k,), scale = max|diag H|, ok) for the block-tridiagonal H
    with diagonal blocks B (M, n, n) and off-diagonal blocks C (M-1, n, n), inside a compiled
    call (CPU; the compiled kernel). Fewer than k values (padded with NaN, ok False) when H has
    fewer than k unknowns."""
    M, n, _ = B.shape
    steps = int(min(steps, M * n))
    scale = jnp.max(jnp.abs(jnp.diagonal(B, axis1=1, axis2=2)))
    sigma = -ZERO_TOL * jnp.maximum(scale, 1e-300)
    factors, good = _native.native_factor(shift_diagonal(B, jnp.full((M, n), -sigma, B.dtype)), C)
    alpha, beta, finite = _native.native_lanczos(*factors, start_vector(M, n, B.dtype), steps)
    w, ok = _ritz(alpha, beta, sigma, k, jnp)
    tau = jnp.where(jnp.isfinite(w[-1]), _tau(w, scale), 0.0)
    ok = ok & good & finite & (_native.native_count_below(B, C, tau) == k)
    return w, scale, ok


@functools.lru_cache(maxsize=32)
def _start(M: int, n: int) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(start_vector(M, n, jnp.float64)), dtype=np.float64)


def lowest_eigenvalues_host(B, C, *, k: int = NUM_LOWEST, steps: int = STEPS):
    """``lowest_eigenvalues`` for one Hessian given as NumPy arrays, without a compiled
    program: the kernel's recurrence and count called directly, the small eigenproblem in
    NumPy; the same shift, start vector and acceptance test. ``(w (k,), scale, ok)``; None
    where the kernel is not built."""
    if not _native.native_available():
        return None
    from ._blocktri import count_below_host, lanczos_host

    B = np.ascontiguousarray(B, dtype=np.float64)
    C = np.ascontiguousarray(C, dtype=np.float64)
    M, n, _ = B.shape
    steps = int(min(steps, M * n))
    scale = float(np.max(np.abs(np.diagonal(B, axis1=1, axis2=2))))
    sigma = -ZERO_TOL * max(scale, 1e-300)
    shifted = B.copy()
    shifted[:, np.arange(n), np.arange(n)] -= sigma
    alpha, beta = np.zeros(steps), np.zeros(steps)
    if not lanczos_host(shifted, C, _start(M, n), alpha, beta):
        return np.full(k, np.nan), scale, False
    with np.errstate(divide="ignore", invalid="ignore"):
        w, ok = _ritz(alpha, beta, sigma, k, np)
    ok = bool(ok) and count_below_host(B, C, float(_tau(w, scale))) == k
    return w, scale, ok
