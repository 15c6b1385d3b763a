"""Euler-Maruyama sampling against exact distributions, and conditioned ensembles.

Every Monte Carlo check uses a bound of 5 standard errors (derived from the number of paths in
each test): a correct sampler fails one with probability ~6e-7 per compared number; the seeds
are fixed, so a run is reproducible anyway.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import erfc
from scipy.stats import norm

import noisynoether as nn
from noisynoether.sampling import SampleResult, conditioned_ensemble, simulate

Z = 5.0  # standard errors allowed


def _bm(v, D):
    """Brownian motion with constant drift v and diffusion D (any form)."""
    v = jnp.asarray(v, dtype=float)
    return nn.SDE(drift=lambda t, x, args: jnp.zeros_like(x) + v, diffusion=D)


# ------------------------------------------------------------------------------------ seeding
def test_same_key_same_paths_whatever_the_chunk_size_and_other_key_other_paths():
    sde = _bm([0.1, -0.3], [[0.5, 0.1], [0.1, 0.2]])
    ts = np.linspace(0.0, 1.0, 11)
    a = simulate(sde, [0.0, 0.0], ts, jax.random.PRNGKey(0), 500, lower=-1.0, upper=1.0)
    b = simulate(
        sde, [0.0, 0.0], ts, jax.random.PRNGKey(0), 500, lower=-1.0, upper=1.0, chunk_size=128
    )
    c = simulate(sde, [0.0, 0.0], ts, jax.random.PRNGKey(1), 500, lower=-1.0, upper=1.0)
    assert isinstance(a, SampleResult)
    assert a.xs.shape == (500, 11, 2) and a.xs.dtype == np.float64
    np.testing.assert_array_equal(a.xs, b.xs)
    np.testing.assert_array_equal(a.hit_time, b.hit_time)
    np.testing.assert_array_equal(a.hit_boundary, b.hit_boundary)
    # a different key: no path is the same (continuous noise)
    assert not np.any(np.all(a.xs[:, 1:] == c.xs[:, 1:], axis=(1, 2)))
    # a typed key works too and is deterministic
    d1 = simulate(sde, [0.0, 0.0], ts, jax.random.key(3), 50)
    d2 = simulate(sde, [0.0, 0.0], ts, jax.random.key(3), 50)
    np.testing.assert_array_equal(d1.xs, d2.xs)
    np.testing.assert_array_equal(a.xs[:, 0], 0.0)


# ------------------------------------------------------------------------------------ statistics
@pytest.mark.parametrize(
    "D", [0.5, [0.2, 0.7], [[0.5, 0.2], [0.2, 0.3]]], ids=["scalar", "diag", "matrix"]
)
def test_brownian_motion_with_drift_has_the_exact_mean_and_covariance(D):
    # For constant f and D, Euler-Maruyama is exact in distribution at the grid times:
    # x(T) ~ N(x0 + v T, 2 D T). With N paths the standard error of a mean is sqrt(C_ii / N) and
    # that of a sample covariance entry sqrt((C_ii C_jj + C_ij^2) / N) (Gaussian data).
    N, T = 20_000, 1.5
    v, x0 = np.array([0.3, -0.2]), np.array([0.1, 0.4])
    Dm = np.asarray(D, dtype=float)
    Dm = Dm * np.eye(2) if Dm.ndim == 0 else (np.diag(Dm) if Dm.ndim == 1 else Dm)
    C = 2 * Dm * T
    s = simulate(_bm(v, D), x0, np.linspace(0.0, T, 11), jax.random.PRNGKey(7), N)
    xT = s.xs[:, -1]
    assert np.all(np.abs(xT.mean(0) - (x0 + v * T)) <= Z * np.sqrt(np.diag(C) / N))
    se_cov = np.sqrt((np.outer(np.diag(C), np.diag(C)) + C**2) / N)
    assert np.all(np.abs(np.cov(xT.T) - C) <= Z * se_cov)
    assert np.all(np.isinf(s.hit_time)) and np.all(s.hit_boundary == 0)


def test_ornstein_uhlenbeck_mean_and_variance_at_the_final_time():
    # dx = -theta x dt + sqrt(2 D) dW: x(T) ~ N(x0 e^{-theta T}, D/theta (1 - e^{-2 theta T})).
    # Euler-Maruyama's own mean and variance (the recursion x_{k+1} = a x_k + sqrt(2 D dt) xi,
    # a = 1 - theta dt) differ by O(dt); that bias is computed here and allowed on top of 5 SE,
    # and checked to be well under one SE so the comparison stays sharp.
    theta, D, x0, T, N, steps = 1.5, 0.5, 2.0, 1.0, 20_000, 400
    sde = nn.SDE(drift=lambda t, x, args: -args * x, diffusion=D)
    s = simulate(sde, x0, np.linspace(0.0, T, steps + 1), jax.random.PRNGKey(11), N, args=theta)
    xT = s.xs[:, -1, 0]
    mean, var = x0 * np.exp(-theta * T), D / theta * (1 - np.exp(-2 * theta * T))
    dt = T / steps
    a = 1 - theta * dt
    mean_em, var_em = x0 * a**steps, 2 * D * dt * (1 - a ** (2 * steps)) / (1 - a**2)
    se_mean, se_var = np.sqrt(var / N), var * np.sqrt(2 / (N - 1))
    assert abs(mean_em - mean) < 0.5 * se_mean and abs(var_em - var) < 0.5 * se_var
    assert abs(xT.mean() - mean) <= Z * se_mean + abs(mean_em - mean)
    assert abs(xT.var(ddof=1) - var) <= Z * se_var + abs(var_em - var)


def test_time_dependent_matrix_diffusion_is_evaluated_at_the_left_end_of_each_step():
    # D(t) = t M (callable, matrix form: a Cholesky factor per step). Ito/Euler-Maruyama gives
    # Cov x(T) = M sum_k 2 t_k dt = M (T^2 - T dt) = 0.9 M here, whereas the midpoint or the
    # right end would give M or 1.1 M: 0.1 M_11 = 0.06 is about 9 SE of the (1,1) entry.
    M = np.array([[0.6, 0.25], [0.25, 0.4]])
    sde = nn.SDE(drift=lambda t, x, args: jnp.zeros_like(x), diffusion=lambda t, x, args: t * M)
    N = 20_000
    ts = np.linspace(0.0, 1.0, 11)
    s = simulate(sde, [0.0, 0.0], ts, jax.random.PRNGKey(5), N)
    C = M * np.sum(2 * ts[:-1] * np.diff(ts))
    se = np.sqrt((np.outer(np.diag(C), np.diag(C)) + C**2) / N)
    assert np.all(np.abs(np.cov(s.xs[:, -1].T) - C) <= Z * se)
    assert 0.1 * M[0, 0] > 5 * se[0, 0]  # the check tells the three conventions apart


# ------------------------------------------------------------------------------------ boundaries
@pytest.mark.parametrize("side", [1, -1], ids=["upper", "lower"])
def test_absorbing_boundary_matches_the_reflection_principle(side):
    # Driftless Brownian motion x = sqrt(2 D) W from 0, one boundary at side * a:
    # P(hit by T) = 2 P(x_T >= a) = erfc(a / (2 sqrt(D T))) (reflection principle).
    # Monitoring only at grid times misses crossings between them: the discrete probability is
    # lower by ~ P(a) - P(a + beta sigma sqrt(dt)), beta = -zeta(1/2)/sqrt(2 pi) = 0.5826
    # (Broadie-Glasserman-Kou), sigma = sqrt(2 D). We allow 1.5x that one-sided bias plus 5 SE,
    # SE = sqrt(P (1 - P) / N): with N = 20000, dt = 0.002: SE = 0.0033, bias ~ 0.013.
    D, a, T, N, steps = 0.5, 1.0, 1.0, 20_000, 500
    sde = _bm([0.0], D)
    ts = np.linspace(0.0, T, steps + 1)
    bound = {"upper": a} if side == 1 else {"lower": -a}
    s = simulate(sde, 0.0, ts, jax.random.PRNGKey(21 + side), N, **bound)
    hit = s.hit_boundary != 0
    assert set(np.unique(s.hit_boundary)) <= {0, side}

    # absorbed paths: strictly inside before the hitting time, at the boundary from then on
    idx = np.searchsorted(ts, s.hit_time[hit])
    np.testing.assert_array_equal(ts[idx], s.hit_time[hit])  # on the grid
    assert np.all(idx >= 1)
    x = s.xs[hit, :, 0]
    k = np.arange(ts.size)[None, :]
    after = k >= idx[:, None]
    assert np.all(x[after] == side * a)
    assert np.all(side * x[~after] < a)
    # the rest: never reached the boundary, hitting time inf
    assert np.all(np.isinf(s.hit_time[~hit]))
    assert np.all(side * s.xs[~hit, :, 0] < a)

    p_exact = erfc(a / (2 * np.sqrt(D * T)))
    beta = 0.5826
    p_shifted = erfc((a + beta * np.sqrt(2 * D * T / steps)) / (2 * np.sqrt(D * T)))
    bias = 1.5 * (p_exact - p_shifted)
    se = np.sqrt(p_exact * (1 - p_exact) / N)
    p_hat = hit.mean()
    assert p_exact - bias - Z * se <= p_hat <= p_exact + Z * se


def test_two_boundaries_in_two_dimensions_freeze_the_whole_state():
    sde = _bm([0.0, 0.0], 0.5)
    ts = np.linspace(0.0, 1.0, 41)
    s = simulate(sde, [0.0, 0.0], ts, jax.random.PRNGKey(2), 2000, lower=-0.5, upper=0.5)
    assert {-1, 1} <= set(np.unique(s.hit_boundary))
    for i in np.flatnonzero(s.hit_boundary != 0)[:200]:
        k = int(np.searchsorted(ts, s.hit_time[i]))
        b = -0.5 if s.hit_boundary[i] == -1 else 0.5
        assert np.any(s.xs[i, k] == b)  # the crossing component sits on the boundary
        assert np.all(s.xs[i, k:] == s.xs[i, k])  # frozen
        assert np.all(np.abs(s.xs[i, :k]) < 0.5)  # inside before


# ------------------------------------------------------------------------------------ conditioning
def test_end_point_conditioned_mean_is_the_brownian_bridge_mean():
    # Brownian motion with drift v, D: given x(T) = y, x(t) is a Brownian bridge with mean
    # x0 + (t/T)(y - x0) and variance 2 D t (T - t)/T (the drift drops out). Keeping the paths
    # with y in [x1 - eps, x1 + eps], y is N(m, s^2) (m = x0 + v T, s^2 = 2 D T) truncated to the
    # window, so E[x(t) | kept] = x0 + (t/T)(E[y | window] - x0), exactly (Euler-Maruyama is
    # exact at grid times here), and Var[x(t) | kept] = 2 D t (T - t)/T + (t/T)^2 Var[y | window].
    # The Monte Carlo error of the ensemble mean is sqrt(Var / count).
    x0, v, D, T, x1, eps, N = 0.5, 0.1, 0.5, 1.0, -1.0, 0.05, 100_000
    ts = np.linspace(0.0, T, 21)
    s = simulate(nn.models.drift_diffusion(v, np.sqrt(2 * D)), x0, ts, jax.random.PRNGKey(4), N)
    ens = conditioned_ensemble(s, end_near=x1, end_tol=eps)

    m, sd = x0 + v * T, np.sqrt(2 * D * T)
    al, be = (x1 - eps - m) / sd, (x1 + eps - m) / sd
    Zw = norm.cdf(be) - norm.cdf(al)
    Ey = m + sd * (norm.pdf(al) - norm.pdf(be)) / Zw
    Vy = sd**2 * (
        1 + (al * norm.pdf(al) - be * norm.pdf(be)) / Zw - ((norm.pdf(al) - norm.pdf(be)) / Zw) ** 2
    )
    exact = x0 + ts / T * (Ey - x0)
    var = 2 * D * ts * (T - ts) / T + (ts / T) ** 2 * Vy

    assert ens.count == np.sum(np.abs(s.xs[:, -1, 0] - x1) <= eps)
    assert abs(ens.count - N * Zw) <= Z * np.sqrt(N * Zw)  # the window's probability
    assert ens.mean.shape == (21, 1) and ens.xs.shape == (ens.count, 21, 1)
    err = np.abs(ens.mean[:, 0] - exact)
    assert err[0] < 1e-14
    assert np.all(err[1:] <= Z * np.sqrt(var[1:] / ens.count))
    # the unconditioned mean x0 + v t is far outside that bound: the check is discriminating
    assert np.max(np.abs(x0 + v * ts - exact)) > 10 * Z * np.max(np.sqrt(var / ens.count))
    # ensemble std against the exact conditional std (a loose 15% check, > 5 SE of a std)
    assert np.allclose(ens.std[1:, 0], np.sqrt(var[1:]), rtol=0.15)


def test_boundary_selection_keeps_exactly_the_paths_hit_in_the_window():
    sde = nn.models.drift_diffusion(0.1, 1.0)
    ts = np.linspace(0.0, 1.0, 41)
    s = simulate(sde, 0.5, ts, jax.random.PRNGKey(0), 5000, lower=-1.0, upper=1.0)
    ens = conditioned_ensemble(s, boundary=-1, hit_window=(0.95, 1.0))
    want = np.flatnonzero((s.hit_boundary == -1) & (s.hit_time >= 0.95 - 1e-12))
    np.testing.assert_array_equal(ens.indices, want)
    assert ens.count == want.size > 0 and ens.fraction == want.size / 5000
    assert np.all(ens.xs[:, -1, 0] == -1.0)  # absorbed at -1, frozen there
    np.testing.assert_allclose(ens.mean, s.xs[want].mean(0), rtol=0, atol=1e-15)
    np.testing.assert_allclose(ens.median, np.median(s.xs[want], axis=0), rtol=0, atol=1e-15)
    q = ens.quantiles
    assert np.all(q[0.05] <= q[0.25]) and np.all(q[0.25] <= ens.median)
    assert np.all(ens.median <= q[0.75]) and np.all(q[0.75] <= q[0.95])
    every = conditioned_ensemble(s, boundary=1)
    assert every.count == np.sum(s.hit_boundary == 1)


# ------------------------------------------------------------------------------------ bad input
_SDE = nn.models.drift_diffusion(0.1, 1.0)
_TS = np.linspace(0.0, 1.0, 5)
_KEY = jax.random.PRNGKey(0)
_SDE_1D = nn.SDE(drift=lambda t, x, args: jnp.array([0.1]), diffusion=0.5)
_SDE_NEG_D = nn.SDE(drift=lambda t, x, args: -x, diffusion=lambda t, x, args: -1.0 + 0 * t)
_SDE_BAD_D = nn.SDE(drift=lambda t, x, args: -x, diffusion=lambda t, x, args: jnp.ones(3))


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"num_paths": 0}, ValueError, "num_paths.*0"),
        ({"num_paths": 2.5}, TypeError, "num_paths.*2.5"),
        ({"num_paths": True}, TypeError, "num_paths"),
        ({"ts": [0.0, 0.5, 0.5, 1.0]}, ValueError, "ts must be strictly increasing"),
        ({"ts": np.zeros((3, 2))}, ValueError, "ts must be 1-D"),
        ({"x0": [0.5, 0.5], "sde": _SDE_1D}, ValueError, r"drift.*shape \(2,\)"),
        ({"sde": _SDE_BAD_D}, ValueError, "diffusion D has shape"),
        ({"lower": 1.0, "upper": -1.0}, ValueError, "lower must be less than upper"),
        ({"lower": 0.6}, ValueError, "x0 must be strictly above lower = 0.6"),
        ({"upper": "1"}, TypeError, "upper must be a real number"),
        ({"key": 0}, TypeError, "key must be a jax PRNG key"),
        ({"key": np.array([1, 2, 3])}, TypeError, "key must be a jax PRNG key"),
        ({"sde": "bm"}, TypeError, "sde must be a noisynoether.SDE"),
        ({"chunk_size": -3}, ValueError, "chunk_size.*-3"),
        ({"sde": _SDE_NEG_D}, ValueError, "positive semi-definite"),
    ],
)
def test_bad_inputs_raise_naming_the_argument(kwargs, exc, match):
    call = {"sde": _SDE, "x0": 0.5, "ts": _TS, "key": _KEY, "num_paths": 10, **kwargs}
    with pytest.raises(exc, match=match):
        simulate(
            call.pop("sde"),
            call.pop("x0"),
            call.pop("ts"),
            call.pop("key"),
            call.pop("num_paths"),
            **call,
        )


def test_bad_conditioning_raises_naming_the_argument():
    s = simulate(_SDE, 0.5, _TS, _KEY, 10, lower=-1.0, upper=1.0)
    with pytest.raises(ValueError, match="give either boundary"):
        conditioned_ensemble(s)
    with pytest.raises(ValueError, match="give either boundary"):
        conditioned_ensemble(s, boundary=-1, end_near=0.0, end_tol=0.1)
    with pytest.raises(ValueError, match="boundary must be -1.*got 2"):
        conditioned_ensemble(s, boundary=2)
    with pytest.raises(ValueError, match="hit_window"):
        conditioned_ensemble(s, boundary=-1, hit_window=(1.0, 0.5))
    with pytest.raises(ValueError, match="end_tol must be > 0"):
        conditioned_ensemble(s, end_near=0.0, end_tol=0.0)
    with pytest.raises(ValueError, match="end_near and end_tol"):
        conditioned_ensemble(s, end_near=0.0)
    with pytest.raises(TypeError, match="sample must be a SampleResult"):
        conditioned_ensemble(s.xs, boundary=-1)
    with pytest.warns(UserWarning, match="no path of the 10 ends within end_tol=0.1"):
        empty = conditioned_ensemble(s, end_near=50.0, end_tol=0.1)
    assert empty.count == 0 and np.all(np.isnan(empty.mean))
