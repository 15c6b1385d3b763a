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
    best: jax.Array
    since: jax.Array
    status: jax.Array


def _gnorm(g):
    return jnp.max(jnp.abs(g))


def _within(g, gscale, rtol):
    return _gnorm(g) <= rtol * jnp.maximum(gscale, 1.0)


def _status(g, gscale, lam, steps, hits, since, rtol, max_steps):
    scale = jnp.maximum(gscale, 1.0)
    at_rounding = _gnorm(g) <= 100 * jnp.finfo(g.dtype).eps * scale
    # On very fine grids the Newton solve itself limits the gradient (the Hessian's condition
    # number grows like K^2): a gradient within 1000 x tolerance that has not halved in 10
    # iterations is at the attainable floor.
    stalled_small = (since >= 10) & (_gnorm(g) <= 1e3 * rtol * scale)
    return jnp.where(
        (hits >= 2) | at_rounding | stalled_small,
        CONVERGED,
        jnp.where(lam > LAM_MAX, STALLED, jnp.where(steps >= max_steps, MAX_STEPS, RUNNING)),
    )


def _line_search(value, evaluate, x, S, g, dx):
    """Backtrack along a rejected step: the largest 2^-j dx (j = 1..10) with Armijo decrease.

    Where the action is nearly flat in one direction (the timing of a jump in a long
    transition), the Newton direction is right but too long; raising the damping instead would
    turn the step towards steepest descent and make progress along that direction creep.
    """
    alphas = 0.5 ** jnp.arange(1.0, 11.0)
    slope = jnp.vdot(g, dx)
    vals = jax.vmap(lambda a: value(x + a * dx))(alphas)
    good = jnp.isfinite(vals) & (vals <= S + 1e-4 * alphas * slope) & (slope < 0)
    found = jnp.any(good)
    alpha = jnp.where(found, alphas[jnp.argmax(good)], 0.0)
    return found, x + alpha * dx


def minimise(evaluate, step, x0, *, lam0, rtol, max_steps, value=None):
    """Run damped Newton from x0; returns the final LMState.

    ``value(x)`` (the action alone), when given, enables a backtracking line search along a
    step that the gain-ratio test rejects, before the damping is raised.
    """
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
        _gnorm(g),
        zero,
        _status(g, gscale, lam0, zero, zero, zero, rtol, max_steps),
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
        searched = jnp.asarray(False)
        if value is not None:

            def search(_):
                found, x_ls = _line_search(value, evaluate, st.x, st.S, st.g, dx)
                return (found, x_ls, *evaluate(x_ls))

            def skip(_):
                return (jnp.asarray(False), x_new, S_new, g_new, gscale_new, aux_new)

            searched, x_ls, S_ls, g_ls, gscale_ls, aux_ls = jax.lax.cond(
                ok & ~accept & (pred > 0), search, skip, None
            )
            searched = searched & jnp.all(jnp.isfinite(g_ls))
            x_new, S_new, g_new, gscale_new, aux_new = jax.tree_util.tree_map(
                lambda u, v: jnp.where(searched, u, v),
                (x_ls, S_ls, g_ls, gscale_ls, aux_ls),
                (x_new, S_new, g_new, gscale_new, aux_new),
            )
        shrink = jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * jnp.clip(rho, 0.0, 1.0) - 1.0) ** 3)
        # A full step shrinks the damping; a line-search step keeps it; a rejection raises it.
        lam = jnp.where(accept, st.lam * shrink, jnp.where(searched, st.lam, st.lam * st.nu))
        nu = jnp.where(accept | searched, 2.0, 2.0 * st.nu)
        accept = accept | searched

        def pick(a, b):
            return jax.tree_util.tree_map(lambda u, v: jnp.where(accept, u, v), a, b)

        x, S, g, gscale, aux = pick(
            (x_new, S_new, g_new, gscale_new, aux_new), (st.x, st.S, st.g, st.gscale, st.aux)
        )
        steps = st.steps + 1
        # Count the iterations that start within tolerance: the second one ends the run.
        hits = jnp.where(_within(st.g, st.gscale, rtol), st.hits + 1, 0)
        hits = jnp.where(_within(g, gscale, rtol), jnp.maximum(hits, 1), 0)
        improved = _gnorm(g) < 0.5 * st.best
        best = jnp.where(improved, _gnorm(g), st.best)
        since = jnp.where(improved, 0, st.since + 1)
        status = _status(g, gscale, lam, steps, hits, since, rtol, max_steps)
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
            best,
            since,
            status,
        )

    return jax.lax.while_loop(cond, body, init)
