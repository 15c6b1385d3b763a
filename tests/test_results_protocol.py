"""One result protocol: the same names mean the same things on every solver's result, results
are immutable PyTrees with a status, a short summary, and save/load (issue 10, item 1)."""

import dataclasses

import jax
import numpy as np
import pytest

import noisynoether as nn

OU_A = np.array([[-1.0, 0.5], [0.0, -2.0]])
X0, X1, T = np.zeros(2), np.array([0.6, -0.4]), 2.0


@pytest.fixture(scope="module")
def results():
    """One result of each kind on the same problem (a 2-D non-normal OU process)."""
    sde = nn.models.ornstein_uhlenbeck(OU_A, 0.3)
    path = nn.most_likely_path(sde, X0, X1, 0.0, T, num_points=201)
    energy = nn.path_with_energy(sde, X0, X1, float(np.mean(path.energy)), num_points=101)
    shot = nn.shoot(sde, X0, nn.initial_momentum(path), 0.0, T, num_points=101)
    hit = nn.shoot_to(sde, X0, X1, 0.0, T, num_points=101)
    return sde, dict(path=path, energy=energy, shot=shot, hit=hit)


def test_every_result_has_the_common_names_with_the_same_meaning(results):
    sde, res = results
    for name, r in res.items():
        assert isinstance(r, nn.PathSolution), name
        K, n = r.xs.shape
        assert r.ts.shape == (K,) and n == 2
        assert isinstance(r.action, float)
        assert r.momentum.shape == (K - 1, n) and r.energy.shape == (K - 1,)
        assert isinstance(r.converged, bool) and r.converged, (name, r.message)
        assert r.status is nn.Status.SUCCESSFUL and isinstance(r.message, str)
        assert isinstance(r.iterations, int) and isinstance(r.stats, dict)
        # energy and momentum are the midpoint-rule charges of (ts, xs) on every result,
        # and action the total of Eq. 8.
        np.testing.assert_allclose(r.energy, nn.energy(sde, r.ts, r.xs), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(r.momentum, nn.momentum(sde, r.ts, r.xs), rtol=1e-12, atol=1e-14)
    # Fixed time, fixed energy and shooting agree on the action (different discretisations).
    for name in ("energy", "shot", "hit"):
        assert res[name].action == pytest.approx(res["path"].action, rel=2e-3), name


def test_solver_specific_fields_keep_clear_names(results):
    _, res = results
    e, s, h = res["energy"], res["shot"], res["hit"]
    assert e.target_energy == pytest.approx(np.mean(res["path"].energy))
    np.testing.assert_allclose(e.energy, e.target_energy, rtol=1e-6)
    assert e.duration == pytest.approx(T, rel=1e-3)
    assert e.action == pytest.approx(e.geometric_action - e.target_energy * e.duration)
    assert s.action == s.action_along[-1] and s.action_along[0] == 0.0
    assert s.hamiltonian.shape == (101,) and s.ps.shape == (101, 2) and s.miss is None
    assert s.hamiltonian_spread < 1e-9  # H is conserved to the integrator's tolerance
    assert h.miss < 1e-10 and h.iterations >= 1 and h.stats["method"] == "dopri8"


def test_old_names_warn_and_keep_their_values(results):
    _, res = results
    p, e, s = res["path"], res["energy"], res["shot"]
    for obj, old, new in [
        (p, "method", p.stats["method"]),
        (p, "rejected_steps", p.stats["rejected_steps"]),
        (p, "inner_iterations", p.stats["inner_iterations"]),
        (p, "saddle_escapes", p.stats["saddle_escapes"]),
        (e, "outer_iterations", e.stats["outer_iterations"]),
        (e, "extra", {"history": e.stats["history"]}),
        (s, "num_steps", s.stats["num_steps"]),
    ]:
        with pytest.warns(DeprecationWarning, match=old):
            assert getattr(obj, old) == new
    with pytest.warns(DeprecationWarning, match="energy_along"):
        assert e.energy_along is e.energy


def test_results_are_immutable_pytrees(results):
    _, res = results
    for r in res.values():
        doubled = jax.tree_util.tree_map(lambda a: 2 * a, r)
        assert type(doubled) is type(r)
        np.testing.assert_array_equal(doubled.xs, 2 * r.xs)
        assert doubled.status is r.status and doubled.message == r.message
        leaves = jax.tree_util.tree_leaves(r)
        assert any(leaf is r.xs for leaf in leaves)
        with pytest.raises(dataclasses.FrozenInstanceError):
            r.action = 0.0


def test_summary_is_short_and_says_what_happened(results):
    _, res = results
    for r in res.values():
        text = repr(r)
        assert text.startswith(type(r).__name__) and "converged" in text
        assert len(text.splitlines()) <= 4


def test_save_and_load_round_trip_every_result(results, tmp_path):
    _, res = results
    for name, r in res.items():
        path = r.save(tmp_path / name)
        assert path.suffix == ".npz"
        back = nn.PathSolution.load(path)
        assert type(back) is type(r)
        for f in dataclasses.fields(r):
            a, b = getattr(r, f.name), getattr(back, f.name)
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)
            else:
                assert a == b, (name, f.name)
        with pytest.raises(FileExistsError, match="overwrite=True"):
            r.save(path)
        r.save(path, overwrite=True)
    # A subclass loads only its own kind.
    with pytest.raises(ValueError, match="ShootResult"):
        nn.PathResult.load(tmp_path / "shot.npz")
    assert isinstance(nn.ShootResult.load(tmp_path / "hit.npz"), nn.ShootResult)


def test_plot_calls_the_plotting_module(results, monkeypatch):
    import noisynoether.plotting as plotting

    calls = []
    monkeypatch.setattr(
        plotting, "plot_path", lambda r, **kw: calls.append((r, kw)) or "fig", raising=False
    )
    r = results[1]["path"]
    assert r.plot(coords=(0, 1)) == "fig" and calls == [(r, {"coords": (0, 1)})]


def test_every_status_has_a_message():
    names = {s.name for s in nn.Status}
    assert {"SUCCESSFUL", "MAX_STEPS_REACHED", "STALLED", "SADDLE", "ACCURACY_NOT_MET"} <= names
    assert {"INTEGRATOR_FAILED", "TARGET_MISSED", "NONFINITE"} <= names
    for s in nn.Status:
        assert isinstance(s.message, str) and len(s.message) > 5
    assert nn.Status.SUCCESSFUL.successful and not nn.Status.STALLED.successful


def test_a_failed_solve_says_why_in_its_status():
    sde = nn.models.double_well(0.05)
    res = nn.most_likely_path(sde, [-1.0], [1.0], 0.0, 5.0, num_points=101, max_steps=1)
    assert not res.converged and res.status is nn.Status.MAX_STEPS_REACHED
    assert "max_steps = 1" in res.message
    with pytest.raises(nn.ConvergenceError, match="max_steps"):
        nn.most_likely_path(sde, [-1.0], [1.0], 0.0, 5.0, num_points=101, max_steps=1, throw=True)
    # Shooting far past the end state misses it.
    miss = nn.shoot_to(sde, [-1.0], [1.0], 0.0, 5.0, p0=[3.0], max_iterations=1)
    assert not miss.converged and miss.status is nn.Status.TARGET_MISSED


def test_quasipotential_and_barrier_are_result_objects():
    sde = nn.models.double_well(0.05)
    q = nn.quasipotential(sde, [-1.0], [0.0], num_points=101)
    assert isinstance(q, nn.Quasipotential) and q.converged
    assert float(q) == q.value == q.path.action
    assert q.value == pytest.approx(5.0, rel=1e-3)  # dV / D = 0.25 / 0.05
    # The error estimate is honest: the true error against 5 is within a factor 3 of it.
    assert isinstance(q.action_error, float)
    assert abs(q.value - 5.0) / 3 <= q.action_error <= 3 * abs(q.value - 5.0)
    several = nn.quasipotential(sde, [-1.0], [[0.0], [-1.0], [-0.5]], num_points=101)
    assert several.value.shape == (3,) and several.value[1] == 0.0 and several.paths[1] is None
    np.testing.assert_array_equal(np.asarray(several), several.value)
    with pytest.raises(TypeError, match="value"):
        float(several)
    with pytest.warns(DeprecationWarning, match="return_paths"):
        v, p = nn.quasipotential(sde, [-1.0], [0.0], num_points=101, return_paths=True)
    assert v == q.value and p.action == q.value
    b = nn.barrier(sde, [-1.0], [1.0], num_points=101)
    assert b.converged and b.status is nn.Status.SUCCESSFUL and "converged" in b.message
    route = b.routes[0]
    assert isinstance(route, nn.BarrierRoute) and route.converged
    assert route.total == pytest.approx(route.uphill.action + route.downhill.action)
    with pytest.warns(DeprecationWarning, match="uphill"):
        assert route["uphill"] == route.uphill.action


def test_global_minimum_without_any_converged_start_is_a_clear_error():
    sde = nn.models.double_well(0.05)
    ps = nn.find_paths(
        sde, [-1.0], [1.0], 0.0, 5.0, num_points=65, num_starts=1, through=[], max_steps=1
    )
    assert len(ps) == 0 and len(ps.attempts) == 2
    with pytest.raises(nn.ConvergenceError, match="none of the 2 starts converged"):
        _ = ps.global_minimum


def test_the_angular_momentum_is_not_built_by_the_solver_only_on_first_access():
    # L (K-1, n, n) is 1.6 GB at n = 1024, K = 200: the solver's internal replaces of the
    # result (discretisation check, certificate, ...) built it once each (~9 s there).
    from noisynoether.solvers._result import angular_momentum_of

    res = nn.most_likely_path(nn.models.multistable(), [3.0, 0.1], [0.1, 3.0], 0.0, 1.0,
                              num_points=51)  # fmt: skip
    assert object.__getattribute__(res, "angular_momentum") is None
    L = res.angular_momentum
    np.testing.assert_array_equal(L, angular_momentum_of(res.xs, res.momentum))
    assert object.__getattribute__(res, "angular_momentum") is L
