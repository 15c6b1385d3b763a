"""Noether charges: conserved where the symmetry holds, and visibly not where it is broken."""

import jax.numpy as jnp
import numpy as np

import noisynoether as nn


def nonlinear_autonomous(t, x, args):
    return jnp.stack([x[0] - x[0] ** 3 + 0.5 * x[1], -x[1] + 0.3 * x[0] ** 2])


def nonlinear_forced(t, x, args):
    return nonlinear_autonomous(t, x, args) + jnp.array([jnp.sin(2.0 * t), 0.0])


def test_energy_is_conserved_for_an_autonomous_model_and_not_for_a_forced_one():
    D = [0.2, 0.1]
    spreads = []
    for K in (201, 401):
        res = nn.most_likely_path(
            nn.SDE(drift=nonlinear_autonomous, diffusion=D),
            [-1.0, 0.0],
            [1.0, 0.3],
            0.0,
            3.0,
            num_points=K,
        )
        assert res.converged
        spreads.append(res.energy_spread)
    scale = np.max(np.abs(res.energy)) + 1.0
    assert spreads[-1] < 1e-4 * scale
    assert spreads[0] / spreads[1] > 3.0  # shrinks with dt (second order: about 4)
    forced = nn.most_likely_path(
        nn.SDE(drift=nonlinear_forced, diffusion=D),
        [-1.0, 0.0],
        [1.0, 0.3],
        0.0,
        3.0,
        num_points=401,
    )
    assert forced.converged
    assert forced.energy_spread > 1e3 * spreads[-1]
    assert forced.energy_spread > 0.05 * scale


def shear(t, x, args):
    """Depends on x1 - x2 only: invariant under translation along (1, 1)."""
    u = x[0] - x[1]
    return jnp.stack([jnp.sin(u), 0.5 * jnp.cos(u) + 0.2 * u])


def test_momentum_along_a_symmetry_direction_is_conserved_and_across_it_is_not():
    sde = nn.SDE(drift=shear, diffusion=[[0.3, 0.1], [0.1, 0.2]])
    res = nn.most_likely_path(sde, [0.0, 0.0], [2.0, -1.0], 0.0, 2.0, num_points=301)
    assert res.converged
    along = nn.noether_charge(sde, res.ts, res.xs, np.zeros((2, 2)), b=[1.0, 1.0])
    across = nn.noether_charge(sde, res.ts, res.xs, np.zeros((2, 2)), b=[1.0, -1.0])
    np.testing.assert_allclose(along, res.momentum @ [1.0, 1.0], atol=1e-13)
    assert np.ptp(along) < 1e-9
    assert np.ptp(across) > 1e-2


def swirl(t, x, args):
    """Equivariant under rotations in the (x1, x2) plane, not in (x1, x3)."""
    r2 = x[0] ** 2 + x[1] ** 2
    a = 1.0 - r2 - 0.2 * x[2]
    return jnp.stack([a * x[0] - 0.7 * x[1], a * x[1] + 0.7 * x[0], -x[2] + 0.5 * r2])


def test_angular_momentum_in_the_symmetric_plane_only_and_only_with_isotropic_D():
    x0, x1, T = [1.0, 0.0, 0.0], [-0.5, 0.8, 0.4], 2.0
    spreads = {}
    for K in (201, 401):
        sym = nn.SDE(drift=swirl, diffusion=[0.3, 0.3, 0.1])
        res = nn.most_likely_path(sym, x0, x1, 0.0, T, num_points=K)
        assert res.converged
        spreads[K] = np.ptp(res.angular_momentum[:, 0, 1])
    L = res.angular_momentum
    np.testing.assert_allclose(L, -np.swapaxes(L, 1, 2), atol=0)
    A12 = np.zeros((3, 3))
    A12[0, 1], A12[1, 0] = -1.0, 1.0  # xi = (-x2, x1, 0): L_12 = x1 p2 - x2 p1
    np.testing.assert_allclose(nn.noether_charge(sym, res.ts, res.xs, A12), L[:, 0, 1], atol=1e-12)
    assert spreads[401] < 1e-4 * np.max(np.abs(L[:, 0, 1]))
    assert spreads[201] / spreads[401] > 3.0  # O(dt^2): the midpoint charge
    assert np.ptp(L[:, 0, 2]) > 1e3 * spreads[401]  # no symmetry in (x1, x3)
    broken = nn.SDE(drift=swirl, diffusion=[0.3, 0.45, 0.1])  # D anisotropic in the plane
    rb = nn.most_likely_path(broken, x0, x1, 0.0, T, num_points=401)
    assert rb.converged
    assert np.ptp(rb.angular_momentum[:, 0, 1]) > 1e3 * spreads[401]


def test_public_charge_functions_agree_with_the_solver_result():
    sde = nn.SDE(drift=swirl, diffusion=[0.3, 0.3, 0.1])
    res = nn.most_likely_path(sde, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], 0.0, 1.0, num_points=51)
    np.testing.assert_allclose(nn.momentum(sde, res.ts, res.xs), res.momentum, rtol=1e-13)
    np.testing.assert_allclose(nn.energy(sde, res.ts, res.xs), res.energy, rtol=1e-13)
    np.testing.assert_allclose(
        nn.angular_momentum(sde, res.ts, res.xs), res.angular_momentum, rtol=1e-13, atol=1e-15
    )
    assert (
        nn.action(sde, res.ts, res.xs) == res.action
        or abs(nn.action(sde, res.ts, res.xs) - res.action) < 1e-12 * res.action
    )
    # E = p.xdot - L by hand on one interval (Eq. 10 from Eq. 8 and Eq. 15).
    k, dt = 7, res.ts[1] - res.ts[0]
    v = (res.xs[k + 1] - res.xs[k]) / dt
    f = np.asarray(swirl(0.0, jnp.asarray(0.5 * (res.xs[k] + res.xs[k + 1])), None))
    Dinv = 1.0 / np.array([0.3, 0.3, 0.1])
    L = 0.25 * np.sum((v - f) ** 2 * Dinv)
    assert res.energy[k] == np.float64(res.energy[k])
    np.testing.assert_allclose(res.energy[k], res.momentum[k] @ v - L, rtol=1e-12)
