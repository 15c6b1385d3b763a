"""Issue 12 (speed at size): Newton-CG and its matrix-free certificate against dense references.

Newton-CG on a random rate network (n = 12, K = 51) must find block Newton's minimiser; the
certificate (block Krylov on the pencil H v = mu P v, ``_minimum.lowest_eigen_matfree``) must
agree with the eigenvalues of the dense Hessian and the dense pencil (scipy), and at a symmetric
saddle it must find the negative curvature that lets Newton-CG (which has no in-loop curvature
probe) leave it. Timings are in benchmarks/bench_networks.py.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sla

import noisynoether as nn
from noisynoether._lagrangian import total_action
from noisynoether.solvers import _assemble, _minimum

K, N_UNITS = 51, 12


def _rate_network(n, g, seed=0):
    rng = np.random.default_rng(seed)
    W = jnp.asarray(g * rng.standard_normal((n, n)) / np.sqrt(n))
    sde = nn.SDE(drift=lambda t, x, args: -x + W @ jnp.tanh(x), diffusion=0.1)
    return sde, 0.5 * rng.standard_normal(n), 0.5 * rng.standard_normal(n)


def _dense_hessian(sde, ts, xs):
    """The Hessian of the action in the interior points, by jax.hessian (independent of CG)."""
    M, n = xs.shape[0] - 2, xs.shape[1]
    xa, xb = jnp.asarray(xs[0]), jnp.asarray(xs[-1])

    def S(z):
        return total_action(
            sde, jnp.asarray(ts), _assemble.full_path(z.reshape(M, n), xa, xb), None
        )

    return np.asarray(jax.jit(jax.hessian(S))(jnp.asarray(xs[1:-1]).ravel()))


@pytest.fixture(scope="module")
def network():
    sde, x0, x1 = _rate_network(N_UNITS, 1.5)
    cg = nn.most_likely_path(sde, x0, x1, 0.0, 1.0, num_points=K, solver=nn.NewtonCG())
    dense = nn.most_likely_path(sde, x0, x1, 0.0, 1.0, num_points=K, solver=nn.Newton())
    return sde, x0, x1, cg, dense


def test_newton_cg_finds_block_newtons_minimiser_in_few_iterations(network):
    _, _, _, cg, dense = network
    assert cg.converged and dense.converged, (cg.message, dense.message)
    assert cg.stats["method"] == "newton-cg" and dense.stats["method"] == "newton"
    np.testing.assert_allclose(cg.xs, dense.xs, rtol=0, atol=1e-8)
    assert cg.action == pytest.approx(dense.action, rel=1e-12)
    # The leak-only preconditioner keeps both counts small (8 / 24 when written).
    assert cg.iterations <= 15 and cg.stats["inner_iterations"] <= 4 * cg.iterations


def test_certificate_bounds_the_dense_hessian_eigenvalues(network):
    sde, _, _, cg, dense = network
    H = _dense_hessian(sde, cg.ts, cg.xs)
    leak = nn.SDE(drift=lambda t, x, args: -x, diffusion=0.1)  # P: the leak-only Hessian
    P = _dense_hessian(leak, cg.ts, cg.xs)
    lam, mu, p = np.linalg.eigvalsh(H), sla.eigh(H, P, eigvals_only=True), np.linalg.eigvalsh(P)
    w = np.asarray(cg.stats["lowest_eigenvalues"])
    assert len(w) >= 2 and np.all(w > 0) and lam[0] > 0
    # Ostrowski: lambda_i(H) = mu_i theta_i, theta_i in [p_min, p_max]; the certificate reports
    # mu_i p_min from Ritz values mu_i: upper bounds of the pencil's, the two lowest converged.
    assert np.all(w >= mu[: len(w)] * p[0] * (1 - 1e-12))
    np.testing.assert_allclose(w[:2], mu[:2] * p[0], rtol=1e-3)
    np.testing.assert_allclose(w, mu[: len(w)] * p[0], rtol=5e-2)
    assert np.all(w <= lam[: len(w)]) and np.all(lam[: len(w)] <= mu[: len(w)] * p[-1])
    # Block Newton's certificate is exact: the same lowest eigenvalue as the dense matrix.
    assert dense.min_eigenvalue == pytest.approx(lam[0], rel=1e-8)


def _axial(t, x, args):  # Maier-Stein with the y direction made a plane: a circle of minima
    r2 = x[1] ** 2 + x[2] ** 2
    return jnp.array(
        [x[0] - x[0] ** 3 - 10 * x[0] * r2, -(1 + x[0] ** 2) * x[1], -(1 + x[0] ** 2) * x[2]]
    )


def test_certificate_finds_the_saddle_on_the_axis_and_newton_cg_leaves_it_in_its_loop():
    sde = nn.SDE(_axial, diffusion=0.5)
    a, b = [-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]
    # The critical path on the symmetry axis: the 1-D problem along it (y = z = 0 is kept by
    # the drift, so the 1-D minimiser is a critical path of the 3-D action).
    line = nn.SDE(lambda t, x, args: x - x**3, diffusion=0.5)
    one = nn.most_likely_path(line, [-1.0], [1.0], 0.0, 10.0, num_points=K)
    axis = dataclasses.replace(one, xs=np.concatenate([one.xs, np.zeros((K, 2))], axis=1))
    H = _dense_hessian(sde, axis.ts, axis.xs)
    lam = np.linalg.eigvalsh(H)
    assert lam[0] < -1e-3 * np.max(np.abs(lam))  # a saddle: two negative directions (y, z)
    ts, xs = jnp.asarray(axis.ts), axis.xs
    w, V, _ = _minimum.lowest_eigen_matfree(  # k as in the solve: compiled once
        sde, ts, jnp.asarray(xs[1:-1]), jnp.asarray(xs[0]), jnp.asarray(xs[-1]), None, k=4
    )
    w, V = w[:2], V[:2]
    assert np.all(w < 0) and np.sum(lam < 0) >= 2  # the sign of each of the two lowest
    assert np.all(np.abs(w) <= np.abs(lam[:2]) * (1 + 1e-8))  # Ostrowski: no larger in size
    for v in V:
        assert v.ravel() @ H @ v.ravel() < 0  # directions of negative curvature
    # From the straight start (on the axis) Newton-CG converges towards that saddle; near
    # tolerance its loop probes for negative curvature (Lanczos on the pencil (H, P) from a
    # start with a random part) and steps off the axis, before any end-of-run escape.
    res = nn.most_likely_path(sde, a, b, 0.0, 10.0, num_points=K, solver=nn.NewtonCG())
    assert res.converged and res.stats["negative_curvature_steps"] >= 1, res.message
    assert res.stats["saddle_escapes"] == 0
    assert res.action < one.action - 0.1
    assert res.zero_modes == 1
    assert res.stats["zero_mode_generators"] == ("rotation in the (x2, x3) plane",)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (dict(path=3), TypeError, ["path", "3"]),
        (dict(min_compile_time=-1.0), ValueError, ["min_compile_time", "-1.0", ">= 0"]),
        (dict(min_compile_time="1"), TypeError, ["min_compile_time", "'1'"]),
    ],
)
def test_enable_compilation_cache_rejects_bad_input(kwargs, exc, words):
    with pytest.raises(exc) as err:
        nn.enable_compilation_cache(**kwargs)
    assert all(w in str(err.value) for w in words)
