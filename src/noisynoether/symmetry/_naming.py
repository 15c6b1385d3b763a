"""Readable names of generators, and the rotation of a null-space basis towards sparse ones."""

from __future__ import annotations

import re

import numpy as np
import scipy.linalg

from ._constraints import from_coordinates

_NAME_TOL = 1e-6  # relative size below which an entry counts as zero when naming


def _sign_key(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Entries in the order that fixes a generator's sign: A below the diagonal, b, the rest."""
    n = A.shape[0]
    lower = [A[j, i] for i in range(n) for j in range(i + 1, n)]
    diag = [A[i, i] for i in range(n)]
    upper = [A[i, j] for i in range(n) for j in range(i + 1, n)]
    return np.array(lower + list(b) + diag + upper)


def tidy_basis(U: np.ndarray, n: int) -> np.ndarray:
    """Rotate an orthonormal basis U (G, k) of a subspace towards sparse generators.

    The null space is defined up to rotation. QR with column pivoting picks k well-conditioned
    pivot coordinates; the basis that is the identity on them (a reduced row echelon form) is
    sparse (single rotations E_ji - E_ij, single translations e_i, ...). It is then
    re-orthonormalised in pivot order (which leaves an already orthogonal one unchanged) and
    each vector's sign fixed (the first entry of A below the diagonal, else of b, positive).
    """
    k = U.shape[1]
    if k == 0:
        return U
    if k > 1:
        _, _, piv = scipy.linalg.qr(U.T, pivoting=True, mode="economic")
        pivots = np.sort(piv[:k])
        B = np.linalg.solve(U.T[:, pivots], U.T)  # (k, G), identity on the pivots
        scale = np.max(np.abs(B), axis=1, keepdims=True)
        B = np.where(np.abs(B) < 1e-13 * scale, 0.0, B)
        U, _ = np.linalg.qr(B.T)
    for j in range(k):
        A, b = from_coordinates(U[:, j], n)
        key = _sign_key(A, b)
        big = np.flatnonzero(np.abs(key) > _NAME_TOL * np.max(np.abs(key)))
        if big.size and key[big[0]] < 0:
            U[:, j] = -U[:, j]
    return U


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) > 1e-12 else "0"


def describe(A: np.ndarray, b: np.ndarray, D: np.ndarray | None = None) -> str:
    """A readable name of the affine generator ``xi(x) = A x + b``.

    With a constant diffusion matrix D, a generator with ``A D`` antisymmetric in one plane
    (and b = 0) is a rotation in the metric of D (``A D + D A^T = 0``): a "D-rotation".
    """
    n = A.shape[0]
    scale = max(np.max(np.abs(A)), np.max(np.abs(b)), 1e-300)
    An, bn = A / scale, b / scale
    tol = _NAME_TOL
    a_zero = np.all(np.abs(An) < tol)
    b_zero = np.all(np.abs(bn) < tol)
    if a_zero and b_zero:
        return "zero generator"
    if a_zero:
        nz = np.flatnonzero(np.abs(bn) >= tol)
        if nz.size == 1:
            return f"translation along x{nz[0] + 1}"
        u = b / np.linalg.norm(b)
        return "translation along (" + ", ".join(_fmt(v) for v in u) + ")"
    if np.all(np.abs(An + An.T) < tol):
        planes = [(i, j) for i in range(n) for j in range(i + 1, n) if abs(An[j, i]) >= tol]
        if len(planes) == 1:
            i, j = planes[0]
            plane = f"rotation in the (x{i + 1}, x{j + 1}) plane"
            if b_zero:
                return plane
            others = [k for k in range(n) if k not in (i, j)]
            if all(abs(bn[k]) < tol for k in others):
                # xi = A (x - c): b = -A c with c in the plane
                sub = A[np.ix_([i, j], [i, j])]
                c = -np.linalg.solve(sub, b[[i, j]])
                return f"{plane} about (x{i + 1}, x{j + 1}) = ({_fmt(c[0])}, {_fmt(c[1])})"
            return f"{plane} with translation b = (" + ", ".join(_fmt(v) for v in b) + ")"
        if b_zero and n == 3:
            w = np.array([A[2, 1], A[0, 2], A[1, 0]])
            w = w / np.linalg.norm(w)
            return "rotation about the axis (" + ", ".join(_fmt(v) for v in w) + ")"
        if b_zero:
            return f"rotation in {len(planes)} planes (antisymmetric A)"
    if D is not None and b_zero:
        W = A @ D
        W = W / np.max(np.abs(W))
        if np.all(np.abs(W + W.T) < tol):
            planes = [(i, j) for i in range(n) for j in range(i + 1, n) if abs(W[j, i]) >= tol]
            if len(planes) == 1:
                i, j = planes[0]
                return f"D-rotation in the (x{i + 1}, x{j + 1}) plane (A D antisymmetric)"
            return "D-rotation (A D antisymmetric)"
    if b_zero and np.all(np.abs(An - An[0, 0] * np.eye(n)) < tol):
        return "dilation x -> (1 + eps) x"
    rows = "; ".join(", ".join(_fmt(v) for v in row) for row in A)
    return f"affine generator A = [{rows}], b = (" + ", ".join(_fmt(v) for v in b) + ")"


def _natural(name: str) -> list:
    """Sort key that orders x2 before x10."""
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", name)]


def _category(name: str) -> int:
    for i, head in enumerate(("translation", "rotation", "D-rotation", "dilation")):
        if name.startswith(head):
            return i
    return 3
