"""Autodiff gradient and block Hessian against finite differences; banded solves against dense."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import noisynoether as nn
from noisynoether.solvers import _assemble, _banded, _cyclic, _native, _newton


def _random_model(seed=0, n=3):
    rng = np.random.default_rng(seed)
    W1, W2, c = rng.normal(size=(n, n)), rng.normal(size=(n, n)), rng.normal(size=n)

    def drift(t, x, args):
        return jnp.asarray(W2) @ jnp.tanh(jnp.asarray(W1) @ x + c) - x + 0.3 * jnp.sin(t)

    def diffusion(t, x, args):  # state-dependent, correlated, positive definite
        L = jnp.eye(n) + 0.2 * jnp.outer(jnp.sin(x), jnp.cos(x))
        return 0.5 * L @ L.T + 0.1 * jnp.eye(n)

    return nn.SDE(drift=drift, diffusion=diffusion), rng


def test_gradient_and_hessian_match_finite_differences():
    sde, rng = _random_model()
    K, n = 8, 3
    ts = np.sort(rng.uniform(0, 1, K))
    xs = rng.normal(size=(K, n))
    xa, xb, x = jnp.asarray(xs[0]), jnp.asarray(xs[-1]), xs[1:-1]

    vg = jax.jit(lambda xi: _assemble.value_and_grad(sde, jnp.asarray(ts), xi, xa, xb, None))

    def S(xi):
        return float(vg(jnp.asarray(xi))[0])

    vgh = jax.jit(lambda xi: _assemble.value_grad_hessian(sde, jnp.asarray(ts), xi, xa, xb, None))
    _, g, _, B, C = vgh(jnp.asarray(x))
    h = 1e-5
    g_fd = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        g_fd[idx] = (S(x + e) - S(x - e)) / (2 * h)
    np.testing.assert_allclose(np.asarray(g), g_fd, rtol=1e-7, atol=1e-7 * np.max(np.abs(g_fd)))
    # The action itself agrees with the public function.
    assert S(x) == pytest.approx(nn.action(sde, ts, xs), rel=1e-14)

    def grad(xi):
        return np.asarray(vg(jnp.asarray(xi))[1]).ravel()

    H = _banded.to_dense(B, C)
    H_fd = np.zeros_like(H)
    for j, idx in enumerate(np.ndindex(x.shape)):
        e = np.zeros_like(x)
        e[idx] = h
        H_fd[:, j] = (grad(x + e) - grad(x - e)) / (2 * h)
    np.testing.assert_allclose(H, H_fd, atol=1e-6 * np.max(np.abs(H)))
    np.testing.assert_allclose(H, H.T, atol=1e-12 * np.max(np.abs(H)))


@pytest.mark.parametrize("form", ["scalar", "diag", "matrix"])
def test_constant_d_blocks_equal_autodiff_of_the_interval_terms(form):
    # With a constant D the blocks are assembled by hand (Gauss-Newton part plus the drift's
    # curvature, _assemble._constant_d_terms); they must equal autodiff's Hessian of each
    # interval term, and S and the gradient its values, on a time-dependent drift, a
    # non-uniform grid and each form of D (a D given as a function takes the autodiff route).
    n, K = 3, 9
    rng = np.random.default_rng(3)
    W1, W2 = rng.normal(size=(n, n)), rng.normal(size=(n, n))

    def drift(t, x, args):
        return jnp.asarray(W2) @ jnp.tanh(jnp.asarray(W1) @ x) - x**3 + jnp.sin(3 * t) * x[::-1]

    D = {"scalar": 0.3, "diag": np.array([0.2, 0.5, 0.9]), "matrix": None}[form]
    if D is None:
        A = rng.normal(size=(n, n))
        D = A @ A.T + 0.5 * np.eye(n)
    const = nn.SDE(drift=drift, diffusion=D)
    same = nn.SDE(drift=drift, diffusion=lambda t, x, a: jnp.asarray(D) + 0.0 * x[0])
    assert const.is_constant_diffusion and not same.is_constant_diffusion
    ts = jnp.asarray(np.sort(rng.uniform(0, 2, K)))
    xs = rng.normal(size=(K, n))
    xa, xb, x = jnp.asarray(xs[0]), jnp.asarray(xs[-1]), jnp.asarray(xs[1:-1])
    by_hand = jax.jit(lambda xi: _assemble.value_grad_hessian(const, ts, xi, xa, xb, None))(x)
    autodiff = jax.jit(lambda xi: _assemble.value_grad_hessian(same, ts, xi, xa, xb, None))(x)
    for a, b in zip(by_hand, autodiff, strict=True):
        np.testing.assert_allclose(
            np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12 * float(np.max(np.abs(b)))
        )


@pytest.mark.parametrize("M, n", [(1, 2), (2, 2), (5, 1), (40, 3)])
def test_banded_solvers_match_a_dense_solve(M, n):
    rng = np.random.default_rng(M * 10 + n)
    B = rng.normal(size=(M, n, n))
    B = B @ np.swapaxes(B, 1, 2) + 4 * n * np.eye(n)
    C = rng.normal(size=(max(M - 1, 0), n, n))
    rhs = rng.normal(size=(M, n))
    H = _banded.to_dense(B, C)
    expected = np.linalg.solve(H, rhs.ravel()).reshape(M, n)
    solvers = (_banded.lapack_solve, _banded.scan_solve, _cyclic.cyclic_solve)
    # The compiled kernel is a CPU custom call, optional (tests/test_native_kernel.py has its
    # own tests, which skip with the reason where it is not built).
    if jax.default_backend() == "cpu" and nn.native_available():
        solvers = (_native.native_solve, *solvers)
    for solve in solvers:
        x, ok = jax.jit(solve)(jnp.asarray(B), jnp.asarray(C), jnp.asarray(rhs))
        assert bool(ok)
        np.testing.assert_allclose(np.asarray(x), expected, rtol=1e-10, atol=1e-12)
    # An indefinite matrix is reported, not solved.
    shifted = B - 100 * n * np.eye(n)
    for solve in solvers:
        _, ok = jax.jit(solve)(jnp.asarray(shifted), jnp.asarray(C), jnp.asarray(rhs))
        assert not bool(ok)


@pytest.fixture
def on_cpu():
    """The compiled kernel is a CPU custom call: run its tests on the CPU device on any backend."""
    with jax.default_device(jax.devices("cpu")[0]):
        yield


_SOLVES = [
    pytest.param(
        "native",
        marks=pytest.mark.skipif(
            not nn.native_available(),
            reason=f"compiled kernel not available: {_native.unavailable_reason()}",
        ),
    ),
    "lapack",
]


@pytest.mark.parametrize("solver", _SOLVES)
def test_curvature_probe_finds_negative_curvature_off_the_symmetric_start(solver, on_cpu):
    """The in-loop probe (_curvature.make_curvature): silent on a positive definite H and on one
    with an exact zero eigenvalue (a zero mode is not a saddle), a direction with v^T H v < 0
    on an indefinite H whose negative mode is antisymmetric (a start on the axis has no
    component along it, the probe's random part does)."""
    from noisynoether.solvers import _curvature

    M, n = 120, 2
    k = np.arange(M)
    # Two decoupled chains: x (the "axis", positive definite) and y (the "off-axis" mode).
    B = np.zeros((M, n, n))
    B[:, 0, 0], B[:, 1, 1] = 4.0, 2.0
    C = np.zeros((M - 1, n, n))
    C[:, 0, 0], C[:, 1, 1] = -1.0, -1.0
    H = _banded.to_dense(B, C)
    wy = np.linalg.eigvalsh(H[1::2, 1::2])
    solve = {"native": _native.native_solve, "lapack": _banded.lapack_solve}[solver]
    probe = jax.jit(_curvature.make_curvature(solve, _newton.linear_factor(solver)))
    g = np.zeros((M, n))
    g[:, 0] = np.sin(np.pi * (k + 1) / (M + 1))  # a gradient on the axis
    for shift, expect in ((0.0, False), (wy[0], False), (wy[0] + 1e-3, True)):
        Bs = B.copy()
        Bs[:, 1, 1] -= shift
        negative, found, v, _ = probe(np.zeros((M, n)), g, (Bs, C), 1e-3)
        assert bool(found) is expect and bool(negative) is expect
        if expect:
            curv = float(np.ravel(v) @ _banded.to_dense(Bs, C) @ np.ravel(v))
            assert curv < -1e-4
            assert np.max(np.abs(np.asarray(v)[:, 1])) > 10 * np.max(np.abs(np.asarray(v)[:, 0]))


@pytest.mark.parametrize("M", [60, 400])  # dense (N <= 200) and shift-invert Lanczos
def test_lowest_eigenpairs_match_dense_eigh(M):
    from noisynoether.solvers import _zero_modes

    rng = np.random.default_rng(5)
    n = 2
    B = rng.normal(size=(M, n, n))
    B = B + np.swapaxes(B, 1, 2) + 3 * np.eye(n)
    C = rng.normal(size=(M - 1, n, n))
    w = np.linalg.eigvalsh(_banded.to_dense(B, C))
    for shift in (0.0, w[0] - 1.0, w[0] + 2.0):  # indefinite, positive definite, indefinite
        Bs = B - shift * np.eye(n)
        lam, V, _ = _zero_modes.lowest_eigenpairs(Bs, C, 3)
        np.testing.assert_allclose(lam, w[:3] - shift, atol=1e-9)
        Hs = _banded.to_dense(Bs, C)
        for i in range(3):
            np.testing.assert_allclose(Hs @ V[i].ravel(), lam[i] * V[i].ravel(), atol=1e-8)


def test_lowest_eigenvalues_far_above_zero_are_found_with_a_shift_just_below_them(monkeypatch):
    # A network's lowest eigenvalues cluster far from zero, where shift-invert about zero
    # crawls: the routine estimates the lowest one first and shifts to just below it. The
    # values are dense eigh's, the final shift lies below the spectrum and close to it, and
    # the values-only route (LAPACK's banded solver) gives the same.
    import scipy.sparse.linalg as spla

    from noisynoether.solvers import _zero_modes

    rng = np.random.default_rng(7)
    M, n = 400, 2
    B = rng.normal(size=(M, n, n))
    B = B + np.swapaxes(B, 1, 2)
    C = rng.normal(size=(M - 1, n, n))
    w = np.linalg.eigvalsh(_banded.to_dense(B, C))
    B = B + (100.0 - w[0]) * np.eye(n)  # lowest 100, the next four within 1 %
    w = w + (100.0 - w[0])
    shifts, real = [], spla.eigsh
    monkeypatch.setattr(spla, "eigsh", lambda *a, **k: shifts.append(k["sigma"]) or real(*a, **k))
    lam, V, _ = _zero_modes.lowest_eigenpairs(B, C, 4)
    np.testing.assert_allclose(lam, w[:4], rtol=1e-12)
    H = _banded.to_dense(B, C)
    for i in range(4):
        np.testing.assert_allclose(H @ V[i].ravel(), lam[i] * V[i].ravel(), atol=1e-8)
    assert 0.9 * w[0] < shifts[-1] < w[0] and shifts[0] < 0  # about zero first, then closer
    values, none, _ = _zero_modes.lowest_eigenpairs(B, C, 4, vectors=False)
    assert none is None
    np.testing.assert_allclose(values, w[:4], rtol=1e-12)


@pytest.mark.parametrize("dense", [True, False])
def test_newton_cg_preconditioner_inverts_its_operator(monkeypatch, dense):
    """P_inv(P(R)) = R for the leak-only preconditioner, with T^-1 applied as a dense matrix
    (small M; every M on a GPU up to 4096) and as a tridiagonal solve, on a non-uniform grid
    and a full (anisotropic) D; and P is T (x) D0^-1 written out densely."""
    from noisynoether.solvers import _newton_cg

    monkeypatch.setitem(_newton_cg.DENSE_T_MAX, jax.default_backend(), 10**6 if dense else 0)
    rng = np.random.default_rng(3)
    ts = jnp.asarray(np.sort(np.r_[0.0, rng.uniform(0, 2, 40), 2.0]))
    n = 3
    A = rng.standard_normal((n, n))
    Dm = A @ A.T + n * np.eye(n)
    sde = nn.SDE(drift=lambda t, x, args: -x, diffusion=jnp.asarray(Dm))
    xa, xb = jnp.zeros(n), jnp.ones(n)
    P, P_inv = _newton_cg.make_preconditioner(sde, ts, xa, xb, None)
    R = jnp.asarray(rng.standard_normal((ts.size - 2, n)))
    assert np.allclose(P_inv(P(R)), R, rtol=0, atol=1e-10)
    diag, off = _newton_cg.leak_tridiagonal(ts)
    T = np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)
    D0 = np.asarray(sde.D_raw(1.0, 0.5 * (xa + xb), None))
    np.testing.assert_allclose(P(R), T @ np.asarray(R) @ np.linalg.inv(D0), rtol=1e-12, atol=1e-12)


def _lanczos_routes():
    """The certificate's fast route, inside a compiled call and from NumPy (kernel only)."""
    from noisynoether.solvers import _lanczos

    if jax.default_backend() != "cpu" or not nn.native_available():
        pytest.skip("the certificate's Lanczos runs in the compiled CPU kernel")
    return {
        "compiled": jax.jit(_lanczos.lowest_eigenvalues),
        "host": _lanczos.lowest_eigenvalues_host,
    }


def _path_like_hessian(M, n, seed, stiffness):
    """A path-like block-tridiagonal Hessian: stiff time coupling (1/dt), stiffness
    ``stiffness`` (n,) per component, plus a small random part."""
    rng = np.random.default_rng(seed)
    d = np.diag(stiffness)
    B = np.tile(2.0 * M * d, (M, 1, 1)) + 0.3 * rng.normal(size=(M, n, n))
    B = 0.5 * (B + np.swapaxes(B, 1, 2))
    C = np.tile(-M * d, (max(M - 1, 0), 1, 1)) + 0.1 * rng.normal(size=(max(M - 1, 0), n, n))
    return B, C


@pytest.mark.parametrize("M, n", [(100, 2), (40, 3), (1, 2)])
def test_compiled_lanczos_certificate_matches_a_dense_eigh(M, n):
    """The certificate's fast route (_lanczos, the kernel's shift-invert Lanczos): the 4 lowest
    eigenvalues of a positive definite block-tridiagonal H to 1e-10 of a dense eigh, accepted
    (ok), the same from a compiled call and from NumPy; an indefinite H and one with fewer
    than 4 unknowns are not accepted (the caller then uses LAPACK)."""
    # distinct stiffness per component: distinct lowest eigenvalues (near-degenerate ones are
    # not accepted at 16 steps, and LAPACK takes over)
    B, C = _path_like_hessian(M, n, M + n, 1.0 + 0.7 * np.arange(n))
    exact = np.linalg.eigvalsh(_banded.to_dense(B, C))
    values = {}
    for route, lowest in _lanczos_routes().items():
        w, scale, ok = lowest(B, C)
        assert float(scale) == pytest.approx(np.max(np.abs(np.diagonal(B, axis1=1, axis2=2))))
        if M * n < 4:
            assert not bool(ok)
            continue
        assert bool(ok), (M, n, route)
        np.testing.assert_allclose(np.asarray(w), exact[:4], rtol=1e-10)
        values[route] = np.asarray(w)
        shifted = B - (exact[0] + 0.5 * (exact[1] - exact[0])) * np.eye(n)  # one negative
        _, _, ok = lowest(shifted, C)
        assert not bool(ok)
    if values:  # one recurrence: the routes differ only in the 16 x 16 eigh's LAPACK
        np.testing.assert_allclose(values["host"], values["compiled"], rtol=1e-13)


def test_lanczos_certificate_does_not_report_a_repeated_eigenvalue_once():
    """An isotropic H = T (x) I has every eigenvalue twice; Lanczos from one vector finds one
    copy of each, so its 4 lowest would be (l1, l1, l2, l3) where they are (l1, l1, l2, l2)
    (found on a 2-D Ornstein-Uhlenbeck path). The count of eigenvalues below the 4th value
    refuses that; a solve then reports LAPACK's values."""
    M = 60
    B, C = _path_like_hessian(M, 1, 0, np.ones(1))
    B2 = np.einsum("kij,ab->kiajb", B, np.eye(2)).reshape(M, 2, 2)  # T (x) I, exactly
    C2 = np.einsum("kij,ab->kiajb", C, np.eye(2)).reshape(M - 1, 2, 2)
    exact = np.linalg.eigvalsh(_banded.to_dense(B2, C2))[:4]
    assert exact[1] == pytest.approx(exact[0], rel=1e-12)
    assert exact[3] == pytest.approx(exact[2], rel=1e-12)
    for route, lowest in _lanczos_routes().items():
        w, _, ok = lowest(B2, C2)
        assert not (bool(ok) and not np.allclose(np.asarray(w), exact, rtol=1e-10)), route
    sde = nn.models.ornstein_uhlenbeck(-np.eye(2), 0.5 * np.eye(2))
    res = nn.most_likely_path(
        sde, np.array([1.0, 0.0]), np.array([0.0, 1.0]), 0.0, 1.0, num_points=200
    )
    w = np.asarray(res.stats["lowest_eigenvalues"])
    assert w[1] == pytest.approx(w[0], rel=1e-10) and w[3] == pytest.approx(w[2], rel=1e-10)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_kernel_counts_the_eigenvalues_below_a_point(n):
    """Sylvester's inertia of the block LDL^T (the certificate's check): the number of
    eigenvalues of a random symmetric block-tridiagonal H (indefinite) below tau, compiled and
    from NumPy, equal to a dense eigh's count."""
    from noisynoether.solvers import _blocktri, _native

    if jax.default_backend() != "cpu" or not nn.native_available():
        pytest.skip("the count runs in the compiled CPU kernel")
    rng = np.random.default_rng(n)
    M = 30
    B = rng.normal(size=(M, n, n))
    B = B + np.swapaxes(B, 1, 2)
    C = rng.normal(size=(M - 1, n, n))
    exact = np.linalg.eigvalsh(_banded.to_dense(B, C))
    gaps = 0.5 * (exact[1:] + exact[:-1])  # midway between eigenvalues
    taus = np.concatenate([[exact[0] - 1.0], gaps[:: max(1, len(gaps) // 12)], [exact[-1] + 1.0]])
    counts = np.asarray(
        jax.jit(_native.native_count_below)(
            np.broadcast_to(B, (len(taus), M, n, n)),
            np.broadcast_to(C, (len(taus), M - 1, n, n)),
            taus,
        )
    )
    for tau, count in zip(taus, counts, strict=True):
        assert count == np.sum(exact < tau)
        assert _blocktri.count_below_host(B, C, float(tau)) == count
