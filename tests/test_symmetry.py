"""Symmetry discovery, defects, charge balances, the converse, discrete symmetries (issue 5).

Every expected answer is worked out by hand from the conditions ``J_f (A x + b) = A f`` and
``J_D[A x + b] = A D + D A^T`` (paper Eqs. 3-4, 14-17).
"""

import argparse
import itertools
import re

import jax.numpy as jnp
import numpy as np
import pytest

import noisynoether as nn
from noisynoether.cli import symmetries as cli_symmetries
from noisynoether.symmetry import (
    ChargeBalance,
    DiscreteSymmetry,
    Symmetry,
    SymmetryList,
    charge_balance,
    conserved_quantities,
    find_discrete_symmetries,
    find_symmetries,
    symmetry_defect,
)

RNG = np.random.default_rng(5)
PTS3 = RNG.normal(size=(25, 3))
PTS2 = RNG.normal(size=(25, 2))


def rotation(n, i, j):
    """The paper's rotation in the (x_i, x_j) plane (0-based): A = E_ji - E_ij, charge L_ij."""
    A = np.zeros((n, n))
    A[j, i], A[i, j] = 1.0, -1.0
    return A


def inner(s, t):
    """The documented inner product 1/2 tr(A^T A') + b . b'."""
    return 0.5 * np.sum(s.A * t.A) + s.b @ t.b


# ------------------------------------------------------------------ models used below
def swirl(t, x, eps):
    """Rotates in the (x1, x2) plane with a radius-dependent growth; x3 slaved to r^2."""
    r2 = x[0] ** 2 + x[1] ** 2
    a = 1.0 - r2
    return jnp.stack([a * x[0] - 0.7 * x[1], a * x[1] + 0.7 * x[0], -x[2] + 0.5 * r2])


def swirl_diffusion(t, x, eps):
    """D = diag(d, (1 + eps) d, d3): eps breaks the isotropy in the rotation plane."""
    return jnp.array([0.3, 0.3 * (1.0 + eps), 0.2])


SWIRL = nn.SDE(drift=swirl, diffusion=swirl_diffusion)  # eps passed as args
SWIRL_ENDS = [
    ([1.0, 0.0, 0.0], [0.0, -1.0, 0.5]),
    ([0.5, 0.5, 0.2], [-1.0, 0.3, 0.0]),
    ([0.0, 1.2, -0.3], [0.8, 0.2, 0.4]),
    ([-0.6, -0.4, 0.1], [0.3, -0.9, -0.2]),
    ([0.2, -0.3, 0.6], [1.1, 0.5, 0.1]),
]


@pytest.fixture(scope="module")
def swirl_paths():
    """Most likely paths of the swirl model for eps = 0 (symmetric), 0.2 and 0.5 (broken)."""
    out = {}
    for eps in (0.0, 0.2, 0.5):
        out[eps] = [
            nn.most_likely_path(SWIRL, a, b, 0.0, 1.5, num_points=201, args=eps)
            for a, b in SWIRL_ENDS
        ]
        assert all(p.converged for p in out[eps])
    return out


# ------------------------------------------------------------------ find_symmetries
@pytest.mark.parametrize("n", [3, 4])
def test_isotropic_ou_has_the_rotation_algebra_so_n(n):
    ou = nn.models.ornstein_uhlenbeck(-np.eye(n), 1.0)
    syms = find_symmetries(ou, RNG.normal(size=(20, n)))
    assert isinstance(syms, SymmetryList) and syms.autonomous is True
    affine = syms.affine
    assert len(affine) == n * (n - 1) // 2  # no translations: J_f xi - A f = -b forces b = 0
    planes = set()
    for s in affine:
        assert np.allclose(s.A, -s.A.T, atol=1e-12) and np.allclose(s.b, 0.0, atol=1e-12)
        assert s.residual < 1e-12
        i, j = np.argwhere(np.abs(np.tril(s.A)) > 0.5)[0][::-1]
        assert s.name == f"rotation in the (x{i + 1}, x{j + 1}) plane"
        assert np.allclose(s.A, rotation(n, i, j), atol=1e-12)  # sparse, sign of Eq. 16
        planes.add((i, j))
    assert planes == set(itertools.combinations(range(n), 2))
    gram = np.array([[inner(s, t) for t in affine] for s in affine])
    assert np.allclose(gram, np.eye(len(affine)), atol=1e-12)  # orthonormal basis
    assert [s.kind for s in syms].count("time") == 1
    # the gap: the next singular value is far from the null ones
    assert syms.singular_values[-len(affine) - 1] > 1e-3


def test_swirl_has_one_rotation_which_anisotropic_D_removes():
    iso = nn.SDE(drift=swirl, diffusion=[0.3, 0.3, 0.2])
    syms = find_symmetries(iso, PTS3)
    assert [s.name for s in syms.affine] == ["rotation in the (x1, x2) plane"]
    assert np.allclose(syms.affine[0].A, rotation(3, 0, 1), atol=1e-10)
    assert np.allclose(syms.affine[0].b, 0.0, atol=1e-10)
    assert symmetry_defect(iso, syms.affine[0], PTS3) < 1e-12
    aniso = nn.SDE(drift=swirl, diffusion=[0.3, 0.45, 0.2])
    broken = find_symmetries(aniso, PTS3)
    assert broken.affine == [] and [s.kind for s in broken] == ["time"]
    assert symmetry_defect(aniso, (rotation(3, 0, 1), None), PTS3) > 0.05


def test_non_normal_drift_with_correlated_D_has_only_time_translation():
    sde = nn.models.ornstein_uhlenbeck([[-1.0, 3.0], [0.0, -2.0]], [[0.3, 0.1], [0.1, 0.2]])
    syms = find_symmetries(sde, PTS2)
    assert [s.kind for s in syms] == ["time"]
    assert syms.autonomous is True and syms[0].residual == 0.0
    ts = np.linspace(0, 1, 11)
    xs = np.stack([np.linspace(0, 1, 11), np.linspace(1, 0, 11)], axis=1)
    assert np.allclose(syms[0].charge(ts, xs), nn.energy(sde, ts, xs))


def test_brownian_motion_with_drift_translations_and_surviving_rotations():
    # v along x1, D isotropic: translations along every axis, and rotations with A v = 0 that
    # preserve D (A antisymmetric): only the (x2, x3) plane. Dimension 3 + 1.
    syms = find_symmetries(nn.models.drift_diffusion([0.4, 0.0, 0.0], 1.0), PTS3)
    assert sorted(s.name for s in syms.affine) == [
        "rotation in the (x2, x3) plane",
        "translation along x1",
        "translation along x2",
        "translation along x3",
    ]
    # A drift in a general direction: still 3 + 1, the rotation about v.
    v = np.array([0.3, 0.2, 0.1])
    syms = find_symmetries(nn.models.drift_diffusion(v, 1.0), PTS3)
    assert len(syms.affine) == 4
    rot = [s for s in syms.affine if s.name.startswith("rotation about the axis")]
    assert len(rot) == 1 and np.allclose(rot[0].A @ v, 0.0, atol=1e-10)
    # No drift: the Euclidean algebra, 3 translations and so(3).
    assert len(find_symmetries(nn.models.drift_diffusion([0.0, 0.0, 0.0], 1.0), PTS3).affine) == 6
    # Anisotropic D: the rotation becomes a rotation in the metric of D, A = W D^-1 with W
    # antisymmetric (A D + D A^T = 0), still with A v = 0: 3 + 1 again, not 3.
    D = np.array([1.0, 2.0, 3.0])
    aniso = nn.SDE(drift=lambda t, x, a: jnp.array([0.4, 0.0, 0.0]) + 0 * x, diffusion=D)
    syms = find_symmetries(aniso, PTS3).affine
    assert [s.name for s in syms] == [f"translation along x{i}" for i in (1, 2, 3)] + [
        "D-rotation in the (x2, x3) plane (A D antisymmetric)"
    ]
    W = syms[3].A * D
    assert np.allclose(W, -W.T, atol=1e-12) and not np.allclose(syms[3].A, -syms[3].A.T)


def test_drift_of_x1_only_keeps_the_translations_along_the_other_axes():
    def f(t, x, args):
        return jnp.stack([x[0] - x[0] ** 3, jnp.sin(x[0]), jnp.cos(2 * x[0])])

    syms = find_symmetries(nn.SDE(drift=f, diffusion=0.5), PTS3)
    assert [s.name for s in syms.affine] == ["translation along x2", "translation along x3"]
    for s in syms.affine:
        assert np.allclose(s.A, 0.0, atol=1e-12) and abs(np.linalg.norm(s.b) - 1) < 1e-12


def test_ring_reverse_diffusion_is_rotation_symmetric_but_not_autonomous():
    ring = nn.models.ring_reverse_diffusion()
    taus = nn.models.diffusion_time_to_tau(np.array([nn.models.RING_T_MAX, 10.0, 1.0, 0.4]))
    syms = find_symmetries(ring, 6.0 * RNG.normal(size=(30, 2)), times=taus)
    assert [s.name for s in syms] == ["rotation in the (x1, x2) plane"]  # no energy
    assert syms.autonomous is False and "not autonomous" in syms.message
    assert syms.time_residual > 0.1
    assert symmetry_defect(ring, Symmetry("time", None, None, "t", 0.0), PTS2, times=taus) > 0.1
    # a time-independent model with an affine symmetry about a centre is named as such
    shifted = nn.models.ornstein_uhlenbeck(-np.eye(2), 1.0, b=[1.0, 2.0])
    assert find_symmetries(shifted, PTS2).affine[0].name == (
        "rotation in the (x1, x2) plane about (x1, x2) = (1, 2)"
    )


# ------------------------------------------------------------------ charge_balance
def test_charge_balance_closes_to_solver_precision_and_leakage_grows(swirl_paths):
    rot = find_symmetries(SWIRL, PTS3, args=0.0).affine[0]
    assert rot.name == "rotation in the (x1, x2) plane"
    leaks = []
    for eps, paths in swirl_paths.items():
        res = paths[0]
        bal = charge_balance(SWIRL, res.ts, res.xs, rot, args=eps)
        assert isinstance(bal, ChargeBalance) and bal.charge.shape == (200,)
        assert bal.source[0] == 0.0
        assert bal.residual < 1e-10 * max(1.0, bal.scale)  # exact discrete Noether identity
        assert abs(bal.leakage - bal.source[-1]) < 1e-10
        # the reported charge is the midpoint charge p . xi(x_m) up to O(dt^2)
        mid = nn.noether_charge(SWIRL, res.ts, res.xs, rot.A, rot.b, args=eps)
        assert np.allclose(bal.midpoint_charge, mid, atol=1e-13)
        assert np.max(np.abs(bal.charge - mid)) < 1e-3
        leaks.append(abs(bal.leakage))
    assert leaks[0] < 1e-10  # the symmetry: Q conserved even for this nonlinear drift
    assert 1e-2 < leaks[1] < leaks[2]  # leakage grows with the breaking
    # a path that is not most likely does not balance: the check can fail
    res = swirl_paths[0.2][0]
    straight = np.linspace(res.xs[0], res.xs[-1], res.xs.shape[0])
    assert charge_balance(SWIRL, res.ts, straight, (rot.A, rot.b), args=0.2).residual > 1e-3


def test_energy_balance_of_a_time_dependent_model():
    def forced(t, x, args):
        return -(1.0 + 0.5 * jnp.sin(2.0 * t)) * x + jnp.array([0.3 * jnp.cos(t), 0.0])

    sde = nn.SDE(drift=forced, diffusion=0.5)
    res = nn.most_likely_path(sde, [1.0, -1.0], [-0.5, 1.0], 0.0, 2.0, num_points=201)
    assert res.converged
    syms = find_symmetries(sde, PTS2)
    assert syms.autonomous is False and all(s.kind == "affine" for s in syms)
    bal = charge_balance(sde, res.ts, res.xs, Symmetry("time", None, None, "time", 0.0))
    assert abs(bal.leakage) > 1e-2  # energy is pumped by the forcing ...
    assert bal.residual < 1e-3 * abs(bal.leakage)  # ... by dE/dt = -dL/dt, to O(dt^2)
    assert np.allclose(bal.charge, res.energy)


# ------------------------------------------------------------------ conserved_quantities
def test_conserved_quantities_recovers_the_rotation_and_nothing_when_broken(swirl_paths):
    found = conserved_quantities(SWIRL, swirl_paths[0.0], args=0.0)
    assert [s.name for s in found] == ["rotation in the (x1, x2) plane"]
    assert np.allclose(found[0].A, rotation(3, 0, 1), atol=1e-8)
    assert found[0].coefficients.shape == (12,)
    assert conserved_quantities(SWIRL, swirl_paths[0.5], args=0.5) == []
    assert conserved_quantities(SWIRL, swirl_paths[0.2], args=0.2) == []
    # restricted candidates: only the (x1, x2) rotation and the translations
    cands = [(rotation(3, 0, 1), None)] + [(np.zeros((3, 3)), e) for e in np.eye(3)]
    found = conserved_quantities(SWIRL, swirl_paths[0.0], candidates=cands, args=0.0)
    assert len(found) == 1 and np.allclose(np.abs(found[0].coefficients), [1, 0, 0, 0], atol=1e-8)
    # one path is not enough: combinations are constant by accident
    with pytest.warns(UserWarning, match="one path"):
        assert len(conserved_quantities(SWIRL, swirl_paths[0.5][:1], args=0.5)) >= 1
    # The default basis takes a shortcut (its charges as outer products p_i x_j, no SVD of
    # the basis): the full basis given explicitly as candidates finds the same generator.
    from noisynoether.symmetry._constraints import basis

    As, bs = basis(3)
    explicit = [(A / np.sqrt(2), b) for A, b in zip(As, bs, strict=True)]
    found = conserved_quantities(SWIRL, swirl_paths[0.0], args=0.0)
    given = conserved_quantities(SWIRL, swirl_paths[0.0], candidates=explicit, args=0.0)
    assert len(given) == 1 and np.allclose(given[0].A, found[0].A, atol=1e-8)
    np.testing.assert_allclose(given[0].coefficients, found[0].coefficients, atol=1e-8)
    np.testing.assert_allclose(given.singular_values, found.singular_values, atol=1e-10)


def test_basis_charges_are_the_discrete_charges_of_the_basis():
    from noisynoether.symmetry._balance import discrete_charges
    from noisynoether.symmetry._constraints import basis
    from noisynoether.symmetry._converse import _basis_charges

    n, K = 4, 7
    pm, pp, xs = RNG.normal(size=(K - 1, n)), RNG.normal(size=(K - 1, n)), RNG.normal(size=(K, n))
    As, bs = basis(n)
    want = discrete_charges(pm, pp, xs, As / np.sqrt(2), bs).T
    np.testing.assert_allclose(_basis_charges(pm, pp, xs), want, rtol=1e-13, atol=1e-13)


# ------------------------------------------------------------------ discrete symmetries
def test_discrete_swap_of_the_multistable_network_and_not_of_a_variant():
    ms = nn.models.multistable()
    pts = RNG.uniform(-0.5, 4.0, size=(40, 2))
    found = find_discrete_symmetries(ms, pts)
    assert [d.name for d in found] == ["swap x1 <-> x2"]
    assert isinstance(found[0], DiscreteSymmetry)
    assert np.array_equal(found[0].matrix, [[0, 1], [1, 0]])
    # mirror paths have equal action (the discrete action is invariant)
    ts = np.linspace(0, 1, 51)
    xs = np.stack([np.linspace(3, 0.1, 51), 0.1 + np.sin(np.linspace(0, 3, 51))], axis=1)
    assert np.isclose(nn.action(ms, ts, found[0].apply(xs)), nn.action(ms, ts, xs), rtol=1e-13)

    def variant(t, x, args):  # the y population excites itself less
        s = jnp.asarray([1.0, 1.0]) / (1.0 + jnp.exp(-(x - 1.5) / 0.01))
        return jnp.stack(
            [1.25 + 2.0 * s[0] - 0.9 * s[1] - x[0], 1.25 + 1.8 * s[1] - 0.9 * s[0] - x[1]]
        )

    assert find_discrete_symmetries(nn.SDE(drift=variant, diffusion=0.16), pts) == []


def test_discrete_symmetries_of_linear_models():
    ou = nn.models.ornstein_uhlenbeck(-np.eye(2), 1.0)
    assert len(find_discrete_symmetries(ou, PTS2)) == 7  # the square's symmetry group, minus 1
    aniso = nn.models.ornstein_uhlenbeck(-np.eye(2), [1.0, 2.0])
    names = sorted(d.name for d in find_discrete_symmetries(aniso, PTS2))
    assert names == ["flip x1 -> -x1", "flip x1 -> -x1, flip x2 -> -x2", "flip x2 -> -x2"]


def test_pairs_mode_tries_the_flip_of_all_coordinates():
    # n = 6 (pairs mode): an unbiased tanh network is odd, f(-x) = -f(x), and has no other
    # swap or single flip; with a bias it has none.
    rng = np.random.default_rng(4)
    W = jnp.asarray(rng.normal(size=(6, 6)) / 2)
    pts = rng.normal(size=(8, 6))
    odd = nn.SDE(drift=lambda t, x, a: -x + W @ jnp.tanh(x), diffusion=0.1)
    (flip,) = find_discrete_symmetries(odd, pts, permutations="pairs")
    assert flip.name == "flip x -> -x" and np.array_equal(flip.matrix, -np.eye(6))
    biased = nn.SDE(drift=lambda t, x, a: -x + W @ jnp.tanh(x) + 0.2, diffusion=0.1)
    assert find_discrete_symmetries(biased, pts, permutations="pairs") == []


# ------------------------------------------------------------------ input validation
def test_every_public_function_rejects_bad_input_naming_the_argument(swirl_paths):
    ou = nn.models.ornstein_uhlenbeck(-np.eye(2), 1.0)
    res = swirl_paths[0.0][0]
    gen = (rotation(2, 0, 1), None)
    cases = [
        (lambda: find_symmetries("ou", PTS2), TypeError, "sde"),
        (lambda: find_symmetries(ou, np.zeros(5)), ValueError, "points"),
        (lambda: find_symmetries(ou, PTS3), ValueError, "points"),
        (lambda: find_symmetries(ou, [[np.nan, 0.0]]), ValueError, "points"),
        (lambda: find_symmetries(ou, PTS2, tol=2.0), ValueError, "tol"),
        (lambda: find_symmetries(ou, PTS2, times=[0.0, np.inf]), ValueError, "times"),
        (lambda: symmetry_defect(ou, (np.eye(3), None), PTS2), ValueError, "generator"),
        (lambda: symmetry_defect(ou, "rotation", PTS2), TypeError, "generator"),
        (
            lambda: symmetry_defect(ou, Symmetry("time", None, None, "t", 0), PTS2, times=1.0),
            ValueError,
            "times",
        ),
        (lambda: charge_balance(ou, [0, 1, 2], np.zeros((4, 2)), gen), ValueError, "xs"),
        (lambda: charge_balance(ou, [0, 2, 1], np.zeros((3, 2)), gen), ValueError, "ts"),
        (
            lambda: charge_balance(ou, [0, 1, 2], np.zeros((3, 2)), (np.eye(2), [1, 2, 3])),
            ValueError,
            "generator",
        ),
        (lambda: conserved_quantities(ou, 3), TypeError, "paths"),
        (lambda: conserved_quantities(ou, []), ValueError, "paths"),
        (lambda: conserved_quantities(ou, ["path"]), TypeError, "paths[0]"),
        (
            lambda: conserved_quantities(SWIRL, [res], candidates=[(np.eye(2), None)]),
            ValueError,
            "candidates[0]",
        ),
        (lambda: conserved_quantities(SWIRL, [res], tol=0), ValueError, "tol"),
        (lambda: find_discrete_symmetries(ou, np.zeros((3, 3))), ValueError, "points"),
        (lambda: find_discrete_symmetries(ou, PTS2, tol="x"), TypeError, "tol"),
    ]
    for call, err, name in cases:
        with pytest.raises(err, match=rf"(^|\W){re.escape(name)}"):
            call()


# ------------------------------------------------------------------ command line
def test_cli_symmetries_prints_the_tables(capsys):
    parser = argparse.ArgumentParser(prog="noisynoether")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_symmetries.add_parser(sub)
    assert cli_symmetries.run(parser.parse_args(["symmetries", "drift-diffusion"])) == 0
    out = capsys.readouterr().out
    assert "translation along x1" in out and "time translation" in out
    assert "no discrete symmetry" in out
    with pytest.raises(SystemExit):
        parser.parse_args(["symmetries", "lorenz"])
