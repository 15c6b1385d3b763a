"""The linear symmetry conditions on an affine generator ``xi(x) = A x + b`` and their null space.

At every sample (t, x) the drift condition ``J_f xi - A f = 0`` and the diffusion condition
``J_D[xi] - (A D + D A^T) = 0`` (see ``_continuous``) are linear in the n^2 + n coordinates
``u = (vec(A) / sqrt(2), b)`` of the generator; they are stacked, row-scaled, reduced by a
chunked QR and their null space taken by SVD.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from .._checks import grid
from .._jit import jit

_SQRT2 = float(np.sqrt(2.0))


@functools.partial(jit, static_argnums=(0,))
def _local_terms(sde, tt, xx, args):
    """f, J_f, D, J_D at every (t, x): shapes (N, n), (N, n, n), (N, n, n), (N, n, n, n)."""
    n = xx.shape[-1]

    def one(t, x):
        f = lambda y: sde.f(t, y, args)  # noqa: E731
        D = lambda y: sde.D_matrix(t, y, args, n)  # noqa: E731
        return f(x), jax.jacfwd(f)(x), D(x), jax.jacfwd(D)(x)

    return jax.vmap(one)(tt, xx)


def basis(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n^2 + n coordinate generators of the u-coordinates: sqrt(2) E_ac, then e_a.

    u = (vec(A) / sqrt(2), b), so that |u|^2 = 1/2 |A|_F^2 + |b|^2 (see ``Symmetry``).
    """
    P = n * n + n
    As = np.zeros((P, n, n))
    bs = np.zeros((P, n))
    for j in range(n * n):
        As[j, j // n, j % n] = _SQRT2
    for a in range(n):
        bs[n * n + a, a] = 1.0
    return As, bs


def from_coordinates(u: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(A, b) of the u-coordinates of a generator."""
    return _SQRT2 * u[: n * n].reshape(n, n) + 0.0, u[n * n :] + 0.0  # + 0.0: no -0.0


def constraint_rows(f, Jf, D, JD, xx, As, bs) -> np.ndarray:
    """Row-scaled constraints (N, n + n^2, G) of the generators (As (G, n, n), bs (G, n)).

    Drift rows ``J_f xi - A f`` are divided by ``|J_f|_F (|x| + 1) + |f|`` and diffusion rows
    ``J_D[xi] - (A D + D A^T)`` by ``|J_D|_F (|x| + 1) + 2 |D|_F`` at each point: the largest
    either can be for a unit generator, so each row measures a relative violation.
    """
    xi = np.einsum("gij,mj->mgi", As, xx) + bs[None]
    drift = np.einsum("mik,mgk->mgi", Jf, xi) - np.einsum("gij,mj->mgi", As, f)
    AD = np.einsum("gik,mkj->mgij", As, D)
    diff = np.einsum("mijk,mgk->mgij", JD, xi) - (AD + np.swapaxes(AD, -1, -2))
    xnorm = np.linalg.norm(xx, axis=-1) + 1.0
    s_f = np.linalg.norm(Jf.reshape(len(xx), -1), axis=-1) * xnorm + np.linalg.norm(f, axis=-1)
    s_D = np.linalg.norm(JD.reshape(len(xx), -1), axis=-1) * xnorm + 2 * np.linalg.norm(
        D.reshape(len(xx), -1), axis=-1
    )
    s_f = np.where(s_f > 0, s_f, 1.0)
    s_D = np.where(s_D > 0, s_D, 1.0)
    drift = drift / s_f[:, None, None]
    diff = diff.reshape(*diff.shape[:2], -1) / s_D[:, None, None]
    return np.concatenate([drift, diff], axis=-1).transpose(0, 2, 1)


def triangular_factor(rows: np.ndarray, chunk: int = 20000) -> np.ndarray:
    """An R with R^T R = rows^T rows (same singular values and right vectors), by chunked QR."""
    G = rows.shape[1]
    R = np.zeros((0, G))
    for start in range(0, rows.shape[0], chunk):
        block = np.vstack([R, rows[start : start + chunk]])
        R = np.linalg.qr(block, mode="r")
    if R.shape[0] < G:  # fewer rows than unknowns: pad, the missing directions are null
        R = np.vstack([R, np.zeros((G - R.shape[0], G))])
    return R


def null_space(R: np.ndarray, tol: float):
    """(s / s_max (G,), V (G, G), s_max, mask of the relative singular values <= tol)."""
    _, s, Vt = np.linalg.svd(R)
    s_max = s[0] if s[0] > 0 else 1.0
    rel = s / s_max
    return rel, Vt.T, s_max, rel <= tol


@functools.partial(jit, static_argnums=(0,))
def _values(sde, tt, xx, args):
    """f (N, n) and D (N, n, n) at every (t, x); D only when it is not constant."""
    n = xx.shape[-1]
    f = jax.vmap(lambda t, x: sde.f(t, x, args))(tt, xx)
    if sde.is_constant_diffusion:
        return f, None
    return f, jax.vmap(lambda t, x: sde.D_matrix(t, x, args, n))(tt, xx)


def _time_residual(sde, times, points, args) -> float:
    """max over sample times of the relative change of f and D from the first time."""
    tt, xx = grid(times, points)
    f, D = _values(sde, tt, xx, args)
    T, m = times.size, points.shape[0]
    worst = 0.0
    for arr in (f, D):
        if arr is None:  # a constant D does not change
            continue
        arr = np.asarray(arr).reshape(T, m, -1)
        for i in range(1, T):
            num = np.linalg.norm(arr[i] - arr[0])
            den = np.linalg.norm(arr[i]) + np.linalg.norm(arr[0])
            worst = max(worst, num / den if den > 0 else 0.0)
    return float(worst)
