"""Linear SDEs ``xdot = A x + b + G eta`` and their exact most likely paths (closed form)."""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import scipy.linalg

from .._checks import as_matrix, as_state, as_vector, check_positive
from .._sde import SDE, _const_array, check_spd


@dataclass(frozen=True)
class _LinearDrift:
    A: tuple
    b: tuple

    def __call__(self, t, x, args):
        return jnp.asarray(self.A) @ x + jnp.asarray(self.b)


def _tuple2(a):
    return tuple(tuple(float(v) for v in row) for row in np.asarray(a, dtype=float))


def ornstein_uhlenbeck(A, D, b=None) -> SDE:
    """Any linear SDE ``xdot = A x + b + G eta`` with constant diffusion D (an OU process).

    ``A`` is an n x n matrix (or a number for n = 1); ``D`` as in ``SDE`` (number, diagonal or
    matrix); ``b`` an optional constant (n,) vector. The paper's Fig. 1b is ``A = -I``, ``D = 1``.
    Its transition density is Gaussian, so the minimal action and path are known in closed form
    (``linear_bridge``).
    """
    A = as_matrix(A, "A")
    n = A.shape[0]
    b = np.zeros(n) if b is None else as_vector(b, "b", n)
    if not callable(D):
        D = _const_array(D, "D")
        check_spd(D, "D")
        _check_D_fits(D, n)
    return SDE(drift=_LinearDrift(_tuple2(A), tuple(b.tolist())), diffusion=D)


def _check_D_fits(D: np.ndarray, n: int) -> None:
    if D.ndim == 1 and D.shape != (n,) or D.ndim == 2 and D.shape != (n, n):
        raise ValueError(
            f"D has shape {D.shape} but A is {n} x {n}: D must be a number, shape ({n},) or "
            f"({n}, {n})"
        )


def _dense_D(D, n):
    D = np.asarray(D, dtype=float)
    return D * np.eye(n) if D.ndim == 0 else np.diag(D) if D.ndim == 1 else D


def _mean_cov(A, b, D, t):
    """Mean map (m = Phi x0 + c) and covariance C(t) = int_0^t e^{As} 2D e^{A^T s} ds."""
    n = A.shape[0]
    aug = np.zeros((n + 1, n + 1))
    aug[:n, :n], aug[:n, n] = A, b
    E = scipy.linalg.expm(aug * t)
    vl = np.block([[-A, 2 * D], [np.zeros((n, n)), A.T]])
    F = scipy.linalg.expm(vl * t)
    C = F[n:, n:].T @ F[:n, n:]
    return E[:n, :n], E[:n, n], 0.5 * (C + C.T)


def linear_bridge(A, D, x0, x1, t_span, ts, b=None):
    """Exact most likely path of ``xdot = A x + b + G eta`` from x0 to x1 over time T = t_span.

    With m(t) = e^{At} x0 + int_0^t e^{As} b ds and C(t) = int_0^t e^{As} 2D e^{A^T s} ds (the
    mean and covariance of the transition density):

        S*   = 1/2 (x1 - m(T))^T C(T)^-1 (x1 - m(T))
        p(t) = e^{A^T (T - t)} C(T)^-1 (x1 - m(T))          (Eq. 15 along the optimum)
        x(t) = m(t) + C(t) e^{A^T (T - t)} C(T)^-1 (x1 - m(T))

    Args:
        A: (n, n) the drift matrix; D: the constant diffusion (number, (n,) or (n, n) SPD).
        x0, x1: (n,) the end states.
        t_span: the duration T > 0.
        ts: times in [0, T] (measured from the start) at which to return x and p.
        b: optional (n,) constant drift.

    Returns:
        dict with ``action``, ``xs`` (len(ts), n) and ``momentum`` (len(ts), n).
    """
    A = as_matrix(A, "A")
    n = A.shape[0]
    b = np.zeros(n) if b is None else as_vector(b, "b", n)
    if callable(D):
        raise TypeError(f"D must be a constant diffusion (a number, vector or matrix); got {D!r}")
    D = _const_array(D, "D")
    check_spd(D, "D")
    _check_D_fits(D, n)
    D = _dense_D(D, n)
    x0, x1 = as_vector(x0, "x0", n), as_vector(x1, "x1", n)
    T = check_positive(t_span, "t_span")
    ts = np.atleast_1d(np.asarray(as_state(ts, "ts")))
    outside = np.flatnonzero((ts < 0) | (ts > T * (1 + 1e-12)))
    if outside.size:
        k = outside[0]
        raise ValueError(
            f"ts must be times in [0, t_span] = [0, {T:g}] (measured from the start); got "
            f"ts[{k}] = {ts[k]:g}"
        )
    Phi, c, CT = _mean_cov(A, b, D, T)
    lam = np.linalg.solve(CT, x1 - (Phi @ x0 + c))
    xs, ps = [], []
    for t in ts:
        Phi_t, c_t, C_t = _mean_cov(A, b, D, float(t))
        p = scipy.linalg.expm(A.T * (T - t)) @ lam
        xs.append(Phi_t @ x0 + c_t + C_t @ p)
        ps.append(p)
    return {
        "action": 0.5 * float((x1 - Phi @ x0 - c) @ lam),
        "xs": np.array(xs),
        "momentum": np.array(ps),
    }
