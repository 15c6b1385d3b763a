"""Shooting: the solver object of ``shoot`` and ``shoot_to`` (Hamilton's equations)."""

from __future__ import annotations

import dataclasses

from .._checks import check_choice
from ._solver_base import SolverBase

__all__ = ["Shooting", "METHODS"]

#: The Runge-Kutta methods (diffrax) ``Shooting(method=...)`` accepts.
METHODS = ("dopri8", "dopri5", "tsit5")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Shooting(SolverBase):
    """Integrate Hamilton's equations with diffrax; ``shoot_to`` adds Newton on p0.

    Attributes:
        method: the adaptive Runge-Kutta method, ``"dopri8"``, ``"dopri5"`` or ``"tsit5"``.
        rtol, atol: the step-size controller's tolerances.
        max_steps: most integrator steps.
        tol: (``shoot_to``) stop when max |x(t1) - x1| <= tol * max(1, |x1|).
        max_iterations: (``shoot_to``) most Newton iterations on p0.
    """

    method: str = "dopri8"
    rtol: float = 1e-12
    atol: float = 1e-12
    max_steps: int = 100_000
    tol: float = 1e-10
    max_iterations: int = 50

    def __post_init__(self):
        check_choice(self.method, "method", METHODS)
        self._tolerance("rtol", "atol", "tol")
        self._count("max_steps", "max_iterations")

    name = "shooting"
