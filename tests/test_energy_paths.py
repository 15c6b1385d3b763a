"""Paths at fixed energy and in infinite time, shooting, quasipotentials and escape rates.

Every check is against a value computed independently of the solver under test: the 1-D
quadrature of Eq. 13, a closed form (Lyapunov equation), the fixed-time Newton solver, the exact
1-D mean first-passage time, or a Monte Carlo simulation.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
from scipy.integrate import quad
from scipy.optimize import brentq

import noisynoether as nn
from noisynoether import _jit
from noisynoether.solvers._geometric import path_with_energy
from noisynoether.solvers._shooting import initial_momentum, shoot, shoot_to
from noisynoether.transitions import (
    action_vs_duration,
    barrier,
    duration_vs_energy,
    escape_rate,
    quasipotential,
)

D_WELL = 0.05
NON_NORMAL_A = np.array([[-1.0, 3.0], [0.0, -2.0]])
CORRELATED_D = np.array([[0.5, 0.2], [0.2, 0.3]])


# ------------------------------------------------------------------ independent references
def _f_well(x):
    return x - x**3


def _quad(fn):
    return quad(fn, -1, 1, points=[-0.5, 0.0, 0.5], epsabs=1e-13, epsrel=1e-12, limit=400)[0]


def _eq13_duration(E, D=D_WELL):
    """T(E) = int dx / sqrt(f^2 + 4 D E) from -1 to 1 (Eq. 13)."""
    return _quad(lambda x: 1.0 / np.sqrt(_f_well(x) ** 2 + 4 * D * E))


def _eq13(T, D=D_WELL):
    """E(T) and S*(T) from -1 to 1 by Eq. 13: xdot = sqrt(f^2 + 4 D E) > 0 along the path."""
    E = np.exp(brentq(lambda u: _eq13_duration(np.exp(u), D) - T, -25.0, 10.0, xtol=1e-14))

    def lag(x):
        s = np.sqrt(_f_well(x) ** 2 + 4 * D * E)
        return (s - _f_well(x)) ** 2 / (4 * D * s)

    return E, _quad(lag)


@pytest.fixture(scope="module")
def eq13_table():
    return {T: _eq13(T) for T in (2.0, 5.0, 10.0, 20.0)}


# ------------------------------------------------------------------ S*(T), T(E), S*(inf)
def test_action_vs_duration_matches_eq13_quadrature_and_ds_dt_is_minus_e(eq13_table):
    sde = nn.models.double_well(D_WELL)
    Ts = [2.0, 5.0, 10.0, 20.0]
    curve = action_vs_duration(sde, -1.0, 1.0, Ts, num_points=2001)
    assert np.all(curve.converged)
    for T, S, E in zip(curve.durations, curve.actions, curve.energies, strict=True):
        E_q, S_q = eq13_table[T]
        assert S == pytest.approx(S_q, rel=2e-5)
        assert E == pytest.approx(E_q, rel=2e-3, abs=5e-6)  # E -> 0: O(dt^2) absolute
    # Hamilton-Jacobi: dS*/dT = -E, to the central difference's O(step^2).
    assert curve.identity_error < 1e-4, curve.identity_residual


def test_path_with_energy_gives_eq13_duration_and_action(eq13_table):
    sde = nn.models.double_well(D_WELL)
    prev = None
    for T in (2.0, 5.0, 10.0, 20.0):
        E_q, S_q = eq13_table[T]
        res = path_with_energy(sde, -1.0, 1.0, E_q, num_points=1601, initial=prev)
        assert res.converged, res
        # O(h^2): T is decided near the fixed points at small E (3e-5 measured at T = 20).
        assert res.duration == pytest.approx(T, rel=5e-5)
        assert res.action == pytest.approx(S_q, rel=1e-5)
        assert np.max(np.abs(res.energy - E_q)) <= 1e-6 * max(E_q, 1.0)
        assert np.all(np.diff(res.ts) > 0) and res.xs[0, 0] == -1.0 and res.xs[-1, 0] == 1.0
        prev = res


def test_duration_vs_energy_matches_eq13_and_dw_de_is_t():
    sde = nn.models.double_well(D_WELL)
    Es = [1.0, 0.1, 1e-3, 0.0]
    curve = duration_vs_energy(sde, -1.0, 1.0, Es, num_points=1601)
    assert np.all(curve.converged)
    for E, T in zip(curve.energies[:-1], curve.durations[:-1], strict=True):
        assert T == pytest.approx(_eq13_duration(E), rel=1e-5)
    # The discrete W is stationary only normal to the path (the nodes' tangential positions
    # are set by the redistribution), so the identity holds to O(h^2): 3e-5 measured.
    assert curve.identity_error < 1e-4, curve.identity_residual
    # E = 0: infinite duration, S*(inf) = dV / D = 0.25 / 0.05 = 5 (Eq. 8's normalisation).
    assert curve.durations[-1] == np.inf
    assert curve.actions[-1] == pytest.approx(5.0, rel=1e-5)
    assert np.all(np.diff(curve.durations) > 0)  # T strictly decreasing in E (Sec. 4.1)


def test_infinite_time_path_passes_through_the_saddle_and_the_barrier_is_dv_over_d():
    sde = nn.models.double_well(D_WELL)
    res = path_with_energy(sde, -1.0, 1.0, 0.0, num_points=801)
    assert res.converged and res.duration == np.inf
    assert res.action == pytest.approx(5.0, rel=1e-5)
    assert np.min(np.abs(res.xs)) < 2e-3  # through the saddle x = 0
    b = barrier(sde, [-1.0], [1.0], num_points=801)
    np.testing.assert_allclose(b.saddle, [0.0], atol=1e-8)
    assert b.barrier == pytest.approx(5.0, rel=1e-5)
    assert abs(b.routes[0].downhill.action) < 1e-8  # the way down from the saddle is free
    # The saddle given (as the FixedPoint that fixed_points returns) instead of searched for:
    # the same route; a state that is not a fixed point, or an attractor, is refused.
    fp = [p for p in nn.fixed_points(sde, [-2.0], [2.0]) if p.index == 1]
    given = barrier(sde, [-1.0], [1.0], num_points=801, saddles=fp)
    assert given.barrier == pytest.approx(b.barrier, rel=1e-10)
    with pytest.raises(ValueError, match="not a fixed point"):
        barrier(sde, [-1.0], [1.0], saddles=[[0.3]])
    with pytest.raises(ValueError, match="0 unstable directions"):
        barrier(sde, [-1.0], [1.0], saddles=[[1.0]])
    for bad in ("x", ["a"]):
        with pytest.raises(TypeError, match="saddles"):
            barrier(sde, [-1.0], [1.0], saddles=bad)


# ------------------------------------------------------------------ 2-D: fixed E = fixed T
@pytest.mark.parametrize(
    "case",
    [
        ("non-normal OU", 2.0, 2001, 1e-5, 1e-4),
        ("multistable", 1.0, 2001, 2e-5, 2e-4),
    ],
)
def test_path_with_energy_at_the_energy_of_a_fixed_time_minimiser_reproduces_it(case):
    name, T, K, tol_t, tol_x = case
    if name == "multistable":
        sde, x0, x1 = nn.models.multistable(), [3.0, 0.1], [0.1, 3.0]
    else:
        sde, x0, x1 = (
            nn.models.ornstein_uhlenbeck(NON_NORMAL_A, CORRELATED_D),
            [0.0, 0.0],
            [
                -0.7,
                1.2,
            ],
        )
    fixed_t = nn.most_likely_path(sde, x0, x1, 0.0, T, num_points=K)
    assert fixed_t.converged
    E = float(np.mean(fixed_t.energy))
    res = path_with_energy(sde, x0, x1, E, num_points=801, initial=fixed_t)
    assert res.converged, res
    assert res.duration == pytest.approx(T, rel=tol_t)
    assert res.action == pytest.approx(fixed_t.action, rel=tol_t)
    on_fixed_t_grid = np.stack(
        [np.interp(fixed_t.ts, res.ts, res.xs[:, i]) for i in range(2)], axis=1
    )
    assert np.max(np.abs(on_fixed_t_grid - fixed_t.xs)) < tol_x


# ------------------------------------------------------------------ quasipotential
def test_quasipotential_of_a_linear_sde_is_the_lyapunov_quadratic_form():
    # Non-normal drift, correlated noise: V(x) = 1/2 x^T Sigma^-1 x, A S + S A^T + 2 D = 0,
    # so the stationary density N(0, Sigma) is proportional to exp(-V).
    sde = nn.models.ornstein_uhlenbeck(NON_NORMAL_A, CORRELATED_D)
    Sigma = scipy.linalg.solve_continuous_lyapunov(NON_NORMAL_A, -2 * CORRELATED_D)
    X = np.array([[1.0, 0.5], [-0.7, 1.2], [0.3, -0.4], [2.0, 2.0]])
    V = quasipotential(sde, [0.0, 0.0], X, num_points=201)
    exact = 0.5 * np.einsum("ij,jk,ik->i", X, np.linalg.inv(Sigma), X)
    np.testing.assert_allclose(V.value, exact, rtol=1e-6)
    assert V.converged and V.value.shape == (4,)
    # One target: a scalar value, float() keeps working (the same compiled model: a 1-D model's
    # closed form, V = dU / D for the double well, is checked in test_infinite_time.py).
    v1 = quasipotential(sde, [0.0, 0.0], X[1], num_points=201)
    assert v1.value == pytest.approx(exact[1], rel=1e-6)
    assert float(v1) == v1.value  # float(nn.quasipotential(...)) keeps working


# ------------------------------------------------------------------ shooting
@pytest.mark.parametrize(
    "name,T", [("double well", 5.0), ("non-normal OU", 3.0), ("multistable", 1.0)]
)
def test_shooting_with_the_newton_momentum_lands_on_the_end_point(name, T):
    sde, x0, x1 = {
        "double well": (nn.models.double_well(D_WELL), [-1.0], [1.0]),
        "non-normal OU": (
            nn.models.ornstein_uhlenbeck(NON_NORMAL_A, CORRELATED_D),
            [0.0, 0.0],
            [-0.7, 1.2],
        ),
        "multistable": (nn.models.multistable(), [3.0, 0.1], [0.1, 3.0]),
    }[name]
    path = nn.most_likely_path(sde, x0, x1, 0.0, T, num_points=4001)
    p0 = initial_momentum(path)
    free = shoot(sde, x0, p0, 0.0, T, rtol=1e-13, atol=1e-13)
    assert free.converged
    # p0 is O(dt^2) accurate; the miss is that error times the flow's sensitivity.
    assert np.max(np.abs(free.xs[-1] - np.asarray(x1))) < 2e-5
    assert free.hamiltonian_spread <= 1e-10 * max(1.0, abs(free.hamiltonian[0]))
    assert free.hamiltonian[0] == pytest.approx(np.mean(path.energy), rel=1e-5, abs=1e-9)
    hit = shoot_to(sde, x0, x1, 0.0, T, p0=p0, rtol=1e-13, atol=1e-13)
    assert hit.converged and hit.miss < 1e-10, hit
    assert hit.action == hit.action_along[-1]
    assert hit.action == pytest.approx(path.action, rel=1e-6)
    np.testing.assert_allclose(hit.p0, p0, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------ escape rates
def _exact_mfpt(D, b, x0=-1.0):
    """Mean first-passage time from x0 to b for f = x - x^3 (1-D formula, by quadrature)."""

    def U(x):
        return x**4 / 4 - x**2 / 2

    def inner(y):
        return quad(
            lambda z: np.exp(-(U(z) - U(-1)) / D), -3, y, points=[-1.0], epsrel=1e-12, limit=200
        )[0]

    val = quad(
        lambda y: np.exp((U(y) - U(0)) / D) * inner(y),
        x0,
        b,
        points=[0.0],
        epsrel=1e-10,
        limit=200,
    )[0]
    return val / D * np.exp((U(0) - U(-1)) / D)


def test_kramers_rate_has_the_known_small_noise_error():
    # The exact 1-D MFPT tau over the saddle: tau * k - 1 = 1.5 D + O(D^2) as D -> 0 (the
    # first Laplace corrections at the minimum and the saddle, 0.75 D each, for this U).
    for D in (0.005, 0.01):
        k = escape_rate(nn.models.double_well(D), [-1.0], [0.0])
        assert k.barrier == pytest.approx(0.25 / D, rel=1e-12)
        ratio = _exact_mfpt(D, 0.7) * k.rate - 1
        assert 1.4 * D < ratio < 1.7 * D, (D, ratio)


@functools.partial(_jit.jit, runtime_bound=True)  # optimised whatever XLA_FLAGS says: it runs
def _em_first_passage(key, D, dt, b):
    n = 2000

    def body(c):
        x, t, done, key = c
        key, sub = jax.random.split(key)
        xn = x + (x - x**3) * dt + jnp.sqrt(2 * D * dt) * jax.random.normal(sub, (n,))
        x = jnp.where(done, x, xn)
        t = jnp.where(done, t, t + dt)
        return x, t, done | (x >= b), key

    init = (-jnp.ones(n), jnp.zeros(n), jnp.zeros(n, bool), key)
    _, t, done, _ = jax.lax.while_loop(lambda c: ~jnp.all(c[2]), body, init)
    return t


@pytest.mark.parametrize("D", [0.125, 0.15])
def test_kramers_rate_agrees_with_simulated_mean_first_passage_times(D):
    k = escape_rate(nn.models.double_well(D), [-1.0], [0.0])
    b = 0.7  # past the saddle by > 1.8 sqrt(D): the MFPT there is 1/k to O(D)
    t = np.asarray(_em_first_passage(jax.random.PRNGKey(7), D, 0.01, b))
    mean, se = t.mean(), t.std() / np.sqrt(t.size)
    mc_bound = 3 * se / mean  # ~6 % for 2000 paths (exit times are ~exponential)
    exact = _exact_mfpt(D, b)
    # The simulation itself against the exact MFPT (Euler-Maruyama bias dt = 0.01: ~1 %).
    assert abs(mean / exact - 1) < mc_bound + 0.01
    # Kramers against the simulation, within the MC bound and the known small-noise error,
    # here tau k - 1 = 0.14 to 0.17 (exact, above), bounded by 2 D.
    assert abs(mean * k.rate - 1) < mc_bound + 2 * D
    assert abs(mean * k.rate - exact * k.rate) < mc_bound + 0.01


# ------------------------------------------------------------------ bad input
def test_bad_input_is_rejected_with_a_message():
    ring = nn.SDE(drift=lambda t, x, a: jnp.array([-x[0] - x[1], x[0] - x[1]]), diffusion=0.1)
    with pytest.raises(ValueError, match="not a gradient"):
        escape_rate(ring, [0.0, 0.0], [0.0, 0.0])
    timed = nn.SDE(drift=lambda t, x, a: -x * (1 + t), diffusion=0.1)
    with pytest.raises(ValueError, match="autonomous"):
        path_with_energy(timed, [0.0], [1.0], 0.1)
    aniso = nn.models.ornstein_uhlenbeck(-np.eye(2), [0.1, 0.2])
    with pytest.raises(ValueError, match="isotropic"):
        escape_rate(aniso, [0.0, 0.0], [1.0, 0.0])


# ------------------------------------------------------------------ command line
def test_energy_command_writes_the_figure_and_the_summary(tmp_path, capsys):
    import argparse
    import json

    from noisynoether.cli import energy as cli_energy

    parser = argparse.ArgumentParser()
    cli_energy.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "energy",
            "double-well",
            "--energies",
            "1",
            "0",
            "--num-points",
            "201",
            "--out",
            str(tmp_path),
        ]
    )
    assert cli_energy.run(args) == 0
    assert (tmp_path / "energy_double-well.png").stat().st_size > 10_000
    summary = json.loads((tmp_path / "energy_double-well.json").read_text())
    assert summary["rows"][1]["duration"] is None  # E = 0: T = inf
    assert summary["rows"][1]["action"] == pytest.approx(5.0, rel=1e-3)
    assert "T(E)" in capsys.readouterr().out
