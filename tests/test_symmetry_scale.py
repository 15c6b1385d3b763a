"""Symmetry discovery at network size (issue 12 item 6): matrix-free find_symmetries and the
permutation search of find_discrete_symmetries.

The matrix-free path is checked against generators worked out by hand and against the dense
path at small n; the graph search against networks built with a known permutation group
(whose order is counted by closing the generators found), and against a random network.
Timings and memory at n = 32-256 (and 1024 for permutations) are in
benchmarks/bench_symmetry_scale.py.
"""

import itertools
import warnings
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import pytest

import noisynoether as nn

RNG = np.random.default_rng(12)


def rotation(n, i, j):
    A = np.zeros((n, n))
    A[j, i], A[i, j] = 1.0, -1.0
    return A


# ------------------------------------------------------------------ continuous, matrix-free
def five(t, x, args):
    """Rotation-invariant (x1, x2) block, x3 driven by constants only, (x4, x5) nonlinear."""
    r2 = x[0] ** 2 + x[1] ** 2
    return jnp.stack(
        [
            (1 - r2) * x[0] - 0.5 * x[1],
            (1 - r2) * x[1] + 0.5 * x[0],
            0.3 + 0.0 * x[2],
            jnp.tanh(x[3] - 0.4 * x[4]) - x[3] + 0.2 * x[0] ** 2 + 0.2 * x[1] ** 2,
            -x[4] + 0.7 * jnp.tanh(x[3]),
        ]
    )


FIVE = nn.SDE(drift=five, diffusion=[0.2, 0.2, 0.5, 0.3, 0.4])
PTS5 = RNG.normal(size=(12, 5))


@pytest.fixture(scope="module")
def five_both():
    return [nn.find_symmetries(FIVE, PTS5, method=m) for m in ("dense", "matrix-free")]


def test_matrix_free_finds_the_hand_worked_generators_of_the_dense_path(five_both):
    dense, free = five_both
    # by hand: the only affine symmetries are the translation along x3 and the rotation in
    # the (x1, x2) plane (D is isotropic there); time translation as the model is autonomous
    assert [s.name for s in free] == [
        "translation along x3",
        "rotation in the (x1, x2) plane",
        "time translation (energy, Eq. 10)",
    ]
    e3 = np.eye(5)[2]
    assert np.allclose(free[0].A, 0, atol=1e-12) and np.allclose(free[0].b, e3, atol=1e-12)
    assert np.allclose(free[1].A, rotation(5, 0, 1), atol=1e-12)
    assert np.allclose(free[1].b, 0, atol=1e-12)
    assert [s.name for s in dense] == [s.name for s in free]
    for d, f in zip(dense.affine, free.affine, strict=True):
        assert np.allclose(d.A, f.A, atol=1e-10) and np.allclose(d.b, f.b, atol=1e-10)
        assert f.residual < 1e-12
    assert "matrix-free" in free.message and "matrix-free" not in dense.message
    # the final block saw the gap: the smallest non-symmetry is far above tol
    assert np.sum(free.singular_values <= 1e-8) == 2
    assert np.min(free.singular_values[free.singular_values > 1e-8]) > 1e-4


def swirl(t, x, args):
    r2 = x[0] ** 2 + x[1] ** 2
    return jnp.stack([(1 - r2) * x[0] - 0.7 * x[1], (1 - r2) * x[1] + 0.7 * x[0], -x[2] + r2])


def swirl_D(t, x, args):
    """State-dependent D, isotropic in (x1, x2) and a function of r^2 and x3 only."""
    r2 = x[0] ** 2 + x[1] ** 2
    d = 0.2 + 0.1 * r2 + 0.05 * x[2] ** 2
    return jnp.stack([d, d, 0.3 + 0.1 * r2])


def test_matrix_free_with_a_state_dependent_diffusion_keeps_the_axial_symmetry():
    sde = nn.SDE(drift=swirl, diffusion=swirl_D)
    pts = RNG.normal(size=(12, 3))
    free = nn.find_symmetries(sde, pts, times=0.0, method="matrix-free")
    # by hand: f and D commute with rotations in (x1, x2) and nothing else survives the
    # nonlinear x3 equation (the dense path agrees; compared on FIVE above)
    assert [s.name for s in free.affine] == ["rotation in the (x1, x2) plane"]
    assert np.allclose(free.affine[0].A, rotation(3, 0, 1), atol=1e-10)
    assert free.affine[0].residual < 1e-12


def test_matrix_free_says_when_the_algebra_is_larger_than_max_generators(five_both):
    with pytest.warns(UserWarning, match="max_generators"):
        syms = nn.find_symmetries(FIVE, PTS5, method="matrix-free", max_generators=1)
    assert "INCOMPLETE" in syms.message and len(syms.affine) == 1
    assert syms.affine[0].residual < 1e-12  # what it returns is a symmetry
    assert nn.symmetry_defect(FIVE, syms.affine[0], PTS5) < 1e-12


# ------------------------------------------------------------------ permutations
@dataclass(frozen=True, eq=False)
class Net:
    """xdot = -x + W tanh(x) + b."""

    W: np.ndarray
    b: np.ndarray

    def __call__(self, t, x, args):
        return -x + jnp.asarray(self.W) @ jnp.tanh(x) + jnp.asarray(self.b)


def closure(gens, n, limit=1000):
    """All products of the generators (as tuples), by breadth-first search."""
    e = tuple(range(n))
    group, frontier = {e}, [e]
    while frontier and len(group) < limit:
        new = []
        for a in frontier:
            for g in gens:
                c = tuple(np.asarray(a)[g])
                if c not in group:
                    group.add(c)
                    new.append(c)
        frontier = new
    return group


def block_network(n, seed=3):
    """4 identical blocks of n/4 units, all coupled by one shared matrix, units relabelled."""
    rng = np.random.default_rng(seed)
    m = n // 4
    B, C = rng.normal(size=(m, m)) / np.sqrt(m), 0.3 * rng.normal(size=(m, m)) / np.sqrt(m)
    W = np.kron(np.eye(4), B - C) + np.kron(np.ones((4, 4)), C)
    b = np.tile(0.2 * rng.normal(size=m), 4)
    perm = rng.permutation(n)
    block = np.repeat(np.arange(4), m)[perm]  # the block of each unit after relabelling
    return W[np.ix_(perm, perm)], b[perm], block


def test_block_network_has_the_permutations_of_its_four_blocks():
    n = 64
    W, b, block = block_network(n)
    sde = nn.SDE(drift=Net(W, b), diffusion=0.1)
    pts = RNG.normal(size=(6, n))
    found = nn.find_discrete_symmetries(sde, pts, times=0.0, weights=(W, b))
    srcs = [s.permutation for s in found]
    # S_4 on the blocks: 24 elements, every one mapping whole blocks onto blocks
    group = closure(srcs, n)
    assert len(group) == 24
    for g in group:
        g = np.asarray(g)
        assert all(len(set(block[g[block == k]])) == 1 for k in range(4))
    f = Net(W, b)
    for s in found:  # each verified on the drift: f(P x) = P f(x) at fresh random states
        assert s.residual < 1e-12 and s.name.startswith("permutation (x")
        x = RNG.normal(size=n)
        assert np.allclose(f(0, s.apply(x), None), s.apply(f(0, x, None)), atol=1e-12)
        assert sum(len(c) for c in s.cycles) == np.sum(s.permutation != np.arange(n))


def test_hidden_permutation_symmetry_is_found_and_a_random_network_has_only_the_flip():
    n, rng = 96, np.random.default_rng(7)
    sigma, p = np.arange(n), rng.permutation(n)  # 20 transpositions and 16 3-cycles: order 6
    for c in [p[i : i + 2] for i in range(0, 40, 2)] + [p[i : i + 3] for i in range(40, 88, 3)]:
        sigma[c] = np.roll(c, -1)
    W, seen = np.zeros((n, n)), np.zeros((n, n), dtype=bool)
    for i in range(n):  # one random weight per orbit of sigma on the pairs (i, j)
        for j in range(n):
            v, a, c = rng.normal() / np.sqrt(n), i, j
            while not seen[a, c]:
                seen[a, c], W[a, c] = True, v
                a, c = sigma[a], sigma[c]
    assert np.array_equal(W[np.ix_(sigma, sigma)], W)
    sde = nn.SDE(drift=Net(W, np.zeros(n)), diffusion=0.1)
    pts = RNG.normal(size=(6, n))
    found = nn.find_discrete_symmetries(sde, pts, times=0.0, weights=W)
    group = closure([s.permutation for s in found], n)
    src = np.argsort(sigma)  # (P x)_sigma(i) = x_i
    assert len(group) == 6 and tuple(src) in group
    assert all(s.residual < 1e-12 for s in found)
    # a random tanh network without bias: x -> -x only (tanh is odd); with a bias, nothing;
    # and the weights of another network are caught (its permutations fail on this model)
    Wr = rng.normal(size=(n, n)) / np.sqrt(n)
    rand = nn.SDE(drift=Net(Wr, np.zeros(n)), diffusion=0.1)
    (flip,) = nn.find_discrete_symmetries(rand, pts, times=0.0, weights=Wr)
    assert flip.name == "flip x -> -x" and np.array_equal(flip.signs, -np.ones(n))
    assert np.array_equal(flip.permutation, np.arange(n)) and flip.residual < 1e-12
    br = 0.1 * rng.normal(size=n)
    biased = nn.SDE(drift=Net(Wr, br), diffusion=0.1)
    assert nn.find_discrete_symmetries(biased, pts, times=0.0, weights=(Wr, br)) == []
    with pytest.warns(UserWarning, match="do not describe the model"):
        found = nn.find_discrete_symmetries(rand, pts, times=0.0, weights=W)
    assert [s.name for s in found] == ["flip x -> -x"]


def test_pairs_mode_is_unchanged_and_bad_options_are_named():
    W, b, _ = block_network(8, seed=1)  # blocks of 2: the swaps are products of 2 transpositions
    sde = nn.SDE(drift=Net(W, b), diffusion=0.1)
    pts = RNG.normal(size=(5, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.find_discrete_symmetries(sde, pts, times=0.0) == []  # no single pair swap
    graph = nn.find_discrete_symmetries(sde, pts, times=0.0, weights=(W, b))
    assert len(closure([s.permutation for s in graph], 8)) == 24
    # the model's Jacobian graph (no weights given) finds the same group
    same = nn.find_discrete_symmetries(sde, pts, times=0.0, permutations="graph")
    assert closure([s.permutation for s in same], 8) == closure([s.permutation for s in graph], 8)
    for kwargs, exc, word in [
        (dict(permutations="all"), ValueError, "permutations"),
        (dict(weights=np.zeros((3, 3))), ValueError, "weights"),
        (dict(weights=(W, np.zeros(5))), ValueError, "b must"),
    ]:
        with pytest.raises(exc, match=word):
            nn.find_discrete_symmetries(sde, pts, **kwargs)
    with pytest.raises(ValueError, match="method"):
        nn.find_symmetries(sde, pts, method="svd")
    with pytest.raises(ValueError, match="max_generators"):
        nn.find_symmetries(sde, pts, max_generators=0)


def test_sign_flips_of_decoupled_groups_of_units_in_graph_mode():
    # Two uncoupled tanh blocks of 10 units (x1..x10, x11..x20), a bias on unit 15 only: the
    # first block flips on its own, the second does not; the whole model (no weights given,
    # from its Jacobian graph) the same. A flip is checked on f: f(-x_A, x_B) = (-f_A, f_B).
    import jax.numpy as jnp

    rng = np.random.default_rng(3)
    n = 20
    W = np.zeros((n, n))
    W[:10, :10] = rng.normal(size=(10, 10)) / 3
    W[10:, 10:] = rng.normal(size=(10, 10)) / 3
    b = np.zeros(n)
    b[14] = 0.3
    pts = RNG.normal(size=(6, n))
    by_weights = nn.find_discrete_symmetries(
        nn.SDE(drift=Net(W, b), diffusion=0.1), pts, times=0.0, weights=(W, b)
    )
    Wj, bj = jnp.asarray(W), jnp.asarray(b)
    generic = nn.SDE(drift=lambda t, x, a: -x + Wj @ jnp.tanh(x) + bj, diffusion=0.1)
    by_model = nn.find_discrete_symmetries(generic, pts, times=0.0, permutations="graph")
    for found in (by_weights, by_model):
        (flip,) = found
        assert np.array_equal(flip.signs, np.r_[-np.ones(10), np.ones(10)])
        assert flip.name.startswith("flip x1, x2") and flip.name.endswith("(10 units) -> -")
        x = RNG.normal(size=n)
        f = Net(W, b)
        assert np.allclose(f(0, flip.apply(x), None), flip.apply(f(0, x, None)), atol=1e-13)


def _small_graphs():
    """Small labelled digraphs with known structure: twins, twins among other units, a
    directed cycle, a complete graph, blocks, random labels (n = 5-7)."""
    rng = np.random.default_rng(11)
    out = []
    for n in (5, 6, 7):
        for kind in ("twins", "mixed", "cycle", "complete", "blocks", "random"):
            E = rng.integers(0, 3, size=(n, n))
            col = np.zeros(n, dtype=np.int64)
            if kind == "twins":  # units 0-2 interchangeable: equal rows/columns, equal pairs
                E[1], E[2] = E[0], E[0]
                E[:, 1], E[:, 2] = E[:, 0], E[:, 0]
                E[np.ix_([0, 1, 2], [0, 1, 2])] = 1
                np.fill_diagonal(E[:3, :3], 2)
            elif kind == "mixed":  # twins {0, 1} and {3, 4} coupled to a directed path
                E[1], E[:, 1] = E[0], E[:, 0]
                E[0, 1] = E[1, 0]
                E[1, 1] = E[0, 0]
                E[4], E[:, 4] = E[3], E[:, 3]
                E[3, 4] = E[4, 3]
                E[4, 4] = E[3, 3]
                col[2] = 1
            elif kind == "cycle":
                E = np.zeros((n, n), dtype=np.int64)
                E[np.arange(n), (np.arange(n) + 1) % n] = 1
            elif kind == "complete":
                E = np.ones((n, n), dtype=np.int64) - np.eye(n, dtype=np.int64)
            elif kind == "blocks":
                E = np.kron(np.eye(n // 2 + n % 2, dtype=np.int64), [[0, 1], [1, 0]])[:n, :n]
            out.append((f"{kind}-{n}", col, E))
    return out


@pytest.mark.parametrize("sparse", [0.0, 1.0], ids=["dense", "sparse"])
@pytest.mark.parametrize("name, col, E", _small_graphs(), ids=[g[0] for g in _small_graphs()])
def test_automorphism_generators_generate_the_whole_group(name, col, E, sparse, monkeypatch):
    # Against brute force: every permutation of n <= 7 units tried on the graph; refined from
    # all n^2 pairs (dense) and from the pairs off the background label (sparse).
    from noisynoether.symmetry import _automorphisms
    from noisynoether.symmetry._automorphisms import Graph, automorphism_generators

    monkeypatch.setattr(_automorphisms, "SPARSE", sparse)
    n = len(col)
    graph = Graph(col, E)
    assert graph._sparse == (sparse > 0)
    gens, complete = automorphism_generators(graph)
    assert complete and all(graph.is_automorphism(g) for g in gens)
    brute = {p for p in itertools.permutations(range(n)) if graph.is_automorphism(np.array(p))}
    assert closure([np.asarray(g) for g in gens], n, limit=10**4) == brute, name


def test_a_flip_out_of_the_models_domain_is_not_a_symmetry_and_not_an_error():
    # f = 1 - sqrt(x) is defined for x >= 0 only: x -> -x leaves the domain. The units are
    # identical and uncoupled (W = 0): the permutations are found, the flips dropped.
    n = 6
    W = np.zeros((n, n))
    sde = nn.SDE(drift=lambda t, x, a: 1.0 - jnp.sqrt(x), diffusion=0.1)
    pts = np.random.default_rng(2).uniform(0.5, 2.0, (6, n))
    found = nn.find_discrete_symmetries(sde, pts, times=0.0, weights=W)
    assert len(found) == n - 1 and all(np.all(s.signs > 0) for s in found)


# ------------------------------------------------------------------ signed permutations
def signed_closure(syms, n, limit=10**4):
    """All products of signed permutations ``(P x)_k = s_k x_src[k]``, as n x n matrices
    (tuples of their entries), by breadth-first search."""
    gens = [s.matrix for s in syms]
    e = tuple(np.eye(n).ravel())
    group, frontier = {e}, [np.eye(n)]
    while frontier and len(group) < limit:
        new = []
        for a in frontier:
            for g in gens:
                c = g @ a
                if tuple(c.ravel()) not in group:
                    group.add(tuple(c.ravel()))
                    new.append(c)
        frontier = new
    return group


def test_signed_permutations_find_the_twisted_rotation_of_a_sign_changing_ring():
    # Unit i drives unit i + 1 with weight w, except the wrap, which inhibits: no permutation
    # preserves W (only x -> -x holds), but moving each value one unit on and negating the
    # one that wraps does (its 2n-th power is the identity, its n-th x -> -x).
    n, w = 12, 1.2
    W = np.zeros((n, n))
    W[np.arange(1, n), np.arange(n - 1)] = w
    W[0, n - 1] = -w
    sde = nn.models.noisy_rnn(W, D=0.1)
    pts = RNG.normal(size=(6, n))
    assert [s.name for s in nn.find_discrete_symmetries(sde, pts, times=0.0)] == ["flip x -> -x"]
    found = nn.find_discrete_symmetries(sde, pts, times=0.0, permutations="signed")
    twist = np.zeros((n, n))
    twist[np.arange(1, n), np.arange(n - 1)] = 1.0
    twist[0, n - 1] = -1.0  # (T x)_{i+1} = x_i, (T x)_1 = -x_n
    group = signed_closure(found, n)
    assert len(group) == 2 * n and tuple(twist.ravel()) in group
    assert tuple(-np.eye(n).ravel()) in group
    f = lambda x: -x + W @ np.tanh(x)  # noqa: E731  (the formula, not the model's code)
    for s in found:
        x = RNG.normal(size=n)
        assert np.allclose(f(s.matrix @ x), s.matrix @ f(x), atol=1e-12)
        assert np.allclose(s.apply(x), s.matrix @ x)
    (t,) = found
    assert t.name.startswith("permutation (x1 x2 x3") and t.name.endswith(", then flip x1 -> -")


@pytest.mark.parametrize("seed", range(4))
def test_signed_search_finds_every_signed_symmetry_of_small_networks(seed):
    # Against brute force: "pairs" checks all 2^n n! signed permutations on f and D for
    # n <= 4. The network is made invariant under a random signed permutation T by averaging
    # W and b over the cyclic group of T (T W T^T = W, T b = b), so the group is non-trivial;
    # the signed search's generators must close to exactly the brute-force set.
    rng = np.random.default_rng(seed)
    n = 3 + seed % 2
    T = np.zeros((n, n))
    T[rng.permutation(n), np.arange(n)] = rng.choice([-1.0, 1.0], size=n)
    powers, P = [], np.eye(n)
    while not powers or not np.array_equal(P, np.eye(n)):
        powers.append(P)
        P = T @ P
    W0, b0 = rng.normal(size=(n, n)), (0.3 * rng.normal(size=n)) * (seed >= 2)
    W = sum(Q @ W0 @ Q.T for Q in powers) / len(powers)
    b = sum(Q @ b0 for Q in powers) / len(powers)
    sde = nn.models.noisy_rnn(W, b, D=0.1)
    pts = RNG.normal(size=(6, n))
    brute = nn.find_discrete_symmetries(sde, pts, times=0.0, permutations="pairs")
    signed = nn.find_discrete_symmetries(sde, pts, times=0.0, permutations="signed")
    want = {tuple(s.matrix.ravel()) for s in brute} | {tuple(np.eye(n).ravel())}
    assert tuple(T.ravel()) in want or len(powers) == 1
    assert signed_closure(signed, n) == want
    assert all(s.residual < 1e-12 for s in signed)


def test_signed_search_needs_weights_and_says_when_the_nonlinearity_is_not_odd():
    n = 6
    W = np.zeros((n, n))
    W[np.arange(1, n), np.arange(n - 1)] = 1.0
    W[0, n - 1] = -1.0
    pts = RNG.normal(size=(6, n))
    Wj = jnp.asarray(W)
    generic = nn.SDE(drift=lambda t, x, a: -x + Wj @ jnp.tanh(x), diffusion=0.1)
    with pytest.raises(ValueError, match="permutations='signed' needs the network's weights"):
        nn.find_discrete_symmetries(generic, pts, permutations="signed")
    # the same weights given: found
    (t,) = nn.find_discrete_symmetries(generic, pts, permutations="signed", weights=W)
    assert t.residual < 1e-12
    # a sigmoid is not odd: the twisted rotation preserves W but is no symmetry
    sig = nn.models.noisy_rnn(W, D=0.1, nonlinearity="sigmoid")
    with pytest.warns(UserWarning, match="nonlinearity is not odd"):
        assert nn.find_discrete_symmetries(sig, pts, permutations="signed") == []


def test_sparse_refinement_gives_the_dense_colours_and_traces(monkeypatch):
    # The same hashed sums from the pairs off the background label: the same partitions,
    # level by level, on a directed cycle with random chords, and with one unit individualised.
    from noisynoether.symmetry import _automorphisms
    from noisynoether.symmetry._automorphisms import Graph, _individualise

    rng = np.random.default_rng(5)
    for n, chords in ((40, 0.0), (90, 0.02)):
        E = 2 * (rng.random((n, n)) < chords)  # a directed cycle (and random chords)
        E[np.arange(n), (np.arange(n) + 1) % n] = 1
        col = np.zeros(n, dtype=np.int64)
        out = []
        for frac in (0.0, 1.0):
            monkeypatch.setattr(_automorphisms, "SPARSE", frac)
            g = Graph(col, E)
            c0, t0 = g.refine(g.colours)
            out.append((c0, t0, *g.refine(_individualise(c0, int(np.argmax(c0))))))
        (c0, t0, c1, t1), (d0, u0, d1, u1) = out
        assert np.array_equal(c0, d0) and np.array_equal(c1, d1) and t0 == u0 and t1 == u1
        if not chords:  # one unit told apart: its neighbours in the next round, and so on
            assert len(t0) == 1 and len(t1) >= n // 4


def test_a_signed_permutation_out_of_the_models_domain_is_dropped_not_an_error():
    # f = W sqrt(x) - x (x > 0 only): with W = 0 the units are identical and uncoupled, so
    # the weights' signed group also flips each unit, which leaves the domain: only the
    # permutations remain (n - 1 generators of S_n, all signs +1).
    n = 5
    W = np.zeros((n, n))
    sde = nn.SDE(drift=lambda t, x, a: 1.0 - jnp.sqrt(x), diffusion=0.1)
    pts = np.random.default_rng(2).uniform(0.5, 2.0, (6, n))
    found = nn.find_discrete_symmetries(sde, pts, times=0.0, weights=W, permutations="signed")
    assert found and all(np.all(s.signs > 0) for s in found)
    assert len(closure([s.permutation for s in found], n)) == 120


def test_matrix_free_warns_when_the_sample_has_too_few_points():
    # n = 6 with 3 points: 18 conditions for 42 unknowns, so most of the null space is the
    # sample's, not the model's; the message said so, now a warning does too.
    n = 6
    W = RNG.normal(size=(n, n)) / np.sqrt(n)
    sde = nn.SDE(drift=lambda t, x, a: -x + jnp.asarray(W) @ jnp.tanh(x), diffusion=0.1)
    with pytest.warns(UserWarning, match="give at least 7 points"):
        syms = nn.find_symmetries(sde, RNG.normal(size=(3, n)), times=0.0, method="matrix-free")
    assert "give at least 7 points" in syms.message
