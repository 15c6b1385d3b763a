"""Time-dependent drifts against an independent boundary-value solve; state-dependent D
against the same problem made additive by a change of variables."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_bvp

import noisynoether as nn

D_CONST = 0.3


def forced(t, x, args):
    return -x + 0.5 * x**2 * jnp.cos(x) + 2.0 * jnp.sin(3.0 * t)


def _bvp_reference(x0, x1, T):
    """Hamilton's equations xdot = f + 2 D p, pdot = -f'(x) p, solved by scipy's solve_bvp."""

    def f(t, x):
        return -x + 0.5 * x**2 * np.cos(x) + 2.0 * np.sin(3.0 * t)

    def fx(x):
        return -1.0 + x * np.cos(x) - 0.5 * x**2 * np.sin(x)

    def rhs(t, y):
        x, p = y
        return np.vstack([f(t, x) + 2 * D_CONST * p, -fx(x) * p])

    def bc(ya, yb):
        return np.array([ya[0] - x0, yb[0] - x1])

    t = np.linspace(0, T, 200)
    y = np.vstack([x0 + (x1 - x0) * t / T, np.zeros_like(t)])
    sol = solve_bvp(rhs, bc, t, y, tol=1e-10, max_nodes=200000)
    assert sol.success
    tt = np.linspace(0, T, 200001)
    p = sol.sol(tt)[1]
    action = np.sum(0.5 * (p[1:] ** 2 + p[:-1] ** 2) * np.diff(tt)) * D_CONST  # L = p D p
    return action, sol


def test_time_dependent_drift_matches_a_boundary_value_reference():
    x0, x1, T = 0.2, 1.0, 2.0
    ref_S, sol = _bvp_reference(x0, x1, T)
    sde = nn.SDE(drift=forced, diffusion=D_CONST)
    errs = []
    for K in (201, 401):
        res = nn.most_likely_path(sde, x0, x1, 0.0, T, num_points=K)
        assert res.converged and res.iterations <= 30
        errs.append(abs(res.action - ref_S) / ref_S)
    assert errs[-1] < 2e-5
    assert 3.0 < errs[0] / errs[1] < 5.0  # second order
    np.testing.assert_allclose(res.xs[:, 0], sol.sol(res.ts)[0], atol=1e-4)
    # Evaluating f at t = 0 (or anywhere but the interval midpoint) would be far off:
    shifted = nn.most_likely_path(sde, x0, x1, 0.0 + 1.0, T + 1.0, num_points=401)
    assert abs(shifted.action - ref_S) / ref_S > 1e-2


def test_state_dependent_noise_equals_the_additive_problem_after_a_change_of_variables():
    """xdot = -x + s0 (1 + x^2) eta. With y = arctan(x)/s0, ydot = -sin(s0 y) cos(s0 y)/s0 + eta."""
    s0 = 0.8

    def sigma(x):
        return s0 * (1.0 + x**2)

    state = nn.SDE(drift=lambda t, x, a: -x, diffusion=lambda t, x, a: 0.5 * sigma(x) ** 2)
    additive = nn.SDE(drift=lambda t, y, a: -jnp.sin(s0 * y) * jnp.cos(s0 * y) / s0, diffusion=0.5)
    x0, x1, T = -0.5, 1.0, 1.5
    y0, y1 = np.arctan(x0) / s0, np.arctan(x1) / s0
    rx = nn.most_likely_path(state, x0, x1, 0.0, T, num_points=2001)
    ry = nn.most_likely_path(additive, y0, y1, 0.0, T, num_points=2001)
    assert rx.converged and ry.converged
    assert rx.action == pytest.approx(ry.action, rel=1e-5)
    np.testing.assert_allclose(np.tan(s0 * ry.xs[:, 0]), rx.xs[:, 0], atol=1e-4)
    # A constant D of the same size at the start would give a different answer.
    const = nn.SDE(drift=lambda t, x, a: -x, diffusion=0.5 * sigma(x0) ** 2)
    assert abs(nn.most_likely_path(const, x0, x1, 0.0, T, num_points=2001).action - rx.action) > 0.1
