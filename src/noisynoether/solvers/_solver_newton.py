"""Newton and NewtonCG: the solver objects of ``most_likely_path`` (fixed-time paths, Eq. 8)."""

from __future__ import annotations

import dataclasses

from .._checks import check_choice, check_positive
from ._newton import LINEAR_SOLVERS
from ._solver_base import SolverBase

__all__ = ["Newton", "NewtonCG"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _NewtonOptions(SolverBase):
    rtol: float = 1e-11
    max_steps: int = 200
    damping: float | None = None
    check_minimum: bool = True
    max_saddle_escapes: int = 5
    coarse_to_fine: bool = True

    def __post_init__(self):
        self._flag("coarse_to_fine")
        self._tolerance("rtol")
        self._count("max_steps")
        self._count("max_saddle_escapes", allow_zero=True)
        self._flag("check_minimum")
        damping = check_positive(self.damping, "damping", allow_zero=True, allow_none=True)
        object.__setattr__(self, "damping", damping)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Newton(_NewtonOptions):
    """Damped (Levenberg-Marquardt) Newton on the exact block-tridiagonal Hessian.

    Attributes:
        rtol: stop when ``max |dS/dx| <= rtol * max(g_scale, 1)``, g_scale the largest
            single-interval partial derivative (the gradient's rounding level ~1e-16 g_scale).
        max_steps: most damped Newton steps per run.
        linear_solver: ``"auto"``, ``"native"`` (compiled block Cholesky, CPU), ``"lapack"``
            (banded LAPACK through a callback), ``"cyclic"`` (block cyclic reduction, pure
            JAX; GPU at large K; refused on the CPU for n > 8, where jaxlib 0.10.2 deadlocks
            in it) or ``"scan"`` (block Cholesky in ``lax.scan``).
        damping: initial damping relative to the Hessian's diagonal; None: 1e-5 from the
            straight line, 1e-8 from a given initial path.
        check_minimum: certify the end point from the lowest Hessian eigenvalues (and count
            zero modes), escaping a saddle the loop missed. The loop itself always tests the
            Hessian and follows negative curvature.
        max_saddle_escapes: most escapes by the end certificate.
        coarse_to_fine: when the solve from the start path stops at ``max_steps`` (damped
            Newton creeping along the soft directions of a long horizon), solve again on
            uniform grids of 33, 65, ... points, each from the coarser solution, and last on
            the requested grid (``_coarse_to_fine.py``; needs ``max_steps >= 20`` and at
            least 65 points). ``stats["coarse_to_fine"]`` records the levels.
    """

    linear_solver: str = "auto"

    def __post_init__(self):
        super().__post_init__()
        check_choice(self.linear_solver, "linear_solver", ("auto", *LINEAR_SOLVERS))

    name = "newton"


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewtonCG(_NewtonOptions):
    """Matrix-free damped Newton-CG (Hessian-vector products; the default for n > 32).

    Options as ``Newton`` (without ``linear_solver``), and:
        max_cg: most (preconditioned) CG iterations per Newton step.
    """

    max_cg: int = 2000

    def __post_init__(self):
        super().__post_init__()
        self._count("max_cg")

    name = "newton-cg"
