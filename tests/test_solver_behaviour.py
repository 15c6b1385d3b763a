"""Solver behaviour: minima not saddles, iteration budgets, compiled-code reuse, failure reports,
Newton-CG for large n, and args passed through."""

import jax.numpy as jnp
import numpy as np
import pytest

import noisynoether as nn
from noisynoether.solvers import _most_likely_path

# One Fig. 1c model and one grid size for the tests that need a nonlinear model: each (model,
# grid size, linear solver) is compiled once per test process.
MULTISTABLE = nn.models.multistable()


def headwind(t, x, args):
    """A wind against the direction of travel, strongest on the axis x2 = 0.

    The straight line from (-1, 0) to (1, 0) is a critical path by the x2 -> -x2 symmetry, but
    a saddle: detours off the axis avoid the wind and cost less.
    """
    a, w = args
    return jnp.stack([-a * jnp.exp(-(x[1] ** 2) / (2 * w**2)), 0.0 * x[1]])


def test_a_saddle_on_the_symmetry_axis_is_left_for_the_minimum_off_it():
    sde = nn.SDE(drift=headwind, diffusion=0.1)
    args = (2.0, 0.2)
    # On the axis the wind costs (1 + a)^2 T / (4 D) = 45: the straight start lies there, and
    # the negative-curvature steps inside the loop leave it (not the end-of-run certificate).
    on_axis = (1 + 2.0) ** 2 * 2.0 / (4 * 0.1)
    res = nn.most_likely_path(sde, [-1.0, 0.0], [1.0, 0.0], 0.0, 2.0, num_points=201, args=args)
    assert res.converged, res.message
    assert res.stats["negative_curvature_steps"] >= 1
    assert res.stats["saddle_escapes"] == 0
    assert res.min_eigenvalue > 0
    assert np.max(np.abs(res.xs[:, 1])) > 0.3
    assert res.action < 0.5 * on_axis
    # An independent start off the axis finds the same minimum (or its mirror image).
    bent = np.stack([np.linspace(-1, 1, 201), 0.6 * np.sin(np.linspace(0, np.pi, 201))], 1)
    ref = nn.most_likely_path(
        sde, [-1.0, 0.0], [1.0, 0.0], 0.0, 2.0, num_points=201, args=args, initial=bent
    )
    assert ref.action == pytest.approx(res.action, rel=1e-10)


@pytest.mark.parametrize("T", [2.0, 5.0, 10.0])
def test_double_well_converges_within_30_iterations(T):
    res = nn.most_likely_path(nn.models.double_well(0.05), -1.0, 1.0, 0.0, T, num_points=1001)
    assert res.converged and res.iterations <= 30, res
    assert res.grad_norm < 1e-10
    assert res.action == pytest.approx(_double_well_action_by_eq13(T, 0.05), rel=1e-5)


def _double_well_action_by_eq13(T, D):
    """S*(T) from -1 to 1 for f = x - x^3 by quadrature (Eq. 13), independent of the solver.

    Along the path E is conserved, so xdot = s(x) = sqrt(f^2 + 4 D E) with E fixed by
    T = int dx / s (Eq. 13), and S = int (xdot - f)^2 / (4 D xdot) dx.
    """
    from scipy.integrate import quad
    from scipy.optimize import brentq

    def f(x):
        return x - x**3

    def duration(E):
        return quad(
            lambda x: 1.0 / np.sqrt(f(x) ** 2 + 4 * D * E),
            -1,
            1,
            points=[-0.5, 0.0, 0.5],
            epsabs=1e-13,
            epsrel=1e-12,
            limit=400,
        )[0]

    logE = brentq(lambda u: duration(np.exp(u)) - T, -25.0, 10.0, xtol=1e-14)
    E = np.exp(logE)

    def lag(x):
        s = np.sqrt(f(x) ** 2 + 4 * D * E)
        return (s - f(x)) ** 2 / (4 * D * s)

    return quad(lag, -1, 1, points=[-0.5, 0.0, 0.5], epsabs=1e-13, epsrel=1e-12, limit=400)[0]


def test_linear_case_converges_within_30_iterations_at_any_K():
    sde = nn.models.ornstein_uhlenbeck(-np.eye(2), 1.0)
    for K in (11, 10001):
        res = nn.most_likely_path(sde, [-2.0, 2.0], [2.0, 2.0], 0.0, 10.0, num_points=K)
        assert res.converged and res.iterations <= 30


def test_repeated_solves_of_the_same_shape_do_not_recompile():
    sde = nn.SDE(drift=lambda t, x, a: -a * x, diffusion=0.5)
    nn.most_likely_path(sde, [0.0], [1.0], 0.0, 1.0, num_points=33, args=1.0)
    before = _most_likely_path.TRACE_COUNT["solve"]
    for a, x1 in [(2.0, 1.5), (0.5, -1.0), (3.0, 0.2)]:
        res = nn.most_likely_path(sde, [0.0], [x1], 0.0, 1.0, num_points=33, args=a)
        assert res.converged
        exact = nn.models.linear_bridge([[-a]], 0.5, [0.0], [x1], 1.0, [0.0])["action"]
        assert res.action == pytest.approx(exact, rel=1e-3)  # args really reach the drift
    assert _most_likely_path.TRACE_COUNT["solve"] == before
    # An equal model built again reuses the compiled solver too.
    again = nn.SDE(drift=sde.drift, diffusion=0.5)
    nn.most_likely_path(again, [0.0], [1.0], 0.0, 1.0, num_points=33, args=1.0)
    assert _most_likely_path.TRACE_COUNT["solve"] == before


def test_a_solve_that_does_not_converge_says_so_and_throw_raises():
    sde = MULTISTABLE
    res = nn.most_likely_path(sde, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, num_points=200, max_steps=3)
    assert not res.converged
    assert "did not converge" in res.message and "max_steps" in res.message
    assert "initial" in res.message  # says what to try
    with pytest.raises(nn.ConvergenceError, match="did not converge"):
        nn.most_likely_path(
            sde, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, num_points=200, max_steps=3, throw=True
        )


def test_newton_cg_is_picked_for_large_n_and_agrees_with_block_newton_and_the_closed_form():
    rng = np.random.default_rng(0)
    n = 80
    W = rng.normal(size=(n, n)) / np.sqrt(n)
    A = -np.eye(n) + 0.5 * (W - W.T) + 0.1 * W
    D = np.diag(rng.uniform(0.3, 0.8, n))
    sde = nn.models.ornstein_uhlenbeck(A, np.diag(D))
    x0, x1 = rng.normal(size=n), rng.normal(size=n)
    cg = nn.most_likely_path(sde, x0, x1, 0.0, 1.0, num_points=41)
    assert cg.stats["method"] == "newton-cg" and cg.converged and cg.iterations <= 30
    dense = nn.most_likely_path(sde, x0, x1, 0.0, 1.0, num_points=41, method="newton")
    assert dense.stats["method"] == "newton"
    np.testing.assert_allclose(cg.xs, dense.xs, atol=1e-9)
    exact = nn.models.linear_bridge(A, D, x0, x1, 1.0, [0.0])["action"]
    assert cg.action == pytest.approx(exact, rel=1e-3)


def test_initial_path_from_a_coarser_result_is_interpolated_and_pinned():
    sde = nn.models.double_well(0.05)
    coarse = nn.most_likely_path(sde, -1.0, 1.0, 0.0, 5.0, num_points=51)
    fine = nn.most_likely_path(sde, -1.0, 1.0, 0.0, 5.0, num_points=1001, initial=coarse)
    direct = nn.most_likely_path(sde, -1.0, 1.0, 0.0, 5.0, num_points=1001)
    assert fine.converged and fine.iterations < direct.iterations
    assert fine.action == pytest.approx(direct.action, rel=1e-12)
    assert fine.xs[0, 0] == -1.0 and fine.xs[-1, 0] == 1.0


def test_linear_solvers_agree_on_a_nonlinear_problem():
    """The compiled kernel, LAPACK through a callback, the block Cholesky scan and cyclic
    reduction solve the same Newton systems: the converged paths agree to rounding. (One grid
    size for all, the one the other Fig. 1c tests here use: each size is compiled anew.)"""
    import jax

    sde = MULTISTABLE
    solvers = ("lapack", "scan", "cyclic")
    if jax.default_backend() == "cpu" and nn.native_available():
        solvers += ("native",)
    out = {
        ls: nn.most_likely_path(
            sde, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, num_points=200, linear_solver=ls
        )
        for ls in solvers
    }
    for ls, res in out.items():
        assert res.converged, (ls, res.message)
        assert res.iterations <= 30
        assert res.min_eigenvalue > 0
    ref = out["lapack"]
    for ls in solvers[1:]:
        assert out[ls].action == pytest.approx(ref.action, rel=1e-12)
        np.testing.assert_allclose(out[ls].xs, ref.xs, atol=1e-9)
        assert out[ls].min_eigenvalue == pytest.approx(ref.min_eigenvalue, rel=1e-8)


def test_native_linear_solver_unavailable_is_a_clear_error(monkeypatch):
    from noisynoether.solvers import _native

    monkeypatch.setattr(_native, "native_available", lambda: False)
    sde = MULTISTABLE
    with pytest.raises(ValueError, match="linear_solver='native' needs the compiled kernel"):
        nn.most_likely_path(sde, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, linear_solver="native")
    # 'auto' falls back to LAPACK through the callback, with the same answer.
    res = nn.most_likely_path(sde, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, num_points=200)
    assert res.converged
    ref = nn.most_likely_path(
        sde, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, num_points=200, linear_solver="lapack"
    )
    assert res.action == pytest.approx(ref.action, rel=1e-13)


def test_a_certificate_that_fails_is_never_reported_as_a_minimum(monkeypatch):
    from noisynoether.solvers import _fixed_time

    # The end-point check returns NaN eigenvalues (as a failed Krylov solve can): the gradient
    # is at tolerance but nothing certifies a minimum, so the result must not say converged.
    monkeypatch.setattr(
        _fixed_time, "_lowest_eigen", lambda *a: (np.array([np.nan, 1.0]), None, 1.0)
    )
    res = nn.most_likely_path(MULTISTABLE, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, num_points=200)
    assert not res.converged and res.status is nn.Status.NONFINITE
    assert "not certified" in res.message and "check_minimum=False" in res.message
