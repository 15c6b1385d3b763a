"""PathResult: a most likely path, its Noether charges and the solver's diagnostics, as data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class ConvergenceError(RuntimeError):
    """Raised by a solver called with ``throw=True`` when it does not converge."""


@dataclass(frozen=True)
class PathResult:
    """A most likely path between two states in a fixed time, with its charges.

    Attributes:
        ts: (K,) time grid.
        xs: (K, n) the path; ``xs[0] == x0`` and ``xs[-1] == x1``.
        action: the minimal discrete action S* (Eq. 8; transition density ~ exp(-S*), Eq. 7).
        momentum: (K-1, n) p = 1/2 D^-1 (xdot - f) on each interval (Eq. 15).
        energy: (K-1,) E = 1/4 xdot^T D^-1 xdot - 1/4 f^T D^-1 f on each interval (Eq. 10).
        angular_momentum: (K-1, n, n) L_ij = x_i p_j - x_j p_i on each interval (Eq. 17).
        converged: True when the gradient reached the tolerance at a local minimum (the Hessian
            was checked positive definite unless ``check_minimum=False``).
        message: what happened, and what to try when it did not converge.
        iterations: damped Newton iterations (accepted and rejected), over all restarts.
        grad_norm: final largest absolute gradient component, max_k |dS/dx_k|.
        method: ``"newton"`` or ``"newton-cg"``.
        rejected_steps: damped steps rejected by the gain-ratio test.
        inner_iterations: linear solves (``newton``) or CG iterations (``newton-cg``).
        min_eigenvalue: smallest eigenvalue of the undamped Hessian at the end (None if not
            computed); positive at a strict local minimum.
        saddle_escapes: times the solver left a saddle along a negative-curvature direction.
        action_error: with ``accuracy=``, the estimated relative error of ``action`` against the
            continuous minimum (Richardson, from this grid and the one of half its intervals
            refined); None otherwise.
        refinement: with ``accuracy=``, one dict per grid tried: K, S*, estimated error.
    """

    ts: np.ndarray
    xs: np.ndarray
    action: float
    momentum: np.ndarray
    energy: np.ndarray
    angular_momentum: np.ndarray
    converged: bool
    message: str
    iterations: int
    grad_norm: float
    method: str = "newton"
    rejected_steps: int = 0
    inner_iterations: int = 0
    min_eigenvalue: float | None = None
    saddle_escapes: int = 0
    action_error: float | None = None
    refinement: tuple = ()

    @property
    def energy_spread(self) -> float:
        """max E - min E along the path: about 0 for autonomous models at a converged path."""
        return float(np.ptp(self.energy))

    @property
    def momentum_spread(self) -> np.ndarray:
        """(n,) max p - min p per component along the path."""
        return np.ptp(self.momentum, axis=0)

    def __repr__(self) -> str:
        K, n = self.xs.shape
        err = "" if self.action_error is None else f", action_error={self.action_error:.1e}"
        return (
            f"PathResult(K={K}, n={n}, action={self.action:.10g}{err}, converged={self.converged}, "
            f"iterations={self.iterations}, grad_norm={self.grad_norm:.2e}, "
            f"method={self.method!r}, message={self.message!r})"
        )
