"""Status: why a solver stopped, as an enum whose every value carries its message.

In the style of lineax/optimistix ``RESULTS``: a result's ``status`` says what happened,
``status.message`` the generic cause and what to try, and the result's own ``message`` adds
the numbers of that run (iterations, gradient, miss distance, ...).
"""

from __future__ import annotations

import enum

__all__ = ["Status"]


class Status(enum.Enum):
    """Why a solver stopped. ``Status.X.message`` is the cause and what to try.

    Members:
        SUCCESSFUL: converged (to a minimum where that was checked).
        MAX_STEPS_REACHED: the iteration limit was reached before the tolerance.
        STALLED: no damped Newton step lowers the objective any more.
        SADDLE: the critical point found is not a minimum, and leaving it failed.
        ACCURACY_NOT_MET: adaptive refinement could not reach ``accuracy`` within its limits.
        INTEGRATOR_FAILED: the ODE integrator stopped (max_steps, or a blow-up).
        TARGET_MISSED: shooting did not hit the end state to ``tol``.
        NONFINITE: the path or a quantity along it became NaN or infinite.
        INVALID_MODEL: on the solution path the model is invalid (D not positive definite, or
            f or D not finite): the action there is meaningless.
    """

    SUCCESSFUL = "converged"
    MAX_STEPS_REACHED = (
        "the iteration limit was reached before the tolerance: raise max_steps (or max_outer), "
        "or start closer (initial=..., a coarser grid's result, continuation)"
    )
    STALLED = (
        "no damped Newton step lowers the objective: the problem may be nearly singular or the "
        "drift not smooth at this resolution; try more num_points, a better initial path, or "
        "continuation from an easier problem"
    )
    SADDLE = (
        "the critical point found is a saddle of the action, not a minimum, and stepping along "
        "the negative curvature did not leave it: start from a path off the symmetry axis "
        "(initial=...)"
    )
    ACCURACY_NOT_MET = (
        "the requested accuracy was not reached within max_points (or max_memory): raise the "
        "limit or loosen accuracy"
    )
    INTEGRATOR_FAILED = (
        "the ODE integrator stopped before t1 (max_steps reached or the solution blew up): "
        "raise max_steps, shorten t1 - t0, or give a better p0"
    )
    TARGET_MISSED = (
        "shooting did not hit the end state: the flow may be too sensitive to p0 over this "
        "time (shorten t1 - t0, use most_likely_path) or give a better p0"
    )
    NONFINITE = (
        "the path or a quantity along it is not finite (the solve diverged, or |f|_D^2 + 4E <= 0 "
        "somewhere for path_with_energy): try another initial path or a larger energy"
    )

    INVALID_MODEL = (
        "the model is invalid on the solution path (D, or G G^T, is not positive definite, or "
        "f or D is not finite, at some interval midpoint): the action is meaningless there. "
        "Check the diffusion; keep the path where D is positive definite (initial=...)"
    )

    @property
    def message(self) -> str:
        """The cause of this status and what to try."""
        return self.value

    @property
    def successful(self) -> bool:
        return self is Status.SUCCESSFUL

    def __repr__(self) -> str:
        return f"Status.{self.name}"
