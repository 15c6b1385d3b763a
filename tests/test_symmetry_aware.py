"""Symmetry-aware answers (issue 11, items 5 and 6): what escape_rate checks of the drift,
the stable-fixed-point check, and find_paths' orbits of mirror-image minima and failed starts."""

import warnings

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import noisynoether as nn
from noisynoether._checks import check_stable_fixed_point, drift_and_jacobian


# ------------------------------------------------------------------ escape_rate
def maier_stein(beta, D=0.5):
    """f = (x - x^3 - beta x y^2, -(1 + x^2) y): a gradient of
    U = (x^2 - 1)^2 / 4 + (1 + x^2) y^2 / 2 only for beta = 1."""

    def f(t, x, args):
        return jnp.stack([x[0] - x[0] ** 3 - beta * x[0] * x[1] ** 2, -(1 + x[0] ** 2) * x[1]])

    return nn.SDE(drift=f, diffusion=D)


def test_escape_rate_accepts_a_2d_gradient_model_with_the_closed_form_rate():
    # beta = 1: U(s) - U(m) = 1/4, Hess U = diag(2, 2) at m = (-1, 0), diag(-1, 1) at s = 0:
    # k = 1/(2 pi) sqrt(4 / 1) exp(-1/4 / D) = exp(-1/2) / pi at D = 1/2.
    k = nn.escape_rate(maier_stein(1.0), [-1.0, 0.0], [0.0, 0.0])
    assert k.potential_difference == pytest.approx(0.25, rel=1e-12)
    assert k.barrier == pytest.approx(0.5, rel=1e-12)
    assert k.rate == pytest.approx(np.exp(-0.5) / np.pi, rel=1e-12)
    np.testing.assert_allclose(k.hessian_minimum, [2.0, 2.0], rtol=1e-12)
    np.testing.assert_allclose(k.hessian_saddle, [-1.0, 1.0], rtol=1e-12)
    # The 1-D double well f = x - x^3: H = 2 at -1, -1 at 0, dU = 1/4.
    D = 0.05
    k = nn.escape_rate(nn.models.double_well(D), [-1.0], [0.0])
    assert k.rate == pytest.approx(np.sqrt(2) / (2 * np.pi) * np.exp(-0.25 / D), rel=1e-12)


def test_escape_rate_refuses_the_symmetric_model_whose_jacobian_is_symmetric_on_the_axis():
    sde = maier_stein(10.0)
    # What the old segment-only check saw: on the x axis the Jacobian is symmetric.
    axis = np.stack([np.linspace(-1.0, 0.0, 9), np.zeros(9)], 1)
    _, J = drift_and_jacobian(sde, 0.0, axis, None)
    np.testing.assert_array_equal(J, np.swapaxes(J, 1, 2))
    with pytest.raises(ValueError, match="not a gradient") as info:
        nn.escape_rate(sde, [-1.0, 0.0], [0.0, 0.0])
    msg = str(info.value)
    assert "within R = 1 of the" in msg  # where: a sampled state off the axis
    # by how much: off the axis (x, y) the entries are -2 beta x y and -2 x y, ratio beta.
    a, b = (float(v) for v in msg.split(" are ")[1].split(",")[0].split(" and "))
    assert a / b == pytest.approx(10.0, rel=1e-3)


def test_escape_rate_refuses_the_non_gradient_three_unit_rate_network():
    W = 0.5 * jnp.eye(3) + 0.5
    sde = nn.SDE(drift=lambda t, x, args: -x + W @ jnp.tanh(x), diffusion=0.05)
    a = brentq(lambda v: v - 2 * np.tanh(v), 1.0, 3.0)  # the attractors +-a (1, 1, 1)
    with pytest.raises(ValueError, match="not a gradient"):
        nn.escape_rate(sde, [a, a, a], [0.0, 0.0, 0.0])


def test_escape_rate_refuses_a_time_dependent_drift_and_says_where():
    sde = nn.SDE(drift=lambda t, x, args: (x - x**3) * (1 + 0.5 * jnp.sin(t)), diffusion=0.05)
    with pytest.raises(ValueError, match="autonomous.*depends on t: at x = ") as info:
        nn.escape_rate(sde, [-1.0], [0.0])
    assert "|f(t=" in str(info.value)


def test_stable_fixed_point_check_and_escape_rate_refuse_what_is_not_an_attractor():
    dw = nn.models.double_well(0.05)
    J = check_stable_fixed_point(dw, np.array([-1.0]), "attractor")
    np.testing.assert_allclose(J, [[-2.0]], rtol=1e-12)
    spiral = nn.SDE(
        drift=lambda t, x, a: jnp.stack([-x[0] - 3 * x[1], 3 * x[0] - x[1]]), diffusion=1
    )
    J = check_stable_fixed_point(spiral, np.array([0.0, 0.0]), "attractor")
    np.testing.assert_allclose(np.linalg.eigvals(J).real, [-1.0, -1.0], rtol=1e-12)
    with pytest.raises(ValueError, match=r"attractor = \[0.\] is a fixed point but not a stable"):
        check_stable_fixed_point(dw, np.array([0.0]), "attractor")
    with pytest.raises(ValueError, match=r"attractor = \[-0.9\] is not a fixed point.*1.710e-01"):
        check_stable_fixed_point(dw, np.array([-0.9]), "attractor")
    with pytest.raises(ValueError, match="not a stable one"):
        nn.escape_rate(dw, [0.0], [-1.0])  # attractor and saddle swapped
    with pytest.raises(ValueError, match="saddle = .* is not a fixed point"):
        nn.escape_rate(dw, [-1.0], [0.1])


# ------------------------------------------------------------------ find_paths: orbits
def _headwind(t, x, cut):
    """A headwind on the x1 axis, mirror-symmetric in x2; NaN where x2 > cut."""
    f = jnp.stack([-2.0 * jnp.exp(-(x[1] ** 2) / 0.08), 0.0 * x[1]])
    return f * jnp.where(x[1] > cut, jnp.nan, 1.0)


HEADWIND = nn.SDE(drift=_headwind, diffusion=0.1)
ENDS = ([-1.0, 0.0], [1.0, 0.0], 0.0, 2.0)


def _find(**kw):
    kw = {"num_points": 101, "num_starts": 0, "args": jnp.inf, **kw}
    return nn.find_paths(HEADWIND, *ENDS, **kw)


def test_find_paths_groups_mirror_image_minima_into_one_orbit():
    ps = _find(through=[[0.0, 0.6], [0.0, -0.6]])
    assert len(ps) == 1 and len(ps.orbits) == 1
    orbit = ps.orbits[0]
    assert orbit.representative is ps.paths[0] is ps.global_minimum
    assert orbit.multiplicity == 2 and [s.name for s in orbit.symmetries] == ["flip x2 -> -x2"]
    assert [s.name for s in ps.symmetries] == ["flip x2 -> -x2"]
    (sym, copy), rep = orbit.copies[0], orbit.representative
    assert copy.converged and copy.action == pytest.approx(rep.action, rel=1e-12)
    mid = len(rep.xs) // 2
    assert abs(rep.xs[mid, 1]) > 0.3 and np.sign(copy.xs[mid, 1]) == -np.sign(rep.xs[mid, 1])
    np.testing.assert_allclose(sym.apply(rep.xs), copy.xs, atol=1e-8)
    assert len(ps.all_paths) == 2
    # Without grouping both are listed, with the same S*.
    flat = _find(through=[[0.0, 0.6], [0.0, -0.6]], symmetries=False)
    assert len(flat) == 2 and flat.symmetries is None
    assert flat.paths[1].action == pytest.approx(flat.paths[0].action, rel=1e-12)
    with pytest.raises(TypeError, match="symmetries must be None"):
        _find(symmetries="mirror")
    with pytest.raises(ValueError, match=r"symmetries: .* must be \(2, 2\)"):
        _find(symmetries=[nn.DiscreteSymmetry(-np.eye(3), "flip all", 0.0)])


def test_find_paths_solves_the_copy_no_start_found_when_given_the_symmetries():
    syms = nn.find_discrete_symmetries(HEADWIND, [[0.3, 0.2], [-0.5, 0.7]], args=jnp.inf)
    ps = _find(through=[], symmetries=syms)  # one start (straight): one of the two detours
    orbit = ps.orbits[0]
    assert len(ps) == 1 and orbit.multiplicity == 2
    assert orbit.copy_labels == ["mirror of straight (flip x2 -> -x2)"]
    assert [a["label"] for a in ps.attempts] == ["straight", orbit.copy_labels[0]]
    (sym, copy) = orbit.copies[0]
    assert copy.action == pytest.approx(orbit.action, rel=1e-12)
    np.testing.assert_allclose(sym.apply(orbit.representative.xs), copy.xs, atol=1e-8)


def test_find_paths_reports_failed_starts_and_goes_on():
    # NaN for x2 > 0.5: the start via (0, 0.6) and some random starts cross it.
    ps = _find(through=[[0.0, 0.6], [0.0, -0.6]], num_starts=4, args=0.5)
    failed = [a for a in ps.attempts if a["error"] is not None]
    assert "via (0, 0.6)" in [a["label"] for a in failed]
    for a in failed:
        assert not a["converged"] and np.isnan(a["action"])
        assert a["message"].startswith("failed: ValueError") and "non-finite" in a["message"]
    assert len(ps.attempts) == 7 and len(failed) < 7
    # The others went on: the lower detour, with the action of the NaN-free model's minimum.
    best = ps.global_minimum
    assert best.converged and np.max(best.xs[:, 1]) <= 0.5
    assert best.action == pytest.approx(_find().global_minimum.action, rel=1e-10)


def test_global_minimum_warns_when_an_unconverged_start_ended_lower():
    """A converged local minimum is not reported as global without a word when another start
    stopped (not converged) at a lower action. The converged path is a real solve (double well,
    -1 -> 1, T = 5); the attempts are written by hand: one above it (no warning), one below
    it (warning)."""
    from noisynoether.solvers._multistart import PathSet

    sde = nn.models.double_well(0.05)
    res = nn.most_likely_path(sde, [-1.0], [1.0], 0.0, 5.0, num_points=51)
    assert res.converged
    above = dict(label="random 1", converged=False, action=res.action + 1.0, message="max_steps")
    ps = PathSet(paths=[res], labels=["straight"], attempts=[above])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ps.global_minimum is res
    below = dict(label="random 2", converged=False, action=res.action - 0.5, message="max_steps")
    ps = PathSet(paths=[res], labels=["straight"], attempts=[above, below])
    with pytest.warns(UserWarning, match="may not be the global minimum.*random 2"):
        assert ps.global_minimum is res
