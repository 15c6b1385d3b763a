"""The second-order certificate of a converged path: lowest Hessian eigenvalues and zero modes.

At a strict local minimum of the discrete action the Hessian (in the interior points) is
positive definite. A continuous symmetry of (f, D) that fixes both endpoints but moves the
path (an axial symmetry whose best path leaves the axis: a whole circle of minima) gives it a
zero eigenvalue at the minimum, with the symmetry's infinitesimal action ``xi(x_k)`` along the
path as eigenvector: Noether's theorem seen from the solver's side. Here:

- ``lowest_eigenpairs`` computes the k lowest eigenpairs of the block-tridiagonal Hessian on the
  host (dense up to DENSE_MAX = 200 unknowns; else shift-invert Lanczos with a banded Cholesky,
  linear in K);
- ``classify`` splits them into negative (a saddle), zero (|lambda| <= ZERO_TOL |H|) and
  positive;
- ``identify`` matches the zero-mode eigenvectors with the generators that ``find_symmetries``
  finds on the path's states: a generator whose field along the path lies in the zero-mode
  space (overlap >= 0.99) is the symmetry the zero mode comes from.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla
from scipy.linalg import lapack

from . import _banded

#: |lambda| <= ZERO_TOL * max|diag H|: a zero mode (rounding of lambda is ~1e-16 |H|).
ZERO_TOL = 1e-10

#: How many of the lowest eigenvalues are computed for the certificate.
NUM_LOWEST = 4

#: Up to this many unknowns a dense ``eigh``; above, shift-invert Lanczos on the banded
#: Cholesky. Measured (K = 200, n = 2: 396 unknowns): dense 11-12 ms, Lanczos 5 ms, the same
#: eigenvalues to 1e-14; the two cross near 200 unknowns (3 ms each).
DENSE_MAX = 200


def lowest_eigenpairs(B, C, k: int = NUM_LOWEST, *, dense_max: int = DENSE_MAX):
    """(eigenvalues (k,), eigenvectors (k, M, n), scale = max|diag H|), lowest first."""
    B, C = np.asarray(B), np.asarray(C)
    M, n, _ = B.shape
    N = M * n
    k = int(min(k, N))
    scale = float(np.max(np.abs(np.diagonal(B, axis1=1, axis2=2))))
    if N <= dense_max:
        w, V = np.linalg.eigh(_banded.to_dense(B, C))
        return w[:k], V[:, :k].T.reshape(k, M, n), scale
    H = _banded.to_sparse(B, C)
    band = _banded.to_band(B, C)
    _, info = lapack.dpbtrf(band, lower=0)
    if info == 0:  # positive definite: the eigenvalues nearest a point just below zero
        # (close to zero, so that the lowest eigenvalues are well separated after inversion;
        # below the zero-mode threshold, so that H - sigma I stays invertible)
        sigma = -ZERO_TOL * max(scale, 1e-300)
    else:  # indefinite: shift to a Gershgorin lower bound of the spectrum
        absrow = np.asarray(abs(H).sum(axis=1)).ravel()
        diag = H.diagonal()
        sigma = float(np.min(diag - (absrow - np.abs(diag))))
    # Shift-invert with the banded Cholesky of H - sigma I (positive definite for both shifts):
    # linear in K, far cheaper than a general sparse LU at K ~ 10^5.
    shifted = band.copy()
    shifted[-1] -= sigma
    factor, info = lapack.dpbtrf(shifted, lower=0)
    try:
        if info != 0:
            raise np.linalg.LinAlgError("the shifted Hessian is not positive definite")
        inverse = spla.LinearOperator(
            (N, N), matvec=lambda v: lapack.dpbtrs(factor, np.reshape(v, (N, 1)), lower=0)[0]
        )
        w, V = spla.eigsh(H, k=min(k, N - 1), sigma=sigma, which="LM", OPinv=inverse)
    except Exception:  # ARPACK failure: report "unknown" rather than guess
        return np.full(k, np.nan), None, scale
    order = np.argsort(w)
    return w[order], V[:, order].T.reshape(-1, M, n), scale


def classify(eigenvalues, scale):
    """(number negative, number zero) of the eigenvalues against ZERO_TOL * scale."""
    w = np.asarray(eigenvalues, float)
    tol = ZERO_TOL * max(scale, 1e-300)
    return int(np.sum(w < -tol)), int(np.sum(np.abs(w) <= tol))


def identify(sde, xs, vectors, args=None, *, overlap: float = 0.99):
    """Names of the symmetry generators whose field along the path spans the zero modes.

    ``xs`` is the full path (K, n), ``vectors`` the zero-mode eigenvectors (z, K-2, n). Returns
    one dict per generator found: ``name``, ``A``, ``b`` and ``overlap`` (the fraction of the
    generator's field along the interior path inside the zero-mode space, 1 for an exact match).
    """
    from ..symmetry import find_symmetries  # the symmetry package is above the solvers

    xs = np.asarray(xs, float)
    V = np.asarray(vectors, float).reshape(len(vectors), -1)
    Q, _ = np.linalg.qr(V.T)
    stride = max(1, len(xs) // 24)
    found = []
    for sym in find_symmetries(sde, xs[::stride], times=0.0, args=args).affine:
        field = np.stack([sym.xi(x) for x in xs[1:-1]]).ravel()
        norm = np.linalg.norm(field)
        if norm == 0.0:
            continue
        frac = float(np.linalg.norm(Q.T @ field) / norm)
        if frac >= overlap:
            found.append(dict(name=sym.name, A=sym.A, b=sym.b, overlap=frac))
    return found
