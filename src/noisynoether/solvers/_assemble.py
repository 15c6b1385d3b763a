"""Gradient and block-tridiagonal Hessian of the discrete action in the interior points.

The discrete action is a sum of interval terms l_k(x_k, x_{k+1}) (``_lagrangian.py``), so its
Hessian in the free (interior) points x_1 .. x_{K-2} is block tridiagonal: each term's 2n x 2n
Hessian, computed by JAX autodiff of the user's drift and diffusion, adds to two diagonal
blocks and one off-diagonal block. Here M = K - 2 is the number of free points.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._lagrangian import interval_term, midpoints


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
    With a constant D the blocks are assembled from f, its Jacobian and one curvature term
    (``_constant_d_terms``, ~1.7x faster); otherwise each interval term's 2n x 2n Hessian is
    taken by autodiff.
    """
    if sde.is_constant_diffusion:
        return _constant_d_terms(sde, ts, x_int, xa, xb, args)
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


def _constant_d_terms(sde, ts, x_int, xa, xb, args):
    """``value_grad_hessian`` where D does not depend on t or x.

    On interval k (length h, midpoint m, residual r = (x_b - x_a)/h - f(m), u = D^-1 r, J the
    Jacobian of f at m) the term h/4 r.u has gradient h/2 A^T u and Hessian
    h/2 A_a^T D^-1 A_b - h/8 Q in the blocks (a, b) of its end points, with A_a = -I/h - J/2,
    A_b = I/h - J/2 and Q = Hess_m (u . f)(m) (u held fixed): the Gauss-Newton part plus the
    drift's curvature, the same Hessian as autodiff of the term (to rounding) at about 0.6 of
    its cost (measured on Fig. 1c, K = 200: 19 against 33 us; ``docs/benchmarks.md``): one
    Jacobian and n Hessian-vector products of f per interval instead of 2n of the whole term.
    """
    xs = full_path(x_int, xa, xb)
    n = xs.shape[1]
    h = ts[1:] - ts[:-1]
    tm, m = midpoints(ts, xs)
    v = (xs[1:] - xs[:-1]) / h[:, None]

    def at(t, y):
        return sde.f(t, y, args)

    f = jax.vmap(at)(tm, m)
    J = jax.vmap(jax.jacfwd(at, argnums=1))(tm, m)  # (K-1, n, n)
    r = v - f
    d_inv = jax.vmap(lambda t, y, a: sde.D_inv_apply(t, y, a, args))
    u = d_inv(tm, m, r)
    vals = 0.25 * h * jnp.sum(r * u, axis=1)
    Q = jax.vmap(lambda t, y, w: jax.hessian(lambda z: jnp.vdot(w, at(t, z)))(y))(tm, m, u)
    JTu = jnp.einsum("kij,ki->kj", J, u)
    ga = -0.5 * u - 0.25 * h[:, None] * JTu
    gb = 0.5 * u - 0.25 * h[:, None] * JTu
    eye = jnp.eye(n, dtype=xs.dtype)
    hb = h[:, None, None]
    Aa, Ab = -eye / hb - 0.5 * J, eye / hb - 0.5 * J
    # D^-1 A column by column (D constant: a scalar, a diagonal or a matrix solve).
    cols = jax.vmap(d_inv, in_axes=(None, None, 2), out_axes=2)
    DAa, DAb = cols(tm, m, Aa), cols(tm, m, Ab)
    curv = 0.125 * hb * Q

    def block(P, DR):
        return 0.5 * hb * jnp.einsum("kij,kil->kjl", P, DR) - curv

    g, gscale = _assemble_grad(jnp.concatenate([ga, gb], axis=1), n)
    B = block(Ab, DAb)[:-1] + block(Aa, DAa)[1:]
    C = block(Aa, DAb)[1:-1]
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
