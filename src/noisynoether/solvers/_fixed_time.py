"""One fixed-time solve on one grid: damped Newton (or Newton-CG), then the minimum check.

``compiled`` builds the jitted pieces for one model and method (jit caches each shape);
``solve`` runs the solver (which follows negative curvature in every iteration, ``_lm.py``),
certifies the end point from the lowest Hessian eigenvalues (``_zero_modes.py``: no negative
one; zero modes counted and matched with the model's symmetries), escapes a saddle the loop
missed (``_minimum.py``), and returns a ``PathResult`` with its ``Status``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _lagrangian as lag
from .._jit import jit
from . import _assemble, _lm, _minimum, _native, _newton, _newton_cg, _zero_modes
from ._result import PathResult
from ._status import Status

__all__ = ["compiled", "solve", "grid_solver", "TRACE_COUNT"]

#: The note of a run the loop stopped at a saddle that the end-of-run escape did not leave.
SADDLE_NOTE = "at a saddle: no step along the negative curvature lowers S"

#: ``solve``'s own status for a converged run whose end-point certificate is not finite.
NO_CERTIFICATE = -2

#: Number of times the solver function has been traced (compiled); tests use it to check caching.
TRACE_COUNT = {"solve": 0}


@functools.lru_cache(maxsize=256)
def compiled(sde, method: str, linear_solver: str, max_cg: int):
    """Jitted solver and helpers for one model and method; jit caches each shape."""

    def run(ts, x_int, xa, xb, args, rtol, max_steps, lam0, full=False):
        TRACE_COUNT["solve"] += 1
        common = dict(rtol=rtol, max_steps=max_steps, lam0=lam0)
        if method == "newton":
            return _newton.solve(
                sde, ts, x_int, xa, xb, args, linear_solver=linear_solver, full=full, **common
            )
        return _newton_cg.solve(sde, ts, x_int, xa, xb, args, max_cg=max_cg, **common)

    def run_full(ts, x_int, xa, xb, args, rtol, max_steps, lam0):
        return run(ts, x_int, xa, xb, args, rtol, max_steps, lam0, full=True)

    def action(ts, x_int, xa, xb, args):
        return lag.total_action(sde, ts, _assemble.full_path(x_int, xa, xb), args)

    def drift_mid(tm, xm, args):
        return jax.vmap(lambda t, x: sde.f(t, x, args))(tm, xm)

    def charges(ts, xs, args):  # L (Eq. 17) is built from p on first use (PathResult)
        return lag.interval_momentum(sde, ts, xs, args), lag.interval_energy(sde, ts, xs, args)

    return {
        name: jit(fn)
        for name, fn in dict(
            run=run,
            run_full=run_full,
            action=action,
            charges=charges,
            drift_mid=drift_mid,
        ).items()
    }


def solve(
    fns, sde, ts, xs, x0, x1, args, solver, linear_solver, *, first=None, eigen=None, charges=None
):
    """One solve on one grid, with the second-order certificate; returns a PathResult.

    ``first`` (used by the batched solver, ``_batch.py``): ``(state, counts)``, the final
    LMState of a first run (cheap loop, then the full loop after a hand-off) already done
    elsewhere and the counters of ``totals`` it used; the solve continues from there as if it
    had run it. ``eigen(st, x_int)``, when given, replaces ``_lowest_eigen`` (same result).
    ``charges``: (p, E) along the path of ``first``, used unless an escape moved it.
    """
    method = solver.name
    # NumPy, passed straight to the jitted calls (which convert it): an eager jnp.asarray is a
    # dispatched operation of ~40 us each, ~0.2 ms of a 2.6 ms solve at K = 200.
    ts_j, xa, xb, x_int = (np.asarray(a) for a in (ts, x0, x1, xs[1:-1]))
    totals = dict(iterations=0, rejected=0, work=0, nc=0, moves=0, handoffs=0)
    escapes, note = 0, ""
    eig = None  # (lowest eigenvalues, their vectors, |H| scale)
    while True:
        # The cheap loop first; where it hands off (negative curvature where it would converge
        # or is stuck, or creeping), the full loop (compiled only then) continues from there.
        run, lam, budget = fns["run"], float(solver.damping), solver.max_steps
        status = None
        if first is not None:  # a first run done by the caller (never a HANDOFF): its outcome
            (st, done), first = first, None
            totals.update({k: totals[k] + int(v) for k, v in done.items()})
            x_int, status = st.x, int(st.status)
        while status in (None, _lm.HANDOFF):
            with _native.kernel_errors():  # a kernel failure is an error, never a "stall"
                st = run(ts_j, x_int, xa, xb, args, solver.rtol, budget, lam)
            totals["iterations"] += int(st.steps)
            totals["rejected"] += int(st.rejected)
            totals["work"] += int(st.work)
            totals["nc"] += int(st.nc_steps)
            totals["moves"] += int(st.moves)
            x_int, status = st.x, int(st.status)
            if status != _lm.HANDOFF:
                break
            totals["handoffs"] += 1
            run, lam = fns["run_full"], max(float(st.lam), 1e-12)
            budget = max(budget - int(st.steps), 1)
        # At a saddle (the loop's probe found negative curvature at tolerance, and no step
        # along its direction lowered S) the end-of-run escape below is tried too: it steps
        # along the lowest eigenvector, with steps up to the path's extent.
        saddle = status == _lm.SADDLE
        if status != _lm.CONVERGED and not saddle:
            break
        if not saddle and not solver.check_minimum:
            break
        # The certificate: the lowest eigenvalues of the undamped Hessian at the end. The loop
        # already followed negative curvature; a negative eigenvalue here (missed by the
        # in-loop probe) is left by a step along its eigenvector and another run.
        eig = (eigen or functools.partial(_lowest_eigen, sde, fns, method))(
            st, ts_j, x_int, xa, xb, args
        )
        if not np.all(np.isfinite(np.asarray(eig[0]))):
            # A certificate that failed certifies nothing: never report a minimum from it.
            status, note = NO_CERTIFICATE, "the minimum check returned non-finite eigenvalues"
            if saddle:
                status, note = -1, SADDLE_NOTE
            break
        negative, _ = _zero_modes.classify(eig[0][:1], eig[2])
        if not negative:
            if saddle:  # the probe's direction had v^T H v < 0: never report a minimum
                status, note = -1, SADDLE_NOTE
            break
        if escapes >= solver.max_saddle_escapes:
            status, note = -1, f"still at a saddle after {escapes} escapes"
            break
        new = None
        if eig[1] is not None:
            new = _minimum.escape(
                lambda x: float(fns["action"](ts_j, jnp.asarray(x), xa, xb, args)),
                np.asarray(x_int),
                eig[1][0],
            )
        if new is None:
            status, note = -1, "at a saddle, and no step along the negative curvature lowers S"
            break
        x_int, escapes = jnp.asarray(new), escapes + 1

    xs_out = np.concatenate([x0[None], np.asarray(x_int), x1[None]], axis=0)
    if charges is None or escapes:
        charges = fns["charges"](ts_j, xs_out, args)
    p, E = (np.asarray(a) for a in charges)
    gnorm = float(np.max(np.abs(np.asarray(st.g))))
    min_eig = None if eig is None else float(eig[0][0])
    zero = _zero_mode_report(sde, xs_out, eig, args) if status == _lm.CONVERGED else {}
    code, message = _message(
        status, totals["iterations"], gnorm, solver.max_steps, min_eig, escapes, note, zero
    )
    if code is Status.SUCCESSFUL and not (np.all(np.isfinite(xs_out)) and np.isfinite(st.S)):
        code, message = Status.NONFINITE, "the path is not finite: " + Status.NONFINITE.message
    return PathResult(
        ts=ts,
        xs=xs_out,
        action=float(st.S),
        momentum=p,
        energy=E,
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
            negative_curvature_steps=totals["nc"],
            retiming_steps=totals["moves"],
            lowest_eigenvalues=None if eig is None else tuple(float(w) for w in eig[0]),
            zero_mode_eigenvalues=zero.get("eigenvalues", ()),
            zero_mode_generators=zero.get("generators", ()),
        ),
        grad_norm=gnorm,
        min_eigenvalue=min_eig,
        zero_modes=int(zero.get("count", 0)),
    )


def grid_solver(fns, sde, x0, x1, args, solver, linear_solver):
    """``solve_grid(ts, xs, warm, budget=1, *, max_steps=None) -> PathResult``: ``solve`` on
    any grid from the path xs; ``warm`` (the start is a converged coarser solution, or close to
    a minimum) uses the damping 1e-8; ``budget`` multiplies the solver's ``max_steps``;
    ``max_steps`` replaces it (a short polish: ``_departures.search``)."""
    warm_solver = solver.replace(damping=1e-8)

    def solve_grid(ts, xs, warm, budget=1, *, max_steps=None):
        use = warm_solver if warm else solver
        if max_steps is not None:
            use = use.replace(max_steps=int(max_steps))
        elif budget != 1:
            use = use.replace(max_steps=budget * use.max_steps)
        return solve(fns, sde, ts, xs, x0, x1, args, use, linear_solver)

    return solve_grid


def _lowest_eigen(sde, fns, method, st, ts, x_int, xa, xb, args):
    """(lowest eigenvalues, eigenvectors or None, scale) of the undamped Hessian at x_int."""
    if method == "newton":
        B, C = st.aux  # the Hessian at the final iterate, from the run itself
        return _zero_modes.certificate(np.asarray(B), np.asarray(C))
    # Matrix-free: the pencil (H, P) in one compiled call; bounds of H's eigenvalues with
    # their signs, and scale = lambda_max(P) ~ |H| (``_minimum.lowest_eigen_matfree``).
    return _minimum.lowest_eigen_matfree(sde, ts, x_int, xa, xb, args, k=_zero_modes.NUM_LOWEST)


def _zero_mode_report(sde, xs, eig, args):
    """{count, eigenvalues, generators} of the zero modes of a converged path."""
    if eig is None or eig[1] is None:
        return {}
    w, V, scale = eig
    zero = np.abs(w) <= _zero_modes.ZERO_TOL * max(scale, 1e-300)
    if not np.any(zero):
        return dict(count=0)
    try:
        generators = _zero_modes.identify(sde, xs, V[zero], args)
    except Exception:  # identification is a diagnostic; never let it fail the solve
        generators = []
    return dict(
        count=int(np.sum(zero)),
        eigenvalues=tuple(float(x) for x in w[zero]),
        generators=tuple(g["name"] for g in generators),
    )


def _message(status, iterations, gnorm, max_steps, min_eig, escapes, note, zero):
    """(Status, message with this run's numbers)."""
    tail = f" after {iterations} iterations (gradient norm {gnorm:.2e})"
    if status == _lm.CONVERGED:
        msg = "converged to a local minimum" + tail
        if min_eig is not None:
            msg += f"; smallest Hessian eigenvalue {min_eig:.3e}"
        if zero.get("count"):
            names = ", ".join(zero.get("generators", ()))
            msg += f"; {zero['count']} zero mode(s) (|eigenvalue| <= 1e-10 |H|): " + (
                f"a continuous family of minima, from the symmetry {names}"
                if names
                else "flat directions that no symmetry of the model explains (over a long "
                "horizon, how long the path waits at each fixed point is exp(-T)-soft): the "
                "action is determined, the path's timing only weakly"
            )
        if escapes:
            msg += f"; left {escapes} saddle(s) along negative curvature"
        return Status.SUCCESSFUL, msg
    if status == _lm.MAX_STEPS:
        return Status.MAX_STEPS_REACHED, (
            f"did not converge: reached max_steps = {max_steps}" + tail + ". Try a larger "
            "max_steps, a better initial path (initial=...), a coarser grid first and its result "
            "as initial=, or continuation from an easier problem (shorter time, smoother drift)."
        )
    if status == NO_CERTIFICATE:
        return Status.NONFINITE, (
            f"not certified: {note}" + tail + ". The gradient is at tolerance but whether the "
            "end point is a minimum is unknown; try method='newton' (exact block Hessian), "
            "another num_points, or check_minimum=False to accept a critical point knowingly."
        )
    if status == _lm.STALLED:
        return Status.STALLED, (
            "did not converge: no damped Newton step lowers the action" + tail + ". The problem "
            "may be nearly singular or the drift not smooth at this resolution; try more "
            "num_points, a better initial path (initial=...), or continuation."
        )
    lowest = "" if min_eig is None else f" (smallest Hessian eigenvalue {min_eig:.3e})"
    return Status.SADDLE, (
        f"did not converge: {note}" + tail + lowest + ". Try an initial path off the symmetry "
        "axis (initial=...), or more num_points."
    )
