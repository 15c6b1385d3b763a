"""Solver objects: one frozen, validated-once object per solver, passed as ``solver=``; every
documented option reaches the solve that uses it (issue 10, item 2), and hostile inputs to the
solvers are clear errors at the entry point (item 3)."""

import dataclasses

import numpy as np
import pytest

import noisynoether as nn
from noisynoether.solvers import _geometric

WELL = nn.models.double_well(0.05)
OU = nn.models.ornstein_uhlenbeck(np.array([[-1.0, 0.5], [0.0, -2.0]]), 0.3)


def _well(**kw):
    return nn.most_likely_path(WELL, [-1.0], [1.0], 0.0, 5.0, num_points=kw.pop("K", 201), **kw)


# ------------------------------------------------------------------ the objects
def test_defaults_are_the_documented_ones_and_objects_are_frozen():
    assert nn.Newton().options == dict(
        rtol=1e-11,
        max_steps=200,
        damping=None,
        check_minimum=True,
        max_saddle_escapes=5,
        coarse_to_fine=True,
        linear_solver="auto",
    )
    assert nn.NewtonCG().max_cg == 2000 and not hasattr(nn.NewtonCG(), "linear_solver")
    g = nn.Geometric()
    assert (g.rtol, g.xtol, g.wtol, g.max_outer, g.max_steps) == (1e-10, 1e-9, 1e-12, 60, 100)
    assert (g.regularisation, g.coarse_points, g.time_weight) == (1e-10, 101, None)
    s = nn.Shooting()
    assert (s.method, s.rtol, s.atol, s.max_steps, s.tol, s.max_iterations) == (
        "dopri8",
        1e-12,
        1e-12,
        100_000,
        1e-10,
        50,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.rtol = 1.0
    assert nn.Newton().replace(rtol=1e-6).rtol == 1e-6
    with pytest.raises(TypeError, match="no option 'max_cg'.*rtol, max_steps"):
        nn.Newton().replace(max_cg=3)


@pytest.mark.parametrize(
    "make, exc, words",
    [
        (lambda: nn.Newton(rtol=0.0), ValueError, ["rtol", "> 0", "0.0"]),
        (lambda: nn.Newton(rtol=float("nan")), ValueError, ["rtol", "nan"]),
        (lambda: nn.Newton(rtol=2.0), ValueError, ["rtol", "< 1"]),
        (lambda: nn.Newton(max_steps=0), ValueError, ["max_steps", "> 0"]),
        (lambda: nn.Newton(max_steps=1.5), TypeError, ["max_steps", "integer"]),
        (lambda: nn.Newton(linear_solver="dense"), ValueError, ["linear_solver", "'cyclic'"]),
        (lambda: nn.Newton(check_minimum="yes"), TypeError, ["check_minimum", "True or False"]),
        (lambda: nn.Newton(damping=-1.0), ValueError, ["damping", ">= 0"]),
        (lambda: nn.Newton(max_saddle_escapes=-1), ValueError, ["max_saddle_escapes"]),
        (lambda: nn.NewtonCG(max_cg=0), ValueError, ["max_cg"]),
        (lambda: nn.Geometric(wtol=0.0), ValueError, ["wtol", "> 0"]),
        (lambda: nn.Geometric(xtol=float("nan")), ValueError, ["xtol"]),
        (lambda: nn.Geometric(rtol=-1e-9), ValueError, ["rtol"]),
        (lambda: nn.Geometric(time_weight=1.0), ValueError, ["time_weight", "< 1"]),
        (lambda: nn.Geometric(coarse_points=3), ValueError, ["coarse_points", ">= 5"]),
        (lambda: nn.Shooting(method="rk4"), ValueError, ["method", "'dopri8'", "'tsit5'", "rk4"]),
        (lambda: nn.Shooting(atol=0), ValueError, ["atol"]),
    ],
)
def test_bad_options_are_rejected_once_when_the_object_is_made(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


# ------------------------------------------------------------------ options reach the solve
def test_keywords_and_solver_objects_are_the_same_solve():
    a = _well(rtol=1e-8, max_steps=50)
    b = _well(solver=nn.Newton(rtol=1e-8, max_steps=50))
    np.testing.assert_array_equal(a.xs, b.xs)
    assert a.iterations == b.iterations
    c = _well(solver=nn.Newton(max_steps=50), rtol=1e-8)  # keywords applied to the object
    np.testing.assert_array_equal(a.xs, c.xs)
    with pytest.raises(TypeError, match="unexpected keyword.*'tolerance'.*rtol"):
        _well(tolerance=1e-8)
    with pytest.raises(TypeError, match="max_cg"):
        _well(method="newton", max_cg=10)
    with pytest.raises(TypeError, match="not both"):
        _well(method="newton", solver=nn.Newton())
    with pytest.raises(TypeError, match="nn.Newton"):
        _well(solver=nn.Geometric())


def test_each_newton_option_changes_what_it_should():
    ref = _well()
    one = _well(max_steps=1)
    assert not one.converged and one.iterations <= 1
    loose = _well(rtol=1e-3)
    assert loose.converged and loose.iterations <= ref.iterations
    assert loose.grad_norm >= ref.grad_norm
    unchecked = _well(check_minimum=False)
    assert ref.min_eigenvalue > 0 and unchecked.min_eigenvalue is None
    damped = _well(damping=1.0)
    assert damped.iterations > ref.iterations
    assert damped.action == pytest.approx(ref.action, rel=1e-12)
    paths = {ls: _well(linear_solver=ls) for ls in ("lapack", "cyclic", "scan")}
    for ls, r in paths.items():
        assert r.stats["linear_solver"] == ls
        np.testing.assert_allclose(r.xs, ref.xs, rtol=0, atol=1e-10)
    cg = _well(solver=nn.NewtonCG(max_cg=1))
    cg_full = _well(solver=nn.NewtonCG())
    assert cg.stats["method"] == "newton-cg"
    assert cg.stats["inner_iterations"] <= cg.iterations  # at most one CG step per Newton step
    assert cg_full.stats["inner_iterations"] > cg_full.iterations


def test_geometric_options_reach_the_coarse_grid_solve(monkeypatch):
    seen = []
    real = _geometric._string_method

    def spy(sde, xs, E, args, t0, solver):
        seen.append((xs.shape[0], solver))
        return real(sde, xs, E, args, t0, solver)

    monkeypatch.setattr(_geometric, "_string_method", spy)
    res = nn.path_with_energy(
        WELL, -1.0, 1.0, 0.01, num_points=201, coarse_points=21, wtol=1e-6, max_outer=7
    )
    assert [k for k, _ in seen] == [21, 51, 201]  # coarse to fine, 4 times coarser each
    for _, solver in seen:
        assert solver.wtol == 1e-6 and solver.max_outer == 7 and solver.coarse_points == 21
    assert [s.xtol for _, s in seen] == [1e-7, 1e-7, 1e-9]  # coarse grids: xtol >= 1e-7
    assert res.stats["outer_iterations"] <= 7
    stopped = nn.path_with_energy(WELL, -1.0, 1.0, 0.01, num_points=51, max_outer=1)
    assert not stopped.converged and stopped.status is nn.Status.MAX_STEPS_REACHED


def test_shooting_method_and_tolerances_reach_the_integrator():
    p0 = nn.initial_momentum(_well())
    a = nn.shoot(WELL, [-1.0], p0, 0.0, 5.0)
    b = nn.shoot(WELL, [-1.0], p0, 0.0, 5.0, method="tsit5")
    c = nn.shoot(WELL, [-1.0], p0, 0.0, 5.0, solver=nn.Shooting(rtol=1e-6, atol=1e-6))
    d = nn.shoot(WELL, [-1.0], p0, 0.0, 5.0, solver="dopri5")  # the 0.1 spelling
    assert (a.stats["method"], b.stats["method"], d.stats["method"]) == (
        "dopri8",
        "tsit5",
        "dopri5",
    )
    assert b.stats["num_steps"] > a.stats["num_steps"] > c.stats["num_steps"]
    short = nn.shoot(WELL, [-1.0], p0, 0.0, 5.0, max_steps=3)
    assert not short.converged and short.status is nn.Status.INTEGRATOR_FAILED
    with pytest.raises(ValueError, match="method must be one of 'dopri8', 'dopri5', 'tsit5'"):
        nn.shoot(WELL, [-1.0], p0, 0.0, 5.0, solver="rk4")


def test_options_pass_through_the_curves_and_the_transitions():
    # damping= used to collide with the damping action_vs_duration sets (TypeError).
    curve = nn.action_vs_duration(
        OU, [0.0, 0.0], [0.5, 0.2], [1.0, 2.0], num_points=101, damping=1e-3
    )
    ref = nn.action_vs_duration(OU, [0.0, 0.0], [0.5, 0.2], [1.0, 2.0], num_points=101)
    assert curve.converged.all()
    np.testing.assert_allclose(curve.actions, ref.actions, rtol=1e-10)
    assert all(p.iterations >= 1 for p in curve.paths)
    stuck = nn.action_vs_duration(
        OU, [0.0, 0.0], [0.5, 0.2], [1.0], num_points=101, solver=nn.Newton(max_steps=1)
    )
    assert not stuck.converged.any()
    e = nn.duration_vs_energy(WELL, -1.0, 1.0, [0.05], num_points=51, max_outer=1)
    assert not e.converged.any()
    q = nn.quasipotential(WELL, [-1.0], [0.0], num_points=51, solver=nn.Geometric(max_steps=1))
    assert not q.converged and q.path.status is nn.Status.MAX_STEPS_REACHED
    b = nn.barrier(WELL, [-1.0], [1.0], num_points=51, max_steps=1)
    assert not b.converged and b.status is not nn.Status.SUCCESSFUL
    with pytest.raises(TypeError, match="unexpected keyword.*'max_cg'"):
        nn.quasipotential(WELL, [-1.0], [0.0], max_cg=3)
    ps = nn.find_paths(
        WELL, [-1.0], [1.0], 0.0, 5.0, num_points=65, num_starts=0, solver=nn.Newton(max_steps=1)
    )
    assert all(not a["converged"] for a in ps.attempts)


# ------------------------------------------------------------------ hostile inputs
@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: nn.path_with_energy(WELL, -1.0, 1.0, rtol=0.0), ValueError, ["rtol", "> 0"]),
        (lambda: nn.path_with_energy(WELL, -1.0, 1.0, wtol=-1.0), ValueError, ["wtol"]),
        (lambda: nn.path_with_energy(WELL, -1.0, 1.0, xtol=np.nan), ValueError, ["xtol"]),
        (lambda: nn.path_with_energy(WELL, -1.0, 1.0, np.nan), ValueError, ["energy", "finite"]),
        (lambda: nn.path_with_energy(WELL, -1.0, 1.0, t0=np.nan), ValueError, ["t0", "finite"]),
        (lambda: nn.path_with_energy(WELL, -1.0, 1.0, num_points=3), ValueError, ["num_points"]),
        (lambda: nn.path_with_energy(WELL, -1.0, 1.0, num_points=9.5), TypeError, ["num_points"]),
        (lambda: nn.shoot(WELL, [-1.0], [0.1], 1.0, 0.0), ValueError, ["t1 must be greater"]),
        (lambda: nn.shoot(WELL, [-1.0], [0.1], 0.0, np.nan), ValueError, ["t1", "finite"]),
        (lambda: nn.shoot(WELL, [-1.0], [0.1], 0.0, 1.0, num_points=2), ValueError, ["at least 3"]),
        (
            lambda: nn.shoot(WELL, [-1.0], [0.1], 0.0, 1.0, ts=[0.0, 0.6, 0.5, 1.0]),
            ValueError,
            ["strictly increasing"],
        ),
        (lambda: nn.shoot(WELL, [-1.0], [0.1, 0.2], 0.0, 1.0), ValueError, ["p0", "same shape"]),
        (lambda: nn.shoot_to(WELL, [-1.0], [1.0], 0.0, 1.0, p0=[1.0, 2.0]), ValueError, ["p0"]),
        (lambda: nn.shoot_to(WELL, [-1.0], [1.0], 2.0, 1.0), ValueError, ["t1 must be greater"]),
        (
            lambda: nn.action_vs_duration(WELL, [-1.0], [1.0], [1.0], rel_step=0.0),
            ValueError,
            ["rel_step", "> 0"],
        ),
        (
            lambda: nn.action_vs_duration(WELL, [-1.0], [1.0], [1.0], rel_step=1.0),
            ValueError,
            ["rel_step", "< 1"],
        ),
        (
            lambda: nn.duration_vs_energy(WELL, [-1.0], [1.0], [1.0], rel_step=-0.1),
            ValueError,
            ["rel_step"],
        ),
        (
            lambda: nn.find_paths(WELL, [-1.0], [1.0], 0.0, 1.0, num_starts=-1),
            ValueError,
            ["num_starts", ">= 0"],
        ),
        (
            lambda: nn.find_paths(WELL, [-1.0], [1.0], 0.0, 1.0, num_starts=2.5),
            TypeError,
            ["num_starts", "integer"],
        ),
        (lambda: nn.find_paths(WELL, [-1.0], [1.0], 0.0, 1.0, key=-3), ValueError, ["key"]),
        (
            lambda: nn.find_paths(WELL, [-1.0], [1.0], 0.0, 1.0, through=[[0.0, 1.0]]),
            ValueError,
            ["through", "same shape"],
        ),
        (
            lambda: nn.most_likely_path(WELL, -1.0, 1.0, 0.0, 1.0, accuracy=0.0),
            ValueError,
            ["accuracy"],
        ),
        (lambda: nn.quasipotential(WELL, [-1.0], [[0.0, 1.0]]), ValueError, ["x must be", "(1,)"]),
    ],
)
def test_hostile_input_is_a_clear_error_at_the_entry_point(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_cyclic_reduction_is_refused_on_the_cpu_where_it_deadlocks():
    """linear_solver='cyclic' on the CPU above n = 8: the compiled loop deadlocked there with
    jaxlib 0.10.2 (measured at n = 9 to 16, 32, 64; never at n <= 8), so both entry points refuse it
    before compiling, naming n and what to use instead."""
    import jax

    if jax.default_backend() != "cpu":
        pytest.skip("the deadlock and the guard are CPU-only")
    n = 9
    sde = nn.models.ornstein_uhlenbeck(-np.eye(n), 0.1 * np.eye(n))
    x0, x1 = np.zeros(n), np.ones(n)
    cyclic = nn.Newton(linear_solver="cyclic")
    for call in (
        lambda: nn.most_likely_path(sde, x0, x1, 0.0, 1.0, num_points=20, solver=cyclic),
        lambda: nn.most_likely_paths(sde, x0, x1[None], 0.0, 1.0, num_points=20, solver=cyclic),
    ):
        with pytest.raises(ValueError, match="cyclic") as err:
            call()
        for word in ("n = 9 > 8", "deadlocks", "'native'", "xla_cpu_enable_concurrency"):
            assert word in str(err.value)


def test_memory_is_estimated_before_allocating():
    # 10^7 points at n = 2 used 9.9 GB: refused at once, with the estimate and what to change.
    with pytest.raises(ValueError, match=r"about 9.\d+ GiB.*limit of 4 GiB.*num_points"):
        nn.most_likely_path(OU, [0.0, 0.0], [1.0, 1.0], 0.0, 1.0, num_points=10**7)
    with pytest.raises(ValueError, match="GiB.*max_memory"):
        nn.path_with_energy(OU, [0.0, 0.0], [1.0, 1.0], 1.0, num_points=10**7)
    with pytest.raises(ValueError, match="max_memory"):
        _well(max_memory=1e4)  # 201 points at n = 1: about 8 (12 + 40) 201 = 84 kB
    assert _well(K=101, max_memory=1e7).converged
    # With accuracy=, the refinement stays below the limit: it stops short of the target.
    res = _well(K=33, accuracy=1e-12, max_memory=300 * 8 * (12 + 40))
    assert res.status is nn.Status.ACCURACY_NOT_MET and "max_memory" in res.message
    assert max(r["K"] for r in res.refinement) <= 300
