"""most_likely_path: the minimiser of the discrete action between two states in a fixed time.

This module resolves the solver and its options and checks the input; the solve on one grid
is in ``_fixed_time.py``, the adaptive refinement (``accuracy=``) in ``_refine.py``.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import (
    as_path,
    check_choice,
    check_endpoints,
    check_model_on_path,
    check_positive,
    check_sde,
    check_time_grid,
)
from . import (
    _coarse_to_fine,
    _detour,
    _discretisation,
    _memory,
    _mesh,
    _native,
    _newton,
    _refine,
)
from ._fixed_time import TRACE_COUNT, compiled, grid_solver
from ._result import ConvergenceError, PathResult, replace_result
from ._solver_base import configure
from ._solver_newton import Newton, NewtonCG
from ._status import Status

__all__ = ["most_likely_path", "TRACE_COUNT"]

#: State dimension above which ``method="auto"`` picks matrix-free Newton-CG. Measured
#: (2026-12-01, 2-core CPU, rate networks xdot = -x + W tanh(x), docs/benchmarks.md): at
#: T = 1, K = 200 Newton-CG is 5-16x faster from n = 32 up (n = 40: 0.04 s against 0.29 s;
#: n = 64: 0.05 against 0.80 s, the n x n block factorisations dominate block Newton); at
#: T = 40 it is 2.6-2.9x faster at n = 40 and 64, 1.2x slower at n = 48, 1.8x slower at n = 32.
CG_THRESHOLD = 32


def _resolve(solver, method: str, options: dict, n: int):
    """The solver object: ``solver`` or the one ``method`` names, with ``options`` applied."""
    if solver is not None:
        if method != "auto":
            raise TypeError(
                f"most_likely_path: give solver= or method=, not both; got method={method!r} "
                f"and solver={solver!r}"
            )
        return configure(solver, None, (Newton, NewtonCG), options, entry="most_likely_path")
    check_choice(method, "method", ("auto", "newton", "newton-cg"))
    if method == "auto":
        cls = NewtonCG if n > CG_THRESHOLD else Newton
        accepted = set(Newton.option_names()) | set(NewtonCG.option_names())
        if set(options) <= accepted:  # options of the method not chosen do not apply
            options = {k: v for k, v in options.items() if k in cls.option_names()}
    else:
        cls = Newton if method == "newton" else NewtonCG
    return configure(None, cls(), (cls,), options, entry="most_likely_path")


#: ``linear_solver="cyclic"`` on the CPU is refused above this state dimension: there its
#: compiled Newton loop deadlocks (jaxlib 0.10.2; every thread idle, the call never returns;
#: docs/benchmarks.md). Block cyclic reduction is meant for accelerators anyway.
CYCLIC_CPU_MAX_N = 8

#: The XLA flag that avoids that deadlock when set before JAX starts (measured).
_CYCLIC_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler=false"


def _linear_solver(solver, K: int, n: int = 1) -> str:
    """The linear solver to use on K points in dimension n (checked against the backend, the
    kernel, and the CPU deadlock of ``"cyclic"`` above ``CYCLIC_CPU_MAX_N``)."""
    if not isinstance(solver, Newton):  # Newton-CG: only the key of the compiled functions
        return _newton.auto_linear_solver(K)
    if (
        solver.linear_solver == "cyclic"
        and jax.default_backend() == "cpu"
        and n > CYCLIC_CPU_MAX_N
        and _CYCLIC_FLAG not in os.environ.get("XLA_FLAGS", "").split()
    ):
        raise ValueError(
            f"linear_solver='cyclic' on the CPU with state dimension n = {n} > "
            f"{CYCLIC_CPU_MAX_N}: its compiled loop deadlocks there (jaxlib {jax.__version__}: "
            "every thread idle, the call never returns). Use 'auto' or 'native' (the CPU "
            f"default), 'scan' or 'lapack'; or set XLA_FLAGS={_CYCLIC_FLAG} before JAX starts"
        )
    if solver.linear_solver == "native" and not (
        jax.default_backend() == "cpu" and _native.native_available()
    ):
        raise ValueError(
            "linear_solver='native' needs the compiled kernel (built at install time with a C++ "
            f"compiler) and the CPU backend; here backend={jax.default_backend()!r}, kernel "
            f"available: {_native.native_available()}. Use 'auto', 'lapack' or 'cyclic'."
        )
    if solver.linear_solver == "auto":
        return _newton.auto_linear_solver(K)
    return solver.linear_solver


def _initial_path(initial, ts, x0, x1):
    if initial is None:
        s = (ts - ts[0]) / (ts[-1] - ts[0])
        return x0[None, :] + s[:, None] * (x1 - x0)[None, :]
    if isinstance(initial, PathResult):
        xs = _mesh.interpolate_path(ts, initial.ts, initial.xs)
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
    solver: Newton | NewtonCG | None = None,
    accuracy: float | None = None,
    max_points: int = 2**16 + 1,
    max_memory: float | None = None,
    throw: bool = False,
    **options,
) -> PathResult:
    """The most likely path of ``sde`` from x0 at t0 to x1 at t1: the minimiser of the action.

    Minimises the discrete midpoint action ``S = sum_k dt_k/4 r_k^T D_k^-1 r_k`` (Eq. 8,
    ``r_k = (x_{k+1} - x_k)/dt_k - f(t_m, x_m)``, f and D at the interval midpoint) over the
    interior points, by damped (Levenberg-Marquardt) Newton on the exact block-tridiagonal
    Hessian, solved by a banded Cholesky (cost linear in K). For state dimension n > 32 the
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
        method: shorthand for ``solver``: ``"auto"`` (``Newton`` for n <= 32, else
            ``NewtonCG``), ``"newton"`` or ``"newton-cg"``.
        solver: ``nn.Newton(...)`` or ``nn.NewtonCG(...)``: the solver and its options (rtol,
            max_steps, linear_solver, damping, check_minimum, max_saddle_escapes, max_cg; see
            those classes).
        accuracy: target relative error of S* against the continuous problem. The grid (from
            ``ts`` or ``num_points``) is then refined adaptively: equidistributed arc length in
            (t, x, f), Richardson error estimates from a grid and its bisection, until the
            estimate is below ``accuracy``; the result carries ``action_error`` and
            ``refinement`` (the grids tried). ``converged`` is False if the target is not met.
        max_points: largest grid the refinement may use.
        max_memory: refuse (ValueError with the estimate) a solve whose estimated memory
            exceeds this many bytes (the refinement stays below it); default
            ``noisynoether._checks.MAX_MEMORY`` (4 GiB). Newton needs about
            8 (12 n^2 + 40 n) bytes per point.
        throw: raise ``ConvergenceError`` instead of returning ``converged=False``.
        options: the solver's options as keywords (``rtol=``, ``max_steps=``, ``damping=``,
            ``linear_solver=``, ``max_cg=``, ...), applied to ``solver`` (or to the one
            ``method`` picks); an option the solver does not have is a TypeError.

    Returns:
        A ``PathResult`` with the path, S*, the charges (p, E, L on intervals), ``status``
        and ``stats`` (method, linear solver, rejected steps, inner iterations, escapes).

    Raises:
        TypeError, ValueError: bad input (named in the message).
        ConvergenceError: with ``throw=True``, when the solve does not converge.
    """
    check_sde(sde)
    x0, x1 = check_endpoints(x0, x1)
    ts = check_time_grid(t0, t1, num_points, ts)
    n = x0.shape[0]
    solver = _resolve(solver, method, options, n)
    if solver.damping is None:
        solver = solver.replace(damping=1e-5 if initial is None else 1e-8)
    K = ts.size
    if accuracy is not None:
        accuracy = check_positive(accuracy, "accuracy", upper=1.0)
        max_points = check_positive(max_points, "max_points", integer=True)
        if max_points < 2 * K - 1:
            raise ValueError(
                f"max_points must be an integer >= 2 K - 1 = {2 * K - 1}; got {max_points!r}"
            )
    # The largest grid solved: K, or its bisection with accuracy= (the first refinement round).
    largest = K if accuracy is None else 2 * K - 1
    _memory.check_solver_memory(largest, n, solver.name, max_memory, entry="most_likely_path")
    xs = _initial_path(initial, ts, x0, x1)
    check_model_on_path(sde, ts, xs, args, what="the initial path")
    linear_solver = _linear_solver(solver, K, n)
    max_cg = solver.max_cg if isinstance(solver, NewtonCG) else 2000
    fns = compiled(sde, solver.name, linear_solver, int(max_cg))
    # Warm (from a previous grid's solution, nearly converged): damping 1e-8.
    solve_grid = grid_solver(fns, sde, x0, x1, args, solver, linear_solver)

    # A start that creeps to max_steps (long horizons): retried coarse to fine.
    solve_start = _coarse_to_fine.start_solver(solve_grid, solver)

    def solve_first(ts_k, xs_k):
        res = solve_start(ts_k, xs_k)
        if initial is not None:
            return res
        # The straight start's answer through an unstable node: also tried around it.
        return _detour.around_unstable_nodes(solve_start, res, ts_k, x0, x1, sde=sde, args=args)

    if accuracy is None:
        res = solve_first(ts, xs)
    else:

        def solve_on(ts_k, init):
            init_xs = _initial_path(init, ts_k, x0, x1)
            if isinstance(init, PathResult):
                return solve_grid(ts_k, init_xs, True)
            return solve_first(ts_k, init_xs)

        fits = _memory.max_points_within(n, solver.name, max_memory)
        res = _refine.refine(
            solve_on,
            lambda tm, xm: np.asarray(fns["drift_mid"](jnp.asarray(tm), jnp.asarray(xm), args)),
            ts,
            xs,
            accuracy,
            min(max_points, fits),
        )
    res = _discretisation.check(sde, _certify_model(sde, res, args), args)
    if throw and not res.converged:
        raise ConvergenceError(res.message)
    return res


def _certify_model(sde, res, args):
    """The result, marked INVALID_MODEL when D is not positive definite on its path.

    The iterates never enter a region where ``r^T D^-1 r < 0`` (the action is +inf there), but
    a D that is singular or indefinite along directions the residual does not probe, or a
    drift that is not finite, is only seen by checking D itself at the solution's midpoints.
    """
    if not res.converged:
        return res
    try:
        check_model_on_path(sde, res.ts, res.xs, args, what="the solution path")
    except ValueError as err:
        return replace_result(
            res,
            converged=False,
            status=Status.INVALID_MODEL,
            message=f"not a valid answer: {err}. {Status.INVALID_MODEL.message}",
        )
    return res
