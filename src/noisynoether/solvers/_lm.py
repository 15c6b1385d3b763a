"""One damped-Newton (Levenberg-Marquardt) iteration driver shared by the path solvers.

A solver supplies two functions of the interior path x (M, n):

    evaluate(x)            -> (S, g, gscale, aux)   action, gradient, rounding scale, Hessian data
    step(x, g, aux, lam)   -> (dx, ok, pred, work)  damped Newton step, success flag,
                                                    predicted decrease of S, inner iterations

and the driver does the rest in one ``lax.while_loop``: gain-ratio test, Nielsen's damping
update (lam shrinks by up to 3x after good steps and goes to zero near the minimum; it doubles
geometrically after rejected steps, a failed factorisation counting as one), and the stopping
test ``|g|_inf <= rtol * max(gscale, 1)``, where gscale is the largest single-interval partial
derivative: the gradient is a sum of such partials, so rounding leaves it near eps * gscale.
Once the test is met the driver takes one more (polishing) step: near the minimum Newton
converges quadratically, so it costs one iteration and leaves the gradient at rounding level,
which matters because the charges' drift along the path is about |g| / dt, not |g|.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

# Why the loop stopped.
RUNNING, CONVERGED, MAX_STEPS, STALLED = 0, 1, 2, 3
LAM_MAX = 1e16


class LMState(NamedTuple):
    x: jax.Array
    S: jax.Array
    g: jax.Array
    gscale: jax.Array
    aux: object
    lam: jax.Array
    nu: jax.Array
    steps: jax.Array
    rejected: jax.Array
    work: jax.Array
    hits: jax.Array
    status: jax.Array


def _gnorm(g):
    return jnp.max(jnp.abs(g))


def _within(g, gscale, rtol):
    return _gnorm(g) <= rtol * jnp.maximum(gscale, 1.0)


def _status(g, gscale, lam, steps, hits, rtol, max_steps):
    at_rounding = _gnorm(g) <= 100 * jnp.finfo(g.dtype).eps * jnp.maximum(gscale, 1.0)
    return jnp.where(
        (hits >= 2) | at_rounding,
        CONVERGED,
        jnp.where(lam > LAM_MAX, STALLED, jnp.where(steps >= max_steps, MAX_STEPS, RUNNING)),
    )


def minimise(evaluate, step, x0, *, lam0, rtol, max_steps):
    """Run damped Newton from x0; returns the final LMState."""
    S, g, gscale, aux = evaluate(x0)
    zero = jnp.asarray(0, dtype=jnp.int32)
    lam0 = jnp.asarray(lam0, dtype=x0.dtype)
    init = LMState(
        x0,
        S,
        g,
        gscale,
        aux,
        lam0,
        jnp.asarray(2.0, x0.dtype),
        zero,
        zero,
        zero,
        zero,
        _status(g, gscale, lam0, zero, zero, rtol, max_steps),
    )

    def cond(st):
        return st.status == RUNNING

    def body(st):
        dx, ok, pred, work = step(st.x, st.g, st.aux, st.lam)
        x_new = st.x + dx
        S_new, g_new, gscale_new, aux_new = evaluate(x_new)
        actual = st.S - S_new
        rho = actual / jnp.where(pred > 0, pred, 1.0)
        # Near the minimum the decrease is lost in rounding of S: accept a step that lowers the
        # gradient while the change of S is at rounding level.
        noise = 64 * jnp.finfo(x0.dtype).eps * jnp.maximum(jnp.abs(st.S), 1e-300)
        in_noise = (pred <= noise) & (actual >= -noise) & (_gnorm(g_new) < _gnorm(st.g))
        accept = ok & (pred > 0) & jnp.isfinite(S_new) & ((rho > 1e-4) | in_noise)
        accept = accept & jnp.all(jnp.isfinite(g_new))
        shrink = jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * jnp.clip(rho, 0.0, 1.0) - 1.0) ** 3)
        lam = jnp.where(accept, st.lam * shrink, st.lam * st.nu)
        nu = jnp.where(accept, 2.0, 2.0 * st.nu)

        def pick(a, b):
            return jax.tree_util.tree_map(lambda u, v: jnp.where(accept, u, v), a, b)

        x, S, g, gscale, aux = pick(
            (x_new, S_new, g_new, gscale_new, aux_new), (st.x, st.S, st.g, st.gscale, st.aux)
        )
        steps = st.steps + 1
        # Count the iterations that start within tolerance: the second one ends the run.
        hits = jnp.where(_within(st.g, st.gscale, rtol), st.hits + 1, 0)
        hits = jnp.where(_within(g, gscale, rtol), jnp.maximum(hits, 1), 0)
        status = _status(g, gscale, lam, steps, hits, rtol, max_steps)
        return LMState(
            x,
            S,
            g,
            gscale,
            aux,
            lam,
            nu,
            steps,
            st.rejected + (~accept).astype(jnp.int32),
            st.work + work,
            hits,
            status,
        )

    return jax.lax.while_loop(cond, body, init)
