"""shoot and shoot_to: most likely paths from Hamilton's equations, integrated by diffrax.

The Legendre transform of the Lagrangian of Eq. 8, ``L = 1/4 (xdot - f)^T D^-1 (xdot - f)``,
with the momentum of Eq. 15, ``p = 1/2 D^-1 (xdot - f)``, is the Hamiltonian

    H(t, x, p) = p^T D p + p^T f,          xdot = dH/dp = f + 2 D p,     pdot = -dH/dx,

whose value along a solution is the energy of Eq. 10 (conserved when f and D do not depend on
t), and along which ``L = p^T D p``, so the action is integrated alongside. An initial value
problem (x0, p0) is an independent route to the most likely paths of the boundary value solver
(``most_likely_path``), and ``shoot_to`` solves the boundary value problem itself by Newton's
method on p0, with the Jacobian of the flow from JAX forward-mode differentiation through the
integrator.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _lagrangian as lag
from .._checks import check_endpoints, check_model_at, check_sde, check_time_grid
from .._jit import jit
from ._result import ConvergenceError, ShootResult
from ._solver_base import configure
from ._solver_shooting import Shooting
from ._status import Status

__all__ = ["shoot", "shoot_to", "initial_momentum", "hamiltonian"]


def hamiltonian(sde, t, x, p, args=None):
    """H = p^T D p + p^T f (the Legendre transform of the Lagrangian of Eq. 8)."""
    D = sde.D_matrix(t, x, args, x.shape[0])
    return p @ (D @ p) + p @ sde.f(t, x, args)


@functools.lru_cache(maxsize=64)
def _compiled(sde, method: str):
    import diffrax

    solver = {"dopri8": diffrax.Dopri8, "tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5}[method]()

    def vector_field(t, y, args):
        n = (y.shape[0] - 1) // 2
        x, p = y[:n], y[n : 2 * n]
        D = sde.D_matrix(t, x, args, n)
        f = sde.f(t, x, args)
        dHdx = jax.grad(lambda xx: hamiltonian(sde, t, xx, p, args))(x)
        return jnp.concatenate([f + 2.0 * D @ p, -dHdx, (p @ (D @ p))[None]])

    def integrate(y0, ts, args, rtol, atol, max_steps, forward_mode):
        term = diffrax.ODETerm(vector_field)
        ctrl = diffrax.PIDController(rtol=rtol, atol=atol)
        kw = dict(adjoint=diffrax.ForwardMode()) if forward_mode else {}
        sol = diffrax.diffeqsolve(
            term,
            solver,
            ts[0],
            ts[-1],
            None,
            y0,
            args=args,
            saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=ctrl,
            max_steps=max_steps,
            throw=False,
            **kw,
        )
        return sol.ys, sol.result == diffrax.RESULTS.successful, sol.stats["num_steps"]

    def run(x0, p0, ts, args, rtol, atol, max_steps):
        y0 = jnp.concatenate([x0, p0, jnp.zeros(1, x0.dtype)])
        ys, ok, nsteps = integrate(y0, ts, args, rtol, atol, max_steps, False)
        n = x0.shape[0]
        xs, ps = ys[:, :n], ys[:, n : 2 * n]
        H = jax.vmap(lambda t, x, p: hamiltonian(sde, t, x, p, args))(ts, xs, ps)
        p_mid = lag.interval_momentum(sde, ts, xs, args)
        E_mid = lag.interval_energy(sde, ts, xs, args)
        return xs, ps, H, ys[:, -1], ok, nsteps, p_mid, E_mid

    def end_and_jac(x0, p0, ts, args, rtol, atol, max_steps):
        n = x0.shape[0]

        def end(p):
            y0 = jnp.concatenate([x0, p, jnp.zeros(1, x0.dtype)])
            ys, ok, _ = integrate(y0, ts, args, rtol, atol, max_steps, True)
            return ys[-1, :n], ok

        xe, ok = end(p0)
        J = jax.jacfwd(lambda p: end(p)[0])(p0)
        return xe, ok, J

    return dict(
        run=jit(run, static_argnames=("max_steps",)),
        end_and_jac=jit(end_and_jac, static_argnames=("max_steps",)),
    )


def _shooting(solver, options, entry):
    """The Shooting object; a string ``solver`` is the method's name (the 0.1 spelling)."""
    if isinstance(solver, str):
        solver = Shooting(method=solver)
    return configure(solver, Shooting(), (Shooting,), options, entry=entry)


def shoot(
    sde,
    x0,
    p0,
    t0,
    t1,
    *,
    num_points: int = 201,
    ts=None,
    args=None,
    solver: Shooting | str | None = None,
    **options,
) -> ShootResult:
    """Integrate Hamilton's equations ``xdot = f + 2 D p``, ``pdot = -dH/dx`` from (x0, p0).

    ``H = p^T D p + p^T f`` is the Legendre transform of the Lagrangian of Eq. 8 (with p the
    momentum of Eq. 15); its value is the energy of Eq. 10, conserved for autonomous models.
    Integrated in float64 by diffrax with an adaptive high-order Runge-Kutta method (Dopri8
    by default, tolerances rtol = atol = 1e-12), outputs at ``ts``.

    Args:
        sde: the model.
        x0, p0: (n,) initial state and momentum.
        t0, t1: start and end times, t1 > t0 (the same rules as ``most_likely_path``).
        num_points: output points (uniform from t0 to t1, at least 3) when ``ts`` is not given.
        ts: output times (strictly increasing, from t0 to t1).
        args: PyTree passed to drift and diffusion.
        solver: ``nn.Shooting(method=..., rtol=..., atol=..., max_steps=...)``; a string is
            the method's name (``"dopri8"``, ``"dopri5"``, ``"tsit5"``).
        options: the options of ``Shooting`` as keywords (``rtol=``, ``method=``, ...).

    Returns:
        A ``ShootResult``: ``hamiltonian`` (H at the nodes), ``action_along`` (cumulative
        action), ``action`` (the total), ``ps`` and the common per-interval charges.
    """
    check_sde(sde)
    x0, p0 = check_endpoints(x0, p0, names=("x0", "p0"))
    ts = check_time_grid(t0, t1, num_points, ts)
    solver = _shooting(solver, options, "shoot")
    check_model_at(sde, ts[:1], x0[None], args, what="x0")  # a NumPy drift: the helpful message
    return _integrate(sde, x0, p0, ts, args, solver)


def _integrate(sde, x0, p0, ts, args, solver: Shooting) -> ShootResult:
    fns = _compiled(sde, solver.method)
    xs, ps, H, S, ok, nsteps, p_mid, E_mid = fns["run"](
        jnp.asarray(x0),
        jnp.asarray(p0),
        jnp.asarray(ts),
        args,
        solver.rtol,
        solver.atol,
        solver.max_steps,
    )
    xs, S = np.asarray(xs), np.asarray(S)
    finite = bool(np.all(np.isfinite(xs)) and np.all(np.isfinite(S)))
    if not bool(ok):
        status, message = (
            Status.INTEGRATOR_FAILED,
            (
                f"the integration stopped after {int(nsteps)} steps (max_steps = "
                f"{solver.max_steps}): " + Status.INTEGRATOR_FAILED.message
            ),
        )
    elif not finite:
        status, message = Status.NONFINITE, "the solution is not finite (it blew up)"
    else:
        status, message = Status.SUCCESSFUL, f"integrated in {int(nsteps)} steps"
    return ShootResult(
        ts=ts,
        xs=xs,
        action=float(S[-1]),
        momentum=np.asarray(p_mid),
        energy=np.asarray(E_mid),
        converged=status is Status.SUCCESSFUL,
        status=status,
        message=message,
        iterations=0,
        stats=dict(method=solver.method, num_steps=int(nsteps)),
        ps=np.asarray(ps),
        hamiltonian=np.asarray(H),
        action_along=S,
        p0=p0,
    )


def initial_momentum(path) -> np.ndarray:
    """p(t0) of a discrete most likely path (a ``PathResult``), to second order in dt.

    The discrete path carries p on interval midpoints; p(t0) is extrapolated quadratically from
    the first three midpoint values (exact to O(dt^2) on a smooth path, like the path itself).
    """
    tm = 0.5 * (path.ts[:-1] + path.ts[1:])[:3]
    p = np.asarray(path.momentum)[:3]
    t0 = path.ts[0]
    # Lagrange weights at t0 through the three midpoints.
    w = np.array(
        [np.prod([(t0 - tm[j]) / (tm[i] - tm[j]) for j in range(3) if j != i]) for i in range(3)]
    )
    return w @ p


def shoot_to(
    sde,
    x0,
    x1,
    t0,
    t1,
    *,
    p0=None,
    num_points: int = 201,
    args=None,
    solver: Shooting | str | None = None,
    throw: bool = False,
    **options,
) -> ShootResult:
    """The most likely path from x0 at t0 to x1 at t1 by shooting on the initial momentum.

    Newton's method on ``F(p0) = x(t1; x0, p0) - x1`` (Hamilton's equations, as in ``shoot``),
    with the Jacobian ``dx(t1)/dp0`` from forward-mode differentiation through the diffrax
    integrator and a backtracking line search on |F|. It is an independent check on the
    boundary value solver; for long times the flow is exponentially sensitive to p0 and
    shooting is ill conditioned (use ``most_likely_path`` there).

    Args:
        p0: starting guess for the initial momentum, shape (n,); default ``initial_momentum``
            of a coarse ``most_likely_path`` (K = 201).
        num_points: output points of the returned path.
        solver: ``nn.Shooting(...)``: the integrator's options and ``tol`` (stop when
            max |x(t1) - x1| <= tol * max(1, |x1|)) and ``max_iterations`` (Newton).
        sde, x0, x1, t0, t1, args, options: as in ``shoot`` (x1 the end state to hit).

    Returns:
        A ``ShootResult`` with ``miss`` and ``iterations``; ``converged`` when the end is hit.
    """
    check_sde(sde)
    x0, x1 = check_endpoints(x0, x1)
    ts = check_time_grid(t0, t1, num_points, None)
    solver = _shooting(solver, options, "shoot_to")
    if p0 is None:
        from ._most_likely_path import most_likely_path

        guess = most_likely_path(sde, x0, x1, ts[0], ts[-1], num_points=201, args=args)
        p0 = initial_momentum(guess)
    _, p = check_endpoints(x0, p0, names=("x0", "p0"))
    fns = _compiled(sde, solver.method)
    tsj = jnp.asarray(ts)

    def F(p):
        xe, ok, J = fns["end_and_jac"](
            jnp.asarray(x0), jnp.asarray(p), tsj, args, solver.rtol, solver.atol, solver.max_steps
        )
        return np.asarray(xe) - x1, bool(ok), np.asarray(J)

    scale = solver.tol * max(1.0, float(np.max(np.abs(x1))))
    r, ok, J = F(p)
    it = 0
    while ok and np.max(np.abs(r)) > scale and it < solver.max_iterations:
        it += 1
        try:
            dp = np.linalg.solve(J, -r)
        except np.linalg.LinAlgError:
            dp = np.linalg.lstsq(J, -r, rcond=None)[0]
        norm0, alpha = np.max(np.abs(r)), 1.0
        while alpha > 1e-6:
            r_new, ok_new, J_new = F(p + alpha * dp)
            if ok_new and np.all(np.isfinite(r_new)) and np.max(np.abs(r_new)) < norm0:
                break
            alpha *= 0.5
        else:
            break
        p, r, ok, J = p + alpha * dp, r_new, ok_new, J_new
    res = _integrate(sde, x0, p, ts, args, solver)
    miss = float(np.max(np.abs(res.xs[-1] - x1)))
    if res.converged and miss <= scale:
        status, message = Status.SUCCESSFUL, f"hit x1 to {miss:.1e} in {it} Newton iterations"
    elif not res.converged:
        status, message = res.status, res.message + f" (after {it} Newton iterations on p0)"
    else:
        status, message = (
            Status.TARGET_MISSED,
            (
                f"missed x1 by {miss:.1e} (tol {scale:.1e}) after {it} Newton iterations: the flow "
                "may be too sensitive to p0 over this time (shorter t1 - t0), or give a better p0"
            ),
        )
    if throw and status is not Status.SUCCESSFUL:
        raise ConvergenceError(message)
    return dataclasses.replace(
        res,
        converged=status is Status.SUCCESSFUL,
        status=status,
        message=message,
        iterations=it,
        miss=miss,
    )
