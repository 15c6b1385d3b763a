"""Linear SDEs f = A x + b with constant D against the exact Gaussian transition density.

S* = 1/2 (x1 - m(T))^T C(T)^-1 (x1 - m(T)), with the path and momentum of ``linear_bridge``;
the midpoint discretisation must converge to them at second order.
"""

import numpy as np
import pytest

import noisynoether as nn
from noisynoether.models import linear_bridge

from .conftest import loglog_slope

CASES = {
    "isotropic OU (Fig. 1b)": dict(
        A=-np.eye(2), D=1.0, b=None, x0=[-2.0, 2.0], x1=[2.0, 2.0], T=1.0
    ),
    "non-normal A, correlated anisotropic D": dict(
        A=np.array([[-1.0, 3.0], [0.0, -2.0]]),
        D=np.array([[0.3, 0.1], [0.1, 0.2]]),
        b=np.array([0.5, -0.2]),
        x0=[1.0, -1.0],
        x1=[-0.5, 2.0],
        T=2.0,
    ),
}


def test_linear_bridge_matches_scalar_formulas():
    """The closed form itself, in 1-D: C(T) = D/a (1 - e^{-2aT}) for f = -a x."""
    a, D, T, x0, x1 = 0.7, 0.3, 1.5, 0.4, -1.2
    ex = linear_bridge([[-a]], D, [x0], [x1], T, [0.0, T])
    C = D / a * (1 - np.exp(-2 * a * T))
    assert ex["action"] == pytest.approx((x1 - x0 * np.exp(-a * T)) ** 2 / (2 * C), rel=1e-12)
    np.testing.assert_allclose(ex["xs"][:, 0], [x0, x1], atol=1e-12)
    # Brownian motion: C = 2 D T and p = dx / (2 D T).
    exb = linear_bridge([[0.0]], D, [x0], [x1], T, [0.3])
    assert exb["momentum"][0, 0] == pytest.approx((x1 - x0) / (2 * D * T), rel=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_linear_sde_converges_at_second_order(name):
    c = CASES[name]
    sde = nn.models.ornstein_uhlenbeck(c["A"], c["D"], b=c["b"])
    Ks = [21, 41, 81, 161]
    errs_S, errs_x, errs_p, hs = [], [], [], []
    for K in Ks:
        res = nn.most_likely_path(sde, c["x0"], c["x1"], 0.0, c["T"], num_points=K)
        assert res.converged, res.message
        assert res.iterations <= 30
        tm = 0.5 * (res.ts[:-1] + res.ts[1:])
        ex = linear_bridge(c["A"], c["D"], c["x0"], c["x1"], c["T"], res.ts, b=c["b"])
        exm = linear_bridge(c["A"], c["D"], c["x0"], c["x1"], c["T"], tm, b=c["b"])
        hs.append(c["T"] / (K - 1))
        errs_S.append(abs(res.action - ex["action"]) / ex["action"])
        errs_x.append(np.max(np.abs(res.xs - ex["xs"])))
        errs_p.append(
            np.max(np.abs(res.momentum - exm["momentum"])) / np.max(np.abs(exm["momentum"]))
        )
    # Window: h from T/20 to T/160; second order means a slope of 2 (we accept 1.8 to 2.3).
    for errs in (errs_S, errs_x, errs_p):
        assert 1.8 <= loglog_slope(hs, errs) <= 2.3, (name, errs)
    scale = np.max(np.abs(ex["xs"]))
    assert errs_S[-1] < 1e-4 and errs_x[-1] < 1e-3 * scale and errs_p[-1] < 1e-3


def test_linear_energy_is_conserved_to_rounding_at_the_discrete_minimum():
    """For linear drifts the midpoint minimiser conserves E far better than O(dt^2)."""
    c = CASES["non-normal A, correlated anisotropic D"]
    sde = nn.models.ornstein_uhlenbeck(c["A"], c["D"], b=c["b"])
    res = nn.most_likely_path(sde, c["x0"], c["x1"], 0.0, c["T"], num_points=201)
    assert res.energy_spread < 1e-8 * max(1.0, np.max(np.abs(res.energy)))


def test_brownian_motion_with_drift_is_a_straight_line_with_constant_momentum():
    v, sigma = np.array([0.3, -0.1, 0.2]), 1.3
    sde = nn.models.drift_diffusion(v, sigma)
    x0, x1, T = np.array([0.5, 0.0, -1.0]), np.array([-1.0, 2.0, 0.5]), 2.0
    ts = np.sort(np.concatenate([[0.0, T], np.random.default_rng(3).uniform(0, T, 40)]))
    res = nn.most_likely_path(sde, x0, x1, 0.0, T, ts=ts)  # a non-uniform grid
    assert res.converged
    straight = x0 + (ts[:, None] / T) * (x1 - x0)
    np.testing.assert_allclose(res.xs, straight, atol=1e-12)
    p_exact = ((x1 - x0) / T - v) / sigma**2  # Eq. 19
    np.testing.assert_allclose(
        res.momentum, np.broadcast_to(p_exact, res.momentum.shape), atol=1e-12
    )
    D = sigma**2 / 2
    assert res.action == pytest.approx(np.sum(((x1 - x0) / T - v) ** 2) * T / (4 * D), rel=1e-12)


def test_fig1a_momentum_matches_the_paper():
    """Drift-diffusion from 0.5 to -1 over T = 1 with v = 0.1, sigma = 1: p = -1.6."""
    res = nn.most_likely_path(
        nn.models.drift_diffusion(0.1, 1.0), 0.5, -1.0, 0.0, 1.0, num_points=41
    )
    np.testing.assert_allclose(res.momentum, -1.6, atol=1e-12)
