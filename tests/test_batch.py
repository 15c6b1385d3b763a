"""most_likely_paths: a batch solved in one compiled call equals one-by-one most_likely_path.

One model (Fig. 1c, the multistable network, T = 1), one shape (B = 8 problems, K = 51): the
batch is compared with independent one-path solves (same minimiser to 1e-9 in S* and path),
a member that cannot converge within max_steps says so while the others converge, end times
may differ per problem, and malformed input is rejected before any solve.
"""

import numpy as np
import pytest

import noisynoether as nn
from noisynoether.cases.fig1c import X0, X1

B, K = 8, 51


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(3)
    x0 = X0 + 0.15 * rng.standard_normal((B, 2))
    x1 = X1 + 0.15 * rng.standard_normal((B, 2))
    return nn.models.multistable(), x0, x1


@pytest.fixture(scope="module")
def solved(problem):
    sde, x0, x1 = problem
    batch = nn.most_likely_paths(sde, x0, x1, 0.0, 1.0, num_points=K)
    singles = [
        nn.most_likely_path(sde, a, b, 0.0, 1.0, num_points=K) for a, b in zip(x0, x1, strict=True)
    ]
    return batch, singles


def _assert_same(result, single):
    assert isinstance(result, nn.PathResult)
    assert result.converged == single.converged and result.status is single.status
    assert abs(result.action - single.action) <= 1e-9 * max(1.0, abs(single.action))
    np.testing.assert_allclose(result.xs, single.xs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(result.energy, single.energy, rtol=0, atol=1e-7)
    np.testing.assert_allclose(result.momentum, single.momentum, rtol=0, atol=1e-7)
    # The same loop, compiled inside the batch's program and alone: rounding may differ in
    # the last digits, and with it whether the final polishing step is needed.
    assert abs(result.iterations - single.iterations) <= 1


def test_the_batch_equals_one_by_one_solves(solved):
    batch, singles = solved
    assert len(batch) == B and batch.converged.all() and batch.num_converged == B
    assert batch.xs.shape == (B, K, 2) and batch.ts.shape == (B, K)
    assert batch.action.shape == (B,) and batch.iterations.shape == (B,)
    for result, single in zip(batch, singles, strict=True):
        _assert_same(result, single)
    np.testing.assert_allclose(batch.action, [s.action for s in singles], rtol=1e-12)
    # Each member is a certified minimum: positive lowest Hessian eigenvalue, as one path says.
    for i, single in enumerate(singles):
        assert batch[i].min_eigenvalue == pytest.approx(single.min_eigenvalue, rel=1e-9)
    assert "8 of 8 converged" in repr(batch)
    assert batch[2:5].xs.shape == (3, K, 2) and len(batch[[0, 7]]) == 2


def test_a_member_that_cannot_converge_says_so_and_the_others_do(problem, solved):
    sde, x0, x1 = problem
    batch, singles = solved
    # Member 0 starts from a zigzag path far from any minimum; the others from their
    # minimisers (a few steps). max_steps = 6 is enough for those, not for the zigzag.
    initial = batch.xs.copy()
    zig = np.where(np.arange(K) % 2 == 0, 1.0, -1.0)[:, None] * np.array([1.5, -1.5])
    initial[0] = initial[0] + zig
    again = nn.most_likely_paths(sde, x0, x1, 0.0, 1.0, num_points=K, initial=initial, max_steps=6)
    assert not again.converged[0] and again.status[0] is nn.Status.MAX_STEPS_REACHED
    assert again.converged[1:].all()
    assert list(again.failed) == [0]
    assert "7 of 8 converged" in again.message and "MAX_STEPS_REACHED" in again.message
    assert "max_steps" in again[0].message
    one = nn.most_likely_path(
        sde, x0[0], x1[0], 0.0, 1.0, num_points=K, initial=initial[0], max_steps=6
    )
    _assert_same(again[0], one)
    np.testing.assert_allclose(again.action[1:], [s.action for s in singles[1:]], rtol=1e-10)
    with pytest.raises(nn.ConvergenceError, match="7 of 8 converged"):
        nn.most_likely_paths(
            sde, x0, x1, 0.0, 1.0, num_points=K, initial=initial, max_steps=6, throw=True
        )


def test_end_times_can_differ_per_problem(problem, solved):
    sde, x0, x1 = problem
    t1 = np.linspace(0.8, 1.2, B)
    batch = nn.most_likely_paths(sde, x0, x1, 0.0, t1, num_points=K)
    np.testing.assert_allclose(batch.ts[:, -1], t1, rtol=0, atol=1e-15)
    for i in (0, B - 1):
        _assert_same(batch[i], nn.most_likely_path(sde, x0[i], x1[i], 0.0, t1[i], num_points=K))
    # A longer time is cheaper (at T ~ 1 the path is still pushed against the drift).
    assert batch.action[-1] < solved[0].action[-1] and batch.action[0] > solved[0].action[0]


def test_malformed_batches_are_rejected(problem):
    sde, x0, x1 = problem
    call = nn.most_likely_paths
    with pytest.raises(ValueError, match="x0 has 8, x1 has 5"):
        call(sde, x0, x1[:5], 0.0, 1.0, num_points=K)
    with pytest.raises(ValueError, match="x0 and x1 must have the same state dimension"):
        call(sde, x0, x1[:, :1], 0.0, 1.0, num_points=K)
    bad = x0.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="x0 must be finite"):
        call(sde, bad, x1, 0.0, 1.0, num_points=K)
    with pytest.raises(ValueError, match="x1 must be an"):
        call(sde, x0, np.zeros((0, 2)), 0.0, 1.0, num_points=K)
    with pytest.raises(ValueError, match=r"t1\[2\] = -1.0"):
        call(sde, x0, x1, 0.0, np.array([1.0, 1.0, -1.0, 1, 1, 1, 1, 1]), num_points=K)
    with pytest.raises(ValueError, match="t1 has 3"):
        call(sde, x0, x1, 0.0, np.ones(3), num_points=K)
    with pytest.raises(ValueError, match="x0 has 8, x1 has 8, args has 3"):
        call(sde, x0, x1, 0.0, 1.0, num_points=K, args={"a": np.ones(3)}, batched_args=True)
    with pytest.raises(TypeError, match="num_points must be an integer"):
        call(sde, x0, x1, 0.0, 1.0, num_points=5.5)
    with pytest.raises(ValueError, match="initial must have shape"):
        call(sde, x0, x1, 0.0, 1.0, num_points=K, initial=np.zeros((B, K + 1, 2)))
    with pytest.raises(TypeError, match="accuracy"):
        call(sde, x0, x1, 0.0, 1.0, num_points=K, accuracy=1e-3)
    with pytest.raises(ValueError, match="split the batch"):
        call(sde, x0, x1, 0.0, 1.0, num_points=K, max_memory=1e3)


def test_the_certificate_eigenvalues_match_a_dense_solve():
    """The batch's banded eigenvalues against numpy's dense eigh; the fallback where needed."""
    from types import SimpleNamespace

    from noisynoether.solvers import _banded, _batch, _zero_modes

    rng = np.random.default_rng(0)
    M, n = 30, 2
    A = rng.standard_normal((M, n, n))
    Bd = A @ np.swapaxes(A, 1, 2) + 3 * np.eye(n)
    C = 0.3 * rng.standard_normal((M - 1, n, n))
    dense = np.linalg.eigvalsh(_banded.to_dense(Bd, C))
    w, V, scale = _batch._banded_eigen(SimpleNamespace(aux=(Bd, C)), *[None] * 5)
    assert V is None and dense[0] > 0
    np.testing.assert_allclose(w, dense[:4], rtol=0, atol=1e-12 * scale)
    # A negative eigenvalue: the one-path routine, with the eigenvectors an escape needs.
    shifted = Bd - (dense[0] + 0.5) * np.eye(n)
    w, V, _ = _batch._banded_eigen(SimpleNamespace(aux=(shifted, C)), *[None] * 5)
    ref = _zero_modes.lowest_eigenpairs(shifted, C)
    assert V is not None and w[0] < 0
    np.testing.assert_allclose(w, ref[0], rtol=0, atol=1e-12 * scale)


def test_a_member_that_creeps_is_retried_coarse_to_fine_like_a_single_solve():
    # Fig. 1c at T = 40 on 129 points: from the straight line damped Newton needs 57 steps;
    # with max_steps = 40 it stops, and the retry on 33 and 65 points then 129 converges. The
    # batch must give what most_likely_path gives for the same problem (issue 12, item 3).
    sde = nn.models.multistable()
    x0 = np.array([[3.0, 0.1], [3.0, 0.1]])
    x1 = np.array([[0.1, 3.0], [0.1, 3.0]])
    batch = nn.most_likely_paths(sde, x0, x1, 0.0, 40.0, num_points=129, max_steps=40)
    one = nn.most_likely_path(sde, x0[0], x1[0], 0.0, 40.0, num_points=129, max_steps=40)
    assert one.converged and one.stats["coarse_to_fine"]["first_attempt_iterations"] == 40
    assert batch.converged.all()
    for i in range(2):
        assert [lv["num_points"] for lv in batch[i].stats["coarse_to_fine"]["levels"]] == [
            33,
            65,
            129,
        ]
        assert batch.action[i] == pytest.approx(one.action, rel=1e-9)
        np.testing.assert_allclose(batch.xs[i], one.xs, rtol=0, atol=1e-9)


def test_a_member_through_an_unstable_node_is_tried_around_it_as_one_path_is():
    # The ring attractor f = x (1 - |x|^2) at T = 20: the straight start between opposite
    # points of the circle runs through the centre (a source; local minimum 2.5), the arc
    # costs ~pi^2 / (4 D T) = 1.23. Members 0 and 1 cross the centre, member 2 (a quarter
    # turn) does not; each must be what most_likely_path returns for it.
    import jax.numpy as jnp

    ring = nn.SDE(lambda t, x, a: x * (1.0 - jnp.sum(x**2)), 0.1)
    x0 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    x1 = np.array([[-1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
    batch = nn.most_likely_paths(ring, x0, x1, 0.0, 20.0, num_points=201)
    for i in range(3):
        single = nn.most_likely_path(ring, x0[i], x1[i], 0.0, 20.0, num_points=201)
        _assert_same(batch[i], single)
        d, e = batch[i].stats.get("detour"), single.stats.get("detour")
        assert (d is None) == (e is None)
        if d is not None:  # the same node, the same choice; numbers to rounding (1e-9)
            assert {k: d[k] for k in ("chosen", "unstable_directions")} == {
                k: e[k] for k in ("chosen", "unstable_directions")
            }
            np.testing.assert_allclose(d["node"], e["node"], rtol=0, atol=1e-9)
            np.testing.assert_allclose(
                [d["through_node"], *d["around"]], [e["through_node"], *e["around"]], rtol=1e-9
            )
    assert [batch[i].stats["detour"]["chosen"] for i in (0, 1)] == ["around", "around"]
    assert "detour" not in batch[2].stats and batch.action[:2].max() < 1.3


@pytest.mark.parametrize("batched_args, K", [(False, 100), (True, 100), (False, 2602)])
def test_the_batched_node_check_equals_the_one_path_check(batched_args, K):
    # 70 paths (more than one call of MEMBERS = 64, so a padded second call): straight lines
    # across a ring of radius sqrt(a) (through the source at the centre, or past it) and
    # half-circles along it; each answer must be what the check of that one path alone gives
    # (the same code with one path: its own compiled call, no padding across members, no
    # stacked args) and, for a line through the centre, the source there. K = 2602: the
    # second sample is a full 64 midpoints (more than 64 lie between the first's neighbours).
    import jax.numpy as jnp

    from noisynoether.solvers import _detour

    ring = nn.SDE(lambda t, x, a: x * (a - jnp.sum(x**2)), 0.1)
    rng = np.random.default_rng(5)
    ts = np.linspace(0.0, 10.0, K)  # an odd number of midpoints: the middle one at the centre
    s = np.linspace(0.0, 1.0, ts.size)[:, None]
    paths = []
    for j in range(70):
        a = float(rng.uniform(0.5, 2.0)) if batched_args else 1.0
        r, phi = np.sqrt(a), rng.uniform(0, 2 * np.pi)
        e = np.array([np.cos(phi), np.sin(phi)])
        if j % 3 == 2:  # along the ring: no node on it
            ang = phi + np.pi * s[:, 0]
            xs = r * np.stack([np.cos(ang), np.sin(ang)], axis=1)
        else:  # through the centre (j % 3 == 0) or offset from it by 0.3 r
            off = 0.0 if j % 3 == 0 else 0.3 * r
            xs = (1 - 2 * s) * r * e + off * np.array([-e[1], e[0]])
        paths.append((ts, xs, np.asarray(a) if batched_args else None))
    args = np.array([p[2] for p in paths]) if batched_args else 1.0
    got = _detour.unstable_nodes_on_batch(ring, paths, args, batched_args)
    for (t, xs, a), found in zip(paths, got, strict=True):
        one = _detour.unstable_node_on(ring, t, xs, a if batched_args else 1.0)
        assert (found is None) == (one is None)
        if found is not None:  # the centre, the source (a midpoint lies on it exactly)
            np.testing.assert_allclose(found[0], 0.0, atol=1e-12)
            assert found[1].shape == (2, 2)  # both directions unstable there
        if one is not None:
            np.testing.assert_allclose(found[0], one[0], rtol=0, atol=1e-12)
            np.testing.assert_allclose(np.abs(found[1]), np.abs(one[1]), rtol=0, atol=1e-12)
    assert sum(f is not None for f in got) == 24  # the 24 lines through the centre


def test_a_newton_cg_batch_equals_its_single_solves_within_a_small_memory_limit():
    # n = 70 > 64: Newton-CG, which keeps no Hessian blocks, so a limit far below the blocks'
    # 8 B K (2 n^2) bytes (7.4 MB here) is enough; the members are its single solves.
    import jax.numpy as jnp

    n, K = 70, 30
    rng = np.random.default_rng(2)
    W = jnp.asarray(0.8 * rng.standard_normal((n, n)) / np.sqrt(n))
    net = nn.SDE(drift=lambda t, x, a: -x + W @ jnp.tanh(x), diffusion=0.1)
    x0, x1 = 0.5 * rng.standard_normal((3, n)), 0.5 * rng.standard_normal((3, n))
    batch = nn.most_likely_paths(net, x0, x1, 0.0, 1.0, num_points=K, max_memory=2e6)
    assert batch.stats["method"] == "newton-cg" and batch.converged.all()
    for i in range(3):
        single = nn.most_likely_path(net, x0[i], x1[i], 0.0, 1.0, num_points=K)
        _assert_same(batch[i], single)


@pytest.mark.parametrize("how", ["not accepted", "failed"])
def test_members_whose_compiled_certificate_is_not_accepted_get_lapacks(
    problem, solved, monkeypatch, how
):
    # The compiled Lanczos certificate declines (ok False) or its call raises: each member's
    # lowest eigenvalues then come from LAPACK's banded solver, the same as one path's.
    from noisynoether.solvers import _batch

    def declining(B, C):
        if how == "failed":
            raise RuntimeError("the compiled linear solver failed")
        b = np.shape(B)[0]
        return np.full((b, 4), 7.0), np.ones(b), np.zeros(b, dtype=bool)

    monkeypatch.setattr(_batch, "_certifier", lambda: declining)
    sde, x0, x1 = problem
    batch = nn.most_likely_paths(sde, x0, x1, 0.0, 1.0, num_points=K)  # compiled: same shape
    for i, single in enumerate(solved[1]):
        assert batch[i].converged
        assert batch[i].min_eigenvalue == pytest.approx(single.min_eigenvalue, rel=1e-9)
        assert batch[i].min_eigenvalue != 7.0


def test_a_network_batch_certifies_on_the_host_as_one_path_does(monkeypatch):
    # n = 8 units, K = 120: N^2 (2n - 1) = 1.4e7 > BANDED_MAX, where LAPACK's banded
    # eigen-solver is slower than the one-path routine (at n = 64 it took 23 s a member
    # against 2.7 s): the batch uses that routine, so its eigenvalues are one path's; and the
    # compiled certificate is not tried (a network's clustered lowest eigenvalues).
    import jax.numpy as jnp
    import scipy.linalg

    from noisynoether.solvers import _batch, _zero_modes

    def refused(*a, **k):
        raise AssertionError("eig_banded called above BANDED_MAX")

    monkeypatch.setattr(scipy.linalg, "eig_banded", refused)
    monkeypatch.setattr(_batch, "_certifier", lambda: pytest.fail("compiled certificate"))
    n, K = 8, 120
    assert (n * (K - 2)) ** 2 * (2 * n - 1) > _zero_modes.BANDED_MAX
    rng = np.random.default_rng(4)
    W = jnp.asarray(0.8 * rng.standard_normal((n, n)) / np.sqrt(n))
    net = nn.SDE(drift=lambda t, x, a: -x + W @ jnp.tanh(x), diffusion=0.1)
    x0, x1 = 0.5 * rng.standard_normal((2, n)), 0.5 * rng.standard_normal((2, n))
    batch = nn.most_likely_paths(net, x0, x1, 0.0, 1.0, num_points=K, method="newton")
    for i in range(2):
        single = nn.most_likely_path(net, x0[i], x1[i], 0.0, 1.0, num_points=K, method="newton")
        assert batch[i].converged and batch[i].min_eigenvalue > 0
        np.testing.assert_allclose(  # the same routine on Hessians equal to rounding
            batch[i].stats["lowest_eigenvalues"], single.stats["lowest_eigenvalues"], rtol=1e-12
        )
        _assert_same(batch[i], single)
