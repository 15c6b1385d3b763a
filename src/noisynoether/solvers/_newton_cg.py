"""Matrix-free damped Newton-CG for large state dimension (selected when n > 32).

The Hessian is never formed: conjugate gradients uses Hessian-vector products (forward-over-
reverse derivatives of the action; XLA shares the repeated Jacobian products, so this costs
about what the linearised gradient of ``_cg_hessian.py`` does). CG is preconditioned by
the exact Hessian of the leak-only problem f = -x with a constant diffusion D0 (D at the
middle of the time range and between the endpoints): P = T (x) D0^-1 with T a scalar
tridiagonal matrix over time, shared by all n components. P removes the 1/dt^2 stiffness of
the time coupling, so the CG count hardly grows with K or n (SOLVER-NOTES). Each outer step
solves (H + lam P) dx = -g to the forcing tolerance |r| <= min(0.5, sqrt|g|) |g|; negative
curvature met inside CG truncates the step (or rejects it when met at once, which raises the
damping). The end certificate uses the same P (``_minimum.lowest_eigen_matfree``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._lagrangian import total_action
from . import _assemble, _curvature, _lm


def leak_tridiagonal(ts):
    """Diagonal (M,) and off-diagonal (M-1,) of T, the leak-only Hessian per unit D^-1."""
    dt = jnp.diff(ts)
    a = 1.0 / dt + 0.5  # coefficient of x_{k+1} in v + x_m
    b = 0.5 - 1.0 / dt  # coefficient of x_k
    diag = 0.5 * dt[:-1] * a[:-1] ** 2 + 0.5 * dt[1:] * b[1:] ** 2
    off = 0.5 * dt[1:-1] * a[1:-1] * b[1:-1]
    return diag, off


def _apply_D(d, R):
    return R @ d if d.ndim == 2 else R * d


def _apply_Dinv(d, R):
    return jnp.linalg.solve(d, R.T).T if d.ndim == 2 else R / d


#: Largest M (free points) for which T^-1 is applied as a dense (M, M) matrix, per backend.
#: On a GPU, ``tridiagonal_solve`` (cuSPARSE) took 8.4 ms for M = 198, n = 1024 columns and
#: 32 ms for n = 4096 on an H200 (linear in n), almost all of Newton-CG's loop there, against
#: ~0.2 ms for a gradient; the dense product is one GEMM (M = 4096: 134 MB). On the CPU the
#: dense product wins only for small M (M = 198, n = 1024: 1.2 ms against gtsv's 2.2 ms;
#: M = 999: 16.6 against 12.1 ms). docs/benchmarks.md has the measurements.
DENSE_T_MAX = {"cpu": 256, "default": 4096}


def _tridiagonal_inverse(lower, diag, upper):
    """``B -> T^-1 B`` for the scalar tridiagonal T (all columns of B at once)."""
    M = diag.shape[0]
    limit = DENSE_T_MAX.get(jax.default_backend(), DENSE_T_MAX["default"])
    if M > limit:  # LAPACK gtsv on the CPU, cuSPARSE on a GPU
        return lambda B: jax.lax.linalg.tridiagonal_solve(lower, diag, upper, B)
    # T^-1 from one solve against the identity (computed once per compiled call, outside
    # the solver's loops), made exactly symmetric as a CG preconditioner must be.
    Tinv = jax.lax.linalg.tridiagonal_solve(lower, diag, upper, jnp.eye(M, dtype=diag.dtype))
    Tinv = 0.5 * (Tinv + Tinv.T)
    return lambda B: Tinv @ B


def make_preconditioner(sde, ts, xa, xb, args):
    diag, off = leak_tridiagonal(ts)
    zero = jnp.zeros((1,), diag.dtype)
    lower, upper = jnp.concatenate([zero, off]), jnp.concatenate([off, zero])
    d0 = sde.D_raw(0.5 * (ts[0] + ts[-1]), 0.5 * (xa + xb), args)
    T_inv = _tridiagonal_inverse(lower, diag, upper)

    def P_inv(R):  # T^-1 R D0, all n columns at once
        return T_inv(_apply_D(d0, R))

    def P(R):  # T R D0^-1
        Y = _apply_Dinv(d0, R)
        out = diag[:, None] * Y
        out = out.at[:-1].add(off[:, None] * Y[1:])
        return out.at[1:].add(off[:, None] * Y[:-1])

    return P, P_inv


def _pcg(matvec, precond, b, tol, max_iter):
    """Preconditioned CG on A x = b from x = 0; returns (x, A x, ok, iterations)."""
    dot = jnp.vdot
    z = precond(b)
    init = (jnp.zeros_like(b), jnp.zeros_like(b), b, z, z, dot(b, z), 0, False, True)

    def cond(s):
        return (~s[7]) & (s[6] < max_iter)

    def body(s):
        x, Ax, r, z, p, rz, i, _, ok = s
        Ap = matvec(p)
        pAp = dot(p, Ap)
        negative = pAp <= 0
        alpha = rz / jnp.where(negative, 1.0, pAp)
        x_new, Ax_new, r_new = x + alpha * p, Ax + alpha * Ap, r - alpha * Ap
        z_new = precond(r_new)
        rz_new = dot(r_new, z_new)
        p_new = z_new + rz_new / rz * p
        small = jnp.linalg.norm(r_new) <= tol

        def keep(new, old):
            return jnp.where(negative, old, new)

        return (
            keep(x_new, x),
            keep(Ax_new, Ax),
            keep(r_new, r),
            keep(z_new, z),
            keep(p_new, p),
            keep(rz_new, rz),
            i + 1,
            negative | small,
            ok & ~(negative & (i == 0)),
        )

    x, Ax, _, _, _, _, it, _, ok = jax.lax.while_loop(cond, body, init)
    return x, Ax, ok, it


def solve(sde, ts, x_int, xa, xb, args, *, rtol, max_steps, lam0, max_cg):
    """Minimise the discrete action with matrix-free Newton-CG; returns the final LM state."""
    P, P_inv = make_preconditioner(sde, ts, xa, xb, args)

    def action_of(x):
        return total_action(sde, ts, _assemble.full_path(x, xa, xb), args)

    grad = jax.grad(action_of)

    def evaluate(x):
        S, g, gscale = _assemble.value_and_grad(sde, ts, x, xa, xb, args)
        return S, g, gscale, gscale

    def step(x, g, aux, lam):
        def hvp(v):
            return jax.jvp(grad, (x,), (v,))[1]

        def matvec(v):
            return hvp(v) + lam * P(v)

        gn = jnp.linalg.norm(g)
        tol = jnp.minimum(0.5, jnp.sqrt(gn)) * gn
        dx, Adx, ok, it = _pcg(matvec, lambda r: P_inv(r) / (1.0 + lam), -g, tol, max_cg)
        dHd = jnp.vdot(dx, Adx) - lam * jnp.vdot(dx, P(dx))
        pred = -jnp.vdot(g, dx) - 0.5 * dHd
        return dx, ok, pred, it.astype(jnp.int32)

    def curvature(x, g, gscale, lam):
        # Near tolerance only (a probe costs LANCZOS_STEPS Hessian-vector products): a point
        # where the run would converge is checked for negative curvature first.
        def probe(_):
            def hvp(v):
                return jax.jvp(grad, (x,), (v,))[1]

            return lowest_direction(hvp, P, P_inv, x.shape, x.dtype)

        def skip(_):
            zero = jnp.zeros((), x.dtype)
            return jnp.asarray(False), jnp.asarray(False), jnp.zeros_like(x), zero

        near = _lm._within(g, gscale, PROBE * rtol)
        return jax.lax.cond(near, probe, skip, None)

    return _lm.minimise(
        evaluate,
        step,
        x_int,
        lam0=lam0,
        rtol=rtol,
        max_steps=max_steps,
        value=action_of,
        curvature=curvature,
        wide_curvature_steps=True,
    )


#: The probe for negative curvature runs where |g| <= PROBE * rtol * max(gscale, 1).
PROBE = 1e3

#: Lanczos steps of the probe (on the pencil (H, P): its spectrum is compact, P^-1 H ~ I).
LANCZOS_STEPS = 12


def lowest_direction(hvp, P, P_inv, shape, dtype, steps: int = LANCZOS_STEPS):
    """``(negative, found, v, c)`` as ``_curvature.make_curvature`` returns them, from
    ``steps`` Lanczos steps on H y = mu P y (P-orthonormal basis, no reorthogonalisation),
    started from ``_curvature.start_vector`` (a component off every symmetry axis, which
    CG's Krylov space from a symmetric gradient never has). v (unit) is the lowest Ritz vector
    and c ~ v^T H v (from the Ritz value); found when the Ritz value is below -1e-8 (the
    pencil's values are O(1))."""
    q0 = _curvature.start_vector(*shape, dtype)
    q0 = q0 / jnp.sqrt(jnp.vdot(q0, P(q0)))

    def body(j, c):
        Q, alpha, beta, q, q_prev, b_prev = c
        Hq = hvp(q)
        a = jnp.vdot(q, Hq)
        w = P_inv(Hq) - a * q - b_prev * q_prev
        b = jnp.sqrt(jnp.maximum(jnp.vdot(w, P(w)), 0.0))
        q_next = w / jnp.where(b > 0, b, 1.0)
        return Q.at[j].set(q), alpha.at[j].set(a), beta.at[j].set(b), q_next, q, b

    zero = jnp.zeros((), dtype)
    init = (
        jnp.zeros((steps, *shape), dtype),
        jnp.zeros(steps, dtype),
        jnp.zeros(steps, dtype),
        q0,
        jnp.zeros(shape, dtype),
        zero,
    )
    Q, alpha, beta, _, _, _ = jax.lax.fori_loop(0, steps, body, init)
    T = jnp.diag(alpha) + jnp.diag(beta[:-1], 1) + jnp.diag(beta[:-1], -1)
    theta, S = jnp.linalg.eigh(T)
    y = jnp.tensordot(S[:, 0], Q, axes=1)
    ny = jnp.maximum(jnp.linalg.norm(y), 1e-300)
    v = y / ny
    # y^T H y = theta y^T P y = theta (Q is P-orthonormal): no second Hessian-vector product
    # in the compiled program (each costs compile time at network size).
    c = theta[0] / (ny * ny)
    ok = jnp.all(jnp.isfinite(v)) & jnp.isfinite(c)
    found = ok & (theta[0] < -1e-8)
    return found, found, jnp.where(ok, v, 0.0), jnp.where(ok, c, 0.0)
