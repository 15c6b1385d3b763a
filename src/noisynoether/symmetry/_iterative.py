"""The null space of the symmetry conditions by block inverse iteration on ``M^T M``.

``find_symmetries(method="matrix-free")``: no dense factorisation. A block of k random
coordinate vectors is repeatedly multiplied by ``(M^T M + mu I)^-1`` (conjugate gradients,
``_operator.Conditions.inverse_step``) and Rayleigh-Ritz'ed: null directions (symmetries) grow
by ``1 / mu`` per step, the others by at most ``1 / (sigma_min^2 + mu)``, so the block
converges to the symmetry algebra plus the least-constrained other directions. Each Ritz
vector is then judged by its relative residual ``|M u| / s_max`` (the dense path's relative
singular value), ``s_max`` from block power iteration on the full ``M^T M``.
When every vector of the block is null the block doubles (up to ``max_generators + 4``).
"""

from __future__ import annotations

import numpy as np

_CG_ITERS = 40  # conjugate-gradient steps per inverse iteration
_MAX_OUTER = 12  # inverse iterations per block size
_GUARD = 4  # Ritz vectors beyond the symmetries, to see the gap


def largest_eigenvalue(cond, full: bool, k: int, rng, iters: int = 8) -> float:
    """The largest eigenvalue of ``M^T M`` (block power iteration, then Rayleigh-Ritz).

    A few per cent low at worst: it only normalises the relative residuals (``s_max``).
    """
    size = cond.n * cond.n + cond.n if full else cond.size
    Q, _ = np.linalg.qr(rng.normal(size=(size, min(k, size))))
    for _ in range(iters):
        Y = cond.gram(Q, full=full)
        if not np.any(Y):
            return 0.0
        Q, _ = np.linalg.qr(Y)
    H = Q.T @ cond.gram(Q, full=full)
    return float(np.max(np.linalg.eigvalsh(0.5 * (H + H.T))))


def null_space(cond, tol: float, *, max_generators: int, seed: int = 0):
    """The symmetries among the coordinate vectors of ``cond``, iteratively.

    Returns ``(A (k, n, n), b (k, n), rel (kb,), s_max, complete, converged)``: the null
    generators (residual ``|M u| / s_max <= tol``), the relative residuals of the whole final
    block in decreasing order, whether the block saw a non-null direction (else the algebra
    may be larger than ``max_generators``), and whether the iteration settled.
    """
    rng = np.random.default_rng(seed)
    P = cond.size
    k = min(P, 4 + _GUARD)  # fixed, whatever max_generators: one compiled shape
    s_max = np.sqrt(max(largest_eigenvalue(cond, True, k, rng), 0.0)) or 1.0
    # The scaled operator has unit diagonal (its eigenvalues are O(1) to O(n)): a shift far
    # below the relative gap of the non-symmetries (~1e-2 on a random network) suffices.
    mu = 1e-12 * cond.n
    U = rng.normal(size=(P, k))
    while True:
        U, rel, A, b, converged = _iterate(cond, U, mu, s_max, tol)
        null = rel <= tol
        if not null.all() or k >= P or np.sum(null) > max_generators:
            break
        k_new = min(P, 2 * k, max_generators + _GUARD)
        U = np.hstack([U, rng.normal(size=(P, k_new - k))])
        k = k_new
    complete = ((not null.all()) or k >= P) and int(np.sum(null)) <= max_generators
    order = np.argsort(rel)
    keep = order[null[order]]
    return A[keep], b[keep], np.sort(rel)[::-1], s_max, complete, converged


def _iterate(cond, U, mu, s_max, tol):
    """Inverse iteration on the block U until the null Ritz vectors settle."""
    prev = None
    converged = False
    for it in range(_MAX_OUTER):
        Y = cond.inverse_step(U, mu, _CG_ITERS)
        Q, _ = np.linalg.qr(Y)
        H = Q.T @ cond.gram(Q)
        w, Z = np.linalg.eigh(0.5 * (H + H.T))
        U = Q @ Z
        A, b = cond.to_affine(U)
        rel = cond.residuals(A, b) / s_max
        null = rel <= tol
        worst_null = float(np.max(rel[null])) if null.any() else 0.0
        settled = prev is not None and (worst_null <= 1e-2 * tol or worst_null > 0.5 * prev)
        if it >= 1 and (not null.any() and np.min(rel) > 100 * tol or null.any() and settled):
            converged = True
            break
        prev = worst_null if null.any() else None
    return U, rel, A, b, converged
