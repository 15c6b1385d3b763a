"""The converse of Noether's theorem: learn symmetries from charges conserved along paths.

The paper (Section 6) suggests using the converse direction: a quantity found to be conserved
along observed most likely paths points to a symmetry. Charges are linear in the generator,
``Q[sum_j c_j xi_j] = sum_j c_j Q[xi_j]``, so the combinations of candidate generators whose
charge is constant along every path are the null space of the matrix of charge variations
(rows: the intervals of every path, columns: the candidates).
"""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import numpy as np

from .._checks import (
    as_generator,
    as_path,
    as_time_grid,
    check_model_on_path,
    check_sde,
    check_tol,
)
from ._balance import discrete_charges, endpoint_momenta
from ._constraints import _SQRT2, basis, from_coordinates
from ._naming import describe, tidy_basis
from ._results import Symmetry, SymmetryList

__all__ = ["conserved_quantities"]


def _as_paths(paths):
    if isinstance(paths, (str, bytes)) or not hasattr(paths, "__iter__"):
        raise TypeError(
            f"paths must be a list of PathResult objects (or (ts, xs) pairs); "
            f"got {type(paths).__name__}"
        )
    out = []
    for i, p in enumerate(paths):
        if hasattr(p, "ts") and hasattr(p, "xs"):
            ts, xs = p.ts, p.xs
        elif isinstance(p, (tuple, list)) and len(p) == 2:
            ts, xs = p
        else:
            raise TypeError(
                f"paths[{i}] must be a PathResult (with .ts and .xs) or a pair (ts, xs); "
                f"got {type(p).__name__}"
            )
        ts = as_time_grid(ts, name=f"paths[{i}].ts")
        xs = as_path(xs, ts, name=f"paths[{i}].xs")
        out.append((ts, xs))
    if not out:
        raise ValueError("paths must hold at least one path; got an empty sequence")
    n = out[0][1].shape[1]
    for i, (_, xs) in enumerate(out):
        if xs.shape[1] != n:
            raise ValueError(
                f"paths must share the state dimension: paths[0] has n = {n}, paths[{i}] has "
                f"n = {xs.shape[1]}"
            )
    return out, n


def _candidates(candidates, n):
    """(G, n, n) and (G, n): the default full affine basis E_ij, e_i, or the user's."""
    if candidates is None:
        As, bs = basis(n)
        return As / _SQRT2, bs
    if isinstance(candidates, (str, bytes)) or not hasattr(candidates, "__iter__"):
        raise TypeError(
            f"candidates must be a list of Symmetry objects or (A, b) pairs; "
            f"got {type(candidates).__name__}"
        )
    As, bs = [], []
    for i, c in enumerate(candidates):
        kind, A, b = as_generator(c, n, name=f"candidates[{i}]")
        if kind != "affine":
            raise ValueError(f"candidates[{i}] must be an affine generator; got a time translation")
        As.append(A)
        bs.append(b)
    if not As:
        raise ValueError("candidates must hold at least one generator; got an empty sequence")
    return np.array(As), np.array(bs)


def _basis_charges(pm, pp, xs):
    """(K-1, n^2 + n) ``discrete_charges`` of the basis E_ij (A x = x_j e_i), then e_a: the
    interval charges 1/2 (p^-_i x_k,j + p^+_i x_k+1,j) and 1/2 (p^- + p^+)_a."""
    K1, n = pm.shape
    E = 0.5 * (pm[:, :, None] * xs[:-1, None, :] + pp[:, :, None] * xs[1:, None, :])
    return np.concatenate([E.reshape(K1, n * n), 0.5 * (pm + pp)], axis=1)


def conserved_quantities(sde, paths, *, candidates=None, tol: float = 1e-6, args=None):
    """Generators whose Noether charges are constant along every given most likely path.

    For each candidate generator ``xi_j(x) = A_j x + b_j`` (default: the full affine basis, the
    n^2 + n generators ``E_ij`` and ``e_i``), the charge ``Q_j`` (Eq. 4) is computed on every
    interval of every path: the exact discrete charge of ``charge_balance``, which an exact
    symmetry conserves to the solver's precision. The charge-variation matrix (rows: every
    interval of every path, ``Q_j,k - mean_k Q_j`` with each path's rows divided by the RMS of
    its charges; columns: the candidates, orthonormalised in ``1/2 tr(A^T A') + b . b'``) is
    decomposed by SVD, and the right singular vectors with singular value at most ``tol`` times
    the largest are returned as generators: the symmetries the paths reveal (the converse of
    Noether's theorem).

    Use several paths with different endpoints (and durations) that explore the region of
    interest. One path is not enough: along a single trajectory the n^2 + n charges are
    functions of one variable, and many of their combinations are constant by accident (for
    a linear drift, every ``p_a x_b`` lies in a space of few exponentials). A warning is given
    for a single path. The paths must be most likely paths of ``sde`` (converged solves).

    Args:
        sde: the model the paths were solved for.
        paths: a list of ``PathResult`` objects (``.ts``, ``.xs``) or ``(ts, xs)`` pairs.
        candidates: generators to combine: ``Symmetry`` objects or ``(A, b)`` pairs; default
            the full affine basis.
        tol: relative singular value below which a combination counts as conserved.
        args: PyTree passed to drift and diffusion.

    Returns:
        A ``SymmetryList`` of ``Symmetry`` objects (kind ``"affine"``, named as in
        ``find_symmetries``, ``.coefficients`` the weights of the candidates, ``.residual`` the
        relative singular value), with ``.singular_values`` and ``.message``; empty when no
        combination is conserved.
    """
    check_sde(sde)
    tol = check_tol(tol)
    plist, n = _as_paths(paths)
    As, bs = _candidates(candidates, n)
    if len(plist) == 1:
        warnings.warn(
            "conserved_quantities with one path: many combinations of charges are constant "
            "along a single path by accident; pass several paths with different endpoints",
            stacklevel=2,
        )
    # Orthonormal coordinates of the candidates' span, in u = (vec(A)/sqrt(2), b):
    # c = Vg diag(1/sg) y  <->  u = Ug y. The default basis (E_ij, e_a) is orthogonal already,
    # with norms 1/sqrt(2) and 1: Ug = I, no SVD of the (n^2 + n)^2 matrix (O(n^6)).
    default = candidates is None
    if default:
        P = n * n + n
        Ug, Vg = None, None
        sg = np.concatenate([np.full(n * n, 1 / _SQRT2), np.ones(n)])
        rank = P
    else:
        G = np.concatenate([As.reshape(len(As), -1) / _SQRT2, bs], axis=1).T  # (P, J)
        Ug, sg, Vgt = np.linalg.svd(G, full_matrices=False)
        rank = int(np.sum(sg > 1e-12 * sg[0])) if sg.size and sg[0] > 0 else 0
        if rank == 0:
            raise ValueError("candidates must not all be zero generators")
        Ug, sg, Vg = Ug[:, :rank], sg[:rank], Vgt[:rank].T

    blocks = []
    for i, (ts, xs) in enumerate(plist):
        check_model_on_path(sde, ts, xs, args, what=f"paths[{i}]")
        pm, pp = endpoint_momenta(sde, jnp.asarray(ts), jnp.asarray(xs), args)
        if default:  # p_i x_j and p_a: outer products, O(K n^2) instead of O(K n^4)
            Q = _basis_charges(np.asarray(pm), np.asarray(pp), xs) / sg
        else:
            Q = discrete_charges(pm, pp, xs, As, bs).T @ (Vg / sg)  # (K-1, rank), y coordinates
        rms = np.sqrt(np.mean(Q**2))
        if rms == 0:
            continue
        blocks.append((Q - Q.mean(axis=0)) / rms)
    C = np.vstack(blocks) if blocks else np.zeros((0, rank))
    if C.shape[0] < rank:
        C = np.vstack([C, np.zeros((rank - C.shape[0], rank))])
    _, s, Vt = np.linalg.svd(C, full_matrices=False)
    s_max = s[0] if s.size and s[0] > 0 else 1.0
    rel = s / s_max
    null = rel <= tol
    U = tidy_basis(Vt[null].T if default else Ug @ Vt[null].T, n)  # (P, k), u coordinates
    found = []
    for j in range(U.shape[1]):
        A, b = from_coordinates(U[:, j], n)
        y = U[:, j] if default else Ug.T @ U[:, j]
        coeffs = y / sg if default else Vg @ (y / sg)
        resid = float(np.linalg.norm(C @ y) / s_max)
        sym = Symmetry("affine", A, b, describe(A, b), resid, sde, args, coefficients=coeffs)
        found.append(sym)
    k = len(found)
    msg = (
        f"{k} conserved combination{'' if k == 1 else 's'} of {len(As)} candidate generators "
        f"on {len(plist)} path{'' if len(plist) == 1 else 's'}"
    )
    return SymmetryList(found, singular_values=rel, message=msg)
