"""Linear solves with the block-tridiagonal, symmetric Hessian of the discrete action.

Two implementations of the same Cholesky factorisation, cost linear in the number of blocks M:

- ``lapack``: LAPACK's banded Cholesky (dpbtrf/dpbtrs) on the interleaved ordering, bandwidth
  2n - 1, called from inside ``jit`` through a host callback (2-5x faster than a scan at n = 2
  on a CPU, but each call pays a Python round trip; the compiled kernel in ``_native.py`` does
  the same factorisation without it and is the CPU default where it is built).
- ``scan``: a block Cholesky written as ``lax.scan``; runs on any backend (GPU included) and
  accepts several right-hand sides.

Both return ``(x, ok)`` where ``ok`` is False when the matrix is not positive definite (the
damped Newton step is then rejected and the damping raised).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from scipy.linalg import lapack


@functools.lru_cache(maxsize=64)
def _band_index(n: int):
    """Index arrays that place the stacked blocks [C_{l-1}; B_l] into LAPACK's upper band form."""
    r, b = np.meshgrid(np.arange(2 * n), np.arange(n), indexing="ij")
    s = r - n + 1 + b
    valid = (s >= 0) & (s < 2 * n) & (s <= n + b)
    return r[valid], b[valid], s[valid]


def to_band(B: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Upper band storage ab (2n, M n) of the block-tridiagonal matrix (B, C) (LAPACK's layout)."""
    M, n, _ = B.shape
    stacked = np.zeros((M, 2 * n, n))
    stacked[1:, :n, :] = C
    stacked[:, n:, :] = B
    r, b, s = _band_index(n)
    ab = np.zeros((2 * n, M, n))
    ab[r, :, b] = stacked[:, s, b].T
    return ab.reshape(2 * n, M * n)


def _lapack_host(B, C, rhs):
    B, C, rhs = np.asarray(B), np.asarray(C), np.asarray(rhs)
    M, n = rhs.shape
    if not (np.all(np.isfinite(B)) and np.all(np.isfinite(C)) and np.all(np.isfinite(rhs))):
        return np.zeros((M, n)), np.asarray(False)
    c, info = lapack.dpbtrf(to_band(B, C), lower=0)
    if info != 0:
        return np.zeros((M, n)), np.asarray(False)
    x, info = lapack.dpbtrs(c, rhs.reshape(M * n, 1), lower=0)
    return x.reshape(M, n), np.asarray(info == 0 and bool(np.all(np.isfinite(x))))


def lapack_solve(B, C, rhs):
    """Solve H x = rhs (rhs (M, n)) with LAPACK's banded Cholesky through a host callback."""
    shapes = (
        jax.ShapeDtypeStruct(rhs.shape, rhs.dtype),
        jax.ShapeDtypeStruct((), jnp.bool_),
    )
    return jax.pure_callback(_lapack_host, shapes, B, C, rhs, vmap_method="sequential")


def block_cholesky(B, C):
    """Factor H = L L^T block by block: diagonal factors L_k and coupling blocks W_k.

    With W_0 = 0 and W_k = L_{k-1}^-1 C_{k-1}, S_k = B_k - W_k^T W_k = L_k L_k^T.
    Returns (L (M, n, n), W (M, n, n), ok).
    """
    M, n, _ = B.shape
    C_prev = jnp.concatenate([jnp.zeros((1, n, n), B.dtype), C], axis=0)

    def step(L_prev, inp):
        Bk, Ck = inp
        W = jax.scipy.linalg.solve_triangular(L_prev, Ck, lower=True)
        Lk = jnp.linalg.cholesky(Bk - W.T @ W)
        return Lk, (Lk, W)

    _, (L, W) = jax.lax.scan(step, jnp.eye(n, dtype=B.dtype), (B, C_prev))
    diag = jnp.diagonal(L, axis1=1, axis2=2)
    ok = jnp.all(jnp.isfinite(L)) & jnp.all(diag > 0)
    return L, W, ok


def block_cholesky_solve(L, W, rhs):
    """Solve L L^T x = rhs with the factors of ``block_cholesky``; rhs (M, n) or (M, n, r)."""
    vec = rhs.ndim == 2
    R = rhs[..., None] if vec else rhs
    tri = jax.scipy.linalg.solve_triangular

    def fwd(y_prev, inp):
        Lk, Wk, gk = inp
        yk = tri(Lk, gk - Wk.T @ y_prev, lower=True)
        return yk, yk

    _, y = jax.lax.scan(fwd, jnp.zeros_like(R[0]), (L, W, R))
    W_next = jnp.concatenate([W[1:], jnp.zeros_like(W[:1])], axis=0)

    def bwd(z_next, inp):
        Lk, Wn, yk = inp
        zk = tri(Lk.T, yk - Wn @ z_next, lower=False)
        return zk, zk

    _, z = jax.lax.scan(bwd, jnp.zeros_like(R[0]), (L, W_next, y), reverse=True)
    return z[..., 0] if vec else z


def scan_solve(B, C, rhs):
    """Solve H x = rhs with the block Cholesky written as ``lax.scan`` (any backend)."""
    L, W, ok = block_cholesky(B, C)
    x = block_cholesky_solve(L, W, rhs)
    return x, ok & jnp.all(jnp.isfinite(x))


def to_dense(B, C) -> np.ndarray:
    """The dense (M n, M n) matrix of (B, C); for tests and small problems."""
    B, C = np.asarray(B), np.asarray(C)
    M, n, _ = B.shape
    H = np.zeros((M * n, M * n))
    for k in range(M):
        H[k * n : (k + 1) * n, k * n : (k + 1) * n] = B[k]
        if k < M - 1:
            H[k * n : (k + 1) * n, (k + 1) * n : (k + 2) * n] = C[k]
            H[(k + 1) * n : (k + 2) * n, k * n : (k + 1) * n] = C[k].T
    return H
