"""Gradient and block-tridiagonal Hessian of the discrete action in the interior points.

The discrete action is a sum of interval terms l_k(x_k, x_{k+1}) (``_lagrangian.py``), so its
Hessian in the free (interior) points x_1 .. x_{K-2} is block tridiagonal: each term's 2n x 2n
Hessian, computed by JAX autodiff of the user's drift and diffusion, adds to two diagonal
blocks and one off-diagonal block. Here M = K - 2 is the number of free points.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._lagrangian import interval_term


def full_path(x_int, xa, xb):
    """The (K, n) path from its (M, n) interior and pinned endpoints."""
    return jnp.concatenate([xa[None], x_int, xb[None]], axis=0)


def _term_z(sde, args):
    def term(t_a, t_b, z):
        n = z.shape[0] // 2
        return interval_term(sde, t_a, t_b, z[:n], z[n:], args)

    return term


def _split(ts, xs):
    z = jnp.concatenate([xs[:-1], xs[1:]], axis=1)  # (K-1, 2n)
    return ts[:-1], ts[1:], z


def _assemble_grad(gz, n):
    """Interior gradient (M, n) from per-interval gradients (K-1, 2n), and their size."""
    g = gz[:-1, n:] + gz[1:, :n]
    return g, jnp.max(jnp.abs(gz))


def value_and_grad(sde, ts, x_int, xa, xb, args):
    """S, its interior gradient (M, n), and the largest single-term partial (the rounding scale)."""
    xs = full_path(x_int, xa, xb)
    ta, tb, z = _split(ts, xs)
    vals, gz = jax.vmap(jax.value_and_grad(_term_z(sde, args), argnums=2))(ta, tb, z)
    g, gscale = _assemble_grad(gz, xs.shape[1])
    return jnp.sum(vals), g, gscale


def value_grad_hessian(sde, ts, x_int, xa, xb, args):
    """S, gradient (M, n), gradient scale, diagonal blocks B (M, n, n), off-diagonal C (M-1, n, n).

    C[k] is the block coupling interior point k (rows) to interior point k + 1 (columns).
    """
    xs = full_path(x_int, xa, xb)
    n = xs.shape[1]
    ta, tb, z = _split(ts, xs)
    term = _term_z(sde, args)
    vals, gz = jax.vmap(jax.value_and_grad(term, argnums=2))(ta, tb, z)
    hz = jax.vmap(jax.hessian(term, argnums=2))(ta, tb, z)  # (K-1, 2n, 2n)
    g, gscale = _assemble_grad(gz, n)
    B = hz[:-1, n:, n:] + hz[1:, :n, :n]
    C = hz[1:-1, :n, n:]
    return jnp.sum(vals), g, gscale, B, C


def block_matvec(B, C, v):
    """H v for the block-tridiagonal H given by B (M, n, n), C (M-1, n, n); v (M, n)."""
    out = jnp.einsum("kij,kj->ki", B, v)
    out = out.at[:-1].add(jnp.einsum("kij,kj->ki", C, v[1:]))
    out = out.at[1:].add(jnp.einsum("kji,kj->ki", C, v[:-1]))
    return out


def damping_diagonal(B):
    """|diag H| per interior point (M, n), floored at 1e-12 of its largest entry."""
    d = jnp.abs(jnp.diagonal(B, axis1=1, axis2=2))
    return jnp.maximum(d, 1e-12 * jnp.max(d))


def shift_diagonal(B, d):
    """The diagonal blocks of H + diag(d), d (M, n)."""
    return B + d[:, :, None] * jnp.eye(B.shape[1], dtype=B.dtype)
