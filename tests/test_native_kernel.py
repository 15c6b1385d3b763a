"""The compiled block-tridiagonal kernel (solvers/_blocktri.cc, an XLA FFI custom call).

The kernel is optional: every test that runs it skips, with the reason, where it is not built.
One test asserts it IS built where the CI expects it (a C++ compiler present and CI=true or
NOISYNOETHER_REQUIRE_NATIVE=1 set).
"""

import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import noisynoether as nn
from noisynoether.solvers import _banded, _native, _newton

needs_native = pytest.mark.skipif(
    not nn.native_available(),
    reason=f"compiled block-tridiagonal kernel not available: {_native.unavailable_reason()}",
)


def _ci_expects_native():
    flags = (os.environ.get("NOISYNOETHER_REQUIRE_NATIVE", ""), os.environ.get("CI", ""))
    wanted = any(f.strip().lower() in {"1", "true", "yes"} for f in flags)
    compiler = any(shutil.which(c) for c in (os.environ.get("CXX", "c++"), "g++", "clang++"))
    return wanted and compiler


@pytest.mark.skipif(
    not _ci_expects_native(),
    reason="the kernel is only required where CI=true or NOISYNOETHER_REQUIRE_NATIVE=1 is set "
    "and a C++ compiler is present",
)
def test_kernel_is_built_where_the_ci_expects_it():
    assert nn.native_available(), _native.unavailable_reason()
    if jax.default_backend() == "cpu":
        assert _newton.auto_linear_solver(1000) == "native"


@pytest.fixture
def on_cpu():
    """The kernel is a CPU custom call: run its tests on the CPU device on any backend."""
    with jax.default_device(jax.devices("cpu")[0]):
        yield


def _spd_system(M, n, seed, batch=()):
    """A random symmetric positive definite block-tridiagonal system (B, C, rhs)."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(*batch, M, n, n))
    B = A @ np.swapaxes(A, -1, -2) + 4 * n * np.eye(n)
    C = rng.normal(size=(*batch, M - 1, n, n))
    return B, C, rng.normal(size=(*batch, M, n))


def _dense_solve(B, C, rhs):
    M, n = rhs.shape
    return np.linalg.solve(_banded.to_dense(B, C), rhs.ravel()).reshape(M, n)


def _ffi(args, out):
    return jax.ffi.ffi_call(_native._TARGET, out, vmap_method="broadcast_all")(*args)


@needs_native
@pytest.mark.parametrize("M", [1, 2, 50])
@pytest.mark.parametrize("n", [1, 2, 5])
def test_kernel_agrees_with_a_dense_solve(M, n, on_cpu):
    B, C, rhs = _spd_system(M, n, seed=100 * M + n)
    x, ok = jax.jit(_native.native_solve)(B, C, rhs)
    assert bool(ok)
    expected = _dense_solve(B, C, rhs)
    np.testing.assert_allclose(np.asarray(x), expected, rtol=1e-12, atol=1e-12)
    # The residual of the dense system is at rounding level too.
    H = _banded.to_dense(B, C)
    assert np.max(np.abs(H @ np.asarray(x).ravel() - rhs.ravel())) < 1e-12 * np.max(np.abs(H))


@needs_native
@pytest.mark.parametrize("M, n", [(1, 1), (2, 2), (50, 5)])
def test_not_positive_definite_is_flagged_with_a_zero_solution(M, n, on_cpu):
    B, C, rhs = _spd_system(M, n, seed=7)
    w0 = np.linalg.eigvalsh(_banded.to_dense(B, C))[0]
    # Shifted just past the smallest eigenvalue: indefinite, the Cholesky must say so.
    x, ok = jax.jit(_native.native_solve)(B - (w0 + 1e-6) * np.eye(n), C, rhs)
    assert not bool(ok) and np.all(np.asarray(x) == 0)
    # Shifted just short of it: positive definite (if barely), solved.
    Bs = B - (w0 - 1e-3) * np.eye(n)
    x, ok = jax.jit(_native.native_solve)(Bs, C, rhs)
    assert bool(ok)
    np.testing.assert_allclose(np.asarray(x), _dense_solve(Bs, C, rhs), rtol=1e-8)


@needs_native
def test_kernel_batches_and_rejects_non_finite_input(on_cpu):
    M, n, nb = 30, 3, 4
    B, C, rhs = _spd_system(M, n, seed=3, batch=(nb,))
    x, ok = jax.jit(jax.vmap(_native.native_solve))(B, C, rhs)
    assert np.all(np.asarray(ok))
    for b in range(nb):
        np.testing.assert_allclose(
            np.asarray(x[b]), _dense_solve(B[b], C[b], rhs[b]), rtol=1e-12, atol=1e-12
        )
    for bad in (B[0].copy(), C[0].copy()):
        bad[M // 2 - 1, 0, 0] = np.nan
        args = (bad, C[0], rhs[0]) if bad.shape[0] == M else (B[0], bad, rhs[0])
        x, ok = _native.native_solve(*args)
        assert not bool(ok) and np.all(np.asarray(x) == 0)


@needs_native
def test_python_wrapper_rejects_shapes_that_do_not_fit(on_cpu):
    B, C, rhs = _spd_system(6, 2, seed=1)
    with pytest.raises(ValueError, match=r"block shapes disagree: B \(6, 2, 2\), C \(4, 2, 2\)"):
        _native.native_solve(B, C[:-1], rhs)
    with pytest.raises(ValueError, match="block shapes disagree"):
        _native.native_solve(B[:, :1], C, rhs)


def _raises_from_xla(match):
    """XLA errors come as JaxRuntimeError (a RuntimeError) or, from JAX's fast dispatch, as
    ValueError; either way with XLA's or the kernel's message."""
    return pytest.raises((RuntimeError, ValueError), match=match)


@needs_native
def test_xla_checks_the_number_and_dtypes_of_operands(on_cpu):
    """The typed binding (xla/ffi/api/ffi.h) refuses a bad call instead of returning success
    with unwritten outputs, which is what the hand-declared C ABI did."""
    B, C, rhs = _spd_system(5, 2, seed=2)
    out = (jax.ShapeDtypeStruct(rhs.shape, jnp.float64), jax.ShapeDtypeStruct((), jnp.bool_))
    with _raises_from_xla("Wrong number of arguments: expected 3 but got 2"):
        jax.block_until_ready(_ffi((B, C), out))
    with _raises_from_xla("Wrong buffer dtype: expected F64 but got F32"):
        jax.block_until_ready(_ffi((B.astype(np.float32), C, rhs), out))
    bad_out = (out[0], jax.ShapeDtypeStruct((), jnp.int32))
    with _raises_from_xla("Wrong buffer dtype: expected PRED but got S32"):
        jax.block_until_ready(_ffi((B, C, rhs), bad_out))
    with _raises_from_xla("Wrong number of results"):
        jax.block_until_ready(_ffi((B, C, rhs), out[:1]))
    # Shapes that do not fit together are refused by the kernel itself, with what it expected.
    with _raises_from_xla(r"shapes do not fit together: B \(5, 2, 2\), C \(3, 2, 2\)"):
        jax.block_until_ready(_ffi((B, C[:-1], rhs), out))


@pytest.fixture
def workspace_limit():
    """Make the kernel's workspace allocation fail (the test hook in _blocktri.cc)."""
    from noisynoether.solvers import _blocktri

    old = _blocktri._set_workspace_limit(0)
    try:
        yield
    finally:
        _blocktri._set_workspace_limit(old)


@needs_native
def test_a_failed_allocation_is_an_error_with_a_message(on_cpu, workspace_limit):
    B, C, rhs = _spd_system(50, 3, seed=4)
    expected = r"could not allocate its workspace of 7200 bytes .* M = 50 blocks of n = 3"
    with _raises_from_xla(expected):
        jax.block_until_ready(jax.jit(_native.native_solve)(B, C, rhs))
    with pytest.raises(RuntimeError, match="the compiled linear solver failed: .*" + expected):
        with _native.kernel_errors():
            jax.block_until_ready(jax.jit(_native.native_solve)(B, C, rhs))


@needs_native
def test_a_failed_allocation_inside_the_solver_is_not_reported_as_a_stall(on_cpu, workspace_limit):
    """Before: the kernel reported ok = False, the damping rose until the solver gave up with
    a 'stalled' message. Now the solve raises with the kernel's message."""
    sde = nn.models.multistable()
    with _raises_from_xla("could not allocate its workspace"):
        nn.most_likely_path(sde, [3.0, 0.1], [0.1, 3.0], 0.0, 1.0, linear_solver="native")


def test_kernel_errors_passes_other_exceptions_through():
    with pytest.raises(ValueError, match="unrelated"):
        with _native.kernel_errors():
            raise ValueError("unrelated")


def _systems(seed, b, M, n, *, shift, indefinite, cscale):
    """b block-tridiagonal systems (B, C, rhs); system ``indefinite`` shifted to be so."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((b, M, n, n))
    B = A @ np.swapaxes(A, -1, -2) + shift * np.eye(n)
    B[indefinite] -= 10 * shift * np.eye(n)
    C = cscale * rng.standard_normal((b, M - 1, n, n))
    return B, C, rng.standard_normal((b, M, n))


@needs_native
def test_factor_then_substitute_is_the_solve():
    # The certificate's Lanczos factorises once and substitutes per vector: the same x as the
    # one-call solve bit for bit, batched as well, and ok False with x = 0 where H is not
    # positive definite.
    M, n = 9, 3
    B, C, rhs = _systems(7, 3, M, n, shift=4.0, indefinite=2, cscale=0.5)
    x, ok = jax.jit(_native.native_solve)(B, C, rhs)
    (L, W), ok2 = jax.jit(_native.native_factor)(B, C)
    x2 = jax.jit(_native.native_substitute)(L, W, rhs)
    assert list(np.asarray(ok)) == [True, True, False] and list(np.asarray(ok2)) == list(ok)
    np.testing.assert_array_equal(np.asarray(x2), np.asarray(x))
    for i in range(2):
        dense = np.linalg.solve(_banded.to_dense(B[i], C[i]), rhs[i].ravel()).reshape(M, n)
        np.testing.assert_allclose(np.asarray(x2[i]), dense, rtol=1e-12, atol=1e-12)
    assert not np.any(np.asarray(x2[2]))
    with pytest.raises(ValueError, match="factor shapes disagree"):
        _native.native_substitute(L, W[:, :-1], rhs)


@needs_native
def test_systems_solved_side_by_side_equal_each_alone():
    # The kernel solves up to 4 systems of a batch block by block together (the Newton step's
    # damped and undamped Hessians in one call): each system's x is what it gets alone, bit
    # for bit, whatever the others (one of them indefinite) and the batch size (5: a group
    # of 4, then 1).
    b = 5
    B, C, rhs = _systems(11, b, 12, 2, shift=3.0, indefinite=1, cscale=0.4)
    x, ok = jax.jit(_native.native_solve)(B, C, rhs)
    for i in range(b):
        xi, oki = jax.jit(_native.native_solve)(B[i], C[i], rhs[i])
        assert bool(ok[i]) == bool(oki) == (i != 1)
        np.testing.assert_array_equal(np.asarray(x[i]), np.asarray(xi))


@needs_native
def test_lanczos_targets_reject_what_does_not_fit(on_cpu):
    """The kernel's Lanczos, inside a compiled call and from NumPy, names what is wrong."""
    from noisynoether.solvers import _blocktri

    rng = np.random.default_rng(3)
    M, n = 6, 2
    B = np.tile(4.0 * np.eye(n), (M, 1, 1))
    C = np.tile(-np.eye(n), (M - 1, 1, 1))
    (L, W), _ = jax.jit(_native.native_factor)(B, C)
    q0 = rng.standard_normal((M, n))
    with pytest.raises(ValueError, match="factor shapes disagree or steps < 1"):
        _native.native_lanczos(L, W, q0[:-1], 4)
    with pytest.raises(ValueError, match="steps < 1"):
        _native.native_lanczos(L, W, q0, 0)
    alpha, beta = np.zeros(4), np.zeros(4)
    assert _blocktri.lanczos_host(B, C, q0, alpha, beta) is True
    with pytest.raises(TypeError, match="float64"):
        _blocktri.lanczos_host(B.astype(np.float32), C, q0, alpha, beta)
    with pytest.raises(ValueError, match=r"expected B \(M, n, n\)"):
        _blocktri.lanczos_host(B, C[:-1], q0, alpha, beta)
    with pytest.raises(ValueError, match="alpha, beta of S >= 1"):
        _blocktri.lanczos_host(B, C, q0, alpha, np.zeros(3))
    read_only = np.zeros(4)
    read_only.setflags(write=False)
    with pytest.raises((TypeError, BufferError, ValueError)):  # an output it cannot write
        _blocktri.lanczos_host(B, C, q0, alpha, read_only)
    # not positive definite: False, never an exception
    assert _blocktri.lanczos_host(-B, C, q0, alpha, beta) is False
    # the eigenvalue count: its operands checked too
    with pytest.raises(ValueError, match="tau must have shape"):
        _native.native_count_below(B, C, np.zeros(2))
    with pytest.raises(TypeError, match="float64"):
        _blocktri.count_below_host(B.astype(np.float32), C, 0.0)
    with pytest.raises(ValueError, match=r"expected B \(M, n, n\) and C"):
        _blocktri.count_below_host(B, C[:-1], 0.0)
    assert _blocktri.count_below_host(np.full_like(B, np.nan), C, 0.0) == -1
