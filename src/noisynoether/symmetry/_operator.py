"""The symmetry conditions as a linear operator: evaluated, never stored as a dense matrix.

The conditions of ``_continuous`` (drift ``J_f xi - A f = 0``, diffusion
``J_D[xi] - (A D + D A^T) = 0``, each point's rows divided by the same scales as the dense
path) define a matrix M acting on the generator coordinates. Densely it has
``N (n + n^2)`` rows and ``n^2 + n`` columns (24 GB at n = 64); here only f and J_f at the N
sample pairs are stored (``N n^2`` numbers) and ``M^T M`` is applied to a block of generators
with JAX (``jax.grad`` of ``1/2 |M u|^2``): ``O(N n^2)`` work and memory per generator.

Two coordinate systems:

- ``"full"``: ``u = (vec(A) / sqrt(2), b)`` as in the dense path (any diffusion);
- ``"antisymmetric"``: for a constant D the diffusion condition ``A D + D A^T = 0`` says that
  ``A D`` is antisymmetric, so ``A = K D^-1`` with K antisymmetric, and only the drift
  condition is left on the ``n (n - 1) / 2 + n`` coordinates (upper triangle of K, b). This
  halves the unknowns and removes the diffusion rows, which dominate the conditioning.

Either way the coordinates are scaled by ``diag(M^T M)^-1/2`` (Jacobi), computed exactly from
f and J_f (``O(N n^3)`` flops in one matrix product, ``O(n^2)`` memory): on a random rate
network this widens the relative gap between the symmetries and the least-constrained other
directions about 50-fold, which is what the iteration's speed depends on.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._jit import jit
from ._constraints import _values

_SQRT2 = float(np.sqrt(2.0))
_CHUNK_ENTRIES = 2**23  # entries of J_f evaluated in one compiled call (64 MB)


@functools.partial(jit, static_argnums=(0,))
def _drift_jacobians(sde, tt, xx, args):
    def one(t, x):
        g = lambda y: sde.f(t, y, args)  # noqa: E731
        return g(x), jax.jacfwd(g)(x)

    return jax.vmap(one)(tt, xx)


@functools.partial(jit, static_argnums=(0,))
def _diffusion_norms(sde, tt, xx, args):
    """|D|_F and |J_D|_F at each pair, one pair at a time (J_D has n^3 entries)."""
    n = xx.shape[-1]

    def one(tx):
        t, x = tx
        D = lambda y: sde.D_matrix(t, y, args, n)  # noqa: E731
        return jnp.linalg.norm(D(x)), jnp.sqrt(jnp.sum(jax.jacfwd(D)(x) ** 2))

    return jax.lax.map(one, (tt, xx))


def _drift_terms(sde, tt, xx, args):
    """f (N, n) and J_f (N, n, n) in chunks of one shape (one compilation, bounded memory)."""
    N, n = xx.shape
    c = max(1, min(N, _CHUNK_ENTRIES // (n * n)))
    pad = (-N) % c
    tt_p = np.concatenate([tt, np.repeat(tt[-1:], pad)])
    xx_p = np.concatenate([xx, np.repeat(xx[-1:], pad, axis=0)])
    f = np.empty((N + pad, n))
    J = np.empty((N + pad, n, n))
    for s in range(0, N + pad, c):
        fc, Jc = _drift_jacobians(sde, tt_p[s : s + c], xx_p[s : s + c], args)
        f[s : s + c], J[s : s + c] = np.asarray(fc), np.asarray(Jc)
    return f[:N], J[:N]


class Conditions:
    """``M^T M`` of the row-scaled symmetry conditions at the pairs (tt, xx), matrix-free."""

    def __init__(self, sde, tt, xx, args):
        N, n = xx.shape
        self.sde, self.args, self.n = sde, args, n
        f, J = _drift_terms(sde, tt, xx, args)
        xnorm = np.linalg.norm(xx, axis=-1) + 1.0
        s_f = np.sqrt(np.einsum("pij,pij->p", J, J)) * xnorm + np.linalg.norm(f, axis=-1)
        s_f = np.where(s_f > 0, s_f, 1.0)
        f /= s_f[:, None]
        J /= s_f[:, None, None]
        if sde.is_constant_diffusion:
            D = np.asarray(sde.D_matrix(0.0, jnp.zeros(n), None, n))
            s_D = 2.0 * np.linalg.norm(D)
            Dinv = np.linalg.inv(D)
            data = {"D": D, "Dinv": Dinv, "wD": np.asarray(N / s_D**2 if s_D > 0 else 0.0)}
            diag = _antisymmetric_diagonal(xx @ Dinv, f @ Dinv, J)
            self.mode = "antisymmetric"
        else:
            d_norm, jd_norm = (np.asarray(a) for a in _diffusion_norms(sde, tt, xx, args))
            s_D = jd_norm * xnorm + 2.0 * d_norm
            inv_sD = np.where(s_D > 0, 1.0 / np.where(s_D > 0, s_D, 1.0), 1.0)
            data = {"t": tt, "inv_sD": inv_sD}
            Ds = np.asarray(_values(sde, tt, xx, args)[1]) * inv_sD[:, None, None]
            d2 = np.einsum("pkl,pkl->kl", Ds, Ds)  # sum_p w^2 D_lk^2
            del Ds
            diag = _full_diagonal(xx, f, J)
            diag[: n * n] += 4.0 * (np.sum(d2, axis=0)[None, :] + d2.T).ravel()
            self.mode = "full"
        self.size = diag.size
        big = np.max(diag) if diag.size and np.max(diag) > 0 else 1.0
        data["scale"] = 1.0 / np.sqrt(np.maximum(diag, 1e-8 * big))
        data.update(x=xx, f=f, J=J)
        self.data = {k: jnp.asarray(v) for k, v in data.items()}
        del f, J, data

    # ------------------------------------------------------------------ coordinates
    def to_affine(self, V: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(A (k, n, n), b (k, n)) of (scaled) coordinate columns V (size, k)."""
        A, b = _to_affine_scaled(self.mode, self.n, self.data, jnp.asarray(V))
        return np.asarray(A), np.asarray(b)

    # ------------------------------------------------------------------ operators
    def gram(self, V: np.ndarray, full: bool = False) -> np.ndarray:
        """``S M^T M S V`` in the scaled coordinates (``M^T M V``, u-coordinates, if ``full``)."""
        mode, data = self.mode, self.data
        if full:  # no scaling: a unit scale keeps one compiled function in the "full" mode
            mode = "full"
            data = {**data, "scale": jnp.ones(self.n * self.n + self.n)}
        return np.asarray(_gram(self.sde, mode, data, jnp.asarray(V), self.args))

    def inverse_step(self, U: np.ndarray, mu: float, iters: int) -> np.ndarray:
        """``(S M^T M S + mu I)^-1 U`` by ``iters`` conjugate-gradient steps per column.

        The loop runs in Python around the compiled ``gram`` (one compilation fewer; each
        step is a block product of ``O(N n^2)`` per column, the loop's cost is nothing).
        """
        X = np.zeros_like(U)
        R = U.copy()
        P = R.copy()
        rr = np.sum(R * R, axis=0)
        for _ in range(iters):
            Q = self.gram(P) + mu * P
            pq = np.sum(P * Q, axis=0)
            alpha = np.divide(rr, pq, out=np.zeros_like(rr), where=pq > 0)
            X += alpha * P
            R -= alpha * Q
            rr_new = np.sum(R * R, axis=0)
            P = R + np.divide(rr_new, rr, out=np.zeros_like(rr), where=rr > 0) * P
            rr = rr_new
        return X

    def residuals(self, A: np.ndarray, b: np.ndarray) -> np.ndarray:
        """|M u| for generators (A (k, n, n), b (k, n)) normalised to |u| = 1 (full M)."""
        k = len(A)
        pad = (-k) % 8  # a few compiled shapes only
        Ap = np.concatenate([A, np.zeros((pad, *A.shape[1:]))])
        bp = np.concatenate([b, np.zeros((pad, b.shape[1]))])
        r2 = np.asarray(
            _residual2(self.sde, self.data, jnp.asarray(Ap), jnp.asarray(bp), self.args)
        )
        r2 = r2[:k]
        unorm = np.sqrt(0.5 * np.sum(A**2, axis=(1, 2)) + np.sum(b**2, axis=1))
        return np.sqrt(np.maximum(r2, 0.0)) / np.where(unorm > 0, unorm, 1.0)


def _full_diagonal(x, f, J):
    """diag(M^T M) of the drift rows in u-coordinates ``(vec(A) / sqrt(2), b)``.

    Column (k, l) of the drift rows at a point is ``J e_k x_l - e_k f_l``, of squared norm
    ``(J^T J)_kk x_l^2 - 2 J_kk x_l f_l + f_l^2``; column b_k is ``J e_k``. (The diffusion rows
    are added by the caller without their J_D part: a preconditioner need not be exact.)
    """
    c = np.einsum("pki,pki->pi", J, J)
    Jd = np.einsum("pii->pi", J)
    dA = c.T @ x**2 - 2.0 * Jd.T @ (x * f) + np.sum(f**2, axis=0)[None, :]
    return np.concatenate([2.0 * dA.ravel(), np.sum(c, axis=0)])


def _antisymmetric_diagonal(y, g, J, chunk: int = 32):
    """diag(M^T M) of the drift rows in the coordinates (upper triangle of K, b), A = K D^-1.

    With ``y = D^-1 x``, ``g = D^-1 f`` the coordinate t_ij (i < j) is the generator
    ``A x = e_i y_j - e_j y_i``, ``A f = e_i g_j - e_j g_i``, whose drift residual
    ``J_i y_j - J_j y_i - e_i g_j + e_j g_i`` (J_i the i-th column) has squared norm
    ``C_ii y_j^2 + C_jj y_i^2 - 2 C_ij y_i y_j + g_i^2 + g_j^2 - 2 g_j a_i + 2 g_i a_j``,
    ``C = J^T J``, ``a = J_i y_j - J_j y_i``. The ``C_ij y_i y_j`` sum over points is one
    matrix product per chunk of points (``O(N n^3)`` flops, ``O(chunk n^2)`` memory).
    """
    N, n = y.shape
    c = np.einsum("pki,pki->pi", J, J)
    Jd = np.einsum("pii->pi", J)
    S = np.zeros((n, n))
    for s in range(0, N, chunk):
        JY = J[s : s + chunk] * y[s : s + chunk, None, :]
        S += JY.reshape(-1, n).T @ JY.reshape(-1, n)
    cy = c.T @ y**2  # sum_p C_ii y_j^2 at (i, j)
    dy = Jd.T @ (g * y)  # sum_p J_ii g_j y_j
    E = np.einsum("pab,pa,pb->ab", J, y, g)  # sum_p J_ab y_a g_b
    g2 = np.sum(g**2, axis=0)
    Q = cy + cy.T - 2.0 * S + g2[:, None] + g2[None, :] - 2.0 * (dy + dy.T) + 2.0 * (E + E.T)
    iu = np.triu_indices(n, 1)
    return np.concatenate([Q[iu], np.sum(c, axis=0)])


def _to_affine(mode, n, data, V):
    """(A (k, n, n), b (k, n)) of coordinate rows V (k, size)."""
    if mode == "full":
        return _SQRT2 * V[:, : n * n].reshape(-1, n, n), V[:, n * n :]
    iu = np.triu_indices(n, 1)
    m = iu[0].size
    T = jnp.zeros((V.shape[0], n, n)).at[:, iu[0], iu[1]].set(V[:, :m])
    return (T - jnp.swapaxes(T, 1, 2)) @ data["Dinv"], V[:, m:]


@functools.partial(jit, static_argnums=(0, 1))
def _to_affine_scaled(mode, n, data, V):
    return _to_affine(mode, n, data, (V * data["scale"][:, None]).T)


def _loss(sde, mode, data, A, b, args, diffusion=True):
    """1/2 |M (A, b)|^2 for one generator (diffusion rows left out when ``diffusion`` is False)."""
    xi = data["x"] @ A.T + b
    r = jnp.einsum("pij,pj->pi", data["J"], xi) - data["f"] @ A.T
    loss = 0.5 * jnp.sum(r**2)
    if not diffusion:
        return loss
    if "D" in data:
        AD = A @ data["D"]
        return loss + 0.5 * data["wD"] * jnp.sum((AD + AD.T) ** 2)
    n = A.shape[0]

    @jax.checkpoint
    def body(acc, p):
        t, x, w = p
        D = lambda y: sde.D_matrix(t, y, args, n)  # noqa: E731
        Dx, dD = jax.jvp(D, (x,), (A @ x + b,))
        AD = A @ Dx
        return acc + 0.5 * w**2 * jnp.sum((dD - AD - AD.T) ** 2), None

    extra, _ = jax.lax.scan(body, 0.0, (data["t"], data["x"], data["inv_sD"]))
    return loss + extra


@functools.partial(jit, static_argnums=(0, 1))
def _gram(sde, mode, data, V, args):
    """``S M^T M S V`` in the (scaled) coordinates of ``mode``, S = diag(data["scale"])."""
    n = data["x"].shape[-1]
    V = data["scale"][:, None] * V

    def one(v):
        def q(w):
            A, b = _to_affine(mode, n, data, w[None])
            return _loss(sde, mode, data, A[0], b[0], args, diffusion=mode == "full")

        return jax.grad(q)(v)

    return data["scale"][:, None] * jax.vmap(one, in_axes=1, out_axes=1)(V)


@functools.partial(jit, static_argnums=(0,))
def _residual2(sde, data, A, b, args):
    return jax.vmap(lambda a, c: 2.0 * _loss(sde, "full", data, a, c, args))(A, b)
