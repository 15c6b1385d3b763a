"""Learned scores on the ring of Fig. 2: networks, training, save/load, the reverse SDE, L_12.

Tiny budget (a few hundred steps of a width-16 MLP, K = 41 path nodes, one end point): the
pipeline runs end to end; the assertions are those that hold for any training outcome (the
equivariant network's symmetry is exact by construction) or against independent references
(the exact score's loss and model, a Gaussian-data score, a deliberately broken score).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import noisynoether as nn
from noisynoether import scores
from noisynoether.models import ring_reverse_diffusion, ring_score

STEPS, WIDTH, DEPTH, K = 600, 16, 2, 41
PHI = np.pi / 4
LOSS_KEY = jax.random.key(7)


def _rotation(angle, reflect=False):
    c, s = np.cos(angle), np.sin(angle)
    Q = np.array([[c, -s], [s, c]])
    return Q @ np.diag([1.0, -1.0]) if reflect else Q


class _Shifted:
    """A deliberately non-equivariant score: ``score(x, t) + (0.05, 0) / t`` (the reverse drift
    2 t s gains a constant push 2 (0.05, 0) along x1, which no rotation leaves alone)."""

    def __init__(self, score):
        self.score = score

    def __call__(self, x, t):
        return self.score(x, t) + jnp.array([0.05, 0.0]) / t


@pytest.fixture(scope="module")
def trained():
    return {
        kind: scores.train_ring_score(
            kind,
            steps=STEPS,
            width=WIDTH,
            depth=DEPTH,
            num_samples=2000,
            batch_size=128,
            learning_rate=1e-2,
            chunk=STEPS // 3,
        )
        for kind in scores.KINDS
    }


@pytest.fixture(scope="module")
def samples():
    return scores.ring_samples(4000, jax.random.key(3))


@pytest.fixture(scope="module")
def comparison(trained):
    # Two models only (each new model compiles its solver: ~5 s); the exact model's paths and
    # their L_12 are tested in test_ring.py, its drift against the builder's below.
    models = {
        "equivariant": scores.learned_reverse_diffusion(trained["equivariant"].network),
        "shifted": scores.learned_reverse_diffusion(_Shifted(trained["equivariant"].network)),
    }
    return scores.compare_scores(
        models,
        reference="equivariant",
        num_points=K,
        phis=(PHI,),
        num_defect_points=20,
        defect_times=3,
    )


def test_equivariant_network_commutes_with_rotations_by_construction(trained):
    rng = np.random.default_rng(0)
    xs = 8.0 * rng.normal(size=(50, 2))
    ts = np.exp(rng.uniform(np.log(0.3), np.log(40.0), size=50))
    nets = {k: jax.vmap(trained[k].network) for k in scores.KINDS}
    errs = {}
    for kind, net in nets.items():
        s = np.asarray(net(xs, ts))
        worst = 0.0
        for Q in (_rotation(0.7), _rotation(2.9), _rotation(-1.3, reflect=True)):
            sq = np.asarray(net(xs @ Q.T, ts))
            worst = max(worst, np.max(np.abs(sq - s @ Q.T)) / np.max(np.abs(s)))
        errs[kind] = worst
    assert errs["equivariant"] < 1e-12
    assert errs["plain"] > 1e-4  # the plain MLP is not: the check can tell the two apart
    # smooth and zero at the origin (s = h(|x|^2, t) x)
    s0 = trained["equivariant"].network(jnp.zeros(2), 1.0)
    assert np.all(np.isfinite(s0)) and np.max(np.abs(s0)) == 0.0


def test_dsm_loss_decreases_below_the_gaussian_bound(trained, samples):
    exact = scores.dsm_loss(ring_score, samples, LOSS_KEY)
    c2 = float(np.mean(samples**2))  # Gaussian data N(0, c^2 I): s = -x / (c^2 + t^2)
    gaussian = scores.dsm_loss(lambda x, t: -x / (c2 + t**2), samples, LOSS_KEY)
    assert exact < gaussian - 0.02  # the ring is not Gaussian: a bound worth beating
    for res in trained.values():
        assert res.losses[-1] < res.losses[0]
        loss = scores.dsm_loss(res.network, samples, LOSS_KEY)
        # above the floor (up to sampling), well below the Gaussian bound
        assert exact - 0.01 < loss < gaussian - 0.05


def test_exact_score_through_the_learned_score_builder_gives_the_exact_model(comparison):
    # The same drift and noise as the exact Eq. 21 model at every state and time (hence the
    # same paths; solving both would compile two more solvers).
    t, tau = comparison["t"], comparison["tau"]
    built = scores.learned_reverse_diffusion(ring_score)
    exact = ring_reverse_diffusion()
    rng = np.random.default_rng(1)
    for x, s_ in zip(8.0 * rng.normal(size=(20, 2)), rng.uniform(0.0, tau[-1], 20), strict=True):
        np.testing.assert_allclose(built.f(s_, x), exact.f(s_, x), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(
            built.D_matrix(s_, x), exact.D_matrix(s_, x), rtol=1e-13, atol=1e-15
        )
    assert t[0] == pytest.approx(nn.models.RING_T_MAX) and tau[0] == 0.0


def test_equivariant_paths_conserve_L12_and_a_broken_score_leaks(comparison):
    models = comparison["models"]
    for name in ("equivariant", "shifted"):
        p = models[name]["paths"][0]
        assert p["converged"], name
        assert p["balance_residual"] < 1e-9  # Noether with a source closes on every path
    eq, sh = (models[n]["paths"][0] for n in ("equivariant", "shifted"))
    assert abs(eq["L12"][0]) > 1e-3  # a path that turns: L12 is not trivially zero
    assert eq["L12_max_drift"] < 1e-10 * abs(eq["L12"][0]) + 1e-13
    assert sh["L12_max_drift"] > 1e-3  # the push along x1 breaks the rotation symmetry
    assert models["equivariant"]["defect"] < 1e-12
    assert models["shifted"]["defect"] > 1e-3


def test_save_and_load_round_trip(trained, tmp_path):
    xs = np.array([[0.0, 0.0], [3.0, -4.0], [10.0, 2.0]])
    ts = np.array([0.4, 2.0, 31.6])
    for kind, res in trained.items():
        paths = scores.save_score(tmp_path / f"net_{kind}", res.network, res.hyperparameters)
        assert [p.suffix for p in paths] == [".eqx", ".json"]
        net, info = scores.load_score(tmp_path / f"net_{kind}.json")
        assert info["kind"] == kind and info["width"] == WIDTH and info["depth"] == DEPTH
        assert info["steps"] == STEPS
        want = np.asarray(jax.vmap(res.network)(xs, ts))
        assert np.array_equal(np.asarray(jax.vmap(net)(xs, ts)), want)
    with pytest.raises(FileNotFoundError, match="missing"):
        scores.load_score(tmp_path / "nothing")
    with pytest.raises(ValueError, match="kind"):
        scores.make_score_network("cnn", key=jax.random.key(0))
    with pytest.raises(TypeError, match="score must be a callable"):
        scores.learned_reverse_diffusion(3.0)
    with pytest.raises(TypeError, match="score must be a callable"):
        nn.models.reverse_diffusion_from_score("ring")
