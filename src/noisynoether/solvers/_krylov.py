"""Block Krylov Rayleigh-Ritz for the pencil (H, P), in JAX: one compiled call, no host trips.

The certificate of a Newton-CG solve needs the sign of the lowest Hessian eigenvalues and the
zero modes. Both are properties of the pencil ``H v = mu P v`` with P the leak-only
preconditioner (symmetric positive definite): by Sylvester's law of inertia, H and
``P^-1/2 H P^-1/2`` have the same number of negative and zero eigenvalues, and the null
vectors of H are exactly the pencil's eigenvectors with mu = 0. The pencil's spectrum is
compact (P^-1 H is close to the identity on all time scales: the reason CG needs few
iterations), so a block Krylov space of P^-1 H of a dozen blocks resolves its lowest
eigenvalues, where an eigensolver on H alone must separate the lowest temporal mode's cluster
of n nearly equal eigenvalues (scipy's LOBPCG on H: 300 iterations at n = 1024, not converged).

Nearly dependent directions (an exhausted Krylov space, a block of exact eigenvectors) are
dropped by whitening the Gram matrix with a cutoff, never normalised (rounding would become
a unit vector that is not orthogonal to the rest).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

#: Gram-matrix eigenvalues below CUTOFF * reference are treated as dependent directions.
CUTOFF = 1e-10


def _whiten(G, ref=None):
    """Z with Z^T G Z = I on G's well-conditioned directions (other columns of Z are 0):
    eigenvalues of G above CUTOFF times its largest, or times ``ref`` when given."""
    d, U = jnp.linalg.eigh(0.5 * (G + G.T))
    keep = d > CUTOFF * (jnp.max(d) if ref is None else ref)
    return jnp.where(keep, U / jnp.sqrt(jnp.where(keep, d, 1.0)), 0.0), keep


def _dot(X, Y):
    return X @ Y.T


def _ritz(GA, GB, m):
    """The m lowest Ritz values and coefficients (s, m) of the reduced pencil (GA, GB)."""
    Z, keep = _whiten(GB)
    A = Z.T @ (0.5 * (GA + GA.T)) @ Z
    big = 1e10 * (jnp.max(jnp.abs(A)) + 1.0)
    mu, V = jnp.linalg.eigh(A + jnp.diag(jnp.where(keep, 0.0, big)))
    return mu[:m], Z @ V[:, :m]


def block_lanczos(A, B, T, X, steps, k):
    """Block Krylov Rayleigh-Ritz for A v = mu B v with the operator T A (self-adjoint in the
    B inner product when T = B^-1), from the block X (b, N), ``steps`` blocks, full
    B-reorthogonalisation (twice). Returns the k lowest Ritz values and their vectors (k, N).

    The lowest Ritz value is an upper bound of the lowest eigenvalue; from a random start its
    excess over it, relative to the spread of the spectrum, is eps with probability at least
    1 - 1.65 sqrt(N) exp(-(2 steps - 1) sqrt(eps)) (Kuczynski and Wozniakowski 1992, for the
    first vector of the block).
    """
    b, N = X.shape
    BX = B(X)
    Zb, _ = _whiten(_dot(X, BX))
    Qs = jnp.zeros((steps, b, N), X.dtype).at[0].set(Zb.T @ X)
    GA = jnp.zeros((steps, b, steps, b), X.dtype)

    def body(j, s):
        Qs, GA = s
        AQ = A(Qs[j])
        GA = GA.at[j].set(jnp.einsum("cn,sbn->csb", AQ, Qs))  # row block j of Q^T A Q
        U = T(AQ)
        BU = B(U)
        ref = jnp.max(jnp.sum(U * BU, axis=1))  # what is left below 1e-10 of it is rounding
        for _ in range(2):  # B-orthogonal to every block so far (unfilled blocks are zero)
            U = U - jnp.einsum("sbc,sbn->cn", jnp.einsum("sbn,cn->sbc", Qs, BU), Qs)
            BU = B(U)  # recomputed: after cancellation an updated B U would be rounding
        Z, _ = _whiten(_dot(U, BU), ref)  # an exhausted Krylov space: drop, never normalise
        nxt = jnp.minimum(j + 1, steps - 1)
        last = j + 1 >= steps
        Qs = Qs.at[nxt].set(jnp.where(last, Qs[nxt], Z.T @ U))
        return Qs, GA

    Qs, GA = jax.lax.fori_loop(0, steps, body, (Qs, GA))
    Q = Qs.reshape(steps * b, N)
    # Row block j holds (A Q_j) . Q_s for s <= j (later blocks were still zero): mirror it.
    GA = GA.reshape(steps * b, steps * b)
    blocks = jnp.arange(steps * b) // b
    GA = GA + GA.T - jnp.where(blocks[:, None] == blocks[None, :], GA, 0.0)
    # Q is B-orthonormal up to rounding; rows dropped as dependent are zero.
    filled = jnp.sum(Q * Q, axis=1) > 0
    mu, C = _ritz(GA, jnp.diag(filled.astype(X.dtype)), k)
    return mu, C.T @ Q
