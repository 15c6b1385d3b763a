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

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import as_state, check_sde
from ._result import ConvergenceError

__all__ = ["ShootResult", "shoot", "shoot_to"]


@dataclass(frozen=True)
class ShootResult:
    """A solution of Hamilton's equations from (x0, p0).

    Attributes:
        ts: (K,) output times.
        xs: (K, n) states.
        ps: (K, n) momenta p = 1/2 D^-1 (xdot - f) (Eq. 15).
        energy: (K,) H = p^T D p + p^T f, which equals E of Eq. 10; conserved for autonomous
            models (to the integrator's tolerance).
        action: (K,) the action of Eq. 8 accumulated from ts[0] (int p^T D p dt).
        p0: (n,) the initial momentum used.
        converged: for ``shoot``: the integrator succeeded; for ``shoot_to``: also
            |x(t1) - x1| <= tol.
        message: what happened.
        iterations: Newton iterations of ``shoot_to`` (0 for ``shoot``).
        miss: for ``shoot_to``, max |x(t1) - x1|; None for ``shoot``.
        num_steps: integrator steps taken (accepted and rejected) in the last integration.
    """

    ts: np.ndarray
    xs: np.ndarray
    ps: np.ndarray
    energy: np.ndarray
    action: np.ndarray
    p0: np.ndarray
    converged: bool
    message: str
    iterations: int = 0
    miss: float | None = None
    num_steps: int = 0
    extra: dict = field(default_factory=dict, repr=False)

    @property
    def energy_spread(self) -> float:
        """max H - min H along the solution."""
        return float(np.ptp(self.energy))

    def __repr__(self) -> str:
        K, n = self.xs.shape
        miss = "" if self.miss is None else f", miss={self.miss:.2e}"
        return (
            f"ShootResult(K={K}, n={n}, action={self.action[-1]:.10g}, "
            f"energy_spread={self.energy_spread:.2e}{miss}, converged={self.converged}, "
            f"message={self.message!r})"
        )


def hamiltonian(sde, t, x, p, args=None):
    """H = p^T D p + p^T f (the Legendre transform of the Lagrangian of Eq. 8)."""
    D = sde.D_matrix(t, x, args, x.shape[0])
    return p @ (D @ p) + p @ sde.f(t, x, args)


@functools.lru_cache(maxsize=64)
def _compiled(sde, solver_name: str):
    import diffrax

    solver = {"dopri8": diffrax.Dopri8, "tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5}[
        solver_name
    ]()

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
        return xs, ps, H, ys[:, -1], ok, nsteps

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
        run=jax.jit(run, static_argnames=("max_steps",)),
        end_and_jac=jax.jit(end_and_jac, static_argnames=("max_steps",)),
    )


def _times(t0, t1, num_points, ts):
    if ts is not None:
        ts = np.asarray(ts, dtype=np.float64)
        if ts.ndim != 1 or ts.size < 2 or not np.all(np.isfinite(ts)):
            raise ValueError(f"ts must be a finite 1-D array of >= 2 times; got {ts!r}")
        d = np.diff(ts)
        if not (np.all(d > 0) or np.all(d < 0)):
            raise ValueError("ts must be strictly monotonic")
        return ts
    t0, t1 = float(t0), float(t1)
    if not (np.isfinite(t0) and np.isfinite(t1)) or t0 == t1:
        raise ValueError(f"need finite t0 != t1; got t0 = {t0!r}, t1 = {t1!r}")
    if isinstance(num_points, bool) or not isinstance(num_points, int | np.integer):
        raise TypeError(f"num_points must be an integer; got {num_points!r}")
    if num_points < 2:
        raise ValueError(f"num_points must be >= 2; got {num_points}")
    return np.linspace(t0, t1, int(num_points))


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
    solver: str = "dopri8",
    rtol: float = 1e-12,
    atol: float = 1e-12,
    max_steps: int = 100_000,
) -> ShootResult:
    """Integrate Hamilton's equations ``xdot = f + 2 D p``, ``pdot = -dH/dx`` from (x0, p0).

    ``H = p^T D p + p^T f`` is the Legendre transform of the Lagrangian of Eq. 8 (with p the
    momentum of Eq. 15); its value is the energy of Eq. 10, conserved for autonomous models.
    Integrated in float64 by diffrax with an adaptive high-order Runge-Kutta method (Dopri8
    by default, tolerances rtol = atol = 1e-12), outputs at ``ts``.

    Args:
        sde: the model.
        x0, p0: (n,) initial state and momentum.
        t0, t1: start and end times (t1 < t0 integrates backwards).
        num_points: output points (uniform from t0 to t1) when ``ts`` is not given.
        ts: output times (strictly monotonic; the first is the start).
        args: PyTree passed to drift and diffusion.
        solver: ``"dopri8"``, ``"dopri5"`` or ``"tsit5"``.
        rtol, atol: the step-size controller's tolerances.
        max_steps: most integrator steps.

    Returns:
        A ``ShootResult`` with ``ts``, ``xs``, ``ps``, ``energy`` (H along it) and ``action``.
    """
    check_sde(sde)
    x0, p0 = as_state(x0, "x0"), as_state(p0, "p0")
    if x0.shape != p0.shape:
        raise ValueError(f"x0 and p0 must have the same shape; got {x0.shape} and {p0.shape}")
    ts = _times(t0, t1, num_points, ts)
    fns = _compiled(sde, solver)
    xs, ps, H, S, ok, nsteps = fns["run"](
        jnp.asarray(x0), jnp.asarray(p0), jnp.asarray(ts), args, rtol, atol, int(max_steps)
    )
    ok = bool(ok) and bool(np.all(np.isfinite(np.asarray(xs))))
    return ShootResult(
        ts=ts,
        xs=np.asarray(xs),
        ps=np.asarray(ps),
        energy=np.asarray(H),
        action=np.asarray(S),
        p0=p0,
        converged=ok,
        message="integrated" if ok else "the integration failed (max_steps or a blow-up)",
        num_steps=int(nsteps),
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
    solver: str = "dopri8",
    rtol: float = 1e-12,
    atol: float = 1e-12,
    tol: float = 1e-10,
    max_iterations: int = 50,
    max_steps: int = 100_000,
    throw: bool = False,
) -> ShootResult:
    """The most likely path from x0 at t0 to x1 at t1 by shooting on the initial momentum.

    Newton's method on ``F(p0) = x(t1; x0, p0) - x1`` (Hamilton's equations, as in ``shoot``),
    with the Jacobian ``dx(t1)/dp0`` from forward-mode differentiation through the diffrax
    integrator and a backtracking line search on |F|. It is an independent check on the
    boundary value solver; for long times the flow is exponentially sensitive to p0 and
    shooting is ill conditioned (use ``most_likely_path`` there).

    Args:
        p0: starting guess for the initial momentum; default ``initial_momentum`` of a coarse
            ``most_likely_path`` (K = 201).
        num_points: output points of the returned path.
        tol: stop when max |x(t1) - x1| <= tol * max(1, |x1|).
        max_iterations: most Newton iterations.
        (other arguments as in ``shoot``)

    Returns:
        A ``ShootResult`` with ``miss`` and ``iterations``; ``converged`` when the end is hit.
    """
    check_sde(sde)
    x0, x1 = as_state(x0, "x0"), as_state(x1, "x1")
    if x0.shape != x1.shape:
        raise ValueError(f"x0 and x1 must have the same shape; got {x0.shape} and {x1.shape}")
    ts = _times(t0, t1, num_points, None)
    if p0 is None:
        from ._most_likely_path import most_likely_path

        guess = most_likely_path(sde, x0, x1, float(t0), float(t1), num_points=201, args=args)
        p0 = initial_momentum(guess)
    p = as_state(p0, "p0")
    fns = _compiled(sde, solver)
    tsj = jnp.asarray(ts)

    def F(p):
        xe, ok, J = fns["end_and_jac"](
            jnp.asarray(x0), jnp.asarray(p), tsj, args, rtol, atol, int(max_steps)
        )
        return np.asarray(xe) - x1, bool(ok), np.asarray(J)

    scale = tol * max(1.0, float(np.max(np.abs(x1))))
    r, ok, J = F(p)
    it = 0
    while ok and np.max(np.abs(r)) > scale and it < max_iterations:
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
    res = shoot(
        sde,
        x0,
        p,
        t0,
        t1,
        ts=ts,
        args=args,
        solver=solver,
        rtol=rtol,
        atol=atol,
        max_steps=max_steps,
    )
    miss = float(np.max(np.abs(res.xs[-1] - x1)))
    converged = res.converged and miss <= scale
    message = (
        f"hit x1 to {miss:.1e} in {it} Newton iterations"
        if converged
        else f"missed x1 by {miss:.1e} after {it} Newton iterations: the flow may be too "
        "sensitive to p0 over this time (shorter t1 - t0), or give a better p0"
    )
    if throw and not converged:
        raise ConvergenceError(message)
    return ShootResult(
        ts=res.ts,
        xs=res.xs,
        ps=res.ps,
        energy=res.energy,
        action=res.action,
        p0=p,
        converged=converged,
        message=message,
        iterations=it,
        miss=miss,
        num_steps=res.num_steps,
    )
