"""The compiled CPU kernel of the block-tridiagonal solve, called from inside ``jit`` (XLA FFI).

``_blocktri.cc`` (built at install time against the FFI headers jaxlib ships, when a C++
compiler is there, see ``setup.py``) is the same block Cholesky as ``_banded.scan_solve``, but
runs as one XLA custom call: no host round trip, ~40 us for 1000 blocks of 2 x 2 against
~300-500 us for LAPACK behind ``jax.pure_callback``.

``native_available()`` registers the handler with XLA once, then checks it on a small system
against a dense NumPy solve; any failure (extension not built, an XLA that rejects the handler,
a wrong answer) makes it return False, ``unavailable_reason()`` says which, and the solvers use
the host-callback LAPACK path.

Errors at run time (a workspace that cannot be allocated, operands of the wrong number, dtype or
shape) are returned by the kernel to XLA with a message that starts with ``KERNEL_TAG``; JAX
raises them from the jitted call (as ``jax.errors.JaxRuntimeError``, or ``ValueError`` from its
fast dispatch path). ``kernel_errors()`` turns either into a ``RuntimeError`` that names the
kernel and the ways around it.
"""

from __future__ import annotations

import contextlib
import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._jit import jit

_TARGET = "noisynoether_blocktri_solve"
_FACTOR = "noisynoether_blocktri_factor"
_SUBSTITUTE = "noisynoether_blocktri_substitute"
_LANCZOS = "noisynoether_blocktri_lanczos"
_COUNT = "noisynoether_blocktri_count"
KERNEL_TAG = "noisynoether block-tridiagonal kernel"


@functools.cache
def _register() -> str | None:
    """Import the extension and register its handler with XLA (once); None, or why not."""
    try:
        from . import _blocktri
    except ImportError as err:
        return (
            f"the extension noisynoether.solvers._blocktri is not built ({err}); it is compiled "
            "at install time when a C++17 compiler and jax's FFI headers are present"
        )
    try:
        jax.ffi.register_ffi_target(_TARGET, _blocktri.handler(), platform="cpu")
        jax.ffi.register_ffi_target(_FACTOR, _blocktri.factor_handler(), platform="cpu")
        jax.ffi.register_ffi_target(_SUBSTITUTE, _blocktri.substitute_handler(), platform="cpu")
        jax.ffi.register_ffi_target(_LANCZOS, _blocktri.lanczos_handler(), platform="cpu")
        jax.ffi.register_ffi_target(_COUNT, _blocktri.count_handler(), platform="cpu")
    except Exception as err:  # an XLA that does not accept the handler: fall back, do not fail
        return f"this XLA refused the kernel's registration ({type(err).__name__}: {err})"
    return None


@functools.cache
def unavailable_reason() -> str | None:
    """Why the compiled kernel cannot be used here, or None when ``native_available()``."""
    reason = _register()
    if reason is not None:
        return reason
    try:
        return _self_check()
    except Exception as err:  # a kernel that cannot run here is not used
        import jaxlib

        from . import _blocktri

        major, minor = _blocktri.ffi_api_version()
        return (
            f"the kernel (built against XLA FFI API {major}.{minor}) failed to run on this "
            f"jaxlib {jaxlib.__version__}: {type(err).__name__}: {err}; rebuild it against "
            "the installed jax with `pip install --no-build-isolation -e .`"
        )


def native_available() -> bool:
    """True when the compiled block-tridiagonal kernel is built, registered and verified (CPU).

    The kernel (``solvers/_blocktri.cc``) is compiled at install time when a C++ compiler is
    present; the solvers then use it for ``linear_solver="auto"`` on the CPU. False means they
    use LAPACK through a host callback instead (same results, slower per Newton step);
    ``noisynoether.solvers._native.unavailable_reason()`` says why.
    """
    return unavailable_reason() is None


def _self_check() -> str | None:
    from ._banded import to_dense

    rng = np.random.default_rng(0)
    M, n = 5, 3
    A = rng.standard_normal((M, n, n))
    B = A @ np.swapaxes(A, 1, 2) + 4 * np.eye(n)
    C = 0.5 * rng.standard_normal((M - 1, n, n))
    r = rng.standard_normal((M, n))
    with jax.default_device(jax.devices("cpu")[0]):
        x, ok = jit(native_solve)(B, C, r)
        _, bad = jit(native_solve)(B - 10 * np.eye(n), C, r)
        apply, ok2 = jit(native_factor)(B, C)
        x2 = jit(native_substitute)(*apply, r)
    ref = np.linalg.solve(to_dense(B, C), r.ravel()).reshape(M, n)
    if not (bool(ok) and bool(ok2) and not bool(bad)):
        return "the kernel's self-check misreported positive definiteness"
    if not np.allclose(np.asarray(x), ref, rtol=1e-12, atol=1e-12):
        return "the kernel's self-check solve disagrees with a dense solve"
    if not np.array_equal(np.asarray(x2), np.asarray(x)):
        return "the kernel's factor-then-substitute disagrees with its solve"
    return None


def native_solve(B, C, rhs):
    """Solve H x = rhs for block-tridiagonal H (B (..., M, n, n), C (..., M-1, n, n)).

    Returns ``(x, ok)``; ok is False (and x zero) when H is not positive definite. CPU only
    (a custom call registered for the host platform).
    """
    _require()
    B, C, rhs = (jnp.asarray(a, jnp.float64) for a in (B, C, rhs))
    if rhs.ndim < 2:
        raise ValueError(f"rhs must have shape (..., M, n); got {rhs.shape}")
    M, n = rhs.shape[-2:]
    if (
        B.shape != rhs.shape[:-2] + (M, n, n)
        or C.shape != rhs.shape[:-2] + (max(M - 1, 0), n, n)
        or M < 1
    ):
        raise ValueError(
            f"block shapes disagree: B {B.shape}, C {C.shape}, rhs {rhs.shape}; expected "
            f"(..., {M}, {n}, {n}), (..., {max(M - 1, 0)}, {n}, {n}), (..., {M}, {n}) with the "
            "same leading dimensions and M >= 1"
        )
    out = (
        jax.ShapeDtypeStruct(rhs.shape, jnp.float64),
        jax.ShapeDtypeStruct(rhs.shape[:-2], jnp.bool_),
    )
    return jax.ffi.ffi_call(_TARGET, out, vmap_method="broadcast_all")(B, C, rhs)


def _require():
    """Register the kernel (once), or raise RuntimeError saying why it cannot be used."""
    reason = _register()
    if reason is not None:
        raise RuntimeError(
            f"the compiled block-tridiagonal kernel is not available: {reason}; use "
            "linear_solver='lapack'"
        )


def _checked(B, C):
    _require()
    B, C = (jnp.asarray(a, jnp.float64) for a in (B, C))
    M, n = B.shape[-3], B.shape[-1]
    if B.shape[-2] != n or C.shape != B.shape[:-3] + (max(M - 1, 0), n, n):
        raise ValueError(
            f"block shapes disagree: B {B.shape}, C {C.shape}; expected (..., M, n, n) and "
            "(..., M-1, n, n)"
        )
    return B, C


def native_factor(B, C):
    """The factors of block-tridiagonal H for ``native_substitute``: ``((L, W), ok)``, each of
    L, W of B's shape; ok False (and the factors zero) where H is not positive definite. For
    many solves with one H (the certificate's Lanczos): the factorisation, O(M n^3), is done
    once, each substitution is O(M n^2). CPU only."""
    B, C = _checked(B, C)
    out = (
        jax.ShapeDtypeStruct(B.shape, jnp.float64),
        jax.ShapeDtypeStruct(B.shape, jnp.float64),
        jax.ShapeDtypeStruct(B.shape[:-3], jnp.bool_),
    )
    L, W, ok = jax.ffi.ffi_call(_FACTOR, out, vmap_method="broadcast_all")(B, C)
    return (L, W), ok


def native_substitute(L, W, rhs):
    """x = H^-1 rhs from ``native_factor``'s factors (the same arithmetic as ``native_solve``;
    x = 0 from the zero factors of a failed factorisation). CPU only."""
    _require()
    L, W, rhs = (jnp.asarray(a, jnp.float64) for a in (L, W, rhs))
    if L.shape != W.shape or L.shape[:-1] != rhs.shape:
        raise ValueError(
            f"factor shapes disagree: L {L.shape}, W {W.shape}, rhs {rhs.shape}; expected "
            "L and W (..., M, n, n), rhs (..., M, n)"
        )
    out = jax.ShapeDtypeStruct(rhs.shape, jnp.float64)
    return jax.ffi.ffi_call(_SUBSTITUTE, out, vmap_method="broadcast_all")(L, W, rhs)


def native_lanczos(L, W, q0, steps: int):
    """``steps`` shift-invert Lanczos steps with ``native_factor``'s factors of H - sigma I,
    from q0 (..., M, n) (normalised here): ``(alpha, beta (..., steps), ok (...))``, the
    tridiagonal matrix of (H - sigma I)^-1 in the Krylov basis (full reorthogonalisation,
    twice; ``_lanczos``); ok False (alpha, beta zero) where a step
    was not finite. CPU only."""
    _require()
    L, W, q0 = (jnp.asarray(a, jnp.float64) for a in (L, W, q0))
    if L.shape != W.shape or L.shape[:-1] != q0.shape or int(steps) < 1:
        raise ValueError(
            f"factor shapes disagree or steps < 1: L {L.shape}, W {W.shape}, q0 {q0.shape}, "
            f"steps {steps}; expected L and W (..., M, n, n), q0 (..., M, n), steps >= 1"
        )
    lead = q0.shape[:-2]
    out = (
        jax.ShapeDtypeStruct(lead + (int(steps),), jnp.float64),
        jax.ShapeDtypeStruct(lead + (int(steps),), jnp.float64),
        jax.ShapeDtypeStruct(lead, jnp.bool_),
    )
    return jax.ffi.ffi_call(_LANCZOS, out, vmap_method="broadcast_all")(L, W, q0)


def native_count_below(B, C, tau):
    """How many eigenvalues of block-tridiagonal H (B (..., M, n, n), C (..., M-1, n, n)) lie
    below tau (...): Sylvester's inertia of the block LDL^T of H - tau I, an int64 (...), -1
    where a value is not finite. CPU only."""
    B, C = _checked(B, C)
    tau = jnp.asarray(tau, jnp.float64)
    if tau.shape != B.shape[:-3]:
        raise ValueError(
            f"tau must have shape {B.shape[:-3]} (B's leading dimensions); got {tau.shape}"
        )
    out = jax.ShapeDtypeStruct(B.shape[:-3], jnp.int64)
    return jax.ffi.ffi_call(_COUNT, out, vmap_method="broadcast_all")(B, C, tau)


@contextlib.contextmanager
def kernel_errors():
    """Re-raise an error the kernel returned to XLA as a ``RuntimeError`` that says so.

    Wrap the call that *executes* a jitted function using ``native_solve`` (errors surface
    there, not at tracing). Other exceptions pass through unchanged.
    """
    try:
        yield
    except (jax.errors.JaxRuntimeError, ValueError) as err:
        if KERNEL_TAG not in str(err):
            raise
        raise RuntimeError(
            f"the compiled linear solver failed: {err}. The result would be meaningless, so "
            "none is returned; linear_solver='lapack' or 'scan' avoids the kernel"
        ) from err
