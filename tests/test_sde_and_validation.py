"""The SDE model's forms of D, and every bad input rejected at the entry point with its value."""

import jax.numpy as jnp
import numpy as np
import pytest

import noisynoether as nn


def ou(t, x, args):
    return -x


def test_import_switches_on_float64():
    import jax

    assert jax.config.jax_enable_x64
    res = nn.most_likely_path(nn.SDE(drift=ou, diffusion=0.5), [0.0], [1.0], 0.0, 1.0, num_points=5)
    for a in (res.xs, res.momentum, res.energy, res.angular_momentum):
        assert a.dtype == np.float64


@pytest.mark.parametrize(
    "spec, expected",
    [
        (dict(diffusion=0.5), np.eye(2) * 0.5),
        (dict(diffusion=[0.4, 0.1]), np.diag([0.4, 0.1])),
        (dict(diffusion=[[0.3, 0.1], [0.1, 0.2]]), np.array([[0.3, 0.1], [0.1, 0.2]])),
        (dict(noise=[[1.0, 0.5], [0.0, 2.0]]), 0.5 * np.array([[1.25, 1.0], [1.0, 4.0]])),
        (dict(diffusion=lambda t, x, a: jnp.diag(1.0 + x**2)), np.diag([2.0, 5.0])),
        (
            dict(noise=lambda t, x, a: jnp.array([[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]])),
            0.5 * np.array([[2.0, 0.0], [0.0, 4.0]]),
        ),
    ],
)
def test_diffusion_forms_give_the_same_action_as_the_dense_matrix(spec, expected):
    """Every way of giving D yields the action computed by hand with the dense D^-1."""
    sde = nn.SDE(drift=ou, **spec)
    ts = np.linspace(0, 1, 6)
    xs = np.stack([np.linspace(1.0, -1.0, 6), np.linspace(2.0, 0.5, 6)], 1)
    # The dense matrix above is D at x = (1, 2); evaluate the first interval by hand there.
    if callable(spec.get("diffusion")) or callable(spec.get("noise")):
        xs[:2] = [[1.0, 2.0], [1.0, 2.0]]
    dt = ts[1] - ts[0]
    xm = 0.5 * (xs[0] + xs[1])
    r = (xs[1] - xs[0]) / dt + xm
    first = dt / 4 * r @ np.linalg.solve(expected, r)
    S_two = nn.action(sde, ts[:3], xs[:3])
    xm2 = 0.5 * (xs[1] + xs[2])
    r2 = (xs[2] - xs[1]) / dt + xm2
    D2 = np.asarray(sde.D_matrix(0.0, jnp.asarray(xm2)))
    np.testing.assert_allclose(S_two, first + dt / 4 * r2 @ np.linalg.solve(D2, r2), rtol=1e-13)


def test_sdes_with_equal_content_compare_equal():
    assert nn.SDE(drift=ou, diffusion=0.5) == nn.SDE(drift=ou, diffusion=0.5)
    assert hash(nn.SDE(drift=ou, diffusion=0.5)) == hash(nn.SDE(drift=ou, diffusion=0.5))
    assert nn.SDE(drift=ou, diffusion=0.5) != nn.SDE(drift=ou, diffusion=0.6)


def _solve(sde=None, x0=(0.0, 0.0), x1=(1.0, 1.0), t0=0.0, t1=1.0, **kw):
    sde = sde() if sde else nn.SDE(drift=ou, diffusion=0.5)
    return nn.most_likely_path(sde, x0, x1, t0, t1, **kw)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        (
            dict(sde=lambda: nn.SDE(drift=ou, diffusion=[[1.0, 0.0], [0.0, -0.5]])),
            ValueError,
            ["positive definite", "-0.5"],
        ),
        (
            dict(sde=lambda: nn.SDE(drift=ou, diffusion=[[1.0, 0.3], [0.0, 1.0]])),
            ValueError,
            ["symmetric"],
        ),
        (
            dict(sde=lambda: nn.SDE(drift=ou, diffusion=[1.0, 1.0, 1.0])),
            ValueError,
            ["diffusion D has shape (3,)", "n = 2"],
        ),
        (dict(x1=(1.0, 1.0, 1.0)), ValueError, ["x0 and x1", "(2,)", "(3,)"]),
        (
            dict(sde=lambda: nn.SDE(drift=lambda t, x, a: x[:1], diffusion=1.0)),
            ValueError,
            ["drift", "(2,)", "(1,)"],
        ),
        (dict(t1=0.0), ValueError, ["t1 must be greater than t0", "t1 = 0.0"]),
        (dict(t1=float("nan")), ValueError, ["t1 must be finite"]),
        (dict(num_points=2), ValueError, ["num_points", "at least 3", "2"]),
        (dict(num_points=10.5), TypeError, ["num_points", "10.5"]),
        (dict(ts=[0.0, 0.5, 0.4, 1.0]), ValueError, ["strictly increasing", "ts[1] = 0.5"]),
        (dict(ts=[0.0, 0.5, float("inf"), 1.0]), ValueError, ["finite", "ts[2]"]),
        (dict(ts=[0.0, 0.5, 0.9]), ValueError, ["end at t1"]),
        (dict(x0=(0.0, float("nan"))), ValueError, ["x0 must be finite"]),
        (
            dict(sde=lambda: nn.SDE(drift=lambda t, x, a: jnp.log(x - 0.5), diffusion=1.0)),
            ValueError,
            ["non-finite", "interval 0", "t = "],
        ),
        (
            dict(sde=lambda: nn.SDE(drift=ou, diffusion=lambda t, x, a: 0.5 - x[0] * jnp.ones(2))),
            ValueError,
            ["positive definite", "at t = "],
        ),
        (
            dict(sde=lambda: nn.SDE(drift=ou, noise=lambda t, x, a: jnp.array([[1.0], [1.0]]))),
            ValueError,
            ["rank deficient", "rank 1"],
        ),
        (
            dict(sde=lambda: nn.SDE(drift=lambda t, x, a: -x if x[0] > 0 else x, diffusion=1.0)),
            ValueError,
            ["not under jax.jit", "jnp.where"],
        ),
        (dict(linear_solver="dense"), ValueError, ["linear_solver", "'native'", "dense"]),
        (dict(method="lbfgs"), ValueError, ["method", "lbfgs"]),
        (dict(initial=np.zeros((7, 2)), num_points=5), ValueError, ["initial", "(7, 2)"]),
    ],
)
def test_bad_input_is_rejected_with_its_value(kwargs, exc, words):
    with pytest.raises(exc) as info:
        _solve(**kwargs)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_constant_noise_that_makes_D_singular_is_rejected():
    with pytest.raises(ValueError, match="rank 1 < n = 2.*rank deficient"):
        nn.SDE(drift=ou, noise=[[1.0, 2.0], [0.5, 1.0]])
    with pytest.raises(TypeError, match="exactly one"):
        nn.SDE(drift=ou)
    with pytest.raises(TypeError, match="drift must be a callable"):
        nn.SDE(drift=3.0, diffusion=1.0)


def test_charge_functions_validate_their_input():
    sde = nn.SDE(drift=ou, diffusion=0.5)
    with pytest.raises(ValueError, match="shape \\(K, n\\) with K = len\\(ts\\) = 3"):
        nn.energy(sde, [0.0, 0.5, 1.0], np.zeros((4, 2)))
    with pytest.raises(ValueError, match="A must have shape \\(2, 2\\)"):
        nn.noether_charge(sde, [0.0, 0.5, 1.0], np.zeros((3, 2)), np.eye(3))


def test_public_api_names_are_the_documented_objects():
    """Every name in __all__ exists, and no subpackage shadows a public function (nn.energy)."""
    import types

    for name in nn.__all__:
        assert hasattr(nn, name), name
    for name in (
        "action",
        "momentum",
        "energy",
        "angular_momentum",
        "noether_charge",
        "most_likely_path",
        "find_paths",
        "simulate",
        "find_symmetries",
        "path_with_energy",
        "shoot",
        "quasipotential",
        "escape_rate",
    ):
        assert callable(getattr(nn, name)) and not isinstance(getattr(nn, name), types.ModuleType)


@pytest.mark.parametrize("m", [1, 3, 70])
def test_drift_and_jacobian_rows_at_network_size(m):
    # n > 64: a few states are padded to the next power of two, not to 64 rows (64 Jacobians
    # at n = 1024 are 512 MB); the Jacobian is the closed form -I + W diag(sech^2 x).
    from noisynoether._checks import _dynamics

    n = 80
    rng = np.random.default_rng(m)
    W = rng.standard_normal((n, n)) / np.sqrt(n)
    sde = nn.SDE(drift=lambda t, x, a: -x + jnp.asarray(W) @ jnp.tanh(x), diffusion=0.1)
    xs = rng.standard_normal((m, n))
    fs, js = _dynamics.drift_and_jacobian(sde, 0.0, xs, None)
    assert fs.shape == (m, n) and js.shape == (m, n, n)
    np.testing.assert_allclose(fs, -xs + np.tanh(xs) @ W.T, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_dynamics.drift_at(sde, 0.0, xs, None), fs, rtol=0, atol=1e-14)
    exact = -np.eye(n) + W[None] * (1.0 / np.cosh(xs) ** 2)[:, None, :]
    np.testing.assert_allclose(js, exact, rtol=0, atol=1e-12)
    assert _dynamics._padded_rows(m, n) == {1: 1, 3: 4, 70: 128}[m]
    assert _dynamics._padded_rows(m, 2) == {1: 64, 3: 64, 70: 128}[m]
