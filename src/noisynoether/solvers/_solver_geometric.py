"""Geometric: the solver object of ``path_with_energy`` (the string method on the geometric
action at fixed energy; see ``_geometric.py``)."""

from __future__ import annotations

import dataclasses

from .._checks import check_positive
from ._solver_base import SolverBase

__all__ = ["Geometric"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Geometric(SolverBase):
    """The string method for the geometric (Maupertuis) action at fixed energy E.

    Attributes:
        rtol: tolerance of each Newton solve (as in ``Newton``).
        xtol: stop when an outer iteration moves the curve (the nodes' displacement normal to
            it) by no more than xtol * (path length) ...
        wtol: ... or by no more than 1000 xtol while W changes by no more than wtol
            (relative): at corners of the path (attractors, saddles at E = 0) the normal is
            ill defined and nodes there keep sliding without changing W.
        max_outer: most redistributions.
        max_steps: most Newton steps per outer iteration.
        regularisation: eps^2 relative to the largest |f|_D^2 on the initial path or the
            segment x0 -> x1; the integrand uses ``sqrt(|f|_D^2 + max(4E, eps^2))`` (smooth
            where f = 0 at E = 0).
        coarse_points: without ``initial``, a grid finer than this is started from the
            solution on a grid about 4 times coarser (recursively down to this size), solved
            with these same options (xtol at least 1e-7).
        time_weight: w in the node distribution monitor (1 - w) arclength + w time, in [0, 1);
            default (None) 0.5 for E != 0 and 0 for E = 0.
    """

    rtol: float = 1e-10
    xtol: float = 1e-9
    wtol: float = 1e-12
    max_outer: int = 60
    max_steps: int = 100
    regularisation: float = 1e-10
    coarse_points: int = 101
    time_weight: float | None = None

    def __post_init__(self):
        self._tolerance("rtol", "xtol", "wtol", "regularisation")
        self._count("max_outer", "max_steps")
        cp = check_positive(self.coarse_points, "coarse_points", integer=True)
        if cp < 5:
            raise ValueError(f"coarse_points must be an integer >= 5; got {cp}")
        object.__setattr__(self, "coarse_points", cp)
        tw = check_positive(
            self.time_weight, "time_weight", allow_zero=True, upper=1.0, allow_none=True
        )
        object.__setattr__(self, "time_weight", tw)

    name = "geometric"
