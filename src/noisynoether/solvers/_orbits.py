"""Orbits of most likely paths under the model's discrete symmetries (for ``find_paths``).

A signed permutation P with ``f(t, P x) = P f(t, x)`` and ``D(t, P x) = P D(t, x) P^T`` leaves
the Lagrangian of Eq. 8 invariant, so it maps a path from x0 to x1 onto a path from P x0 to
P x1 of the same action (``find_discrete_symmetries``). Only the symmetries that fix both end
states (P x0 = x0, P x1 = x1; a group) map a minimiser between x0 and x1 onto another one:
``P x*(t)`` is then a minimiser of equal S*, either x* itself (x* lies in the mirror's fixed
subspace) or a distinct copy. A ``PathOrbit`` is one minimum with its copies; its
multiplicity is the number of distinct minimisers that symmetry makes of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..symmetry._discrete import DiscreteSymmetry, describe_permutation, find_discrete_symmetries
from . import _mesh
from ._result import PathResult

__all__ = ["PathOrbit", "endpoint_group", "detect_symmetries", "group_orbits", "check_symmetries"]

#: Most elements kept when closing the endpoint-fixing symmetries under composition.
MAX_GROUP = 64


@dataclass(frozen=True)
class PathOrbit:
    """One local minimum of the action and its images under the model's symmetries.

    Attributes:
        representative: the PathResult listed in ``PathSet.paths`` (the lowest action of the
            orbit, found first).
        label: the start that found the representative.
        copies: one ``(symmetry, result)`` per other minimiser of the orbit: the
            ``DiscreteSymmetry`` P (``.name`` says which, e.g. ``"flip x2 -> -x2"``) with
            ``result.xs ~ P representative.xs``, and its PathResult (same S*).
        copy_labels: for each copy, the start that found it ("mirror of ..." when it was
            not found by any start and was solved from the mirror image).
        multiplicity: 1 + len(copies), the number of distinct minimisers in the orbit.
        action: S* of the representative.
        symmetries: the symmetries of the copies, in order.
    """

    representative: PathResult
    label: str
    copies: list = field(default_factory=list)
    copy_labels: list = field(default_factory=list)

    @property
    def multiplicity(self) -> int:
        return 1 + len(self.copies)

    @property
    def action(self) -> float:
        return self.representative.action

    @property
    def symmetries(self) -> list:
        return [s for s, _ in self.copies]

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self.symmetries) or "none"
        return (
            f"PathOrbit(action={self.action:.10g}, multiplicity={self.multiplicity}, "
            f"label={self.label!r}, copies by: {names})"
        )


def check_symmetries(symmetries, n: int):
    """``symmetries=`` of find_paths: None (detect), False (skip) or DiscreteSymmetry list."""
    if symmetries is None or symmetries is False:
        return symmetries
    if isinstance(symmetries, DiscreteSymmetry):
        symmetries = [symmetries]
    if not isinstance(symmetries, list | tuple) or not all(
        isinstance(s, DiscreteSymmetry) for s in symmetries
    ):
        raise TypeError(
            "symmetries must be None (detect with find_discrete_symmetries when minima of equal "
            "action are found), False (do not group), or a list of DiscreteSymmetry (from "
            f"nn.find_discrete_symmetries); got {symmetries!r}"
        )
    for s in symmetries:
        if s.matrix.shape != (n, n):
            raise ValueError(
                f"symmetries: {s!r} has a matrix of shape {s.matrix.shape}; the model's states "
                f"have n = {n} components, so it must be ({n}, {n})"
            )
    return list(symmetries)


def endpoint_group(symmetries, x0, x1, scale: float) -> list:
    """The symmetries fixing x0 and x1, closed under composition (identity excluded)."""
    tol = 1e-10 * max(scale, 1.0)
    fixing = [
        s
        for s in symmetries
        if np.max(np.abs(s.apply(x0) - x0)) <= tol and np.max(np.abs(s.apply(x1) - x1)) <= tol
    ]
    group = {tuple(s.matrix.ravel()): s for s in fixing}
    frontier = list(fixing)
    while frontier and len(group) < MAX_GROUP:
        new = []
        for a in frontier:
            for b in fixing:
                P = a.matrix @ b.matrix
                key = tuple(P.ravel())
                if key in group or np.array_equal(P, np.eye(len(P))):
                    continue
                s = DiscreteSymmetry(P, describe_permutation(P), max(a.residual, b.residual))
                group[key] = s
                new.append(s)
        frontier = new
    return sorted(group.values(), key=lambda s: (int(np.sum(np.diag(s.matrix) != 1)), s.name))


def detect_symmetries(sde, results, ts, args) -> list:
    """``find_discrete_symmetries`` on states along ``results`` (8 per path) at 3 times."""
    pts = np.concatenate([r.xs[np.linspace(0, len(r.xs) - 1, 8).astype(int)] for r in results])
    times = np.linspace(ts[0], ts[-1], 3)
    try:
        return find_discrete_symmetries(sde, pts, times=times, args=args)
    except ValueError:  # the model is not finite at some mirrored state: no symmetry to use
        return []


def equal_actions(results, tol_S: float) -> bool:
    """Whether two of the (sorted) results have the same action within ``tol_S`` relative."""
    S = [r.action for r in results]
    return any(abs(b - a) <= tol_S * max(abs(a), 1e-12) for a, b in zip(S, S[1:], strict=False))


def is_image(sym, a: PathResult, b: PathResult, tol_S: float, tol_x: float) -> bool:
    """Whether b is P a: equal actions and ``|P a.xs - b.xs| <= tol_x`` on a's grid."""
    if abs(a.action - b.action) > tol_S * max(abs(a.action), 1e-12):
        return False
    image = a.xs if sym is None else sym.apply(a.xs)
    xb = _mesh.interpolate_path(a.ts, b.ts, b.xs)
    return float(np.max(np.abs(image - xb))) <= tol_x


def group_orbits(found, labels, group, tol_S: float, tol_x: float) -> list:
    """Partition ``found`` (sorted by action) into orbits under ``group``.

    Returns a list of ``(orbit, missing)``: ``missing`` lists the symmetries whose image of
    the representative is none of the found minima (a copy not found by any start).
    """
    taken = [False] * len(found)
    out = []
    for i, rep in enumerate(found):
        if taken[i]:
            continue
        taken[i] = True
        copies, copy_labels, missing, seen = [], [], [], [rep.xs]
        for sym in group:
            image = sym.apply(rep.xs)
            if any(np.max(np.abs(image - xs)) <= tol_x for xs in seen):
                continue  # P fixes the path, or gives a copy already listed
            seen.append(image)
            j = next(
                (
                    j
                    for j in range(len(found))
                    if not taken[j] and is_image(sym, rep, found[j], tol_S, tol_x)
                ),
                None,
            )
            if j is None:
                missing.append(sym)
                continue
            taken[j] = True
            copies.append((sym, found[j]))
            copy_labels.append(labels[j])
        out.append((PathOrbit(rep, labels[i], copies, copy_labels), missing))
    return out
