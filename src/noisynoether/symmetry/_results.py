"""The results of the symmetry search: a ``Symmetry`` (generator, name, charge) and their list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._charges import energy, noether_charge

__all__ = ["Symmetry", "SymmetryList"]


@dataclass(frozen=True, eq=False)
class Symmetry:
    """A continuous symmetry of a model (or a candidate one) and its Noether charge.

    Attributes:
        kind: ``"affine"`` (the generator ``xi(x) = A x + b``) or ``"time"`` (time translation).
        A: (n, n) matrix of the generator; None for ``"time"``.
        b: (n,) vector of the generator; None for ``"time"``.
        name: a readable description: ``"rotation in the (x1, x2) plane"``,
            ``"translation along x3"``, ``"time translation (energy, Eq. 10)"``, or a generic
            ``"affine generator ..."``.
        residual: how exactly it holds on the sample. For ``"affine"``: ``|M u| / s_max``, M the
            row-scaled constraint matrix (see ``find_symmetries``), u the generator's
            coordinates and s_max M's largest singular value (about 1e-16 for an exact
            symmetry). For ``"time"``: the relative change of f and D between the sample times.
        coefficients: for symmetries found by ``conserved_quantities``, the weights of the
            candidate generators that make it up; None otherwise.

    Affine generators are normalised in the inner product ``<xi, xi'> = 1/2 tr(A^T A') + b . b'``,
    under which the rotation ``A = E_ji - E_ij`` and the translation ``b = e_i`` have norm 1, so
    their charges are exactly L_ij (Eq. 16) and p_i (Eq. 14).
    """

    kind: str
    A: np.ndarray | None
    b: np.ndarray | None
    name: str
    residual: float
    sde: Any = None
    args: Any = None
    coefficients: np.ndarray | None = None

    def charge(self, ts, xs, args=None) -> np.ndarray:
        """(K-1,) the conserved charge on each interval of a path (ts (K,), xs (K, n)).

        ``Q = p . (A x + b)`` at interval midpoints (Eq. 4, ``noether_charge``) for an affine
        symmetry; the energy ``E = 1/4 xdot^T D^-1 xdot - 1/4 f^T D^-1 f`` (Eq. 10,
        ``energy``) for the time translation. ``args`` defaults to the ones the symmetry was
        found with.
        """
        if self.sde is None:
            raise ValueError("this Symmetry has no model attached: use noether_charge(sde, ...)")
        args = self.args if args is None else args
        if self.kind == "time":
            return energy(self.sde, ts, xs, args)
        return noether_charge(self.sde, ts, xs, self.A, self.b, args)

    def xi(self, x) -> np.ndarray:
        """The generator ``A x + b`` at states x (..., n) (affine symmetries only)."""
        if self.kind != "affine":
            raise ValueError(f"xi is defined for affine symmetries only; this one is {self.kind!r}")
        x = np.asarray(x, dtype=np.float64)
        return x @ self.A.T + self.b

    def __repr__(self) -> str:
        return f"Symmetry(kind={self.kind!r}, name={self.name!r}, residual={self.residual:.2e})"


class SymmetryList(list):
    """A list of ``Symmetry`` objects with what the search found out about the model.

    Attributes:
        autonomous: True when f and D do not depend on t at the sample (the time translation is
            then in the list, its charge the energy of Eq. 10), False when they do (no energy
            conservation: ``message`` says so), None when only one time was checked.
        time_residual: the relative change of f and D between the sample times (0 for an
            autonomous model); None with one time.
        singular_values: (n^2 + n,) singular values of the constraint matrix relative to the
            largest, in decreasing order; those at most ``tol`` are the affine symmetries.
        message: a one-line summary.
    """

    def __init__(
        self, items=(), *, autonomous=None, time_residual=None, singular_values=None, message=""
    ):
        super().__init__(items)
        self.autonomous = autonomous
        self.time_residual = time_residual
        self.singular_values = (
            np.zeros(0) if singular_values is None else np.asarray(singular_values)
        )
        self.message = message

    @property
    def affine(self) -> list[Symmetry]:
        """The affine symmetries only."""
        return [s for s in self if s.kind == "affine"]

    def __repr__(self) -> str:
        return f"SymmetryList({list.__repr__(self)}, autonomous={self.autonomous})"
