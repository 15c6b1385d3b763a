"""One fixed-time solve on one grid: damped Newton (or Newton-CG), then the minimum check.

``compiled`` builds the jitted pieces for one model and method (jit caches each shape);
``solve`` runs the solver, checks the Hessian at the end and escapes saddles
(``_minimum.py``), and returns a ``PathResult`` with its ``Status``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _lagrangian as lag
from . import _assemble, _lm, _minimum, _native, _newton, _newton_cg
from ._result import PathResult
from ._status import Status

__all__ = ["compiled", "solve", "TRACE_COUNT"]

#: Number of times the solver function has been traced (compiled); tests use it to check caching.
TRACE_COUNT = {"solve": 0}


@functools.lru_cache(maxsize=256)
def compiled(sde, method: str, linear_solver: str, max_cg: int):
    """Jitted solver and helpers for one model and method; jit caches each shape."""

    def run(ts, x_int, xa, xb, args, rtol, max_steps, lam0):
        TRACE_COUNT["solve"] += 1
        common = dict(rtol=rtol, max_steps=max_steps, lam0=lam0)
        if method == "newton":
            return _newton.solve(
                sde, ts, x_int, xa, xb, args, linear_solver=linear_solver, **common
            )
        return _newton_cg.solve(sde, ts, x_int, xa, xb, args, max_cg=max_cg, **common)

    def action(ts, x_int, xa, xb, args):
        return lag.total_action(sde, ts, _assemble.full_path(x_int, xa, xb), args)

    def hessian_blocks(ts, x_int, xa, xb, args):
        return _assemble.value_grad_hessian(sde, ts, x_int, xa, xb, args)[3:]

    def min_eig(ts, x_int, xa, xb, args):
        B, C = hessian_blocks(ts, x_int, xa, xb, args)
        solve = _newton.linear_solve(linear_solver)
        lam, pd, settled = _minimum.smallest_eigenvalue_pd(B, C, solve)
        scale = jnp.max(jnp.abs(jnp.diagonal(B, axis1=1, axis2=2)))
        return lam, pd, settled, scale

    def hvp(ts, x_int, xa, xb, args, v):
        grad = jax.grad(lambda x: action(ts, x, xa, xb, args))
        return jax.jvp(grad, (x_int,), (v,))[1]

    def precond(ts, xa, xb, args, r):
        return _newton_cg.make_preconditioner(sde, ts, xa, xb, args)[1](r)

    def drift_mid(tm, xm, args):
        return jax.vmap(lambda t, x: sde.f(t, x, args))(tm, xm)

    def charges(ts, xs, args):
        return (
            lag.interval_momentum(sde, ts, xs, args),
            lag.interval_energy(sde, ts, xs, args),
            lag.interval_angular_momentum(sde, ts, xs, args),
        )

    return {
        name: jax.jit(fn)
        for name, fn in dict(
            run=run,
            action=action,
            hessian_blocks=hessian_blocks,
            min_eig=min_eig,
            hvp=hvp,
            precond=precond,
            charges=charges,
            drift_mid=drift_mid,
        ).items()
    }


def solve(fns, sde, ts, xs, x0, x1, args, solver, linear_solver):
    """One solve on one grid, with the saddle check; returns a PathResult."""
    method = solver.name
    ts_j, xa, xb = jnp.asarray(ts), jnp.asarray(x0), jnp.asarray(x1)
    x_int = jnp.asarray(xs[1:-1])
    totals = dict(iterations=0, rejected=0, work=0)
    escapes, min_eig, note = 0, None, ""
    while True:
        with _native.kernel_errors():  # a kernel failure is an error, never a "stall"
            st = fns["run"](
                ts_j, x_int, xa, xb, args, solver.rtol, solver.max_steps, float(solver.damping)
            )
        totals["iterations"] += int(st.steps)
        totals["rejected"] += int(st.rejected)
        totals["work"] += int(st.work)
        x_int, status = st.x, int(st.status)
        if status != _lm.CONVERGED or not solver.check_minimum:
            break
        min_eig, v, scale = _smallest_eigen(
            sde, fns, method, linear_solver, ts_j, x_int, xa, xb, args
        )
        if not _minimum.is_negative(min_eig, scale):
            break
        if escapes >= solver.max_saddle_escapes:
            status, note = -1, f"still at a saddle after {escapes} escapes"
            break
        new = _minimum.escape(
            lambda x: float(fns["action"](ts_j, jnp.asarray(x), xa, xb, args)),
            np.asarray(x_int),
            v,
        )
        if new is None:
            status, note = -1, "at a saddle, and no step along the negative curvature lowers S"
            break
        x_int, escapes = jnp.asarray(new), escapes + 1

    xs_out = np.concatenate([x0[None], np.asarray(x_int), x1[None]], axis=0)
    p, E, L = (np.asarray(a) for a in fns["charges"](ts_j, xs_out, args))
    gnorm = float(np.max(np.abs(np.asarray(st.g))))
    code, message = _message(
        status, totals["iterations"], gnorm, solver.max_steps, min_eig, escapes, note
    )
    if code is Status.SUCCESSFUL and not (np.all(np.isfinite(xs_out)) and np.isfinite(st.S)):
        code, message = Status.NONFINITE, "the path is not finite: " + Status.NONFINITE.message
    return PathResult(
        ts=ts,
        xs=xs_out,
        action=float(st.S),
        momentum=p,
        energy=E,
        angular_momentum=L,
        converged=code is Status.SUCCESSFUL,
        status=code,
        message=message,
        iterations=totals["iterations"],
        stats=dict(
            method=method,
            linear_solver=linear_solver if method == "newton" else None,
            rejected_steps=totals["rejected"],
            inner_iterations=totals["work"],
            saddle_escapes=escapes,
        ),
        grad_norm=gnorm,
        min_eigenvalue=min_eig,
    )


def _smallest_eigen(sde, fns, method, linear_solver, ts, x_int, xa, xb, args):
    """(lambda_min, eigenvector or None, scale) of the undamped Hessian at x_int."""
    if method == "newton" and linear_solver == "native":
        # Inside jit: the Cholesky decides positive definiteness exactly, inverse iteration
        # gives the eigenvalue; only an indefinite (or slowly settling) Hessian goes to the host
        # eigensolver below, which also returns the eigenvector the saddle escape needs.
        lam, pd, settled, scale = fns["min_eig"](ts, x_int, xa, xb, args)
        if bool(pd) and bool(settled):
            return float(lam), None, float(scale)
    if method == "newton":
        B, C = fns["hessian_blocks"](ts, x_int, xa, xb, args)
        return _minimum.smallest_eigen_blocks(B, C)
    # |H| ~ max(T) |D0^-1|: the scale against which a negative eigenvalue is judged.
    diag, _ = _newton_cg.leak_tridiagonal(ts)
    d0 = np.atleast_1d(np.asarray(sde.D_raw(0.5 * (ts[0] + ts[-1]), 0.5 * (xa + xb), args)))
    scale = float(jnp.max(diag)) / float(
        np.min(np.abs(np.linalg.eigvalsh(d0) if d0.ndim == 2 else d0))
    )
    return _minimum.smallest_eigen_matfree(
        lambda v: np.asarray(fns["hvp"](ts, x_int, xa, xb, args, jnp.asarray(v))),
        lambda r: np.asarray(fns["precond"](ts, xa, xb, args, jnp.asarray(r))),
        x_int.shape,
        scale,
    )


def _message(status, iterations, gnorm, max_steps, min_eig, escapes, note):
    """(Status, message with this run's numbers)."""
    tail = f" after {iterations} iterations (gradient norm {gnorm:.2e})"
    if status == _lm.CONVERGED:
        msg = "converged to a local minimum" + tail
        if min_eig is not None:
            msg += f"; smallest Hessian eigenvalue {min_eig:.3e}"
        if escapes:
            msg += f"; left {escapes} saddle(s) along negative curvature"
        return Status.SUCCESSFUL, msg
    if status == _lm.MAX_STEPS:
        return Status.MAX_STEPS_REACHED, (
            f"did not converge: reached max_steps = {max_steps}" + tail + ". Try a larger "
            "max_steps, a better initial path (initial=...), a coarser grid first and its result "
            "as initial=, or continuation from an easier problem (shorter time, smoother drift)."
        )
    if status == _lm.STALLED:
        return Status.STALLED, (
            "did not converge: no damped Newton step lowers the action" + tail + ". The problem "
            "may be nearly singular or the drift not smooth at this resolution; try more "
            "num_points, a better initial path (initial=...), or continuation."
        )
    return Status.SADDLE, (
        f"did not converge: {note}" + tail + f" (smallest Hessian eigenvalue {min_eig:.3e}). "
        "Try an initial path off the symmetry axis (initial=...)."
    )
