"""most_likely_path: the minimiser of the discrete action between two states in a fixed time."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _lagrangian as lag
from .._checks import (
    as_path,
    as_state,
    check_model_on_path,
    check_sde,
    make_time_grid,
)
from . import _assemble, _lm, _minimum, _native, _newton, _newton_cg, _refine
from ._result import ConvergenceError, PathResult

__all__ = ["most_likely_path"]

#: State dimension above which ``method="auto"`` picks matrix-free Newton-CG.
CG_THRESHOLD = 64
#: Number of times the solver function has been traced (compiled); tests use it to check caching.
TRACE_COUNT = {"solve": 0}


@functools.lru_cache(maxsize=256)
def _compiled(sde, method: str, linear_solver: str, max_cg: int):
    """Jitted solver and helpers for one model and method; jit caches each shape."""

    def run(ts, x_int, xa, xb, args, rtol, max_steps, lam0):
        TRACE_COUNT["solve"] += 1
        if method == "newton":
            return _newton.solve(
                sde,
                ts,
                x_int,
                xa,
                xb,
                args,
                linear_solver=linear_solver,
                rtol=rtol,
                max_steps=max_steps,
                lam0=lam0,
            )
        return _newton_cg.solve(
            sde,
            ts,
            x_int,
            xa,
            xb,
            args,
            rtol=rtol,
            max_steps=max_steps,
            lam0=lam0,
            max_cg=max_cg,
        )

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


def _choose(method, linear_solver, n, K):
    if method not in ("auto", "newton", "newton-cg"):
        raise ValueError(f"method must be 'auto', 'newton' or 'newton-cg'; got {method!r}")
    if linear_solver not in ("auto", *_newton.LINEAR_SOLVERS):
        raise ValueError(
            "linear_solver must be 'auto', 'native', 'lapack', 'cyclic' or 'scan'; "
            f"got {linear_solver!r}"
        )
    if method == "auto":
        method = "newton-cg" if n > CG_THRESHOLD else "newton"
    if linear_solver == "native" and not (
        jax.default_backend() == "cpu" and _native.native_available()
    ):
        raise ValueError(
            "linear_solver='native' needs the compiled kernel (built at install time with a C "
            f"compiler) and the CPU backend; here backend={jax.default_backend()!r}, kernel "
            f"available: {_native.native_available()}. Use 'auto', 'lapack' or 'cyclic'."
        )
    if linear_solver == "auto":
        linear_solver = _newton.auto_linear_solver(K)
    return method, linear_solver


def _initial_path(initial, ts, x0, x1):
    if initial is None:
        s = (ts - ts[0]) / (ts[-1] - ts[0])
        return x0[None, :] + s[:, None] * (x1 - x0)[None, :]
    if isinstance(initial, PathResult):
        xs = np.stack(
            [np.interp(ts, initial.ts, initial.xs[:, i]) for i in range(initial.xs.shape[1])], 1
        )
    else:
        xs = as_path(initial, ts, name="initial")
    if xs.shape[1] != x0.shape[0]:
        raise ValueError(
            f"initial must have shape ({ts.shape[0]}, {x0.shape[0]}) to match ts and x0; "
            f"got {xs.shape}"
        )
    xs = xs.copy()
    xs[0], xs[-1] = x0, x1  # endpoints are pinned
    return xs


def most_likely_path(
    sde,
    x0,
    x1,
    t0,
    t1,
    *,
    num_points: int = 1001,
    ts=None,
    initial=None,
    args=None,
    method: str = "auto",
    linear_solver: str = "auto",
    rtol: float = 1e-11,
    max_steps: int = 200,
    check_minimum: bool = True,
    max_saddle_escapes: int = 5,
    max_cg: int = 2000,
    damping: float | None = None,
    accuracy: float | None = None,
    max_points: int = 2**16 + 1,
    throw: bool = False,
) -> PathResult:
    """The most likely path of ``sde`` from x0 at t0 to x1 at t1: the minimiser of the action.

    Minimises the discrete midpoint action ``S = sum_k dt_k/4 r_k^T D_k^-1 r_k`` (Eq. 8,
    ``r_k = (x_{k+1} - x_k)/dt_k - f(t_m, x_m)``, f and D at the interval midpoint) over the
    interior points, by damped (Levenberg-Marquardt) Newton on the exact block-tridiagonal
    Hessian, solved by a banded Cholesky (cost linear in K). For state dimension n > 64 the
    default is matrix-free Newton-CG. At convergence the undamped Hessian is checked positive
    definite; at a saddle the solver steps along the negative-curvature direction and goes on.

    Args:
        sde: the model (``noisynoether.SDE``).
        x0, x1: (n,) start and end states (pinned).
        t0, t1: start and end times, t1 > t0.
        num_points: K, points of the uniform grid (ignored when ``ts`` is given).
        ts: (K,) strictly increasing grid from t0 to t1 (non-uniform allowed).
        initial: (K, n) initial path, or a PathResult (interpolated onto ``ts``); default the
            straight line. Its endpoints are replaced by x0 and x1.
        args: PyTree passed to drift and diffusion.
        method: ``"auto"``, ``"newton"`` (block Cholesky) or ``"newton-cg"`` (matrix-free).
        linear_solver: for ``"newton"``: ``"native"`` (a compiled block Cholesky called from
            inside jit; what ``"auto"`` picks on a CPU when the kernel was built at install),
            ``"lapack"`` (banded LAPACK on the host through a callback; ``"auto"`` on a CPU
            without the kernel, and on a GPU up to 4000 points), ``"cyclic"`` (block cyclic
            reduction, pure JAX, log2(K) vectorised levels; ``"auto"`` on a GPU beyond 4000
            points) or ``"scan"`` (a block Cholesky in ``lax.scan``).
        rtol: stop when ``max |dS/dx| <= rtol * max(g_scale, 1)``, g_scale the largest
            single-interval partial derivative (the gradient's rounding level is ~1e-16 g_scale).
        max_steps: most damped Newton steps per run.
        check_minimum: check the Hessian at the end and escape saddles.
        max_saddle_escapes: most saddle escapes.
        max_cg: most CG iterations per Newton-CG step.
        damping: initial Levenberg-Marquardt damping, relative to the Hessian's diagonal;
            default 1e-5 from the straight line and 1e-8 from a given ``initial`` path (which
            is presumably close: Newton then converges in a few steps).
        accuracy: target relative error of S* against the continuous problem. The grid (from
            ``ts`` or ``num_points``) is then refined adaptively: equidistributed arc length in
            (t, x, f), Richardson error estimates from a grid and its bisection, until the
            estimate is below ``accuracy``; the result carries ``action_error`` and
            ``refinement`` (the grids tried). ``converged`` is False if the target is not met.
        max_points: largest grid the refinement may use.
        throw: raise ``ConvergenceError`` instead of returning ``converged=False``.

    Returns:
        A ``PathResult`` with the path, S*, the charges (p, E, L on intervals) and diagnostics.

    Raises:
        TypeError, ValueError: bad input (named in the message).
        ConvergenceError: with ``throw=True``, when the solve does not converge.
    """
    check_sde(sde)
    x0, x1 = as_state(x0, "x0"), as_state(x1, "x1")
    if x0.shape != x1.shape:
        raise ValueError(f"x0 and x1 must have the same shape; got {x0.shape} and {x1.shape}")
    ts = make_time_grid(t0, t1, num_points, ts)
    for name, val, lo in (("max_steps", max_steps, 0), ("max_cg", max_cg, 1)):
        if isinstance(val, bool) or not isinstance(val, int | np.integer) or val < lo:
            raise ValueError(f"{name} must be an integer >= {lo}; got {val!r}")
    if not (isinstance(rtol, float | int) and 0 < rtol < 1):
        raise ValueError(f"rtol must be a number in (0, 1); got {rtol!r}")
    if damping is None:
        damping = 1e-5 if initial is None else 1e-8
    if not (isinstance(damping, float | int) and damping >= 0):
        raise ValueError(f"damping must be a number >= 0; got {damping!r}")
    xs = _initial_path(initial, ts, x0, x1)
    check_model_on_path(sde, ts, xs, args, what="the initial path")
    n = x0.shape[0]
    method, linear_solver = _choose(method, linear_solver, n, ts.size)
    fns = _compiled(sde, method, linear_solver, int(max_cg))
    options = dict(
        args=args,
        rtol=rtol,
        max_steps=max_steps,
        check_minimum=check_minimum,
        max_saddle_escapes=max_saddle_escapes,
        method=method,
        linear_solver=linear_solver,
        damping=damping,
    )
    if accuracy is not None:
        if not (isinstance(accuracy, float | int) and 0 < accuracy < 1):
            raise ValueError(f"accuracy must be a number in (0, 1); got {accuracy!r}")
        if not (isinstance(max_points, int) and max_points >= 2 * ts.size - 1):
            raise ValueError(
                f"max_points must be an integer >= 2 K - 1 = {2 * ts.size - 1}; got {max_points!r}"
            )

        def solve_on(ts_k, init):
            init_xs = _initial_path(init, ts_k, x0, x1)
            warm = isinstance(init, PathResult)  # a previous grid's solution: nearly converged
            opts = dict(options, damping=1e-8 if warm else options["damping"])
            return _solve(fns, sde, ts_k, init_xs, x0, x1, **opts)

        res = _refine.refine(
            solve_on,
            lambda tm, xm: np.asarray(fns["drift_mid"](jnp.asarray(tm), jnp.asarray(xm), args)),
            ts,
            xs,
            float(accuracy),
            int(max_points),
        )
    else:
        res = _solve(fns, sde, ts, xs, x0, x1, **options)
    if throw and not res.converged:
        raise ConvergenceError(res.message)
    return res


def _solve(
    fns,
    sde,
    ts,
    xs,
    x0,
    x1,
    *,
    args,
    rtol,
    max_steps,
    check_minimum,
    max_saddle_escapes,
    method,
    linear_solver,
    damping,
):
    """One solve on one grid, with the saddle check; returns a PathResult."""
    ts_j, xa, xb = jnp.asarray(ts), jnp.asarray(x0), jnp.asarray(x1)
    x_int = jnp.asarray(xs[1:-1])
    totals = dict(iterations=0, rejected=0, work=0)
    escapes, min_eig, note = 0, None, ""
    while True:
        st = fns["run"](ts_j, x_int, xa, xb, args, rtol, max_steps, float(damping))
        totals["iterations"] += int(st.steps)
        totals["rejected"] += int(st.rejected)
        totals["work"] += int(st.work)
        x_int, status = st.x, int(st.status)
        if status != _lm.CONVERGED or not check_minimum:
            break
        min_eig, v, scale = _smallest_eigen(
            sde, fns, method, linear_solver, ts_j, x_int, xa, xb, args
        )
        if not _minimum.is_negative(min_eig, scale):
            break
        if escapes >= max_saddle_escapes:
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
    converged = status == _lm.CONVERGED
    message = _message(status, totals["iterations"], gnorm, max_steps, min_eig, escapes, note)
    return PathResult(
        ts=ts,
        xs=xs_out,
        action=float(st.S),
        momentum=p,
        energy=E,
        angular_momentum=L,
        converged=converged,
        message=message,
        iterations=totals["iterations"],
        grad_norm=gnorm,
        method=method,
        rejected_steps=totals["rejected"],
        inner_iterations=totals["work"],
        min_eigenvalue=min_eig,
        saddle_escapes=escapes,
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
    tail = f" after {iterations} iterations (gradient norm {gnorm:.2e})"
    if status == _lm.CONVERGED:
        msg = "converged to a local minimum" + tail
        if min_eig is not None:
            msg += f"; smallest Hessian eigenvalue {min_eig:.3e}"
        if escapes:
            msg += f"; left {escapes} saddle(s) along negative curvature"
        return msg
    if status == _lm.MAX_STEPS:
        return (
            f"did not converge: reached max_steps = {max_steps}" + tail + ". Try a larger "
            "max_steps, a better initial path (initial=...), a coarser grid first and its result "
            "as initial=, or continuation from an easier problem (shorter time, smoother drift)."
        )
    if status == _lm.STALLED:
        return (
            "did not converge: no damped Newton step lowers the action" + tail + ". The problem "
            "may be nearly singular or the drift not smooth at this resolution; try more "
            "num_points, a better initial path (initial=...), or continuation."
        )
    return (
        f"did not converge: {note}" + tail + f" (smallest Hessian eigenvalue {min_eig:.3e}). "
        "Try an initial path off the symmetry axis (initial=...)."
    )
