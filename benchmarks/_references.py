"""Independent reference values S* for the robustness zoo (``_zoo.py``), none using the solvers.

Three kinds (the first two return ``(S_ref, how)``):

- ``linear_closed_form``: a linear SDE ``xdot = A x + noise`` with constant D (or D(t) = D g(t)):
  S* = 1/2 r^T Sigma(T)^-1 r, r = x1 - e^{AT} x0, Sigma(T) = int_0^T e^{As} 2 D g(T-s)
  e^{A^T s} ds (the Gaussian transition density; the action of Eq. 8 is exactly its exponent).
- ``quadrature_1d``: a 1-D drift f(x) with D(x), monotone path between x0 and x1 at energy E > 0
  (Eq. 10 conserved): T(E) = int dx / sqrt(f^2 + 4 E D) and S = int (sqrt(f^2 + 4 E D) - f) /
  (2 D) dx - E T (Eq. 13 and its action), E solved from T(E) = T by bisection in log E.

- ``reference_multistart`` (slow, run by ``bench_robustness.py --references``; its numbers are
  stored in ``_zoo.py``): scipy ``trust-ncg`` with exact JAX gradient and Hessian-vector
  products on the same discrete midpoint action and grid as the solver, from the straight line
  and smooth bumps off it along the directions perpendicular to x1 - x0; the lowest S among the
  starts that reached |grad| < 1e-7.

The objectives (``fixed_objective``, ``geometric_objective``) are also the scipy baselines'.
(scipy's ``solve_bvp`` on the Hamilton equations was tried first as a grid-free reference: it
took 100 s for the Maier-Stein model at T = 10 and converged from none of five starts at
T = 20, so it is not used.)
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
from scipy import integrate, linalg, optimize
from scipy.optimize import minimize

from noisynoether._lagrangian import total_action
from noisynoether.solvers._assemble import full_path
from noisynoether.solvers._geometric_terms import _segment_W

__all__ = [
    "linear_closed_form",
    "quadrature_1d",
    "reference_multistart",
    "fixed_objective",
    "geometric_objective",
    "compiled",
]

_LOG_E_MIN = -60.0  # below, quad cannot resolve the peaks of width sqrt(E D) at fixed points


def linear_closed_form(A, D, x0, x1, T, g=None):
    """S* of ``xdot = A x + noise`` with diffusion ``D g(t)`` (g = 1 if None) from x0 to x1 in T."""
    A, D = np.atleast_2d(np.asarray(A, float)), np.atleast_2d(np.asarray(D, float))
    x0, x1 = np.atleast_1d(np.asarray(x0, float)), np.atleast_1d(np.asarray(x1, float))
    g = g or (lambda t: 1.0)

    def integrand(s):  # time s before the end: e^{As} 2 D g(T - s) e^{A^T s}
        E = linalg.expm(A * s)
        return (E @ (2.0 * D) @ E.T * g(T - s)).ravel()

    Sigma = integrate.quad_vec(integrand, 0.0, T, epsabs=1e-14, epsrel=1e-13)[0]
    Sigma = Sigma.reshape(A.shape)
    r = x1 - linalg.expm(A * T) @ x0
    return 0.5 * float(r @ np.linalg.solve(Sigma, r)), "closed form (Gaussian transition density)"


def quadrature_1d(f, D, x0, x1, T):
    """S* of a 1-D model between x0 and x1 (a monotone path, E > 0) at duration T, by Eq. 13."""
    lo, hi = sorted((x0, x1))
    sign = 1.0 if x1 > x0 else -1.0
    # Break the quadrature at the fixed points inside, where the integrands peak for small E.
    grid = np.linspace(lo, hi, 4001)
    fv = np.array([sign * f(x) for x in grid])
    inner = [grid[i] for i in range(1, len(grid) - 1) if fv[i] == 0]
    inner += [
        optimize.brentq(lambda x: f(x), grid[i - 1], grid[i], xtol=1e-15)
        for i in range(1, len(grid))
        if fv[i - 1] * fv[i] < 0
    ]
    breaks = [lo, *sorted(inner), hi]

    def quad(fun):
        opts = dict(limit=400, epsabs=0.0, epsrel=1e-13)
        pieces = zip(breaks[:-1], breaks[1:], strict=True)
        return sum(integrate.quad(fun, a, b, **opts)[0] for a, b in pieces)

    def duration(E):
        return quad(lambda x: 1.0 / np.sqrt(f(x) ** 2 + 4 * E * D(x)))

    def action(E):
        def w(x):
            fs, v = sign * f(x), np.sqrt(f(x) ** 2 + 4 * E * D(x))
            # (v - fs) without cancellation when fs > 0: 4 E D / (v + fs)
            num = 4 * E * D(x) / (v + fs) if fs > 0 else v - fs  # 0 for E = 0 downhill
            return num / (2 * D(x))

        return quad(w) - E * T

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        if duration(np.exp(_LOG_E_MIN)) < T:
            # E(T) < 1e-26: since dS/dT = -E, S*(T) = S*(inf) to far below rounding.
            return action(0.0), "quadrature (Eq. 13), E -> 0 limit (E(T) < 1e-26)"
        logE = optimize.brentq(
            lambda le: np.log(duration(np.exp(le)) / T), _LOG_E_MIN, 30.0, xtol=1e-14
        )
        return action(np.exp(logE)), "quadrature (Eq. 13, E from T(E) = T)"


# ---- objectives: the scipy baselines' and the multistart's -----------------------------
REG2 = 1e-12  # regularisation of sqrt(|f|^2) in the baselines' W (nodes may hit fixed points)


def fixed_objective(sde, x0, x1, T, K):
    """Discrete midpoint action (Eq. 8) in the interior points, and its straight start."""
    ts = jnp.linspace(0.0, T, K)
    xa, xb, n = jnp.asarray(x0), jnp.asarray(x1), len(x0)

    def S(z):
        return total_action(sde, ts, full_path(z.reshape(K - 2, n), xa, xb), None)

    s = np.asarray(ts)[1:-1, None] / T
    return S, (x0 + s * (x1 - x0)).ravel(), s[:, 0]


def geometric_objective(sde, x0, x1, K):
    """Discrete geometric action W at E = 0 (path_with_energy's objective), straight start."""
    term = _segment_W(sde, None)
    xa, xb, n = jnp.asarray(x0), jnp.asarray(x1), len(x0)

    def W(z):
        xs = full_path(z.reshape(K - 2, n), xa, xb)
        seg = jnp.concatenate([xs[:-1], xs[1:]], axis=1)
        return jnp.sum(jax.vmap(term, in_axes=(0, None, None))(seg, 0.0, REG2))

    s = np.linspace(0.0, 1.0, K)[1:-1, None]
    return W, (x0 + s * (x1 - x0)).ravel(), s[:, 0]


def compiled(obj, z0):
    vg = jax.jit(jax.value_and_grad(obj))
    hvp = jax.jit(lambda z, v: jax.jvp(jax.grad(obj), (z,), (v,))[1])
    z = jnp.asarray(z0)
    vg(z)[0].block_until_ready()
    hvp(z, z).block_until_ready()

    def fun(z):
        v, g = vg(jnp.asarray(z))
        return float(v), np.asarray(g, dtype=np.float64)

    def hessp(z, v):
        v = jnp.asarray(v, dtype=jnp.float64)
        return np.asarray(hvp(jnp.asarray(z, dtype=jnp.float64), v), dtype=np.float64)

    return fun, hessp


def reference_multistart(p, maxiter=400):
    sde, x0, x1 = p.build()
    obj, z0, s = fixed_objective(sde, x0, x1, p.T, p.K)
    fun, hessp = compiled(obj, z0)
    n, d = len(x0), x1 - x0
    perp = np.linalg.svd(d[None])[2][1:]
    k = p.starts.get("random_directions")
    if k:
        perp = perp[np.random.default_rng(1).choice(len(perp), k, replace=False)]
    bump = np.sin(np.pi * s)[:, None]
    starts = [z0] + [
        (z0.reshape(-1, n) + a * bump * e).ravel()
        for e in perp
        for a in p.starts.get("amplitudes", (0.3, -0.3, 1.0, -1.0))
    ]
    out = []
    for z in starts:
        r = minimize(
            fun,
            z,
            jac=True,
            hessp=hessp,
            method="trust-ncg",
            options={"gtol": 1e-10, "maxiter": maxiter},
        )
        out.append((float(r.fun), float(np.max(np.abs(r.jac))), int(r.nit)))
        print(f"  {p.name}: S = {r.fun:.16g}, |g| = {out[-1][1]:.1e}, its {r.nit}", flush=True)
    good = [o for o in out if o[1] < 1e-7]
    return min(good)[0] if good else None, out
