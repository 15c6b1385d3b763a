"""Hostile inputs, tried as an adversarial user would: each is refused at the entry point.

Every case asserts the exception type and that the message names the argument (issue 10, item 3).
The drift written with NumPy gets the same jax.numpy message from every entry point that
evaluates it (item 7), sampling says what it cannot keep or had to do (memory, negative D,
non-finite paths), and ``FixedPoint`` has its index and passes as a state.
"""

import re
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import noisynoether as nn
from noisynoether.sampling import conditioned_ensemble, simulate

KEY = jax.random.PRNGKey(0)
DD = nn.models.drift_diffusion(0.1, 1.0)
OU2 = nn.models.ornstein_uhlenbeck(-np.eye(2), 1.0)
DW = nn.models.double_well(0.05)
TS = np.linspace(0.0, 1.0, 5)
PTS = np.random.default_rng(0).normal(size=(6, 2))
PATH = (TS, np.stack([np.linspace(1.0, 0.0, 5), np.linspace(0.0, 1.0, 5)], 1))
ROT = (np.array([[0.0, -1.0], [1.0, 0.0]]), None)


def _numpy_drift(t, x, args):
    return -np.tanh(x)


NUMPY_DRIFT = nn.SDE(drift=_numpy_drift, diffusion=0.5)
COMPLEX_DRIFT = nn.SDE(drift=lambda t, x, a: -x * (1 + 1j), diffusion=0.5)
UNTRACEABLE_D = nn.SDE(drift=lambda t, x, a: -x, diffusion=lambda t, x, a: float(1 + x[0] ** 2))
WRONG_SHAPE = nn.SDE(drift=lambda t, x, a: jnp.zeros(3), diffusion=0.5)


def _sim(**kw):
    call = {"sde": DD, "x0": 0.5, "ts": TS, "key": KEY, "num_paths": 4, **kw}
    args = [call.pop(k) for k in ("sde", "x0", "ts", "key", "num_paths")]
    return lambda: simulate(*args, **call)


def _sample(**kw):
    return simulate(DD, 0.5, TS, KEY, 10, **kw)


def _fp(sde=DW, lower=-2.0, upper=2.0, **kw):
    return lambda: nn.fixed_points(sde, lower, upper, **kw)


def _bridge(**kw):
    call = dict(A=-np.eye(2), D=1.0, x0=[0.0, 0.0], x1=[1.0, 1.0], t_span=1.0, ts=[0.0, 0.5])
    call.update(kw)
    return lambda: nn.models.linear_bridge(**call)


# (call, exception type, the argument its message must name)
CASES = {
    # simulate: counts, grids, keys, bounds, the model
    "simulate num_paths=0": (_sim(num_paths=0), ValueError, "num_paths"),
    "simulate num_paths=-3": (_sim(num_paths=-3), ValueError, "num_paths"),
    "simulate num_paths=nan": (_sim(num_paths=np.nan), TypeError, "num_paths"),
    "simulate num_paths='10'": (_sim(num_paths="10"), TypeError, "num_paths"),
    "simulate num_paths=10+0j": (_sim(num_paths=10 + 0j), TypeError, "num_paths"),
    "simulate chunk_size=0": (_sim(chunk_size=0), ValueError, "chunk_size"),
    "simulate save_every=0": (_sim(save_every=0), ValueError, "save_every"),
    "simulate save_every=1.5": (_sim(save_every=1.5), TypeError, "save_every"),
    "simulate ts decreasing": (_sim(ts=[1.0, 0.5, 0.0]), ValueError, "ts"),
    "simulate ts nan": (_sim(ts=[0.0, np.nan, 1.0]), ValueError, "ts"),
    "simulate ts complex": (_sim(ts=[0.0, 1j]), TypeError, "ts"),
    "simulate ts one point": (_sim(ts=[1.0]), ValueError, "ts"),
    "simulate key=None": (_sim(key=None), TypeError, "key"),
    "simulate key float": (_sim(key=np.zeros(2)), TypeError, "key"),
    "simulate key array": (_sim(key=jax.random.split(jax.random.key(0), 3)), ValueError, "key"),
    "simulate x0 nan": (_sim(x0=np.nan), ValueError, "x0"),
    "simulate x0 complex": (_sim(x0=1j), TypeError, "x0"),
    "simulate lower nan": (_sim(lower=np.nan), ValueError, "lower"),
    "simulate upper complex": (_sim(upper=1j), TypeError, "upper"),
    "simulate lower=True": (_sim(lower=True), TypeError, "lower"),
    "simulate progress='yes'": (_sim(progress="yes"), TypeError, "progress"),
    "simulate complex drift": (_sim(sde=COMPLEX_DRIFT), ValueError, "drift"),
    "simulate untraceable D": (_sim(sde=UNTRACEABLE_D), ValueError, "diffusion"),
    "simulate 16 GB": (
        _sim(num_paths=10**6, ts=np.linspace(0.0, 1.0, 2001)),
        ValueError,
        "num_paths",
    ),
    # conditioned_ensemble
    "ensemble boundary never simulated": (
        lambda: conditioned_ensemble(_sample(), boundary=-1),
        ValueError,
        "boundary",
    ),
    "ensemble boundary=0": (
        lambda: conditioned_ensemble(_sample(lower=-1.0), boundary=0),
        ValueError,
        "boundary",
    ),
    "ensemble hit_window nan": (
        lambda: conditioned_ensemble(_sample(lower=-1.0), boundary=-1, hit_window=(np.nan, 1)),
        ValueError,
        "hit_window",
    ),
    "ensemble end_tol nan": (
        lambda: conditioned_ensemble(_sample(), end_near=0.0, end_tol=np.nan),
        ValueError,
        "end_tol",
    ),
    "ensemble end_near wrong shape": (
        lambda: conditioned_ensemble(_sample(), end_near=[0.0, 0.0], end_tol=0.1),
        ValueError,
        "end_near",
    ),
    # fixed_points
    "fixed_points num_seeds=0": (_fp(num_seeds=0), ValueError, "num_seeds"),
    "fixed_points num_seeds=-5": (_fp(num_seeds=-5), ValueError, "num_seeds"),
    "fixed_points num_seeds=2.5": (_fp(num_seeds=2.5), TypeError, "num_seeds"),
    "fixed_points tol=0": (_fp(tol=0.0), ValueError, "tol"),
    "fixed_points tol=-1e-10": (_fp(tol=-1e-10), ValueError, "tol"),
    "fixed_points tol=nan": (_fp(tol=np.nan), ValueError, "tol"),
    "fixed_points tol=True": (_fp(tol=True), TypeError, "tol"),
    "fixed_points t=inf": (_fp(t=np.inf), ValueError, "t"),
    "fixed_points key='k'": (
        _fp(sde=OU2, lower=-np.ones(2), upper=np.ones(2), key="k"),
        TypeError,
        "key",
    ),
    "fixed_points lower > upper": (_fp(lower=2.0, upper=-2.0), ValueError, "lower"),
    "fixed_points lower nan": (_fp(lower=np.nan), ValueError, "lower"),
    "fixed_points shapes": (_fp(lower=[-1.0, -1.0], upper=1.0), ValueError, "lower"),
    "fixed_points complex drift": (_fp(sde=COMPLEX_DRIFT), ValueError, "drift"),
    "fixed_points wrong shape": (_fp(sde=WRONG_SHAPE), ValueError, "drift"),
    # symmetry
    "find_symmetries tol=0": (lambda: nn.find_symmetries(OU2, PTS, tol=0.0), ValueError, "tol"),
    "find_symmetries tol=nan": (
        lambda: nn.find_symmetries(OU2, PTS, tol=np.nan),
        ValueError,
        "tol",
    ),
    "find_symmetries tol complex": (
        lambda: nn.find_symmetries(OU2, PTS, tol=1e-8 + 1j),
        TypeError,
        "tol",
    ),
    "find_symmetries points complex": (
        lambda: nn.find_symmetries(OU2, PTS * 1j),
        TypeError,
        "points",
    ),
    "find_symmetries times complex": (
        lambda: nn.find_symmetries(OU2, PTS, times=[1j]),
        TypeError,
        "times",
    ),
    "find_symmetries untraceable D": (
        lambda: nn.find_symmetries(UNTRACEABLE_D, PTS),
        ValueError,
        "diffusion",
    ),
    "find_symmetries complex drift": (
        lambda: nn.find_symmetries(COMPLEX_DRIFT, PTS),
        ValueError,
        "drift",
    ),
    "find_discrete_symmetries tol=-1": (
        lambda: nn.find_discrete_symmetries(OU2, PTS, tol=-1.0),
        ValueError,
        "tol",
    ),
    "symmetry_defect generator complex": (
        lambda: nn.symmetry_defect(OU2, (np.eye(2) * 1j, None), PTS),
        TypeError,
        "generator",
    ),
    "charge_balance ts nan": (
        lambda: nn.charge_balance(OU2, [0, np.nan, 2, 3, 4], PATH[1], ROT),
        ValueError,
        "ts",
    ),
    "conserved_quantities tol=inf": (
        lambda: nn.conserved_quantities(OU2, [PATH, PATH], tol=np.inf),
        ValueError,
        "tol",
    ),
    # the SDE and the built-in models
    "SDE diffusion=True": (
        lambda: nn.SDE(drift=lambda t, x, a: -x, diffusion=True),
        TypeError,
        "diffusion",
    ),
    "SDE diffusion complex": (
        lambda: nn.SDE(drift=lambda t, x, a: -x, diffusion=1j),
        TypeError,
        "diffusion",
    ),
    "drift_diffusion sigma nan": (
        lambda: nn.models.drift_diffusion(0.1, np.nan),
        ValueError,
        "sigma",
    ),
    "drift_diffusion v='a'": (lambda: nn.models.drift_diffusion("a"), TypeError, "v"),
    "multistable tau=0": (lambda: nn.models.multistable(tau=0.0), ValueError, "tau"),
    "multistable mu0 nan": (lambda: nn.models.multistable(mu0=np.nan), ValueError, "mu0"),
    "ring radius='5'": (
        lambda: nn.models.ring_reverse_diffusion(radius="5"),
        TypeError,
        "radius",
    ),
    "ring_score 3-D x": (lambda: nn.models.ring_score(np.ones(3), 1.0), ValueError, "x"),
    "ornstein_uhlenbeck A not square": (
        lambda: nn.models.ornstein_uhlenbeck(np.ones((2, 3)), 1.0),
        ValueError,
        "A",
    ),
    "ornstein_uhlenbeck D of n = 3": (
        lambda: nn.models.ornstein_uhlenbeck(-np.eye(2), [1.0, 1.0, 1.0]),
        ValueError,
        "D",
    ),
    "linear_bridge T < 0": (_bridge(t_span=-1.0), ValueError, "t_span"),
    "linear_bridge T = 0": (_bridge(t_span=0.0), ValueError, "t_span"),
    "linear_bridge ts beyond T": (_bridge(ts=[0.0, 2.0]), ValueError, "ts"),
    "linear_bridge x0 of n = 3": (_bridge(x0=[0.0, 0.0, 0.0]), ValueError, "x0"),
    "linear_bridge A nan": (_bridge(A=[[np.nan, 0.0], [0.0, 1.0]]), ValueError, "A"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_hostile_input_is_refused_naming_the_argument(case):
    call, exc, name = CASES[case]
    with pytest.raises(exc, match=rf"(^|\W){re.escape(name)}(\W|$)"):
        call()


NUMPY_MESSAGE = "the drift must use jax.numpy (jnp.tanh, not np.tanh)"
EVALUATES_THE_DRIFT = {
    "simulate": lambda: simulate(NUMPY_DRIFT, 0.5, TS, KEY, 3),
    "fixed_points": lambda: nn.fixed_points(NUMPY_DRIFT, -1.0, 1.0),
    "find_symmetries": lambda: nn.find_symmetries(NUMPY_DRIFT, PTS),
    "find_discrete_symmetries": lambda: nn.find_discrete_symmetries(NUMPY_DRIFT, PTS),
    "symmetry_defect": lambda: nn.symmetry_defect(NUMPY_DRIFT, ROT, PTS),
    "charge_balance": lambda: nn.charge_balance(NUMPY_DRIFT, *PATH, ROT),
    "conserved_quantities": lambda: nn.conserved_quantities(NUMPY_DRIFT, [PATH, PATH]),
    "action": lambda: nn.action(NUMPY_DRIFT, *PATH),
    "most_likely_path": lambda: nn.most_likely_path(NUMPY_DRIFT, [0.0], [1.0], 0.0, 1.0),
    "path_with_energy": lambda: nn.path_with_energy(NUMPY_DRIFT, [0.5], [0.1], 0.0),
    "shoot": lambda: nn.shoot(NUMPY_DRIFT, [0.1], [0.1], 0.0, 1.0),
    "escape_rate": lambda: nn.escape_rate(NUMPY_DRIFT, [0.0], [1.0]),
}


@pytest.mark.parametrize("entry", list(EVALUATES_THE_DRIFT))
def test_a_numpy_drift_gets_the_jax_numpy_message_everywhere(entry):
    with pytest.raises(ValueError) as info:
        EVALUATES_THE_DRIFT[entry]()
    assert NUMPY_MESSAGE in str(info.value)
    assert "TracerArrayConversionError" in str(info.value)  # and what JAX said


def test_simulate_refuses_a_sample_above_max_memory_with_the_estimate():
    with pytest.raises(ValueError) as info:
        simulate(DD, 0.5, np.linspace(0.0, 1.0, 2001), KEY, 10**6)
    msg = str(info.value)
    # 10^6 paths x 2001 times x 8 bytes = 14.9 GiB, and what to change.
    assert "14.9 GiB" in msg and "save_every" in msg and "num_paths" in msg
    # Keeping only the start and final states fits (checked without simulating 10^6 paths).
    with pytest.raises(ValueError, match="0.0149 GiB"):
        simulate(DD, 0.5, TS, KEY, 10**6, save_every=4, max_memory=10**6)


def test_save_every_keeps_the_same_paths_at_fewer_times():
    ts = np.linspace(0.0, 1.0, 11)
    full = simulate(DD, 0.5, ts, KEY, 7, lower=-1.0, upper=1.0)
    some = simulate(DD, 0.5, ts, KEY, 7, lower=-1.0, upper=1.0, save_every=3, chunk_size=3)
    np.testing.assert_array_equal(some.ts, ts[[0, 3, 6, 9, 10]])  # and always the last
    np.testing.assert_array_equal(some.xs, full.xs[:, [0, 3, 6, 9, 10]])
    np.testing.assert_array_equal(some.hit_time, full.hit_time)  # from the full grid
    ends = simulate(DD, 0.5, ts, KEY, 7, lower=-1.0, upper=1.0, save_every=10)
    np.testing.assert_array_equal(ends.xs, full.xs[:, [0, -1]])


def test_a_diffusion_that_turns_negative_on_the_paths_is_an_error():
    sde = nn.SDE(drift=lambda t, x, a: 0 * x, diffusion=lambda t, x, a: 1.0 - 2 * t)
    simulate(sde, 0.5, np.linspace(0.0, 0.5, 5), KEY, 3)  # D = 0 at t = 0.5 is allowed
    with pytest.raises(ValueError, match=r"diffusion D turned negative .* first at t = 1 "):
        simulate(sde, 0.5, np.linspace(0.0, 2.0, 5), KEY, 3)


def test_paths_that_overflow_are_reported():
    sde = nn.SDE(drift=lambda t, x, a: 1e3 * x**2, diffusion=0.5)
    with pytest.warns(UserWarning, match=r"3 of 3 paths stopped being finite.*drift"):
        s = simulate(sde, 3.0, np.linspace(0.0, 5.0, 50), KEY, 3)
    assert not np.all(np.isfinite(s.xs[:, -1]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        simulate(DD, 0.5, TS, KEY, 3)  # finite paths: no warning


def test_an_ensemble_that_keeps_nothing_says_so():
    s = _sample(lower=-1.0)
    with pytest.warns(UserWarning, match="no path of the 10 was absorbed at boundary=-1"):
        e = conditioned_ensemble(s, boundary=-1, hit_window=(0.0, 0.0))
    assert e.count == 0 and np.all(np.isnan(e.mean))


def test_fixed_points_have_their_index_and_pass_as_states():
    # xdot = diag(1, -1, 2) x + ... : a linear drift's fixed point has the eigenvalues of A.
    for diag, index, kind in (
        ([-1.0, -2.0], 0, "stable"),
        ([1.0, -2.0], 1, "saddle"),
        ([1.0, 2.0], 2, "unstable"),
    ):
        sde = nn.models.ornstein_uhlenbeck(np.diag(diag), 1.0, b=[0.5, -0.5])
        (fp,) = nn.fixed_points(sde, [-3.0, -3.0], [3.0, 3.0], num_seeds=16)
        x_star = -np.array([0.5, -0.5]) / np.array(diag)
        np.testing.assert_allclose(fp.x, x_star, atol=1e-12)
        assert (fp.index, fp.kind) == (index, kind)
        np.testing.assert_array_equal(np.asarray(fp), fp.x)
    a, saddle, b = sorted(nn.fixed_points(DW, -2.0, 2.0), key=lambda p: p.x[0])
    assert [a.index, saddle.index, b.index] == [0, 1, 0]
    s = simulate(DW, a, TS, KEY, 2)  # a FixedPoint where a state is expected
    np.testing.assert_array_equal(s.xs[:, 0, 0], [-1.0, -1.0])
    assert nn.models.linear_bridge(-1.0, 1.0, a, b, 1.0, [0.0])["xs"][0, 0] == -1.0
