"""The results of the path solvers: PathResult, EnergyPathResult and ShootResult.

All three subclass ``PathSolution`` (``_solution.py``) and share its names and meanings; the
fields below are the solver-specific ones. Names that changed in 0.2 keep working for one
release through properties that emit a DeprecationWarning.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._solution import PathSolution, deprecated_alias, pytree_result

__all__ = [
    "ConvergenceError",
    "DiscretisationWarning",
    "PathResult",
    "EnergyPathResult",
    "ShootResult",
    "replace_result",
]


class ConvergenceError(RuntimeError):
    """Raised by a solver called with ``throw=True`` when it does not converge."""


class DiscretisationWarning(UserWarning):
    """A converged path whose grid is likely too coarse for its horizon (``_discretisation``)."""


def angular_momentum_of(xs, momentum) -> np.ndarray:
    """(K-1, n, n) L_ij = x_i p_j - x_j p_i at the interval midpoints (Eq. 17), from the path
    (K, n) and the momentum on its intervals (K-1, n): exactly antisymmetric."""
    xm = 0.5 * (np.asarray(xs)[:-1] + np.asarray(xs)[1:])
    outer = xm[:, :, None] * np.asarray(momentum)[:, None, :]
    return outer - np.swapaxes(outer, 1, 2)


def replace_result(res, **changes):
    """``dataclasses.replace`` for results, without building a PathResult's lazy
    ``angular_momentum`` (dataclasses.replace reads every field: at n = 1024, K = 200 that
    built 1.6 GB in ~9 s at each internal replace). An L already built is kept unless the path
    or the momentum changes."""
    if isinstance(res, PathResult) and "angular_momentum" not in changes:
        stored = object.__getattribute__(res, "angular_momentum")
        changes["angular_momentum"] = None if {"xs", "momentum"} & set(changes) else stored
    return dataclasses.replace(res, **changes)


def _stat(name, default=None):
    return lambda self: self.stats.get(name, default)


@pytree_result
@dataclasses.dataclass(frozen=True, kw_only=True, repr=False)
class PathResult(PathSolution):
    """A most likely path between two states in a fixed time (``most_likely_path``).

    Besides the common fields of ``PathSolution`` (``action`` is the minimal discrete action
    S* of Eq. 8, transition density ~ exp(-S*), Eq. 7):

    Attributes:
        angular_momentum: (K-1, n, n) L_ij = x_i p_j - x_j p_i on each interval (Eq. 17), at
            the interval midpoints; built from ``xs`` and ``momentum`` on first access (the
            solvers do not store it: at n = 1024, K = 200 it is 1.7 GB).
        grad_norm: final largest absolute gradient component, max_k |dS/dx_k|.
        min_eigenvalue: smallest eigenvalue of the undamped Hessian at the end (None if not
            computed); positive at a strict local minimum.
        zero_modes: number of zero eigenvalues of that Hessian (|lambda| <= 1e-10 |H|): 0 for
            an isolated minimum; k when a continuous symmetry that fixes both endpoints moves
            the path (a k-parameter family of minima), or when a direction is flat to that
            level without a symmetry (over a long horizon, the waiting times at fixed points).
            ``stats["zero_mode_eigenvalues"]`` has their values and
            ``stats["zero_mode_generators"]`` the names of the symmetry generators
            (``find_symmetries``) whose action along the path spans them.
        action_error: with ``accuracy=``, the estimated relative error of ``action`` against the
            continuous minimum (Richardson, from this grid and the one of half its intervals
            refined); None otherwise.
        refinement: with ``accuracy=``, one dict per grid tried: K, S*, estimated error.
        iterations: damped Newton iterations (accepted and rejected), over all restarts.
        converged: True when the gradient (or the Newton decrement) reached the tolerance at a
            point where the loop found no negative curvature, and the lowest Hessian
            eigenvalues are nonnegative up to the reported zero modes (unless
            ``check_minimum=False``). A saddle is never reported as converged.
        stats: ``method`` ("newton" or "newton-cg"), ``linear_solver``, ``rejected_steps``
            (damped steps rejected by the gain-ratio test), ``inner_iterations`` (linear solves
            or CG iterations), ``saddle_escapes`` (times the certificate found a saddle that the
            loop missed and the solver left it), ``negative_curvature_steps`` (steps taken along
            a direction of negative curvature inside the loop), ``lowest_eigenvalues``.

    Changed in 0.2: ``method``, ``rejected_steps``, ``inner_iterations`` and
    ``saddle_escapes`` moved into ``stats`` (the old attributes still work, with a warning).
    """

    angular_momentum: np.ndarray | None = None
    grad_norm: float
    min_eigenvalue: float | None = None
    zero_modes: int = 0
    action_error: float | None = None
    refinement: tuple = ()

    _data_fields = (*PathSolution._data_fields, "angular_momentum")

    method = deprecated_alias("method", 'stats["method"]', _stat("method", "newton"))
    rejected_steps = deprecated_alias(
        "rejected_steps", 'stats["rejected_steps"]', _stat("rejected_steps", 0)
    )
    inner_iterations = deprecated_alias(
        "inner_iterations", 'stats["inner_iterations"]', _stat("inner_iterations", 0)
    )
    saddle_escapes = deprecated_alias(
        "saddle_escapes", 'stats["saddle_escapes"]', _stat("saddle_escapes", 0)
    )

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        if name == "angular_momentum" and value is None:
            # Built on first use (an (K-1, n, n) array is 1.7 GB at n = 1024, K = 200).
            value = angular_momentum_of(
                object.__getattribute__(self, "xs"), object.__getattribute__(self, "momentum")
            )
            object.__setattr__(self, "angular_momentum", value)
        return value

    def _summary_extra(self) -> str:
        err = "" if self.action_error is None else f" (estimated error {self.action_error:.1e})"
        return f"{err}, max |dS/dx| = {self.grad_norm:.2e}"


@pytree_result
@dataclasses.dataclass(frozen=True, kw_only=True, repr=False)
class EnergyPathResult(PathSolution):
    """A most likely path at fixed energy E (``path_with_energy``, the geometric action).

    Common fields: ``ts`` are the times of the nodes, from ``t0``: t_{k+1} - t_k =
    |d_k|_D / sqrt(|f_m|_D^2 + 4E), the time the path takes along each segment (at E = 0 the
    true duration is infinite and ``ts`` is the finite, grid-dependent time of the regularised
    integrand, for plotting); ``xs`` the nodes (equidistributed in arclength and, for E != 0,
    time); ``action`` S = W - E T (Eq. 8; S = W at E = 0); ``energy`` and ``momentum`` the
    charges of Eqs. 10 and 15 on each interval of (ts, xs) by the midpoint rule: ``energy`` is
    about ``target_energy`` (a check); ``iterations`` damped Newton iterations over all outer
    (redistribution) iterations.

    Attributes:
        target_energy: the energy E asked for.
        duration: T(E) = int |phi'|_D / sqrt(|f|_D^2 + 4E) ds (Eq. 13 in 1-D); inf for E = 0.
        geometric_action: W = 1/2 int (|phi'|_D sqrt(|f|_D^2 + 4E) - <phi', f>_D) ds.
        arclength: (K,) Euclidean arclength of the nodes from x0.
        grad_norm: final max |dW/dphi| over the interior nodes, normal to the path.
        regularisation: the reg used in sqrt(|f|_D^2 + 4E + reg), reg = max(eps^2 - 4E, 0).
        min_eigenvalue: smallest eigenvalue of the Hessian of W with the nodes' tangential
            motion pinned (the re-parametrisations of the curve removed), at the end of the
            last Newton solve; positive at a strict local minimum of W, negative at a saddle
            (then ``converged`` is False and ``status`` SADDLE). None if not converged.
        zero_modes: how many of those eigenvalues are zero (|lambda| <= 1e-10 |H|): flat
            directions of W across the curve (a continuous symmetry that moves it).
        stats: ``outer_iterations`` (redistributions), ``history`` (per redistribution: how
            far the curve moved, relative change of W), ``lowest_eigenvalues``.

    Changed in 0.2: ``energy`` is now the (K-1,) energy along the path (it was the scalar E
    asked for, now ``target_energy``); ``energy_along`` is its deprecated old name;
    ``outer_iterations`` and ``extra`` moved into ``stats``.
    """

    target_energy: float
    duration: float
    geometric_action: float
    arclength: np.ndarray
    grad_norm: float
    regularisation: float
    min_eigenvalue: float | None = None
    zero_modes: int = 0

    _data_fields = (*PathSolution._data_fields, "arclength")

    energy_along = deprecated_alias("energy_along", "energy", lambda self: self.energy)
    outer_iterations = deprecated_alias(
        "outer_iterations", 'stats["outer_iterations"]', _stat("outer_iterations", 0)
    )
    extra = deprecated_alias(
        "extra", 'stats["history"]', lambda self: {"history": self.stats.get("history", ())}
    )

    def _summary_extra(self) -> str:
        return (
            f", W = {self.geometric_action:.12g}, E = {self.target_energy:.6g}, "
            f"T = {self.duration:.8g}"
        )


@pytree_result
@dataclasses.dataclass(frozen=True, kw_only=True, repr=False)
class ShootResult(PathSolution):
    """A solution of Hamilton's equations from (x0, p0) (``shoot``, ``shoot_to``).

    Common fields: ``action`` is the total action of Eq. 8 (``action_along[-1]``);
    ``momentum`` and ``energy`` are the midpoint-rule charges on each interval of (ts, xs), as
    on every result (compare ``ps`` and ``hamiltonian``, exact at the nodes); ``iterations``
    are the Newton iterations of ``shoot_to`` (0 for ``shoot``); ``converged``: for ``shoot``
    the integrator succeeded, for ``shoot_to`` also |x(t1) - x1| <= tol.

    Attributes:
        ps: (K, n) momenta p = 1/2 D^-1 (xdot - f) at the nodes (Eq. 15).
        hamiltonian: (K,) H = p^T D p + p^T f at the nodes, which equals E of Eq. 10;
            conserved for autonomous models (to the integrator's tolerance).
        action_along: (K,) the action of Eq. 8 accumulated from ts[0] (int p^T D p dt).
        p0: (n,) the initial momentum used.
        miss: for ``shoot_to``, max |x(t1) - x1|; None for ``shoot``.
        stats: ``method`` (the Runge-Kutta method), ``num_steps`` (integrator steps in the
            last integration).

    Changed in 0.2: ``energy`` is now the (K-1,) midpoint-rule energy (it was H at the nodes,
    now ``hamiltonian``); ``action`` is the total (it was the cumulative array, now
    ``action_along``); ``num_steps`` moved into ``stats``.
    """

    ps: np.ndarray
    hamiltonian: np.ndarray
    action_along: np.ndarray
    p0: np.ndarray
    miss: float | None = None

    _data_fields = (*PathSolution._data_fields, "ps", "hamiltonian", "action_along", "p0")

    num_steps = deprecated_alias("num_steps", 'stats["num_steps"]', _stat("num_steps", 0))

    @property
    def hamiltonian_spread(self) -> float:
        """max H - min H at the nodes (integration error, for an autonomous model)."""
        return float(np.ptp(self.hamiltonian))

    def _summary_extra(self) -> str:
        miss = "" if self.miss is None else f", miss = {self.miss:.2e}"
        return f", H spread = {self.hamiltonian_spread:.2e}{miss}"
