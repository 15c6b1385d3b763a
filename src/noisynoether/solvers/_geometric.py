"""path_with_energy: the most likely path at a fixed energy E, from the geometric action.

Longer than ~300 lines because of the two documents it carries: this derivation, and the
public docstring of ``path_with_energy`` (~60 lines: every option, the starts, the
certificate). The code itself (the entry point and the string method's outer loop) is ~200
lines; the discretised integrand is in ``_geometric_terms.py``, the starts in
``_energy_starts.py`` and ``_energy_routes.py``, the refinement in ``_energy_refine.py``.

For an autonomous model the most likely path of energy E (Eq. 10) minimises the geometric
(Maupertuis) action, which needs no time. With ``|v|_D^2 = v^T D^-1 v`` and
``<u, v>_D = u^T D^-1 v``, along any parametrisation phi(s),

    W = 1/2 int ( |phi'|_D sqrt(|f|_D^2 + 4E) - <phi', f>_D ) ds            (W = int p . dx)
    T = int |phi'|_D / sqrt(|f|_D^2 + 4E) ds                                (Eq. 13 in 1-D)

and the action of Eq. 8 is S = W - E T. E = 0 is the infinite-time limit (T = inf; W is the
quasipotential difference, the gMAM limit).

Discretisation: K nodes phi_0 = x0 .. phi_{K-1} = x1, each segment contributing
``1/2 ( |d|_D sqrt(|f_m|_D^2 + 4E) - <d, f_m>_D )`` with d = phi_{k+1} - phi_k and f, D
at the segment midpoint (second order). ``sqrt(|f|_D^2 + 4E)`` is replaced by
``sqrt(|f|_D^2 + max(4E, eps^2))``, a tiny regularisation (eps^2 = 1e-10 times the largest
|f|_D^2 on the initial path or the straight segment x0 -> x1, by default) that only acts for
4E < eps^2: at E = 0 the integrand
is not differentiable where f = 0 (attractors, saddles), which the path must pass through.
Its bias on W is of order eps^2 log(1/eps) (2e-9 relative measured on the double well), and
|path|_D eps / 2 where the path runs along a curve of fixed points (a ring of them); a
much smaller eps makes the Hessian next to the fixed points so stiff that Newton creeps.

The minimisation is a string method (E, Ren and Vanden-Eijnden; gMAM of Heymann and
Vanden-Eijnden): W is invariant under reparametrisation, so each outer iteration
  1. minimises W + P over the interior nodes by damped Newton on the exact block-tridiagonal
     Hessian (the shared driver ``_lm.minimise``), where P = sum_k mu_k/2 (tau_k . (phi_k -
     r_k))^2 pins only the *tangential* position of each node to the reference r_k
     (tau_k the unit tangent there; P has no normal component, so it does not bias the
     curve's shape, and it removes the zero modes of the reparametrisation invariance);
  2. redistributes the nodes on a cubic spline through them, equidistributing arclength
     (E = 0) or half arclength, half time (E != 0; ``time_weight``), which puts nodes near
     the fixed points where T(E) is decided at small E.
It stops when an outer iteration moves the curve (normal to itself) by no more than ``xtol``
relative to its length, with each Newton solve at its tolerance; or, where corners of the
path (fixed points at E = 0) keep nodes sliding, by no more than 1000 ``xtol`` while W
changes by no more than ``wtol``. On steep models (the multistable network at E = 0) the
iteration may stall at ~1e-5 with W steady to ~1e-7: ``converged`` is then False.

Files: this one holds the entry point and the outer loop; the discrete W and its jitted
pieces are in ``_geometric_terms.py``, the redistribution in ``_mesh.py``, the options in
``_solver_geometric.py`` (``Geometric``), the result in ``_result.py``.

Longer than ~300 lines because its docstrings (the geometric action, the options, the
starts) are 110 of its 400 lines; the code is one entry point and one outer loop.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import _lagrangian as lag
from .._checks import (
    check_autonomous,
    check_endpoints,
    check_positive,
    check_real,
    check_sde,
)
from . import _lm, _mesh, _native, _zero_modes
from ._geometric_terms import compiled
from ._memory import check_solver_memory
from ._result import ConvergenceError, EnergyPathResult
from ._solver_base import configure
from ._solver_geometric import Geometric
from ._status import Status

__all__ = ["path_with_energy"]


def _initial(initial, x0, x1, K):
    if initial is None:
        u = np.linspace(0.0, 1.0, K)[:, None]
        return x0[None] + u * (x1 - x0)[None]
    xs = np.asarray(getattr(initial, "xs", initial), dtype=np.float64)
    if xs.ndim == 1:
        xs = xs[:, None]
    if xs.ndim != 2 or xs.shape[1] != x0.shape[0] or xs.shape[0] < 2:
        raise ValueError(
            f"initial must be an (M, {x0.shape[0]}) array of points (M >= 2) or a result with "
            f".xs; got shape {xs.shape}"
        )
    if not np.all(np.isfinite(xs)):
        raise ValueError("initial must be finite")
    xs = xs.copy()
    xs[0], xs[-1] = x0, x1
    return _mesh.redistribute(xs, K)


def path_with_energy(
    sde,
    x0,
    x1,
    energy: float = 0.0,
    *,
    num_points: int = 401,
    initial=None,
    args=None,
    t0: float = 0.0,
    solver: Geometric | None = None,
    max_memory: float | None = None,
    throw: bool = False,
    starts="auto",
    accuracy: float | None = None,
    max_points: int = 2**14 + 1,
    error_estimate: bool = True,
    **options,
) -> EnergyPathResult:
    """The most likely path from x0 to x1 at fixed energy E (Eq. 10), for autonomous models.

    Minimises the geometric (Maupertuis) action
    ``W = 1/2 int (|phi'|_D sqrt(|f|_D^2 + 4E) - <phi', f>_D) ds`` over curves from x0 to x1
    (``|v|_D^2 = v^T D^-1 v``), by a string method: damped Newton on the exact
    block-tridiagonal Hessian of the discrete W (midpoint rule) with the nodes' tangential
    positions pinned, alternated with redistribution of the nodes to equal arclength (see the
    module docstring). The time the path takes, ``T = int |phi'|_D / sqrt(|f|_D^2 + 4E) ds``
    (Eq. 13 in 1-D), and the action of Eq. 8, ``S = W - E T``, follow. E = 0 gives the
    infinite-time path (through saddles and attractors; T = inf) whose W is the quasipotential
    difference; E > 0 gives the path of finite duration T(E), which is also the fixed-time
    minimiser of ``most_likely_path`` for that T. Negative E is allowed where
    ``|f|_D^2 + 4E > 0`` along the whole path.

    Without ``initial``, several starting curves are solved on a coarse grid and the lowest W
    is refined (``starts``): for a model with a symmetry the straight start lies on the
    symmetry axis, where W often has a saddle that a descent method never leaves. The fine
    grid's error is estimated by Richardson from the coarse grid (second-order rule):
    ``stats["action_error"]`` (relative), and ``accuracy=`` refines until it is small.

    Args:
        sde: an autonomous model (f and D independent of t).
        x0, x1: (n,) start and end states.
        energy: E, the conserved energy of Eq. 10.
        num_points: K, nodes on the path (including both ends), >= 5.
        initial: starting curve: an (M, n) array of points (any M >= 2; it is redistributed
            to K nodes) or a result with ``.xs``; default the straight line. Give a curve
            through the intermediate attractors/saddles to pick a route.
        args: PyTree passed to drift and diffusion.
        t0: time of x0 in ``ts``.
        solver: a ``nn.Geometric(...)`` holding the options (rtol, xtol, wtol, max_outer,
            max_steps, regularisation, coarse_points, time_weight; see ``Geometric``).
        max_memory: refuse (ValueError with the estimate) a solve whose estimated memory
            exceeds this many bytes; default ``noisynoether._checks.MAX_MEMORY`` (4 GiB).
        throw: raise ``ConvergenceError`` instead of returning ``converged=False``.
        starts: without ``initial``, the starting curves, each solved on the coarse grid
            (``coarse_points`` nodes, or K if smaller), the lowest W kept and solved on the
            finer grids: ``"auto"`` (default) the straight line; if its solution stays flat
            (on a line or plane through x0 and x1, where a symmetry may hold it), the straight
            line plus a half-sine bump of +-15 % of |x1 - x0| along each direction normal to
            that subspace (3 random ones, fixed seed, if more than 3); at E = 0, the broken
            lines through the fixed points of the drift near x0 and x1. An int m: the straight
            line and m - 1 bumps normal to it, always (``starts=1``: the straight line only);
            or a list of curves (as ``initial``). Each start is listed in ``stats["starts"]`` (K, W,
            converged, which was chosen). With ``initial``, only that curve is used.
        accuracy: target relative error of the action: the grid is refined (2 or 4 times the
            intervals a round, from the previous curve) until the Richardson estimate is
            below it; ``converged`` is False if it is not met within ``max_points``.
            ``stats["refinement"]`` lists the grids. Not for a path whose action is ~0 (the
            way down from a saddle): the relative error is undefined there.
        max_points: the largest grid ``accuracy`` may use.
        error_estimate: estimate the action's error (``stats["action_error"]``, relative;
            None when not estimated): Richardson from the coarse grid solved on the way (K/4
            nodes down to ``coarse_points``) or, with ``initial`` or K <= coarse_points, from
            the action of the fine curve resampled on ~K/4 (~K/2) nodes (no solve; see
            ``_energy_refine.py``). False skips it.
        options: the options of ``Geometric`` as keywords (``rtol=...``), applied to
            ``solver``.

    Returns:
        An ``EnergyPathResult`` (``target_energy`` is E; ``energy`` the (K-1,) check);
        ``stats`` also holds ``action_error``, ``refinement`` and (several starts) ``starts``.
    """
    from . import _energy_refine, _energy_starts
    from ._memory import max_points_within

    check_sde(sde)
    x0, x1 = check_endpoints(x0, x1)
    if np.allclose(x0, x1, rtol=0, atol=1e-14):
        raise ValueError("x0 and x1 must differ")
    E = check_real(energy, "energy")
    t0 = check_real(t0, "t0")
    K = check_positive(num_points, "num_points", integer=True)
    if K < 5:
        raise ValueError(f"num_points must be an integer >= 5; got {num_points!r}")
    solver = configure(solver, Geometric(), (Geometric,), options, entry="path_with_energy")
    check_solver_memory(K, x0.shape[0], "geometric", max_memory, entry="path_with_energy")
    starts = _energy_starts.check_starts(starts, initial)
    if not isinstance(error_estimate, bool):
        raise TypeError(f"error_estimate must be True or False; got {error_estimate!r}")
    if accuracy is not None:
        accuracy = check_positive(accuracy, "accuracy", upper=1.0)
        max_points = check_positive(max_points, "max_points", integer=True)
        if max_points < K:
            raise ValueError(f"max_points must be an integer >= num_points = {K}; got {max_points}")
        max_points = min(max_points, max_points_within(x0.shape[0], "geometric", max_memory))
    if initial is not None:
        _initial(initial, x0, x1, 5)  # checked before anything is solved
    elif isinstance(starts, list):
        for i, c in enumerate(starts):
            try:
                _initial(c, x0, x1, 5)
            except ValueError as err:
                raise ValueError(f"starts[{i}]: {err}".replace("initial must", "must")) from None
    check_autonomous(sde, _initial(initial, x0, x1, K), args, entry="path_with_energy")
    curves = _energy_starts.start_curves(sde, x0, x1, E, starts, initial, args)
    coarse_solver = solver.replace(xtol=max(solver.xtol, 1e-7))

    def run(init, K_level, final, capped=False):
        # Coarse to fine: Newton from a straight line on a fine grid can wander (many nodes
        # far from the route); a coarse solution interpolated is close.
        if init is not None and not np.all(np.isfinite(getattr(init, "xs", init))):
            init = None  # a coarse solve that diverged: start the next grid straight
        xs = _initial(init, x0, x1, K_level)
        use = solver if final else coarse_solver
        if capped:  # an extra start: a bounded budget (_energy_refine.EXTRA_START_BUDGET)
            use = use.replace(
                max_outer=min(use.max_outer, _energy_refine.EXTRA_START_BUDGET[0]),
                max_steps=min(use.max_steps, _energy_refine.EXTRA_START_BUDGET[1]),
            )
        return _string_method(sde, xs, E, args, t0, use)

    def evaluate(xs, like):
        # The discrete action of a curve (the sums of _string_method's result).
        dd, ff, df = (np.asarray(a) for a in compiled(sde)["parts"](jnp.asarray(xs), args))
        speed2 = ff + 4.0 * E + like.regularisation
        W = float(np.sum(0.5 * (np.sqrt(dd) * np.sqrt(speed2) - df)))
        return W if E == 0.0 else W - E * float(np.sum(np.sqrt(dd) / np.sqrt(speed2)))

    res = _energy_refine.solve(
        run,
        evaluate,
        curves,
        K,
        solver.coarse_points,
        accuracy=accuracy,
        max_points=max_points,
        estimate=error_estimate,
        warm=initial is not None,
        floor=0.0 if E == 0.0 else None,
        more=(
            (lambda first: _energy_starts.trapped_bumps(x0, x1, first.xs))
            if initial is None and starts == "auto"
            else None
        ),
    )
    if throw and not res.converged:
        raise ConvergenceError(res.message)
    return res


def _string_method(sde, xs, E, args, t0, solver: Geometric) -> EnergyPathResult:
    """The outer loop (Newton on W with pinned nodes, then redistribution) and the result."""
    fns = compiled(sde)
    K, n = xs.shape
    x0, x1 = xs[0], xs[-1]
    # The regularisation's scale: the largest |f|_D^2 on the initial curve or on the straight
    # segment x0 -> x1 (the problem's own scale: a curve that runs along fixed points, like the
    # coarse solution on a ring of them, has |f| ~ 0 everywhere, and a scale taken from it alone
    # made eps vanish and W's kink there so stiff that Newton crept to max_steps).
    line = x0[None] + np.linspace(0.0, 1.0, K)[:, None] * (x1 - x0)[None]
    fmax2 = max(
        float(np.max(np.asarray(fns["drift_norm2"](jnp.asarray(c), args)))) for c in (xs, line)
    )
    # sqrt(|f|^2 + 4E + reg2) = sqrt(|f|^2 + max(4E, eps^2)): no regularisation at all once
    # 4E >= eps^2 (so dW/dE = T exactly for the discrete W), continuous in E down to 0.
    eps2 = solver.regularisation * max(fmax2, 1e-300)
    reg2 = max(eps2 - 4.0 * E, 0.0) if E >= 0.0 else 0.0
    xa, xb = jnp.asarray(x0), jnp.asarray(x1)
    tw = (0.5 if E != 0.0 else 0.0) if solver.time_weight is None else solver.time_weight
    total_it, outer, status, moved = 0, 0, _lm.RUNNING, np.inf
    W_old, history, dW, diverged, converged = np.inf, [], np.inf, False, False
    gW = np.full((K - 2, n), np.inf)
    lam0 = 1e-5
    while outer < solver.max_outer:
        outer += 1
        ref = jnp.asarray(xs[1:-1])
        tau = _mesh.tangents(xs)
        mu = np.asarray(fns["stiffness"](jnp.asarray(xs), E, reg2, args))
        mu = np.maximum(mu, 1e-8 * max(np.max(mu), 1e-300))
        with _native.kernel_errors():  # a kernel failure is an error, never a "stall"
            st, gW = fns["solve"](
                ref, xa, xb, ref, jnp.asarray(tau), jnp.asarray(mu), E, reg2, args,
                solver.rtol, solver.max_steps, lam0,
            )  # fmt: skip
        total_it += int(st.steps)
        status = int(st.status)
        hessian = st.aux  # the pinned Hessian of W (B, C) where this Newton solve ended
        x_new = np.concatenate([x0[None], np.asarray(st.x), x1[None]])
        if not np.all(np.isfinite(x_new)):
            diverged = True
            break
        if tw > 0:
            dd_, ff_, _ = (np.asarray(a) for a in fns["parts"](jnp.asarray(x_new), args))
            with np.errstate(invalid="ignore", divide="ignore"):
                seg_t = np.sqrt(dd_) / np.sqrt(ff_ + 4.0 * E + reg2)
            xs_new = _mesh.redistribute(x_new, K, seg_t, tw)
        else:
            xs_new = _mesh.redistribute(x_new, K)
        length = _mesh.arclength(xs_new)[-1]
        # How far the curve moved: the displacement normal to it (tangential sliding of the
        # nodes along the curve does not change it), and the change of W.
        # (In 1-D there is no normal: the nodes' own motion measures the redistribution.)
        delta = (xs_new - xs)[1:-1]
        if n > 1:
            tau_new = _mesh.tangents(xs_new)
            delta = delta - np.sum(delta * tau_new, axis=1, keepdims=True) * tau_new
        moved = float(np.max(np.abs(delta))) / max(length, 1e-300)
        W_new = float(st.S)
        dW = abs(W_new - W_old) / max(abs(W_new), 1e-300)
        W_old = W_new
        history.append((moved, dW))
        xs = xs_new
        lam0 = 1e-8
        if status == _lm.CONVERGED and (
            moved <= solver.xtol or (dW <= solver.wtol and moved <= 1e3 * solver.xtol)
        ):
            converged = True
            break
    # The normal part of W's gradient (the tangential part is balanced by the pin).
    gW = np.asarray(gW)
    tau = _mesh.tangents(xs)
    g_norm = gW - np.sum(gW * tau, axis=1, keepdims=True) * tau
    grad_norm = float(np.max(np.abs(g_norm)))

    dd, ff, df = (np.asarray(a) for a in fns["parts"](jnp.asarray(xs), args))
    speed2 = ff + 4.0 * E + reg2
    W = float(np.sum(0.5 * (np.sqrt(dd) * np.sqrt(speed2) - df)))
    with np.errstate(invalid="ignore", divide="ignore"):
        dts = np.sqrt(dd) / np.sqrt(speed2)
    ts = t0 + np.concatenate([[0.0], np.cumsum(dts)])
    duration = float(np.inf) if E == 0.0 else float(ts[-1] - t0)
    S = W if E == 0.0 else W - E * duration
    finite = np.all(np.isfinite(ts)) and np.all(np.diff(ts) > 0)
    if finite:
        tsj, xsj = jnp.asarray(ts), jnp.asarray(xs)
        p = np.asarray(lag.interval_momentum(sde, tsj, xsj, args))
        e_along = np.asarray(lag.interval_energy(sde, tsj, xsj, args))
    else:
        p = np.full((K - 1, n), np.nan)
        e_along = np.full(K - 1, np.nan)
        converged = False
    # The second-order certificate (issue 11, item 7): the lowest eigenvalues of the pinned
    # Hessian of W, where the pin removes the tangential (re-parametrisation) directions.
    eig, negative, zero = None, 0, 0
    if converged:  # (never after a divergence or a non-finite path)
        w, _, scale = _zero_modes.lowest_eigenpairs(
            *(np.asarray(a) for a in hessian), vectors=False
        )
        eig = tuple(float(v) for v in w)
        negative, zero = _zero_modes.classify(w, scale)
        converged = negative == 0 and np.all(np.isfinite(w))
    code, message = _outcome(
        converged, finite and not diverged, status, outer, total_it, moved, dW, eig, negative
    )
    return EnergyPathResult(
        ts=ts,
        xs=xs,
        action=float(S),
        momentum=p,
        energy=e_along,
        converged=bool(converged),
        status=code,
        message=message,
        iterations=total_it,
        stats=dict(outer_iterations=outer, history=tuple(history), lowest_eigenvalues=eig),
        target_energy=E,
        duration=duration,
        geometric_action=W,
        arclength=_mesh.arclength(xs),
        grad_norm=grad_norm,
        regularisation=reg2,
        min_eigenvalue=None if eig is None else eig[0],
        zero_modes=int(zero),
    )


def _outcome(converged, finite, status, outer, total_it, moved, dW, eig, negative):
    """(Status, message) of a string-method run; ``eig``: the certificate's lowest eigenvalues
    (None when it was not computed), ``negative`` how many of them are negative."""
    if converged:
        return Status.SUCCESSFUL, (
            f"converged: {outer} redistributions, {total_it} Newton steps, curve moved "
            f"{moved:.1e} (relative) in the last redistribution; smallest Hessian eigenvalue "
            f"{eig[0]:.3e}"
        )
    if eig is not None:
        return Status.SADDLE, (
            f"not a minimum: the curve is a critical point of W but the Hessian (tangential "
            f"motion pinned) has {negative} negative eigenvalue(s), smallest {eig[0]:.3e}; try "
            "starts='auto' (curves off the symmetry axes) or an initial curve off the axis"
        )
    if not finite:
        return Status.NONFINITE, (
            "failed: |f|_D^2 + 4E <= 0 somewhere on the path (E too negative for this route) "
            "or the solve diverged; try a larger E or a different initial curve"
        )
    code, why = {
        _lm.MAX_STEPS: (Status.MAX_STEPS_REACHED, "a Newton solve hit max_steps"),
        _lm.STALLED: (Status.STALLED, "a Newton solve stalled (damping too large)"),
    }.get(
        status,
        (
            Status.MAX_STEPS_REACHED,
            f"the curve still moved {moved:.1e} (relative) per redistribution, W by {dW:.1e}",
        ),
    )
    return code, (
        f"not converged after {outer} redistributions: {why}; try a larger max_outer or "
        "max_steps, fewer num_points first, or an initial curve closer to the route"
    )
