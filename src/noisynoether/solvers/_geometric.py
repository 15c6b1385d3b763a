"""path_with_energy: the most likely path at a fixed energy E, from the geometric action.

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
|f|_D^2 on the initial path by default) that only acts for 4E < eps^2: at E = 0 the integrand
is not differentiable where f = 0 (attractors, saddles), which the path must pass through.
Its bias on W is of order eps^2 log(1/eps) (2e-9 relative measured on the double well); a
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
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import scipy.interpolate

from .. import _lagrangian as lag
from .._checks import as_state, check_sde
from . import _lm, _newton
from ._result import ConvergenceError

__all__ = ["EnergyPathResult", "path_with_energy"]


@dataclass(frozen=True)
class EnergyPathResult:
    """A most likely path at fixed energy E (from the geometric action), with its charges.

    Attributes:
        ts: (K,) times of the nodes, from ``t0``: t_{k+1} - t_k = |d_k|_D / sqrt(|f_m|_D^2 +
            4E) (the time the path takes along each segment). At E = 0 the true duration is
            infinite (the path starts or ends at, or passes through, fixed points); ``ts`` is
            then the finite, grid-dependent time of the regularised integrand, for plotting.
        xs: (K, n) the path; nodes equidistribute arclength (and, for E != 0, time: see
            ``time_weight``); xs[0] = x0,
            xs[-1] = x1.
        duration: T(E) = int |phi'|_D / sqrt(|f|_D^2 + 4E) ds (Eq. 13 in 1-D); inf for E = 0.
        action: the action of Eq. 8 along the path, S = W - E T (for E = 0: S = W).
        geometric_action: W = 1/2 int (|phi'|_D sqrt(|f|_D^2 + 4E) - <phi', f>_D) ds.
        energy: the energy E asked for.
        energy_along: (K-1,) E = 1/4 xdot^T D^-1 xdot - 1/4 f^T D^-1 f (Eq. 10) on each
            interval of (ts, xs) by the midpoint rule of ``nn.energy``: about E (exactly, up to
            the regularisation, with the midpoint velocity); a check.
        momentum: (K-1, n) p = 1/2 D^-1 (xdot - f) on each interval (Eq. 15).
        arclength: (K,) Euclidean arclength of the nodes from x0.
        converged: True when the string iteration and the Newton solves met their tolerances.
        message: what happened, and what to try if it did not converge.
        iterations: damped Newton iterations, over all outer (redistribution) iterations.
        outer_iterations: redistributions done.
        grad_norm: final max |dW/dphi| over the interior nodes, normal to the path.
        regularisation: the reg used in sqrt(|f|_D^2 + 4E + reg), reg = max(eps^2 - 4E, 0):
            0 once 4E >= eps^2.
    """

    ts: np.ndarray
    xs: np.ndarray
    duration: float
    action: float
    geometric_action: float
    energy: float
    energy_along: np.ndarray
    momentum: np.ndarray
    arclength: np.ndarray
    converged: bool
    message: str
    iterations: int
    outer_iterations: int
    grad_norm: float
    regularisation: float
    extra: dict = field(default_factory=dict, repr=False)

    @property
    def energy_spread(self) -> float:
        """max - min of ``energy_along``."""
        return float(np.ptp(self.energy_along))

    def __repr__(self) -> str:
        K, n = self.xs.shape
        return (
            f"EnergyPathResult(K={K}, n={n}, energy={self.energy:.6g}, "
            f"duration={self.duration:.10g}, action={self.action:.10g}, "
            f"converged={self.converged}, iterations={self.iterations}, "
            f"outer_iterations={self.outer_iterations}, message={self.message!r})"
        )


# ---------------------------------------------------------------------------------- terms
def _segment_parts(sde, a, b, args):
    d = b - a
    xm = 0.5 * (a + b)
    f = sde.f(0.0, xm, args)
    Dd = sde.D_inv_apply(0.0, xm, d, args)
    Df = sde.D_inv_apply(0.0, xm, f, args)
    return jnp.vdot(d, Dd), jnp.vdot(f, Df), jnp.vdot(d, Df)


def _segment_W(sde, args):
    def term(z, E, reg2):
        n = z.shape[0] // 2
        dd, ff, df = _segment_parts(sde, z[:n], z[n:], args)
        return 0.5 * (jnp.sqrt(dd) * jnp.sqrt(ff + 4.0 * E + reg2) - df)

    return term


def _segments(xs):
    return jnp.concatenate([xs[:-1], xs[1:]], axis=1)


@functools.lru_cache(maxsize=64)
def _compiled(sde):
    """Jitted pieces for one model (jit then caches per shape)."""

    def parts(xs, args):
        return jax.vmap(lambda a, b: _segment_parts(sde, a, b, args))(xs[:-1], xs[1:])

    def solve(x_int, xa, xb, ref, tau, mu, E, reg2, args, rtol, max_steps, lam0):
        term = _segment_W(sde, args)
        n = xa.shape[0]

        def full(x):
            return jnp.concatenate([xa[None], x, xb[None]], axis=0)

        def pen(x):
            u = jnp.sum(tau * (x - ref), axis=1)
            return u

        def value(x):
            u = pen(x)
            vals = jax.vmap(term, in_axes=(0, None, None))(_segments(full(x)), E, reg2)
            return jnp.sum(vals) + 0.5 * jnp.sum(mu * u * u)

        def evaluate(x):
            z = _segments(full(x))
            vals, gz = jax.vmap(jax.value_and_grad(term), in_axes=(0, None, None))(z, E, reg2)
            hz = jax.vmap(jax.hessian(term), in_axes=(0, None, None))(z, E, reg2)
            u = pen(x)
            g = gz[:-1, n:] + gz[1:, :n] + (mu * u)[:, None] * tau
            gscale = jnp.max(jnp.abs(gz))
            B = (
                hz[:-1, n:, n:]
                + hz[1:, :n, :n]
                + mu[:, None, None] * tau[:, :, None] * tau[:, None, :]
            )
            C = hz[1:-1, :n, n:]
            S = jnp.sum(vals) + 0.5 * jnp.sum(mu * u * u)
            return S, g, gscale, (B, C)

        def step(x, g, aux, lam):
            B, C = aux
            solve = _newton.linear_solve(_newton.auto_linear_solver(x.shape[0] + 2))
            dx, ok, pred = _newton.damped_step(B, C, g, lam, solve)
            return dx, ok, pred, jnp.asarray(1, jnp.int32)

        st = _lm.minimise(
            evaluate, step, x_int, lam0=lam0, rtol=rtol, max_steps=max_steps, value=value
        )
        # The gradient of W alone, and the per-node stiffness used to scale the pin.
        z = _segments(full(st.x))
        gz = jax.vmap(jax.grad(term), in_axes=(0, None, None))(z, E, reg2)
        gW = gz[:-1, n:] + gz[1:, :n]
        return st, gW

    def stiffness(xs, E, reg2, args):
        # The normal stiffness of a segment's |d|_D sqrt(|f|_D^2 + 4E): about
        # |d|_D sqrt(...) / |d|^2 (the second derivative of a length across the segment).
        dd, ff, _ = jax.vmap(lambda a, b: _segment_parts(sde, a, b, args))(xs[:-1], xs[1:])
        h2 = jnp.sum((xs[1:] - xs[:-1]) ** 2, axis=1)
        k = jnp.sqrt(dd) * jnp.sqrt(ff + 4.0 * E + reg2) / jnp.maximum(h2, 1e-300)
        term = _segment_W(sde, args)
        n = xs.shape[1]
        hz = jax.vmap(jax.hessian(term), in_axes=(0, None, None))(_segments(xs), E, reg2)
        B = hz[:-1, n:, n:] + hz[1:, :n, :n]
        # Plus W's own curvature, which is large next to a fixed point at E = 0 (the kink of
        # |f|_D there, smoothed by eps), so that the pin dominates along the path.
        return 0.5 * (k[:-1] + k[1:]) + jnp.abs(jnp.trace(B, axis1=1, axis2=2))

    def drift_norm2(xs, args):
        Df = jax.vmap(lambda x: sde.D_inv_apply(0.0, x, sde.f(0.0, x, args), args))(xs)
        f = jax.vmap(lambda x: sde.f(0.0, x, args))(xs)
        return jnp.sum(f * Df, axis=1)

    return dict(
        parts=jax.jit(parts),
        solve=jax.jit(solve, static_argnames=("max_steps",)),
        stiffness=jax.jit(stiffness),
        drift_norm2=jax.jit(drift_norm2),
    )


# ---------------------------------------------------------------------------------- helpers
def _arclength(xs):
    seg = np.linalg.norm(np.diff(xs, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


def _redistribute(xs, K, dts=None, time_weight=0.0):
    """K nodes on the cubic spline through xs (ends kept), equidistributing a monitor.

    The monitor is (1 - w) * (arclength fraction) + w * (time fraction), with the time of each
    segment ``dts`` (w = ``time_weight``): w = 0 gives equal arclength (the string method);
    w > 0 also puts nodes where the path is slow, near fixed points, where T(E) and the
    action are decided at small E.
    """
    s = _arclength(xs)
    keep = np.concatenate([[True], np.diff(s) > 1e-14 * max(s[-1], 1e-300)])
    xs_k, s_k = xs[keep], s[keep]
    u_k = s_k / s_k[-1]
    if xs_k.shape[0] < 4:
        spline = scipy.interpolate.interp1d(u_k, xs_k, axis=0)
    else:
        spline = scipy.interpolate.CubicSpline(u_k, xs_k, axis=0)
    u = np.linspace(0.0, 1.0, K)
    if time_weight > 0 and dts is not None and np.all(np.isfinite(dts)) and np.sum(dts) > 0:
        seg = np.maximum(np.diff(s), 1e-300)
        # The monitor's density per unit arclength, smoothed (three passes of [1, 2, 1] / 4) so
        # that a steep drift does not make the equidistribution jitter from one pass to the next.
        rho = (1 - time_weight) / s[-1] + time_weight * (dts / seg) / np.sum(dts)
        for _ in range(3):
            rho = np.concatenate([[rho[0]], rho, [rho[-1]]])
            rho = 0.25 * rho[:-2] + 0.5 * rho[1:-1] + 0.25 * rho[2:]
        m = np.concatenate([[0.0], np.cumsum(rho * seg)])
        m = m / m[-1]
        target = np.interp(u, m[keep], u_k)
        return _finish(spline(target), xs)
    new = np.asarray(spline(u))
    # One more pass: the spline's arclength differs from the polyline's at O(h^2).
    s2 = _arclength(new)
    return _finish(spline(np.interp(u * s2[-1], s2, u)), xs)


def _finish(new, xs):
    new = np.asarray(new)
    new[0], new[-1] = xs[0], xs[-1]
    return new


def _tangents(xs):
    t = np.zeros_like(xs)
    t[1:-1] = xs[2:] - xs[:-2]
    nrm = np.linalg.norm(t, axis=1, keepdims=True)
    return t[1:-1] / np.maximum(nrm[1:-1], 1e-300)


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
    xs = xs.copy()
    xs[0], xs[-1] = x0, x1
    return _redistribute(xs, K)


def _check_autonomous(sde, xs, args):
    f0 = np.asarray(jax.vmap(lambda x: sde.f(0.0, x, args))(jnp.asarray(xs)))
    f1 = np.asarray(jax.vmap(lambda x: sde.f(1.2345, x, args))(jnp.asarray(xs)))
    d0 = np.asarray(jax.vmap(lambda x: sde.D_raw(0.0, x, args))(jnp.asarray(xs)))
    d1 = np.asarray(jax.vmap(lambda x: sde.D_raw(1.2345, x, args))(jnp.asarray(xs)))
    if not (np.allclose(f0, f1, rtol=1e-12, atol=1e-14) and np.allclose(d0, d1, rtol=1e-12)):
        raise ValueError(
            "path_with_energy needs an autonomous model (f and D independent of t): energy is "
            "conserved only then (Eq. 10); use most_likely_path for time-dependent models"
        )
    if not np.all(np.isfinite(f0)):
        raise ValueError("the drift is not finite on the initial path")


# ---------------------------------------------------------------------------------- public
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
    regularisation: float = 1e-10,
    rtol: float = 1e-10,
    xtol: float = 1e-9,
    wtol: float = 1e-12,
    max_outer: int = 60,
    max_steps: int = 100,
    coarse_points: int = 101,
    time_weight: float | None = None,
    throw: bool = False,
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

    Args:
        sde: an autonomous model (f and D independent of t).
        x0, x1: (n,) start and end states.
        energy: E, the conserved energy of Eq. 10.
        num_points: K, nodes on the path (including both ends).
        initial: starting curve: an (M, n) array of points (any M >= 2; it is redistributed
            to K nodes) or a result with ``.xs``; default the straight line. Give a curve
            through the intermediate attractors/saddles to pick a route.
        args: PyTree passed to drift and diffusion.
        t0: time of x0 in ``ts``.
        regularisation: eps^2 relative to the largest |f|_D^2 on the initial path; the
            integrand uses ``sqrt(|f|_D^2 + max(4E, eps^2))``, which smooths it where f = 0 at
            E = 0 (and changes nothing once 4E >= eps^2).
        rtol: tolerance of each Newton solve (as in ``most_likely_path``).
        xtol: stop when an outer iteration moves the curve (the nodes' displacement normal to
            it) by no more than xtol * (path length) ...
        wtol: ... or by no more than 1000 xtol while W changes by no more than wtol
            (relative): at corners of the path (attractors, saddles at E = 0) the normal is
            ill defined and nodes there keep sliding at the 1e-6 level without changing W.
        max_outer: most redistributions.
        max_steps: most Newton steps per outer iteration.
        coarse_points: without ``initial``, a grid finer than this is started from the
            solution on a grid about 4 times coarser (recursively down to this size).
        time_weight: w in the node distribution monitor (1 - w) arclength + w time: w > 0
            puts nodes where the path is slow (near fixed points), which T(E) and S need at
            small E > 0. Default 0.5 for E != 0 and 0 (equal arclength) for E = 0, where the
            time diverges at the fixed points.
        throw: raise ``ConvergenceError`` instead of returning ``converged=False``.

    Returns:
        An ``EnergyPathResult``.
    """
    check_sde(sde)
    x0, x1 = as_state(x0, "x0"), as_state(x1, "x1")
    if x0.shape != x1.shape:
        raise ValueError(f"x0 and x1 must have the same shape; got {x0.shape} and {x1.shape}")
    if np.allclose(x0, x1, rtol=0, atol=1e-14):
        raise ValueError("x0 and x1 must differ")
    try:
        E = float(energy)
    except (TypeError, ValueError) as err:
        raise TypeError(f"energy must be a real number; got {energy!r}") from err
    if not np.isfinite(E):
        raise ValueError(f"energy must be finite; got {energy!r}")
    if isinstance(num_points, bool) or not isinstance(num_points, int | np.integer):
        raise TypeError(f"num_points must be an integer; got {num_points!r}")
    if num_points < 5:
        raise ValueError(f"num_points must be >= 5; got {num_points}")
    K = int(num_points)
    if initial is None and K > coarse_points:
        # Coarse to fine: Newton from a straight line on a fine grid can wander (many nodes
        # far from the route); a coarse solution interpolated is close.
        coarse = path_with_energy(
            sde,
            x0,
            x1,
            E,
            num_points=max(coarse_points, (K - 1) // 4 + 1),
            args=args,
            regularisation=regularisation,
            rtol=rtol,
            xtol=max(xtol, 1e-7),
            max_outer=max_outer,
            max_steps=max_steps,
            coarse_points=coarse_points,
            time_weight=time_weight,
        )
        if np.all(np.isfinite(coarse.xs)):
            initial = coarse.xs
    xs = _initial(initial, x0, x1, K)
    _check_autonomous(sde, xs, args)
    fns = _compiled(sde)
    fmax2 = float(np.max(np.asarray(fns["drift_norm2"](jnp.asarray(xs), args))))
    # sqrt(|f|^2 + 4E + reg2) = sqrt(|f|^2 + max(4E, eps^2)): no regularisation at all once
    # 4E >= eps^2 (so dW/dE = T exactly for the discrete W), continuous in E down to 0.
    eps2 = float(regularisation) * max(fmax2, 1e-300)
    reg2 = max(eps2 - 4.0 * E, 0.0) if E >= 0.0 else 0.0
    n = x0.shape[0]
    xa, xb = jnp.asarray(x0), jnp.asarray(x1)

    tw = (0.5 if E != 0.0 else 0.0) if time_weight is None else float(time_weight)
    if not 0.0 <= tw < 1.0:
        raise ValueError(f"time_weight must be in [0, 1); got {time_weight!r}")
    total_it, outer, status, moved = 0, 0, _lm.RUNNING, np.inf
    W_old, history, dW, diverged = np.inf, [], np.inf, False
    gW = np.full((K - 2, n), np.inf)
    converged = False
    lam0 = 1e-5
    outer = 0
    while outer < max_outer:
        outer += 1
        ref = xs[1:-1]
        tau = _tangents(xs)
        mu = np.asarray(fns["stiffness"](jnp.asarray(xs), E, reg2, args))
        mu = np.maximum(mu, 1e-8 * max(np.max(mu), 1e-300))
        st, gW = fns["solve"](
            jnp.asarray(ref),
            xa,
            xb,
            jnp.asarray(ref),
            jnp.asarray(tau),
            jnp.asarray(mu),
            E,
            reg2,
            args,
            rtol,
            max_steps,
            lam0,
        )
        total_it += int(st.steps)
        status = int(st.status)
        x_new = np.concatenate([x0[None], np.asarray(st.x), x1[None]])
        if not np.all(np.isfinite(x_new)):
            diverged = True
            break
        if tw > 0:
            dd_, ff_, _ = (np.asarray(a) for a in fns["parts"](jnp.asarray(x_new), args))
            with np.errstate(invalid="ignore", divide="ignore"):
                seg_t = np.sqrt(dd_) / np.sqrt(ff_ + 4.0 * E + reg2)
            xs_new = _redistribute(x_new, K, seg_t, tw)
        else:
            xs_new = _redistribute(x_new, K)
        length = _arclength(xs_new)[-1]
        # How far the curve moved: the displacement normal to it (tangential sliding of the
        # nodes along the curve does not change it), and the change of W.
        # (In 1-D there is no normal: the nodes' own motion measures the redistribution.)
        delta = (xs_new - xs)[1:-1]
        if n > 1:
            tau_new = _tangents(xs_new)
            normal = delta - np.sum(delta * tau_new, axis=1, keepdims=True) * tau_new
        else:
            normal = delta
        moved = float(np.max(np.abs(normal))) / max(length, 1e-300) if normal.size else 0.0
        W_new = float(st.S)
        dW = abs(W_new - W_old) / max(abs(W_new), 1e-300)
        W_old = W_new
        history.append((moved, dW))
        xs = xs_new
        lam0 = 1e-8
        if status == _lm.CONVERGED and (moved <= xtol or (dW <= wtol and moved <= 1e3 * xtol)):
            converged = True
            break
    gW = np.asarray(gW)
    # The normal part of W's gradient (the tangential part is balanced by the pin).
    tau = _tangents(xs)
    g_norm = gW - np.sum(gW * tau, axis=1, keepdims=True) * tau
    grad_norm = float(np.max(np.abs(g_norm))) if g_norm.size else 0.0

    dd, ff, df = (np.asarray(a) for a in fns["parts"](jnp.asarray(xs), args))
    speed2 = ff + 4.0 * E + reg2
    W = float(np.sum(0.5 * (np.sqrt(dd) * np.sqrt(ff + 4.0 * E + reg2) - df)))
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

    if converged:
        message = (
            f"converged: {outer} redistributions, {total_it} Newton steps, curve moved "
            f"{moved:.1e} (relative) in the last redistribution"
        )
    elif not finite or diverged:
        message = (
            "failed: |f|_D^2 + 4E <= 0 somewhere on the path (E too negative for this route) "
            "or the solve diverged; try a larger E or a different initial curve"
        )
    else:
        why = {
            _lm.MAX_STEPS: "a Newton solve hit max_steps",
            _lm.STALLED: "a Newton solve stalled (damping too large)",
        }.get(
            status,
            f"the curve still moved {moved:.1e} (relative) per redistribution, W by {dW:.1e}",
        )
        message = (
            f"not converged after {outer} redistributions: {why}; try a larger max_outer or "
            "max_steps, fewer num_points first, or an initial curve closer to the route"
        )
    if throw and not converged:
        raise ConvergenceError(message)
    return EnergyPathResult(
        ts=ts,
        xs=xs,
        duration=duration,
        action=float(S),
        geometric_action=W,
        energy=E,
        energy_along=e_along,
        momentum=p,
        arclength=_arclength(xs),
        converged=bool(converged),
        message=message,
        iterations=total_it,
        outer_iterations=outer,
        grad_norm=grad_norm,
        regularisation=reg2,
        extra=dict(history=tuple(history)),
    )
