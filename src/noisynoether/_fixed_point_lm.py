"""The zero finder of ``fixed_points(sde, starts=...)``: Levenberg-Marquardt on q = |f|^2 / 2.

From every start at once (``jax.vmap``), damped Gauss-Newton steps

    (J^T J + lam I) d = -J^T f,     lam = mu |f|_2        (J = df/dx at x)

with mu adapted by the ratio of actual to predicted decrease of |f|^2 (a trust region in
disguise; lam ~ |f| keeps the local quadratic convergence of Newton at a regular zero,
Yamashita & Fukushima 2001). This is the slow-point / fixed-point search of Sussillo & Barak
(2013) with second-order steps. Where J is small (n <= DENSE_MAX_N) it is formed and the system
solved by Cholesky; above, it is never formed: conjugate gradients on the normal equations with
one jvp and one vjp per iteration (batched over starts: one matrix-matrix product each for a
rate network), stopped at a relative residual eta = min(0.1, |f|_2) (inexact Newton).

A start stops when |f|_inf <= tol and one more step has been tried (polish), when |f|^2 no
longer decreases (a local minimum of |f|^2 with f != 0: a *slow point*), or after max_steps.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ._jit import jit

__all__ = ["DENSE_MAX_N", "compiled", "jacobian", "STOP_FIXED", "STOP_SLOW", "STOP_MAX"]

#: Largest n for which the Jacobian is formed and factorised (above: matrix-free CG).
DENSE_MAX_N = 32
STOP_FIXED, STOP_SLOW, STOP_MAX = 0, 1, 2
_MU_MAX = 1e16


def _cg(matvec, rhs, rtol, max_cg):
    """Conjugate gradients for an SPD matvec, stopped at |r| <= rtol |rhs| or max_cg steps."""
    stop2 = (rtol**2) * (rhs @ rhs)

    def cond(s):
        _, r, _, rr, k = s
        return (rr > stop2) & (k < max_cg)

    def body(s):
        x, r, p, rr, k = s
        Ap = matvec(p)
        alpha = rr / jnp.where(p @ Ap > 0, p @ Ap, 1.0)
        x, r = x + alpha * p, r - alpha * Ap
        rr_new = r @ r
        return x, r, r + (rr_new / rr) * p, rr_new, k + 1

    x0 = jnp.zeros_like(rhs)
    out = jax.lax.while_loop(cond, body, (x0, rhs, rhs, rhs @ rhs, 0))
    return out[0], out[4]


@functools.lru_cache(maxsize=32)
def compiled(sde, dense: bool):
    """The jitted search for one model: ``run(starts, t, args, tol, max_steps, max_cg)``.

    Returns (x (S, n), |f(x)|_inf (S,), stop reason (S,), steps (S,), cg iterations (S,)).
    """

    def run(starts, t, args, tol, max_steps, max_cg):
        def f(x):
            return sde.f(t, x, args)

        def lm_step(x, fx, mu):
            nf = jnp.sqrt(fx @ fx)
            lam = mu * nf
            if dense:
                J = jax.jacfwd(f)(x)
                g = J.T @ fx
                A = J.T @ J + lam * jnp.eye(x.size)
                d = -jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(A), g)
                return d, J @ d, g, 0
            _, jvp = jax.linearize(f, x)
            vjp = jax.linear_transpose(jvp, x)
            g = vjp(fx)[0]
            d, its = _cg(lambda v: vjp(jvp(v))[0] + lam * v, -g, jnp.minimum(0.1, nf), max_cg)
            return d, jvp(d), g, its

        def one(x0):
            f0 = f(x0)

            def cond(s):
                return (s["stop"] < 0) & (s["k"] < max_steps)

            def body(s):
                x, fx, mu = s["x"], s["fx"], s["mu"]
                d, Jd, g, its = lm_step(x, fx, mu)
                fn2 = fx @ fx
                r_lin = fx + Jd
                pred = fn2 - r_lin @ r_lin
                x_new = x + d
                f_new = f(x_new)
                fn2_new = f_new @ f_new
                ok = jnp.isfinite(fn2_new) & (pred > 0)
                rho = jnp.where(ok, (fn2 - fn2_new) / jnp.where(pred > 0, pred, 1.0), -1.0)
                accept = ok & (rho > 1e-4)
                mu_new = jnp.where(
                    accept, jnp.where(rho > 0.75, mu / 4, jnp.where(rho < 0.25, mu * 2, mu)), mu * 4
                )
                mu_new = jnp.clip(mu_new, 1e-12, _MU_MAX)
                x = jnp.where(accept, x_new, x)
                fx = jnp.where(accept, f_new, fx)
                res = jnp.max(jnp.abs(fx))
                was_small = s["res"] <= tol
                fixed = (res <= 1e-3 * tol) | ((res <= tol) & was_small)
                # stationary: |f|^2 no longer decreases (the gradient J^T f vanishes relative
                # to |f|, an accepted step gains < 1e-10 relative, or tiny steps are rejected)
                gnorm = jnp.sqrt(g @ g)
                stuck = accept & (fn2 - fn2_new <= 1e-10 * fn2)
                flat = (gnorm <= 1e-9 * jnp.sqrt(fn2)) | (mu_new >= _MU_MAX) | stuck
                slow = (~fixed) & flat & (res > tol)
                stop = jnp.where(fixed, STOP_FIXED, jnp.where(slow, STOP_SLOW, -1))
                return dict(
                    x=x, fx=fx, mu=mu_new, res=res, k=s["k"] + 1, stop=stop, cg=s["cg"] + its
                )

            s0 = dict(
                x=x0,
                fx=f0,
                mu=jnp.asarray(1.0),
                res=jnp.max(jnp.abs(f0)),
                k=0,
                stop=jnp.where(jnp.max(jnp.abs(f0)) <= 1e-3 * tol, STOP_FIXED, -1),
                cg=0,
            )
            s = jax.lax.while_loop(cond, body, s0)
            stop = jnp.where(s["stop"] < 0, STOP_MAX, s["stop"])
            return s["x"], s["res"], stop, s["k"], s["cg"]

        return jax.vmap(one)(starts)

    return jit(run, static_argnames=("max_steps", "max_cg"))


@functools.lru_cache(maxsize=32)
def jacobian(sde):
    """Jitted ``(t, x, args) -> df/dx`` (reverse mode: one vjp per row)."""
    return jit(lambda t, x, args: jax.jacrev(lambda y: sde.f(t, y, args))(x))
