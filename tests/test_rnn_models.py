"""Rate networks as models (``nn.models.noisy_rnn`` and its loaders) and their fixed points
found from given starts (``nn.fixed_points(sde, starts=...)``), issue 12 item 1.

Drifts are compared with the formula written out in NumPy; fixed points with |f| computed in
NumPy and their classification with ``np.linalg.eigvals`` of the Jacobian written by hand
(J = (-I + W diag(phi'(x))) / tau). The dense and the matrix-free searches, and the dense and
the Arnoldi (Cayley) spectra, are both exercised on small n by lowering their thresholds.
"""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest

import noisynoether as nn
from noisynoether import _fixed_point_lm, _fixed_points

N, M = 6, 2
RNG = np.random.default_rng(12)
W = 2.0 * RNG.normal(size=(N, N)) / np.sqrt(N)
BIAS = 0.3 * RNG.normal(size=N)
BIN = RNG.normal(size=(N, M))
TAU = 2.0


def u_of_t(t):
    return jnp.stack([jnp.sin(t), jnp.asarray(0.5)])


def formula(t, x, W=W, b=BIAS, B=BIN, tau=TAU, phi=np.tanh):
    return (-x + W @ phi(x) + b + B @ np.array([np.sin(t), 0.5])) / tau


def jac_numpy(x, W=W, tau=1.0):
    return (-np.eye(len(x)) + W * (1 - np.tanh(x) ** 2)[None, :]) / tau


@pytest.fixture(scope="module")
def net():
    return nn.models.noisy_rnn(W, BIAS, tau=TAU, D=0.1, inputs=(BIN, u_of_t))


@pytest.fixture(scope="module")
def autonomous():
    return nn.models.noisy_rnn(W, BIAS, D=0.1)


def test_drift_equals_formula(net):
    x = RNG.normal(size=N)
    for t in (0.0, 0.7):
        np.testing.assert_allclose(np.asarray(net.f(t, x)), formula(t, x), rtol=1e-14, atol=1e-14)
    sig = nn.models.noisy_rnn(W, BIAS, tau=TAU, D=0.1, nonlinearity="sigmoid", inputs=(BIN, u_of_t))
    expit = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    np.testing.assert_allclose(np.asarray(sig.f(0.3, x)), formula(0.3, x, phi=expit), rtol=1e-13)


def test_other_weights_through_args(autonomous):
    W2 = W[::-1]
    x = RNG.normal(size=N)
    got = autonomous.f(0.0, x, nn.models.rnn_weights(W2, BIAS))
    np.testing.assert_allclose(np.asarray(got), -x + W2 @ np.tanh(x) + BIAS, rtol=1e-14)
    assert nn.models.noisy_rnn(W, BIAS, D=0.1) == autonomous  # equal models share compiled code


def test_npz_round_trip(tmp_path, net):
    path = tmp_path / "net.npz"
    np.savez(path, W=W, b=BIAS, tau=TAU, B=BIN)
    loaded = nn.models.noisy_rnn_from_npz(path, D=0.1, u=u_of_t)
    x = RNG.normal(size=N)
    np.testing.assert_allclose(np.asarray(loaded.f(0.4, x)), formula(0.4, x), rtol=1e-14)
    np.savez(tmp_path / "bad.npz", weights=W)
    with pytest.raises(ValueError, match="W required"):
        nn.models.noisy_rnn_from_npz(tmp_path / "bad.npz", D=0.1)
    # tau saved as a 1-element array is that number; as a vector, an error naming tau
    np.savez(tmp_path / "tau1.npz", W=W, tau=np.array([TAU]))
    one = nn.models.noisy_rnn_from_npz(tmp_path / "tau1.npz", D=0.1)
    assert float(one.drift.weights.tau) == TAU
    np.savez(tmp_path / "tau2.npz", W=W, tau=np.full(2, TAU))
    with pytest.raises(ValueError, match="tau in .* must be one number"):
        nn.models.noisy_rnn_from_npz(tmp_path / "tau2.npz", D=0.1)


def _state_dict():
    return {
        "weight_ih_l0": BIN,
        "weight_hh_l0": W,
        "bias_ih_l0": BIAS,
        "bias_hh_l0": 0.1 * np.ones(N),
    }


def test_numpy_state_dict_gives_the_torch_mapping():
    sde = nn.models.noisy_rnn_from_torch(_state_dict(), D=0.1, tau=TAU, u=u_of_t)
    x = RNG.normal(size=N)
    want = formula(0.2, x, b=BIAS + 0.1)
    np.testing.assert_allclose(np.asarray(sde.f(0.2, x)), want, rtol=1e-14)
    bad = dict(_state_dict(), weight_hh_l1=W)
    with pytest.raises(ValueError, match="single-layer"):
        nn.models.noisy_rnn_from_torch(bad, D=0.1)


def test_torch_rnn_fixed_point_is_torch_fixed_point():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    rnn = torch.nn.RNN(M, N, nonlinearity="tanh", batch_first=True).double()
    with torch.no_grad():
        rnn.weight_hh_l0.mul_(3.0)
    u_const = np.array([0.3, -0.2])
    sde = nn.models.noisy_rnn_from_torch(rnn, D=0.1, u=lambda t: jnp.asarray(u_const))
    sd = rnn.state_dict()
    x = RNG.normal(size=N)
    want = (
        -x
        + sd["weight_hh_l0"].numpy() @ np.tanh(x)
        + sd["bias_ih_l0"].numpy()
        + sd["bias_hh_l0"].numpy()
        + sd["weight_ih_l0"].numpy() @ u_const
    )
    np.testing.assert_allclose(np.asarray(sde.f(0.0, x)), want, rtol=1e-13, atol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some starts end at a slow point (a near saddle-node)
        fps = nn.fixed_points(sde, starts=3 * RNG.normal(size=(8, N)))
    assert fps
    for fp in fps:  # h* = tanh(x*) is a fixed point of torch's own update
        h = torch.tensor(np.tanh(fp.x))[None, None]
        _, h_next = rnn(torch.tensor(u_const)[None, None], h)
        np.testing.assert_allclose(h_next.detach().numpy().ravel(), np.tanh(fp.x), atol=1e-12)
    with pytest.raises(ValueError, match="single-layer"):
        nn.models.noisy_rnn_from_torch(torch.nn.RNN(M, N, num_layers=2), D=0.1)


def _check_points(fps, W, b):
    assert fps
    for fp in fps:
        x = fp.x
        assert np.linalg.norm(-x + W @ np.tanh(x) + b) < 1e-10
        ev = np.linalg.eigvals(jac_numpy(x, W))
        unstable = int(np.sum(ev.real > 0))
        assert fp.unstable_dim == unstable == fp.index
        kind = "stable" if unstable == 0 else "unstable" if unstable == len(x) else "saddle"
        assert fp.kind == kind
        np.testing.assert_allclose(np.max(fp.eigenvalues.real), np.max(ev.real), atol=1e-9)


def test_fixed_points_of_a_random_network(autonomous):
    starts = 2.0 * np.random.default_rng(3).normal(size=(40, N))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few starts may end at slow points
        fps = nn.fixed_points(autonomous, starts=starts)
    _check_points(fps, W, BIAS)
    assert len({tuple(np.round(fp.x, 6)) for fp in fps}) == len(fps)  # deduplicated


def test_arnoldi_spectrum_matches_dense(monkeypatch):
    n = 14
    Wb = 1.8 * np.random.default_rng(5).normal(size=(n, n)) / np.sqrt(n)
    x = np.random.default_rng(6).normal(size=n)
    J = jac_numpy(x, Wb)
    dense = _fixed_points._eigenvalues(J)
    monkeypatch.setattr(_fixed_points, "DENSE_EIG_MAX_N", 2)
    partial = _fixed_points._eigenvalues(J)
    assert np.min(partial.real) < 0
    unstable = np.sort(dense.real[dense.real > 0])
    np.testing.assert_allclose(np.sort(partial.real[partial.real > 0]), unstable, atol=1e-9)


def test_linear_network_has_one_fixed_point(monkeypatch):
    monkeypatch.setattr(_fixed_point_lm, "DENSE_MAX_N", 2)  # the matrix-free search at small n
    A = 0.5 * np.random.default_rng(8).normal(size=(N, N))
    sde = nn.models.noisy_rnn(A, BIAS, D=0.1, nonlinearity="linear")
    fps = nn.fixed_points(sde, starts=5 * np.random.default_rng(9).normal(size=(10, N)))
    assert len(fps) == 1
    want = np.linalg.solve(np.eye(N) - A, BIAS)
    np.testing.assert_allclose(fps[0].x, want, atol=1e-10)
    assert fps[0].unstable_dim == int(np.sum(np.linalg.eigvals(A - np.eye(N)).real > 0))


def test_slow_points_are_not_fixed_points():
    sde = nn.SDE(drift=lambda t, x, a: x**2 + 1.0, diffusion=1.0)  # |f|^2 has a minimum at 0
    with pytest.warns(UserWarning, match="slow points"):
        assert nn.fixed_points(sde, starts=[[0.5], [-2.0]]) == []


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda: nn.models.noisy_rnn(W, D=0.1, nonlinearity="relu"), ValueError, "softplus"),
        (lambda: nn.models.noisy_rnn(W, D=0.1, nonlinearity="cube"), ValueError, "tanh"),
        (lambda: nn.models.noisy_rnn(W[:3], D=0.1), ValueError, "square"),
        (lambda: nn.models.noisy_rnn(W, np.ones(3), D=0.1), ValueError, r"b must have shape"),
        (lambda: nn.models.noisy_rnn(W, D=np.ones(3)), ValueError, "D has shape"),
        (lambda: nn.models.noisy_rnn(W, D=0.1, tau=0), ValueError, "tau"),
        (lambda: nn.models.noisy_rnn(W, D=0.1, inputs=BIN), TypeError, r"\(B, u\)"),
        (
            lambda: nn.models.noisy_rnn(W, D=0.1, inputs=(BIN, lambda t: jnp.ones(5))),
            ValueError,
            "2 input",
        ),
        (lambda: nn.models.noisy_rnn(None, D=0.1), TypeError, "W is required"),
        (lambda: nn.models.noisy_rnn([[1, 2], [3]], D=0.1), TypeError, "W must be a real"),
        (lambda: nn.models.noisy_rnn(W, D=0.1 + 0.1j), TypeError, "D must be real"),
        (lambda: nn.models.noisy_rnn(W, D=0.1, nonlinearity=np.tanh), TypeError, "traceable"),
        (
            lambda: nn.models.noisy_rnn(W, D=0.1, nonlinearity=lambda x: x.sum()),
            ValueError,
            "elementwise",
        ),
        (lambda: nn.models.noisy_rnn_from_torch([1, 2], D=0.1), TypeError, "state dict"),
        (lambda: nn.fixed_points(nn.models.noisy_rnn(W, D=0.1)), ValueError, "starts="),
        (
            lambda: nn.fixed_points(nn.models.noisy_rnn(W, D=0.1), starts=np.ones((3, 4))),
            ValueError,
            "starts",
        ),
    ],
)
def test_bad_inputs(call, err, match):
    with pytest.raises(err, match=match):
        call()
