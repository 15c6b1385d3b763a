"""The compiled CPU kernel of the block-tridiagonal solve, called from inside ``jit`` (XLA FFI).

``_blocktri.c`` (built at install time when a C compiler is there, see ``setup.py``) is the same
block Cholesky as ``_banded.scan_solve``, but runs as one XLA custom call: no host round trip,
~40 us for 1000 blocks of 2 x 2 against ~300-500 us for LAPACK behind ``jax.pure_callback``.

``native_available()`` registers the handler with XLA once, then checks it on a small system
against a dense NumPy solve; any failure (extension not built, an XLA that rejects the handler,
a wrong answer) makes it return False, and the solvers use the host-callback LAPACK path.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

_TARGET = "noisynoether_blocktri_solve"


@functools.cache
def _register() -> bool:
    """Import the extension and register its handler with XLA (once); False if either fails."""
    try:
        from . import _blocktri
    except ImportError:
        return False
    try:
        jax.ffi.register_ffi_target(_TARGET, _blocktri.handler(), platform="cpu")
    except Exception:  # an XLA that does not accept the handler: fall back, do not fail
        return False
    return True


@functools.cache
def native_available() -> bool:
    """True when the compiled block-tridiagonal kernel is built, registered and verified (CPU).

    The kernel (``solvers/_blocktri.c``) is compiled at install time when a C compiler is
    present; the solvers then use it for ``linear_solver="auto"`` on the CPU. False means they
    use LAPACK through a host callback instead (same results, slower per Newton step).
    """
    if not _register():
        return False
    try:
        return _self_check()
    except Exception:  # a kernel that cannot run here is not used
        return False


def _self_check() -> bool:
    from ._banded import to_dense

    rng = np.random.default_rng(0)
    M, n = 5, 3
    A = rng.standard_normal((M, n, n))
    B = A @ np.swapaxes(A, 1, 2) + 4 * np.eye(n)
    C = 0.5 * rng.standard_normal((M - 1, n, n))
    r = rng.standard_normal((M, n))
    with jax.default_device(jax.devices("cpu")[0]):
        x, ok = jax.jit(native_solve)(B, C, r)
        _, bad = jax.jit(native_solve)(B - 10 * np.eye(n), C, r)
    ref = np.linalg.solve(to_dense(B, C), r.ravel()).reshape(M, n)
    return bool(ok) and not bool(bad) and np.allclose(np.asarray(x), ref, rtol=1e-12, atol=1e-12)


def native_solve(B, C, rhs):
    """Solve H x = rhs for block-tridiagonal H (B (..., M, n, n), C (..., M-1, n, n)).

    Returns ``(x, ok)``; ok is False (and x zero) when H is not positive definite. CPU only
    (a custom call registered for the host platform).
    """
    if not _register():
        raise RuntimeError(
            "the compiled block-tridiagonal kernel is not available (not built at install, or "
            "not accepted by this XLA); use linear_solver='lapack'"
        )
    B, C, rhs = (jnp.asarray(a, jnp.float64) for a in (B, C, rhs))
    M, n = rhs.shape[-2:]
    if B.shape[-3:] != (M, n, n) or C.shape[-3:] != (M - 1, n, n):
        raise ValueError(
            f"block shapes disagree: B {B.shape}, C {C.shape}, rhs {rhs.shape}; expected "
            f"(..., {M}, {n}, {n}), (..., {M - 1}, {n}, {n}), (..., {M}, {n})"
        )
    out = (
        jax.ShapeDtypeStruct(rhs.shape, jnp.float64),
        jax.ShapeDtypeStruct(rhs.shape[:-2], jnp.bool_),
    )
    return jax.ffi.ffi_call(_TARGET, out, vmap_method="broadcast_all")(B, C, rhs)
