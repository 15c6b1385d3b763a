"""The lowest Hessian eigenvalues without the matrix (Newton-CG), and the saddle escape.

A path on a symmetry axis can be a saddle of the action: its gradient vanishes by symmetry while
paths off the axis cost less. The Newton loop follows negative curvature in every iteration
(``_curvature.py``); what it misses shows up in the certificate after convergence
(``_zero_modes.py``), and ``escape`` steps along the eigenvector of the negative eigenvalue
(trying a range of step lengths, keeping the one that lowers S most) before Newton restarts.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla


def lowest_eigen_matfree(hvp, P_inv, shape, scale, *, k=1, seed=0):
    """(k lowest eigenvalues, eigenvectors (k, *shape), scale) by LOBPCG on Hessian-vector
    products, preconditioned by P^-1."""
    size = int(np.prod(shape))
    k = int(min(k, max(size // 3, 1)))
    A = spla.LinearOperator(
        (size, size), matvec=lambda v: np.ravel(hvp(np.asarray(v, float).reshape(shape)))
    )
    M = spla.LinearOperator(
        (size, size), matvec=lambda v: np.ravel(P_inv(np.asarray(v, float).reshape(shape)))
    )
    X = np.random.default_rng(seed).standard_normal((size, k))
    try:
        w, V = spla.lobpcg(A, X, M=M, largest=False, tol=1e-6, maxiter=300)
    except Exception:  # LOBPCG can fail on hard spectra: report "unknown" rather than guess
        return np.full(k, np.nan), None, scale
    order = np.argsort(w)
    return np.asarray(w)[order], V[:, order].T.reshape(k, *shape), scale


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
