"""One damped-Newton (Levenberg-Marquardt) iteration driver shared by the path solvers.

A solver supplies two functions of the interior path x (M, n):

    evaluate(x)            -> (S, g, gscale, aux)   action, gradient, rounding scale, Hessian data
    step(x, g, aux, lam)   -> (dx, ok, pred, work)  damped Newton step, success flag,
                                                    predicted decrease of S, inner iterations
                              (+ definite)          and, for ``handoff``, whether the undamped
                                                    Hessian is positive definite

and the driver does the rest in one ``lax.while_loop``: gain-ratio test, Nielsen's damping
update (lam shrinks by up to 3x after good steps and goes to zero near the minimum; it doubles
geometrically after rejected steps, a failed factorisation counting as one), and the stopping
test ``|g|_inf <= rtol * max(gscale, 1)``, where gscale is the largest single-interval partial
derivative: the gradient is a sum of such partials, so rounding leaves it near eps * gscale.
Once the test is met the driver takes one more (polishing) step: near the minimum Newton
converges quadratically, so it costs one iteration and leaves the gradient at rounding level,
which matters because the charges' drift along the path is about |g| / dt, not |g|.

A second stopping test is on the Newton decrement: when the damping is negligible and the
predicted decrease of the step (delta^2 / 2, delta^2 = g^T H^-1 g) is at the rounding level of S,
no further step can be measured; on fine grids (K >= 8000) the gradient cannot reach ``rtol``
(the Hessian's condition number grows like K^2) but the decrement still goes to rounding.

A solver may also supply ``curvature(x, g, aux, lam) -> (negative, found, v, c)`` (see
``_curvature.py``): then each iteration where H is not positive definite also tries a step
along the direction of negative curvature v, and the run converges only at a point where no
negative curvature was found. A point at tolerance with negative curvature that no step
lowers ends the run as SADDLE.

Longer than ~300 lines because the driver is one ``lax.while_loop`` body whose candidates
(Newton, line search, curvature, move) share about twenty local quantities; split, they
would travel through long argument lists.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from . import _curvature

# Why the loop stopped.
RUNNING, CONVERGED, MAX_STEPS, STALLED, SADDLE, HANDOFF = 0, 1, 2, 3, 4, 5
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
    negative: jax.Array
    nc_steps: jax.Array
    moves: jax.Array
    status: jax.Array
    fresh: jax.Array  # the start is not evaluated yet (the first pass of the loop does it)


def _gnorm(g):
    return jnp.max(jnp.abs(g))


def _within(g, gscale, rtol):
    return _gnorm(g) <= rtol * jnp.maximum(gscale, 1.0)


def _status(g, gscale, lam, steps, hits, rtol, max_steps, *, decrement_ok=False, saddle=False):
    scale = jnp.maximum(gscale, 1.0)
    at_rounding = _gnorm(g) <= 100 * jnp.finfo(g.dtype).eps * scale
    return jnp.where(
        saddle,
        SADDLE,
        jnp.where(
            (hits >= 2) | at_rounding | decrement_ok,
            CONVERGED,
            jnp.where(lam > LAM_MAX, STALLED, jnp.where(steps >= max_steps, MAX_STEPS, RUNNING)),
        ),
    )


def _zeros_of(fn, *args):
    """Zeros shaped like ``fn(*args)``'s output (nothing is evaluated)."""
    return jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), jax.eval_shape(fn, *args))


def _unless(skip, fn, *args):
    """``fn(*args)``, or zeros of its output's shapes where ``skip`` (one branch is run)."""
    return jax.lax.cond(skip, lambda *_: _zeros_of(fn, *args), fn, *args)


def _line_search(value, x, S, g, dx):
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
    i = jnp.argmax(good)
    alpha = jnp.where(found, alphas[i], 0.0)
    return found, x + alpha * dx, jnp.where(found, vals[i], S)


def minimise(
    evaluate,
    step,
    x0,
    *,
    lam0,
    rtol,
    max_steps,
    value=None,
    curvature=None,
    moves=None,
    handoff=False,
    wide_curvature_steps=False,
):
    """Run damped Newton from x0; returns the final LMState.

    ``value(x)`` (the action alone), when given, enables a backtracking line search along a
    step that the gain-ratio test rejects, before the damping is raised. ``curvature`` (needs
    ``value``) enables the negative-curvature steps described in the module docstring.
    ``moves(x, S) -> (S_new, x_new)`` (needs ``value``), when given, proposes another point in
    each iteration (from the best point so far), taken when it lowers S further.

    ``wide_curvature_steps``: the curvature search tries steps from the path's extent down
    (as the end-of-run escape does) instead of the damped Newton step's length: for a probe
    that runs only near convergence (Newton-CG), where that step is tiny.

    ``handoff=True`` (instead of ``curvature`` and ``moves``; the step then returns a fifth
    output, whether the undamped Hessian at x is positive definite) runs the cheap loop: it
    checks the Hessian in every iteration, and stops with HANDOFF where the
    full loop's tools are needed (the Hessian is not positive definite where the run would
    converge or has stopped improving, or Newton creeps), so that the caller continues with
    the full loop from there. Its compiled code is half the size: most solves never need more.
    """
    eps = jnp.finfo(x0.dtype).eps
    if value is None:
        value = lambda x: evaluate(x)[0]  # noqa: E731
    # The start is evaluated in the loop's first pass (``fresh``), not before the loop: the
    # Hessian evaluation then appears once in the compiled program instead of twice, which
    # cuts the compile time of every solver by about a quarter (the loop is otherwise the same).
    S, g, gscale, aux = _zeros_of(evaluate, x0)
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
        jnp.asarray(jnp.inf, x0.dtype),
        zero,
        jnp.asarray(curvature is not None or handoff),
        zero,
        zero,
        jnp.asarray(RUNNING, jnp.int32),
        jnp.asarray(True),
    )

    def cond(st):
        return st.status == RUNNING

    def body(st):
        # In the first pass (st.fresh) there is no Hessian yet: no step, only the evaluation.
        dx, ok, pred, work, *definite = _unless(st.fresh, step, st.x, st.g, st.aux, st.lam)
        x_new = st.x + dx
        # The candidate points (Newton, line search, curvature, move) are compared by the action
        # alone; S, g and H are evaluated once per iteration, at the point taken (the Hessian
        # evaluation dominates both the run time and the size of the compiled loop).
        S_new = value(x_new)
        actual = st.S - S_new
        rho = actual / jnp.where(pred > 0, pred, 1.0)
        # Near the minimum the decrease is lost in rounding of S: accept a step that lowers the
        # gradient (checked below, once it is evaluated) while the change of S is at rounding level.
        noise = 64 * jnp.finfo(x0.dtype).eps * jnp.maximum(jnp.abs(st.S), 1e-300)
        in_noise = (pred <= noise) & (actual >= -noise)
        accept = ok & (pred > 0) & jnp.isfinite(S_new) & ((rho > 1e-4) | in_noise)
        shrink = jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * jnp.clip(rho, 0.0, 1.0) - 1.0) ** 3)
        negative, found, use_nc = jnp.asarray(False), jnp.asarray(False), jnp.asarray(False)
        searched, x_alt, S_ls = jnp.asarray(False), x_new, S_new
        if value is not None:
            # A rejected step: backtrack along it before raising the damping.
            searched, x_alt, S_ls = jax.lax.cond(
                ok & ~accept & (pred > 0),
                lambda _: _line_search(value, st.x, st.S, st.g, dx),
                lambda _: (jnp.asarray(False), x_new, S_new),
                None,
            )
        # The damping follows the Newton step's outcome only (a curvature step leaves it).
        lam_next = jnp.where(accept, st.lam * shrink, jnp.where(searched, st.lam, st.lam * st.nu))
        nu = jnp.where(accept | searched, 2.0, 2.0 * st.nu)
        noise = 64 * eps * jnp.abs(st.S)
        use_mv = jnp.asarray(False)
        if value is not None:
            S_best = jnp.where(searched, S_ls, jnp.where(accept, S_new, st.S))
        if curvature is not None:
            # Negative curvature at st.x: step along it when that lowers S more.
            # The step's own verdict on H's definiteness, when it returns one.
            known = dict(definite=definite[0]) if definite else {}
            negative, found, v, c = _unless(
                st.fresh, lambda *a: curvature(*a, **known), st.x, st.g, st.aux, st.lam
            )

            def along(_):
                extent = jnp.max(jnp.ptp(st.x, axis=0))
                if wide_curvature_steps:
                    radius = 0.25 * extent
                else:
                    radius = jnp.clip(_gnorm(dx), 1e-6 * extent, extent)
                radius = jnp.where(jnp.isfinite(radius) & (radius > 0), radius, 1e-3 * extent)
                S_nc, x_nc = _curvature.search(value, st.x, st.S, st.g, v, c, radius)
                return S_nc < S_best - noise, S_nc, x_nc

            use_nc, S_nc, x_nc = jax.lax.cond(
                found, along, lambda _: (jnp.asarray(False), S_best, x_alt), None
            )
            x_alt = jnp.where(use_nc, x_nc, x_alt)
            S_best = jnp.where(use_nc, S_nc, S_best)
            searched = searched & ~use_nc
        if handoff:
            negative = ~definite[0]  # from the step's own solver call
        if moves is not None:
            # A model-specific proposal (``_newton.energy_retime``), from the best point so far,
            # only in the creeping phase (the Newton step predicts a small relative gain):
            # early on, Newton shapes the path better than a re-timing of a rough one.
            x_from = jnp.where(searched | use_nc, x_alt, jnp.where(accept, x_new, st.x))
            creeping = ok & (pred <= 1e-6 * jnp.abs(st.S))
            S_mv, x_mv = jax.lax.cond(
                creeping, lambda _: moves(x_from, S_best), lambda _: (S_best, x_from), None
            )
            # Only a clear gain (the proposal's own interpolation error is ~1e-12 |S|): near
            # the minimum it would otherwise trade rounding-level gains with Newton forever.
            use_mv = creeping & (S_mv < S_best - 1e3 * noise)
            x_alt = jnp.where(use_mv, x_mv, x_alt)
            searched, use_nc = searched & ~use_mv, use_nc & ~use_mv
        # The one evaluation, at the line-search, curvature or move point if one was chosen.
        alt = searched | use_nc | use_mv
        x_ev = jnp.where(alt, x_alt, x_new)
        S_ev, g_ev, gscale_ev, aux_ev = evaluate(x_ev)
        good = jnp.isfinite(S_ev) & jnp.all(jnp.isfinite(g_ev))
        # A Newton step accepted at rounding level of S must lower the gradient.
        good = good & ~(accept & ~alt & ~(rho > 1e-4) & ~(_gnorm(g_ev) < _gnorm(st.g)))
        # A Newton step that fails here counts as a rejection: the damping rises.
        failed = accept & ~alt & ~good
        lam_next = jnp.where(failed, st.lam * st.nu, lam_next)
        nu = jnp.where(failed, 2.0 * st.nu, nu)
        searched, use_nc, use_mv = searched & good, use_nc & good, use_mv & good
        # A full step shrinks the damping; a line-search step keeps it; a rejection raises it.
        lam = jnp.where(st.fresh, st.lam, lam_next)
        nu = jnp.where(st.fresh, st.nu, nu)
        accept = (good & (alt | accept)) | st.fresh

        def pick(a, b):
            return jax.tree_util.tree_map(lambda u, w: jnp.where(accept, u, w), a, b)

        x, S, g, gscale, aux = pick(
            (x_ev, S_ev, g_ev, gscale_ev, aux_ev), (st.x, st.S, st.g, st.gscale, st.aux)
        )
        steps = st.steps + (~st.fresh).astype(jnp.int32)
        # Count the iterations that start within tolerance (at a point without negative
        # curvature): the second one ends the run.
        hits = jnp.where(_within(st.g, st.gscale, rtol) & ~negative, st.hits + 1, 0)
        hits = jnp.where(_within(g, gscale, rtol) & ~use_nc & ~use_mv, jnp.maximum(hits, 1), 0)
        hits = jnp.where(st.fresh, 0, hits)
        improved = _gnorm(g) < 0.5 * st.best
        best = jnp.where(improved, _gnorm(g), st.best)
        # Counted in accepted steps: rejections while the damping grows to make H + lam Dd
        # positive definite (a straight start across a ridge) are not "stuck".
        since = jnp.where(improved, 0, st.since + accept.astype(jnp.int32))
        # Newton decrement at rounding: the undamped model decrease of this step (pred, with
        # negligible damping) is below what S can resolve; the step just taken polishes.
        decrement_ok = (
            ok & (pred >= 0) & (st.lam <= 1e-6) & ~negative
            & (pred <= 100 * eps * jnp.abs(st.S)) & jnp.isfinite(S)
        )  # fmt: skip
        # At tolerance, with a direction of negative curvature along which nothing lowers S.
        saddle = _within(st.g, st.gscale, rtol) & found & ~use_nc
        status = _status(
            g, gscale, lam, steps, hits, rtol, max_steps,
            decrement_ok=decrement_ok, saddle=saddle,
        )  # fmt: skip
        # Converge only from a point checked free of negative curvature (a point reached along
        # negative curvature is checked in the next iteration).
        if handoff:
            # Stuck (no halving of the gradient in 5 iterations) with negative curvature, or
            # creeping, or about to converge with negative curvature: the full loop's turn.
            stuck = since >= 3
            creeping = ok & (pred <= 1e-6 * jnp.abs(st.S)) & stuck
            needed = (negative & (stuck | (status == CONVERGED))) | creeping
            status = jnp.where(needed & (status != MAX_STEPS), HANDOFF, status)
        status = jnp.where((negative | use_nc | use_mv) & (status == CONVERGED), RUNNING, status)
        # After the first pass: a run that checks curvature never converges before its first
        # check; a plain run may stop at once (a start already at rounding, or max_steps = 0).
        first = (
            _status(g, gscale, lam, steps, hits, rtol, max_steps)
            if curvature is None and not handoff
            else jnp.asarray(RUNNING, jnp.int32)
        )
        status = jnp.where(st.fresh, first, status)
        negative = jnp.where(st.fresh, st.negative, negative)
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
            negative,
            st.nc_steps + use_nc.astype(jnp.int32),
            st.moves + use_mv.astype(jnp.int32),
            status.astype(jnp.int32),
            jnp.asarray(False),
        )

    return jax.lax.while_loop(cond, body, init)
