"""Block cyclic reduction for the block-tridiagonal Hessian: log2(M) vectorised levels.

Each level eliminates every other block row, forming the Schur complements of the kept rows in
one batched step (no sequential scan, no host callback), then the eliminated unknowns are
recovered level by level on the way back. Work O(M n^3), depth O(log M). The system is padded
with identity rows to M = 2^L - 1. Positive definiteness is checked through the Cholesky
factors of the eliminated diagonal blocks (a Schur complement of an SPD matrix is SPD).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def _chol_solve(L, R):
    """Solve (L L^T) X = R for batched L (m, n, n) and R (m, n, r)."""
    Y = jax.lax.linalg.triangular_solve(L, R, left_side=True, lower=True)
    return jax.lax.linalg.triangular_solve(L, Y, left_side=True, lower=True, transpose_a=True)


def _reduce(B, C, R):
    """Solve one level recursively. B (M, n, n), C (M-1, n, n), R (M, n, r); M = 2^L - 1."""
    M, n = B.shape[0], B.shape[1]
    if M == 1:
        L = jnp.linalg.cholesky(B)
        return _chol_solve(L, R), jnp.all(jnp.isfinite(L))
    Be, Re = B[0::2], R[0::2]  # eliminated rows 0, 2, ..., M-1 (count (M+1)/2)
    Le = jnp.linalg.cholesky(Be)
    ok = jnp.all(jnp.isfinite(Le))
    Cl, Cr = C[0::2], C[1::2]  # C_{k-1} (rows k-1 -> k) and C_k (k -> k+1) for kept k = 1, 3, ...
    # B_e^-1 applied to [C_{k-1} | r_{k-1}] on the left neighbour and [C_k^T | C_{k+1} | r_{k+1}]
    left = _chol_solve(Le[:-1], jnp.concatenate([Cl, Re[:-1]], axis=2))
    CrT = jnp.swapaxes(Cr, 1, 2)
    C_next = jnp.concatenate([C[2::2], jnp.zeros((1, n, n), B.dtype)], axis=0)  # C_{k+1}
    right = _chol_solve(Le[1:], jnp.concatenate([CrT, C_next, Re[1:]], axis=2))
    ClT = jnp.swapaxes(Cl, 1, 2)
    Bk = B[1::2] - ClT @ left[:, :, :n] - Cr @ right[:, :, :n]
    Rk = R[1::2] - ClT @ left[:, :, n:] - Cr @ right[:, :, 2 * n :]
    Ck = -(Cr @ right[:, :, n : 2 * n])[:-1]
    Xk, ok_k = _reduce(Bk, Ck, Rk)
    # Back substitution: x_e = B_e^-1 (r_e - C_{e-1}^T x_{e-1} - C_e x_{e+1}).
    zero = jnp.zeros((1,) + Xk.shape[1:], B.dtype)
    x_prev = jnp.concatenate([zero, Xk], axis=0)  # kept neighbour on the left (none for e = 0)
    x_next = jnp.concatenate([Xk, zero], axis=0)  # kept neighbour on the right (none at the end)
    C_prev = jnp.concatenate([jnp.zeros((1, n, n), B.dtype), C[1::2]], axis=0)  # C_{e-1}
    C_here = jnp.concatenate([C[0::2], jnp.zeros((1, n, n), B.dtype)], axis=0)  # C_e
    rhs = Re - jnp.swapaxes(C_prev, 1, 2) @ x_prev - C_here @ x_next
    Xe = _chol_solve(Le, rhs)
    X = jnp.zeros((M,) + Xk.shape[1:], B.dtype).at[0::2].set(Xe).at[1::2].set(Xk)
    return X, ok & ok_k


def cyclic_solve(B, C, rhs):
    """Solve H x = rhs (rhs (M, n)) by block cyclic reduction; returns (x, ok)."""
    M, n = B.shape[0], B.shape[1]
    P = 1
    while P - 1 < M:
        P *= 2
    pad = P - 1 - M
    eye = jnp.broadcast_to(jnp.eye(n, dtype=B.dtype), (pad, n, n))
    Bp = jnp.concatenate([B, eye], axis=0)
    Cp = jnp.concatenate([C, jnp.zeros((pad + 1 if M > 0 else pad, n, n), B.dtype)], axis=0)
    Cp = Cp[: P - 2]
    Rp = jnp.concatenate([rhs, jnp.zeros((pad, n), rhs.dtype)], axis=0)[:, :, None]
    X, ok = _reduce(Bp, Cp, Rp)
    x = X[:M, :, 0]
    return x, ok & jnp.all(jnp.isfinite(x))
