"""The second-order certificate of a converged path: lowest Hessian eigenvalues and zero modes.

At a strict local minimum of the discrete action the Hessian (in the interior points) is
positive definite. A continuous symmetry of (f, D) that fixes both endpoints but moves the
path (an axial symmetry whose best path leaves the axis: a whole circle of minima) gives it a
zero eigenvalue at the minimum, with the symmetry's infinitesimal action ``xi(x_k)`` along the
path as eigenvector: Noether's theorem seen from the solver's side. Here:

- ``lowest_eigenpairs`` computes the k lowest eigenpairs of the block-tridiagonal Hessian on the
  host (dense up to DENSE_MAX = 200 unknowns; else shift-invert Lanczos with a banded Cholesky,
  linear in K; ``vectors=False``, the eigenvalues alone: LAPACK's banded eigen-solver up to
  BANDED_MAX);
- ``classify`` splits them into negative (a saddle), zero (|lambda| <= ZERO_TOL |H|) and
  positive;
- ``identify`` matches the zero-mode eigenvectors with the generators that ``find_symmetries``
  finds on the path's states: a generator whose field along the path lies in the zero-mode
  space (overlap >= 0.99) is the symmetry the zero mode comes from.
"""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import numpy as np
import scipy.linalg
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

#: LAPACK's banded eigen-solver reduces H to tridiagonal form in O(N^2 kd) operations (N = M n
#: unknowns, kd = 2n - 1 its half-bandwidth); above this many, shift-invert ARPACK on the
#: banded Cholesky (linear in N) is faster. Measured on random block-tridiagonal H: N^2 kd =
#: 4.7e5 (Fig. 1c, K = 200) 3.5 against 7.7 ms, 1.2e7 22 against 20 ms, 4.8e7 89 against
#: 42 ms, 2.0e10 (n = 64, K = 200) 23 s against 2.7 s. Below it the banded solver's time does
#: not depend on the spectrum, where ARPACK's does: the pinned Hessian of an energy path
#: (``_geometric.py``) has its lowest eigenvalues clustered far from zero (7723.69, 7723.70,
#: 7723.70, 7723.72, ... for the double well on 1601 nodes), and shift-invert about zero took
#: ~8000 iterations, 1.4 s, where the banded solver takes 2 ms.
BANDED_MAX = 1e7

#: ``certificate`` tries the kernel's shift-invert Lanczos first up to this block size (a
#: network's lowest eigenvalues cluster: 16 steps do not resolve them at n = 64, measured) and
#: above this many unknowns (below, LAPACK takes microseconds).
LANCZOS_MAX_N, LANCZOS_MIN = 4, 32


def lowest_eigenpairs(
    B, C, k: int = NUM_LOWEST, *, dense_max: int = DENSE_MAX, vectors: bool = True
):
    """(eigenvalues (k,), eigenvectors (k, M, n) or None, scale = max|diag H|), lowest first.

    ``vectors=False``: the eigenvalues are enough (the vectors are None where they are not
    computed anyway): LAPACK's banded eigen-solver where N^2 kd <= BANDED_MAX, NaN where it
    fails; above, the same route as with vectors.
    """
    B, C = np.asarray(B), np.asarray(C)
    M, n, _ = B.shape
    N = M * n
    k = int(min(k, N))
    scale = float(np.max(np.abs(np.diagonal(B, axis1=1, axis2=2))))
    if not vectors and float(N) ** 2 * (2 * n - 1) <= BANDED_MAX:
        try:
            w = scipy.linalg.eig_banded(
                _banded.to_band(B, C), eigvals_only=True, select="i", select_range=(0, k - 1)
            )
        except (np.linalg.LinAlgError, ValueError):
            w = np.full(k, np.nan)
        return w, None, scale
    if N <= dense_max:
        w, V = np.linalg.eigh(_banded.to_dense(B, C))
        return w[:k], V[:, :k].T.reshape(k, M, n), scale
    band = _banded.to_band(B, C)
    H = _block_operator(B, C)  # ARPACK's shift-invert mode needs only OPinv; H for its shape
    _, info = lapack.dpbtrf(band, lower=0)
    if info == 0:  # positive definite: the eigenvalues nearest a point just below zero
        # (close to zero, so that the lowest eigenvalues are well separated after inversion;
        # below the zero-mode threshold, so that H - sigma I stays invertible), then, where the
        # lowest eigenvalue lies far above it, just below that eigenvalue (``_closer_shift``).
        sigma, factor = _closer_shift(band, -ZERO_TOL * max(scale, 1e-300), H)
    else:  # indefinite: shift to a Gershgorin lower bound of the spectrum
        sigma, factor = _gershgorin_lower(B, C), None
    # Shift-invert with the banded Cholesky of H - sigma I (positive definite for both shifts):
    # linear in K, far cheaper than a general sparse LU at K ~ 10^5.
    try:
        if factor is None:
            factor = _shifted_factor(band, sigma)
        if factor is None:
            raise np.linalg.LinAlgError("the shifted Hessian is not positive definite")
        w, V = spla.eigsh(
            H, k=min(k, N - 1), sigma=sigma, which="LM", OPinv=_solve_operator(factor, N)
        )
    except Exception:  # ARPACK failure: report "unknown" rather than guess
        return np.full(k, np.nan), None, scale
    order = np.argsort(w)
    return w[order], V[:, order].T.reshape(-1, M, n), scale


def _shifted_factor(band, sigma):
    """The banded Cholesky factor of H - sigma I, or None where it is not positive definite."""
    shifted = band.copy()
    shifted[-1] -= sigma
    factor, info = lapack.dpbtrf(shifted, lower=0)
    return factor if info == 0 else None


def _solve_operator(factor, N):
    """(H - sigma I)^-1 as a LinearOperator, from its banded Cholesky factor."""
    return spla.LinearOperator(
        (N, N), matvec=lambda v: lapack.dpbtrs(factor, np.reshape(v, (N, 1)), lower=0)[0]
    )


def _closer_shift(band, sigma, H):
    """(shift, its factor or None): ``sigma`` (below zero), or a shift just below the lowest
    eigenvalue where that eigenvalue lies far above ``sigma``.

    Shift-invert converges at the rate (lambda_k - sigma) / (lambda_k+1 - sigma): a network's
    lowest eigenvalues cluster far from zero (0.2345, 0.2365, 0.2374, 0.2402 for a 64-unit
    rate network at K = 200), where a shift about zero took 187 solves. A loose estimate of the
    lowest eigenvalue first (k = 1, tol 1e-2: ~22 solves; a Ritz value of the inverse, so the
    estimate lies above the eigenvalue) gives a shift at 0.95 of it, checked below the spectrum
    by its Cholesky factorisation (else the shift about zero is kept): ~50 solves more (measured
    0.37-0.48 s -> 0.18 s a certificate at N = 12 672, with the block operator below instead of a
    sparse matrix, which took 0.18 s to build).
    """
    factor = _shifted_factor(band, sigma)
    if factor is None:
        return sigma, None
    N = band.shape[1]
    try:
        est = spla.eigsh(
            H, k=1, sigma=sigma, which="LM", OPinv=_solve_operator(factor, N), tol=1e-2,
            return_eigenvectors=False,
        )  # fmt: skip
        closer = 0.95 * float(est[0])
    except Exception:  # no estimate: the shift about zero
        return sigma, factor
    # Only far above the zero-mode threshold (|sigma|): near a zero mode H - sigma I would be
    # nearly singular, and the shift about zero converges fast there anyway.
    if np.isfinite(closer) and closer > 1e3 * abs(sigma):
        better = _shifted_factor(band, closer)
        if better is not None:
            return closer, better
    return sigma, factor


def _block_operator(B, C):
    """The block-tridiagonal matrix (B diagonal blocks, C the blocks above) as a LinearOperator."""
    M, n, _ = B.shape

    def matvec(v):
        x = np.reshape(v, (M, n))
        y = np.einsum("kij,kj->ki", B, x)
        y[:-1] += np.einsum("kij,kj->ki", C, x[1:])
        y[1:] += np.einsum("kji,kj->ki", C, x[:-1])
        return y.ravel()

    return spla.LinearOperator((M * n, M * n), matvec=matvec, dtype=B.dtype)


def _gershgorin_lower(B, C):
    """A lower bound of the spectrum of the block-tridiagonal (B, C): Gershgorin's discs."""
    diag = np.diagonal(B, axis1=1, axis2=2)
    rows = np.abs(B).sum(axis=2)
    rows[:-1] += np.abs(C).sum(axis=2)
    rows[1:] += np.abs(C).sum(axis=1)
    return float(np.min(diag - (rows - np.abs(diag))))


def certificate(B, C, *, values=None):
    """``lowest_eigenpairs`` of a converged path's Hessian, the eigenvectors only where they are
    needed: the eigenvalues first (``vectors=False``, or ``values`` = (w, V or None, scale)
    computed elsewhere), and the eigenvectors too where one of them is negative (the escape
    steps along it), zero (the zero-mode report names it) or not finite. The one path and
    every member of a batch take this route.

    Without ``values``, for block size n <= LANCZOS_MAX_N and more than LANCZOS_MIN unknowns,
    the eigenvalues come first from 16 steps of shift-invert Lanczos in the compiled kernel
    (``_lanczos.lowest_eigenvalues_host``), where its Ritz pairs converged: at Fig. 1c's
    K = 200 / 1001 / 4001 0.15 / 0.55 / 2.3 ms with its eigenvalue count, against 1.1 / 3.1 /
    10.6 ms for LAPACK's banded solver or ARPACK, and closer to a 60-step Lanczos (1e-15
    against 5e-12 to 3e-10 relative).
    """
    if values is None and B.shape[1] <= LANCZOS_MAX_N and B.shape[0] * B.shape[1] > LANCZOS_MIN:
        from ._lanczos import lowest_eigenvalues_host  # it imports this module

        fast = lowest_eigenvalues_host(B, C)
        if fast is not None and fast[2]:
            values = (fast[0], None, fast[1])
    w, V, scale = lowest_eigenpairs(B, C, vectors=False) if values is None else values
    negative, zero = classify(w, scale)
    if V is None and (negative or zero or not np.all(np.isfinite(w))):
        return lowest_eigenpairs(B, C)
    return w, V, scale


def classify(eigenvalues, scale):
    """(number negative, number zero) of the eigenvalues against ZERO_TOL * scale (NaN counts
    as neither). Plain Python: a few values, twice for every member of a batch."""
    w = [float(v) for v in np.ravel(eigenvalues)]
    tol = ZERO_TOL * max(float(scale), 1e-300)
    return sum(v < -tol for v in w), sum(abs(v) <= tol for v in w)


def identify(sde, xs, vectors, args=None, *, overlap: float = 0.99):
    """Names of the symmetry generators whose field along the path spans the zero modes.

    ``xs`` is the full path (K, n), ``vectors`` the zero-mode eigenvectors (z, K-2, n). Returns
    one dict per generator found: ``name``, ``A``, ``b`` and ``overlap`` (the fraction of the
    generator's field along the interior path inside the zero-mode space, 1 for an exact match).

    The search runs in the coordinates the path or the zero modes move (``_active``), with the
    others held at their (constant) values along the path: in a network whose other units
    rest, the symmetries among those resting units (any rotation of 67 resting leak units, say)
    have no field along the path and would only hide the one that matters (measured: 64
    generators "rotation in 2283 planes", capped, with a warning, instead of one rotation).
    """
    from ..symmetry import find_symmetries  # the symmetry package is above the solvers
    from ..symmetry._continuous import _name

    xs = np.asarray(xs, float)
    V = np.asarray(vectors, float).reshape(len(vectors), -1)
    Q, _ = np.linalg.qr(V.T)
    stride = max(1, len(xs) // 24)
    n = xs.shape[1]
    active = _active(xs, np.asarray(vectors, float))
    model = sde if active.all() else _restricted(sde, xs[0], active)
    D = None
    if not callable(sde.diffusion) and not callable(sde.noise):  # constant D: D-rotations
        D = np.asarray(sde.D_matrix(0.0, jnp.asarray(xs[0]), args, n))
    found = []
    with warnings.catch_warnings():  # a diagnostic: the search's own warnings stay inside
        warnings.simplefilter("ignore")
        syms = find_symmetries(model, xs[::stride][:, active], times=0.0, args=args).affine
    for sym in syms:
        A, b = np.zeros((n, n)), np.zeros(n)
        A[np.ix_(active, active)], b[active] = sym.A, sym.b
        field = (xs[1:-1] @ A.T + b).ravel()
        norm = np.linalg.norm(field)
        if norm == 0.0:
            continue
        frac = float(np.linalg.norm(Q.T @ field) / norm)
        if frac >= overlap:
            name = sym.name if active.all() else _name(A, b, D)
            found.append(dict(name=name, A=A, b=b, overlap=frac))
    return found


def _active(xs, vectors, rtol: float = 1e-9) -> np.ndarray:
    """(n,) bool: the coordinates that change along the path or in a zero mode."""
    moves = np.ptp(xs, axis=0)
    modes = np.max(np.abs(vectors.reshape(-1, xs.shape[1])), axis=0)
    return (moves > rtol * max(float(np.max(moves)), 1e-300)) | (
        modes > rtol * max(float(np.max(modes)), 1e-300)
    )


def _restricted(sde, x_ref, active):
    """The model in the ``active`` coordinates, the others held at ``x_ref``."""
    from .._sde import SDE

    idx = jnp.asarray(np.flatnonzero(active))
    base = jnp.asarray(x_ref)

    def embed(y):
        return base.at[idx].set(y)

    def drift(t, y, args):
        return sde.f(t, embed(y), args)[idx]

    def diffusion(t, y, args):
        D = sde.D_matrix(t, embed(y), args, base.shape[0])
        return D[idx][:, idx]

    return SDE(drift=drift, diffusion=diffusion)
