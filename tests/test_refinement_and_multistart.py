"""accuracy= (adaptive grids with an error estimate), fixed points, and find_paths."""

import dataclasses

import numpy as np
import pytest

import noisynoether as nn
from noisynoether.models import linear_bridge

A = np.array([[-1.0, 3.0], [0.0, -2.0]])
D = np.array([[0.3, 0.1], [0.1, 0.2]])
B = np.array([0.5, -0.2])


def test_accuracy_estimate_bounds_the_true_error_and_tightens():
    sde = nn.models.ornstein_uhlenbeck(A, D, b=B)
    exact = linear_bridge(A, D, [1.0, -1.0], [-0.5, 2.0], 2.0, [0.0], b=B)["action"]
    true_errors = []
    for acc in (1e-4, 1e-6):
        res = nn.most_likely_path(
            sde, [1.0, -1.0], [-0.5, 2.0], 0.0, 2.0, num_points=17, accuracy=acc
        )
        assert res.converged, res.message
        true = abs(res.action - exact) / exact
        assert res.action_error <= acc
        # Richardson is asymptotically exact: the estimate is within 20 % of the truth here.
        assert true <= 1.2 * res.action_error and res.action_error <= 1.2 * true
        assert res.refinement[-1]["K"] == res.ts.size
        true_errors.append(true)
    assert true_errors[1] < 1e-2 * true_errors[0]


def test_accuracy_that_cannot_be_reached_says_so():
    sde = nn.models.ornstein_uhlenbeck(A, D, b=B)
    res = nn.most_likely_path(
        sde, [1.0, -1.0], [-0.5, 2.0], 0.0, 2.0, num_points=17, accuracy=1e-10, max_points=65
    )
    assert not res.converged and "not met" in res.message and "max_points" in res.message
    assert res.action_error > 1e-10 and res.status is nn.Status.ACCURACY_NOT_MET
    with pytest.raises(ValueError, match="accuracy must be a real number > 0 and < 1; got 2.0"):
        nn.most_likely_path(sde, [1.0, -1.0], [-0.5, 2.0], 0.0, 2.0, accuracy=2.0)


def test_adaptive_grid_beats_a_uniform_grid_of_the_same_size_on_steep_sigmoids():
    sde = nn.models.multistable()
    res = nn.most_likely_path(sde, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, num_points=129, accuracy=1e-5)
    assert res.converged, res.message
    dts = np.diff(res.ts)
    assert dts.max() / dts.min() > 5  # nodes gather on the sigmoid ramps

    # Independent reference (not the solver's own error estimate): Richardson extrapolation of
    # two much finer grids, every interval of the adaptive grid cut into 4 and 8 equal parts.
    # A fixed grid subdivided uniformly has an error expansion in even powers of the subdivision
    # (midpoint rule); (4, 8) and (8, 16) give the same reference to 3.3e-12 (measured: the
    # adaptive grid has 1025 points, its largest step 21x its smallest).
    def subdivide(ts, m):
        parts = [np.linspace(a, b, m, endpoint=False) for a, b in zip(ts[:-1], ts[1:], strict=True)]
        return np.concatenate(parts + [ts[-1:]])

    fine = [
        nn.most_likely_path(
            sde, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, ts=subdivide(res.ts, m), initial=res,
            check_minimum=False,
        ).action
        for m in (4, 8)
    ]  # fmt: skip
    ref = fine[1] + (fine[1] - fine[0]) / 3
    assert abs(res.action - ref) / ref < 3 * max(res.action_error, 1e-9)
    uniform = nn.most_likely_path(sde, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, num_points=res.ts.size)
    assert abs(uniform.action - ref) > 10 * abs(res.action - ref)


def test_fixed_points_of_the_multistable_network():
    fps = nn.fixed_points(nn.models.multistable(), [-0.5, -0.5], [4.0, 4.0])
    stable = sorted(tuple(np.round(fp.x, 2)) for fp in fps if fp.kind == "stable")
    assert stable == [(0.35, 3.25), (1.25, 1.25), (2.35, 2.35), (3.25, 0.35)]
    assert sum(fp.kind == "saddle" for fp in fps) == 4
    sde = nn.models.multistable()
    for fp in fps:
        assert np.max(np.abs(np.asarray(sde.f(0.0, fp.x)))) < 1e-10
    # 1-D double well: stable -1 and 1, one unstable point 0 (the barrier top).
    dw = nn.fixed_points(nn.models.double_well(), [-2.0], [2.0])
    assert [(fp.kind, round(float(fp.x[0]), 6)) for fp in dw] == [
        ("stable", -1.0),
        ("stable", 1.0),
        ("unstable", 0.0),
    ]


def test_find_paths_returns_distinct_minima_sorted_with_the_global_first():
    """The headwind model: mirror-image minima above and below the axis, and the axis saddle."""
    import jax.numpy as jnp

    def headwind(t, x, args):
        return jnp.stack([-2.0 * jnp.exp(-(x[1] ** 2) / 0.08) + 0.3 * x[1], 0.0 * x[1]])

    sde = nn.SDE(drift=headwind, diffusion=0.1)
    ps = nn.find_paths(
        sde,
        [-1.0, 0.0],
        [1.0, 0.0],
        0.0,
        2.0,
        num_points=101,
        num_starts=6,
        through=[[0.0, 0.6], [0.0, -0.6]],
    )
    assert len(ps) >= 2
    actions = [r.action for r in ps.paths]
    assert actions == sorted(actions)
    assert ps.global_minimum is ps.paths[0]
    assert all(r.converged and r.min_eigenvalue > 0 for r in ps.paths)
    # The drift's 0.3 x2 term breaks the mirror symmetry: the two detours differ in action.
    sides = {np.sign(r.xs[50, 1]) for r in ps.paths}
    assert sides == {-1.0, 1.0}
    assert actions[1] - actions[0] > 1e-3
    # An independent start from the lower detour reproduces the global minimum's action.
    lower = ps.paths[0] if ps.paths[0].xs[50, 1] < 0 else ps.paths[1]
    again = nn.most_likely_path(
        sde, [-1.0, 0.0], [1.0, 0.0], 0.0, 2.0, num_points=101, initial=lower.xs + 0.01
    )
    assert again.action == pytest.approx(lower.action, rel=1e-10)


def test_fig1c_at_T40_on_the_default_grid_converges_with_default_options():
    """Issue 11, long horizons without hand-holding: on the default 1001 points the straight
    start creeps to max_steps, the ladder converges on 33 ... 257 points, and the requested
    grid from there needs more than max_steps = 200 iterations (the timing of a long horizon is
    exp(-T)-soft): it gets FINAL_BUDGET times as many, and converges to a certified minimum
    within the grid's discretisation error of the continuous S* = 6.610855 (adaptive grid of
    8193 points, accuracy 1e-6: docs/paper-notes.md)."""
    sde = nn.models.multistable()
    res = nn.most_likely_path(sde, [3.0, 0.1], [0.1, 3.0], 0.0, 40.0)
    assert res.converged and res.min_eigenvalue > 0, res.message
    levels = res.stats["coarse_to_fine"]["levels"]
    assert levels[-1]["num_points"] == 1001 and levels[-1]["iterations"] > 200
    assert nn.action(sde, res.ts, res.xs) == pytest.approx(res.action, rel=1e-12)
    assert abs(res.action - 6.610855) / 6.610855 < 1e-2


def test_find_paths_on_fig1c_at_T40_without_continuation():
    """Fig. 1c at T = 40 (K = 513, the steep model itself, no `continuation=`; issue 11).

    The straight start creeps to max_steps on the full grid (the soft re-timing directions of
    a long horizon); with the default ``coarse_to_fine`` it is solved again on 33, 65, ... 257
    points and then converges (with ``coarse_to_fine=False`` it stays unconverged). Every
    path reported is a certified local minimum: its action is the action functional of its
    own path (evaluated independently) and no small smooth perturbation lowers it. The global
    path passes the (2.35, 2.35) state. The start through (1.25, 1.25) heads for a costlier route
    (with continuation it waited at the saddle (1.48, 1.15), a flat direction): if it is
    reported converged it is costlier by > 1, otherwise the attempt says converged=False."""
    sde = nn.models.multistable()
    x0, x1 = [3.0, 0.1], [0.1, 3.0]
    crept = nn.most_likely_path(sde, x0, x1, 0.0, 40.0, num_points=513, coarse_to_fine=False)
    assert not crept.converged and crept.status is nn.Status.MAX_STEPS_REACHED
    ps = nn.find_paths(
        sde, x0, x1, 0.0, 40.0, num_points=513, num_starts=0, through=[[2.35, 2.35], [1.25, 1.25]]
    )
    assert [r.action for r in ps.paths] == sorted(r.action for r in ps.paths)
    by_label = {a["label"]: a for a in ps.attempts}
    assert by_label["straight"]["converged"] and by_label["via (2.35, 2.35)"]["converged"]
    straight = next(r for r, lab in zip(ps.paths, ps.labels, strict=True) if lab == "straight")
    ladder = straight.stats["coarse_to_fine"]
    assert ladder["first_attempt_iterations"] >= 200  # it ran to max_steps
    assert [lv["num_points"] for lv in ladder["levels"]] == [33, 65, 129, 257, 513]
    assert straight.action < crept.action - 1.0

    def closest(res, p):
        return float(np.min(np.linalg.norm(res.xs - np.asarray(p), axis=1)))

    assert closest(ps.paths[0], [2.35, 2.35]) < 0.05
    rng = np.random.default_rng(0)
    s = np.linspace(0.0, 1.0, 513)[:, None]
    for res in ps.paths:
        assert res.min_eigenvalue > 1e-3
        assert nn.action(sde, res.ts, res.xs) == pytest.approx(res.action, rel=1e-12)
        for _ in range(3):  # smooth bumps that keep the end points
            c = rng.standard_normal((3, 2))
            bump = sum(np.sin((j + 1) * np.pi * s) * c[j] for j in range(3))
            assert nn.action(sde, res.ts, res.xs + 1e-3 * bump) > res.action
    other = by_label["via (1.25, 1.25)"]
    if other["converged"]:
        waiting = ps.paths[ps.labels.index("via (1.25, 1.25)")]
        assert waiting.action - ps.paths[0].action > 1.0
        assert closest(waiting, [2.35, 2.35]) > 0.5  # another route
    else:
        assert "did not converge" in other["message"]
        assert other["action"] > ps.paths[0].action + 1.0


@dataclasses.dataclass(frozen=True)
class _FakeResult:
    """A stand-in for a PathResult that stopped at max_steps (the ladder's tests)."""

    ts: np.ndarray
    xs: np.ndarray
    action: float
    converged: bool = False
    status: nn.Status = nn.Status.MAX_STEPS_REACHED
    iterations: int = 10
    grad_norm: float = 1e-6
    message: str = "did not converge."
    stats: dict = dataclasses.field(default_factory=dict)


def test_a_ladder_level_that_creeps_still_hands_its_path_to_the_requested_grid():
    """``_coarse_to_fine.retry`` on a stand-in solver (Fig. 1c at T = 10, K = 2001, in the
    robustness zoo: the 257-point level creeps to max_steps, the requested grid from its path
    converges to the same-grid minimum; stopping the ladder there left it unconverged).
    The requested grid is tried once from the crept level, skipping the levels between; a
    level that fails otherwise (a non-finite path) ends the ladder with the first result."""
    from noisynoether.solvers import _coarse_to_fine

    def Fake(ts, xs, converged, status, iterations=10):  # noqa: N802 (a result class)
        return _FakeResult(ts, xs, 1.0, converged, status, iterations)

    def solver(outcomes):
        seen = []

        def solve_grid(ts, xs, warm, budget=1):
            # The levels get max_steps, the requested grid FINAL_BUDGET times as many.
            assert budget == (_coarse_to_fine.FINAL_BUDGET if ts.size == 257 else 1)
            seen.append(ts.size)
            ok, status, finite = outcomes[ts.size]
            out = xs if finite else np.full_like(xs, np.nan)
            return Fake(ts, out, ok, status)

        return solve_grid, seen

    ts = np.linspace(0.0, 1.0, 257)
    xs = np.zeros((257, 1))
    first = Fake(ts, xs, False, nn.Status.MAX_STEPS_REACHED, iterations=200)
    good, crept = (True, nn.Status.SUCCESSFUL, True), (False, nn.Status.MAX_STEPS_REACHED, True)
    solve_grid, seen = solver({33: good, 65: crept, 129: good, 257: good})
    res = _coarse_to_fine.retry(solve_grid, first, ts, xs)
    assert seen == [33, 65, 257] and res.converged and res.ts.size == 257
    assert res.iterations == 200 + 3 * 10
    nonfinite = (False, nn.Status.NONFINITE, False)
    solve_grid, seen = solver({33: good, 65: nonfinite, 129: good, 257: good})
    res = _coarse_to_fine.retry(solve_grid, first, ts, xs)
    assert seen == [33, 65] and res is not first and not res.converged
    assert res.status is nn.Status.MAX_STEPS_REACHED and "did not converge either" in res.message


def test_a_ladder_that_fails_reports_its_lower_path_and_says_when_the_path_waits():
    """When the ladder's last solve (the requested grid) also stops at max_steps, the path with
    the lower action is reported, and a path that waits near fixed points for most of its
    horizon gets the long-horizon sentence. x(t) = tanh(t - 20) on [0, 40] moves faster than
    1 % of its top speed only where sech^2(t - 20) > 0.01, |t - 20| < acosh(10): the rest,
    1 - 2 acosh(10) / 40 = 85 % of the horizon, waits; a straight line never waits."""
    from noisynoether.solvers import _coarse_to_fine

    Fake = _FakeResult

    ts = np.linspace(0.0, 40.0, 257)
    waiting = np.tanh(ts - 20.0)[:, None]
    first = Fake(ts, np.linspace(-1.0, 1.0, 257)[:, None], 2.0, iterations=200)
    fraction = 1.0 - 2.0 * np.arccosh(10.0) / 40.0
    for S_last, reported in ((1.5, "last"), (2.5, "first")):

        def solve_grid(ts_k, xs_k, warm, budget=1, *, max_steps=None, S_last=S_last):
            if max_steps is not None:  # a departure-search candidate: higher, no convergence
                return Fake(ts_k, xs_k, S_last + 1.0, iterations=1)
            path = np.tanh(ts_k - 20.0)[:, None]
            return Fake(ts_k, path, S_last if ts_k.size == 257 else 1.0, iterations=7)

        res = _coarse_to_fine.retry(solve_grid, first, ts, first.xs)
        assert not res.converged and "did not converge either (7 iterations on 257" in res.message
        search = res.stats["coarse_to_fine"].get("departure_search")
        if reported == "last":
            # One transition, waits of 85 % around it: all 10 shifts fit, each one iteration,
            # none lower: one round.
            assert search == dict(rounds=1, iterations=10, converged=False)
            assert res.iterations == 200 + 2 * 7 + 10  # 33 (creeps: the ladder stops), 257
            np.testing.assert_array_equal(res.xs, waiting)
            assert res.action == 1.5 and "5.00e-01 lower in S" in res.message
            assert f"for {100 * fraction:.0f} % of its horizon" in res.message
            assert "did not converge (1 rounds)" in res.message
        else:  # the start's path, a straight line: no waiting, no search, no sentence
            assert search is None and res.iterations == 200 + 2 * 7
            assert res.action == 2.0 and "lower in S" not in res.message
            assert "waits near fixed points" not in res.message
    assert abs(fraction - 0.85) < 0.01
    assert _coarse_to_fine.waiting_hint(ts, first.xs) == ""


def test_a_long_horizon_creep_converges_once_its_transitions_are_moved_by_whole_steps():
    """A 3-unit tanh network (docs/robustness.md, "What fails", item 7), from a stable state
    to its mirror image through the saddle at 0, T = 40 on 101 points: Newton creeps along
    the washboard of departure times (2346 iterations from the path after 200), and with
    max_steps = 200 coarse to fine creeps too (its last solve gets 2000). Moving the path's
    transitions by whole grid steps, each candidate polished briefly, ends at a certified
    minimum: lower than the crept path, and within the washboard's spacing (~1e-8 relative)
    of the minimum that a long independent Newton run reaches from the crept path."""
    from noisynoether.solvers import _departures

    rng = np.random.default_rng(3)
    m = rng.choice([-1.0, 1.0], 3)
    G = rng.standard_normal((3, 3))
    sde = nn.models.noisy_rnn(2.5 * np.outer(m, m) / 3 + 0.3 * G / np.sqrt(3), D=0.05)
    stable = [p.x for p in nn.fixed_points(sde, starts=[2 * m, -2 * m]) if p.kind == "stable"]
    a, b = sorted(stable, key=lambda x: float(x @ m))
    kw = dict(num_points=101, max_steps=200)
    crept = nn.most_likely_path(sde, a, b, 0.0, 40.0, coarse_to_fine=False, **kw)
    assert crept.status is nn.Status.MAX_STEPS_REACHED
    res = nn.most_likely_path(sde, a, b, 0.0, 40.0, **kw)
    search = res.stats["coarse_to_fine"]["departure_search"]
    assert res.converged and search["converged"] and search["rounds"] <= _departures.ROUNDS
    assert "moving the path's transitions by whole grid steps" in res.message
    assert res.min_eigenvalue > 0 and res.action <= crept.action
    assert nn.action(sde, res.ts, res.xs) == pytest.approx(res.action, rel=1e-12)
    long = nn.most_likely_path(
        sde, a, b, 0.0, 40.0, num_points=101, max_steps=5000, coarse_to_fine=False,
        initial=crept.xs,
    )  # fmt: skip
    assert long.converged and long.iterations > 1000  # the creep the search avoids
    assert res.action == pytest.approx(long.action, rel=1e-7)
    # Two transitions (up to the saddle, down from it); moved by s, the points keep their order.
    (lo, hi), _ = _departures.transitions(crept.ts, crept.xs)
    moved = _departures.shifted(crept.xs, lo, hi, -3)
    np.testing.assert_array_equal(moved[lo - 3 : hi - 2], crept.xs[lo : hi + 1])
    assert moved.shape == crept.xs.shape and np.array_equal(moved[[0, -1]], crept.xs[[0, -1]])


def test_the_departure_search_stops_at_its_rounds_or_its_budget():
    """Candidates that keep lowering S without converging: the search goes on round after
    round from the lowest one, up to ROUNDS, and starts no round once the candidates'
    iterations reach the budget. One transition (tanh(t - 20) on [0, 40], 257 points), all
    10 shifts fit: 10 candidates of 20 iterations a round."""
    from noisynoether.solvers import _departures

    def Fake(ts, xs, action):  # noqa: N802 (a result class, as above)
        return _FakeResult(ts, xs, action, iterations=20)

    ts = np.linspace(0.0, 40.0, 257)
    calls = []

    def solve_grid(ts_k, xs_k, warm, *, max_steps):
        assert warm and max_steps == _departures.POLISH_STEPS
        calls.append(1)
        return Fake(ts_k, xs_k, 1.0 - len(calls))  # each lower than all before

    path = Fake(ts, np.tanh(ts - 20.0)[:, None], 1.0)
    assert len(_departures.transitions(ts, path.xs)) == 1
    assert _departures.search(solve_grid, path) == (None, _departures.ROUNDS, 200 * 4)
    calls.clear()
    assert _departures.search(solve_grid, path, budget=250) == (None, 2, 400)


def test_find_paths_routes_through_at_most_max_via_stable_states_spread_out():
    # A continuum of stable states (a ring attractor) would give one via-start each.
    from noisynoether.solvers._multistart import MAX_VIA, _spread

    x0, x1 = np.array([1.0, 0.0]), np.array([-1.0, 0.0])
    few = [np.array([0.0, 1.0]), np.array([0.0, -1.0])]
    assert _spread(few, x0, x1, MAX_VIA) is few
    th = np.linspace(0.0, 2 * np.pi, 200, endpoint=False)
    ring = [np.array([np.cos(t), np.sin(t)]) for t in th]
    picked = np.array(_spread(ring, x0, x1, MAX_VIA))
    assert len(picked) == MAX_VIA == 8
    # Spread (greedy farthest point: within 2x of the best spacing, 0.62 for 10 points evenly
    # on the circle with x0 and x1 among them; the first 8 of the list are 0.03 apart).
    gaps = np.linalg.norm(picked[:, None] - picked[None], axis=2) + 9 * np.eye(len(picked))
    ends = np.linalg.norm(picked[:, None] - np.stack([x0, x1])[None], axis=2)
    assert gaps.min() > 0.31 and ends.min() > 0.31
