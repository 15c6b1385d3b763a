"""The ring reverse-diffusion model of Fig. 2: density, score, SDE, and one most likely path."""

import jax
import numpy as np
import pytest
from scipy.integrate import quad

import noisynoether as nn
from noisynoether.models._ring import (
    RING_T_MAX,
    diffusion_time_to_tau,
    ring_log_density,
    ring_reverse_diffusion,
    ring_score,
    tau_to_diffusion_time,
)

R, S0 = 5.0, 0.55


def log_density_by_quadrature(x, t, radius=R, sigma0=S0):
    """log of the paper's definition: the angular average of a Gaussian of variance s2 centred
    on the ring, with the corrected prefactor 1/(2 pi s2). The integrand's peak (at the angle of
    x) is factored out so that |x| = 100 does not underflow."""
    x = np.asarray(x, dtype=float)
    s2 = sigma0**2 + t**2
    r, ang = np.hypot(*x), np.arctan2(x[1], x[0])
    peak = -((r - radius) ** 2) / (2 * s2)  # the largest exponent over theta

    def integrand(u):  # u = theta - angle of x
        th = ang + u
        d2 = (x[0] - radius * np.cos(th)) ** 2 + (x[1] - radius * np.sin(th)) ** 2
        return np.exp(-d2 / (2 * s2) - peak)

    val = quad(integrand, -np.pi, np.pi, points=[0.0], epsabs=0, epsrel=1e-13, limit=500)[0]
    return peak - np.log(2 * np.pi * s2) + np.log(val / (2 * np.pi))


@pytest.mark.parametrize(
    "x, t",
    [
        ((0.0, 0.0), 0.0),
        ((1.0, -2.0), 0.3),
        ((3.0, 4.0), 1e-3),  # on the ring, smallest t
        ((4.6, -1.9), 1e-3),  # near the ring
        ((-2.0, 7.0), 1.5),
        ((0.0, 10.0), RING_T_MAX),
        ((60.0, 80.0), 1e-3),  # |x| = 100: p ~ exp(-15000)
        ((-100.0, 0.0), 5.0),
    ],
)
def test_log_density_matches_angular_integral(x, t):
    got = float(ring_log_density(np.array(x), t))
    want = log_density_by_quadrature(x, t)
    assert np.isfinite(got)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-10)


def test_density_integrates_to_one():
    t = 1.5  # s2 = 2.55: the ring blurred to sd 1.6
    g = np.linspace(-16.0, 16.0, 641)
    X, Y = np.meshgrid(g, g)
    p = np.exp(np.asarray(ring_log_density(np.stack([X, Y], -1), t)))
    total = np.trapezoid(np.trapezoid(p, g, axis=1), g)
    assert total == pytest.approx(1.0, abs=1e-8)


SCORE_POINTS = [
    ((0.0, 0.0), 0.5),
    ((1e-9, -2e-9), 1e-3),
    ((0.3, 0.1), 1e-3),
    ((3.0, 4.0), 1e-3),
    ((5.2, 0.4), 0.1),
    ((-7.0, 2.0), 2.0),
    ((0.0, 10.0), RING_T_MAX),
    ((600.0, -800.0), 1e-3),  # |x| = 1e3
    ((-1e3, 0.0), 10.0),
]


@pytest.mark.parametrize("x, t", SCORE_POINTS)
def test_score_is_the_gradient_of_the_log_density(x, t):
    x = np.array(x)
    s = np.asarray(ring_score(x, t))
    assert s.shape == (2,) and np.all(np.isfinite(s))
    h = 1e-5 * max(1.0, np.hypot(*x))
    fd = np.array(
        [
            (float(ring_log_density(x + h * e, t)) - float(ring_log_density(x - h * e, t)))
            / (2 * h)
            for e in np.eye(2)
        ]
    )
    scale = max(1.0, np.max(np.abs(s)))
    assert np.max(np.abs(s - fd)) <= 1e-6 * scale
    # autodiff of the log density (finite at x = 0 thanks to the safe norm) agrees too
    g = np.asarray(jax.grad(lambda y: ring_log_density(y, t))(x))
    assert np.all(np.isfinite(g))
    assert np.max(np.abs(s - g)) <= 1e-10 * scale


def test_score_at_origin_vanishes_and_is_smooth():
    t = 0.7
    s2 = S0**2 + t**2
    assert np.all(np.asarray(ring_score(np.zeros(2), t)) == 0.0)
    # near 0, s ~ x (R^2 / (2 s2) - 1) / s2
    x = np.array([1e-6, -2e-6])
    np.testing.assert_allclose(ring_score(x, t), x * (R**2 / (2 * s2) - 1) / s2, rtol=1e-9)
    # the Jacobian (what the solver differentiates) is finite at 0 and equals that slope
    J = np.asarray(jax.jacfwd(lambda y: ring_score(y, t))(np.zeros(2)))
    np.testing.assert_allclose(J, np.eye(2) * (R**2 / (2 * s2) - 1) / s2, rtol=1e-12)
    H = np.asarray(jax.jacfwd(jax.jacfwd(lambda y: ring_score(y, t)))(np.zeros(2)))
    assert np.all(np.isfinite(H))


def test_score_is_vectorised():
    xs = np.random.default_rng(0).normal(size=(4, 3, 2)) * 6
    batch = np.asarray(ring_score(xs, 0.4))
    one = np.stack([np.asarray(ring_score(x, 0.4)) for x in xs.reshape(-1, 2)]).reshape(xs.shape)
    np.testing.assert_allclose(batch, one, rtol=1e-14, atol=1e-14)


def test_reverse_sde_drift_and_diffusion_in_tau():
    sde = ring_reverse_diffusion()
    pf = ring_reverse_diffusion(process="pfode")
    x = np.array([2.0, -3.5])
    for t in (RING_T_MAX, 5.0, 0.4, 1e-3):
        tau = diffusion_time_to_tau(t)
        assert tau_to_diffusion_time(tau) == pytest.approx(t)
        s = np.asarray(ring_score(x, t))
        np.testing.assert_allclose(sde.f(tau, x), 2 * t * s, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(pf.f(tau, x), t * s, rtol=1e-9, atol=1e-12)
        assert float(sde.D_raw(tau, x)) == pytest.approx(t, rel=1e-9, abs=1e-12)
    # equal models compare equal (the solvers' compiled code is shared); others do not
    assert sde == ring_reverse_diffusion(5.0, 0.55, t_max=10**1.5, process="sde")
    assert hash(sde) == hash(ring_reverse_diffusion())
    assert sde != pf
    assert sde != ring_reverse_diffusion(radius=4.0)
    with pytest.raises(ValueError, match="process"):
        ring_reverse_diffusion(process="ode")
    with pytest.raises(ValueError, match="sigma0"):
        ring_reverse_diffusion(sigma0=0.0)


def test_most_likely_path_conserves_L12_but_not_E():
    sde = ring_reverse_diffusion()
    t = np.logspace(1.5, -0.4, 201)
    tau = RING_T_MAX - t
    tau[0] = 0.0
    x0, x1 = np.array([0.0, 10.0]), np.array([R, 0.0])
    res = nn.most_likely_path(sde, x0, x1, tau[0], tau[-1], ts=tau)
    assert res.converged, res.message
    L12 = res.angular_momentum[:, 0, 1]
    assert abs(np.mean(L12)) > 5e-3  # a path that turns by pi/2 carries angular momentum
    assert np.ptp(L12) < 2e-3 * abs(np.mean(L12))  # rotation symmetry: conserved to O(dt^2)
    assert np.ptp(res.energy) > 0.1  # f and D depend on time: E is not conserved
    # the action of the straight line is higher
    straight = x0 + (tau - tau[0])[:, None] / (tau[-1] - tau[0]) * (x1 - x0)
    assert float(nn.action(sde, res.ts, straight)) > res.action


def test_pfode_preserves_the_radial_distribution():
    """The PF-ODE transports p(x | t): with a radial score it moves points radially and keeps
    P(|x| <= r(t)) fixed. An independent check of the score's size as well as its direction."""
    from noisynoether.cases import fig2

    pf = fig2.pfode_trajectory(np.array([6.0, 8.0]), n_out=20)
    assert pf["success"]
    assert pf["max_angle_change"] < 1e-12
    start = fig2.radial_cdf(10.0, fig2.T_START)
    end = fig2.radial_cdf(pf["final_radius"], fig2.T_END)
    assert end == pytest.approx(start, abs=1e-9)
    assert 3.5 < pf["final_radius"] < 4.5  # inside the ring, not at R
