"""Starting curves of ``path_with_energy`` (``starts=``), and the choice of the best one.

The geometric action W (Eq. 10's fixed-energy path, E = 0 the infinite-time limit) has, for a
model with a symmetry, a critical curve on the symmetry axis that is often a saddle of W: the
straight start lies on the axis, the gradient keeps the iterate there, and the true minimum
(off the axis) is never seen. The default (``starts="auto"``) therefore starts from

1. the straight line x0 -> x1;
2. if the straight start's solution stays flat (in a proper affine subspace through x0 and x1:
   on a symmetry axis or plane, where a symmetry of the model may hold it), the straight line
   plus a half-sine bump ``+- BUMP |x1 - x0| sin(pi s) nu`` along the directions nu normal to
   that subspace (all of them up to 3, else ``RANDOM_DIRECTIONS`` random ones, seed ``SEED``;
   ``trapped_bumps``). A solution that leaves every such subspace was not held by a symmetry,
   and the bumps (which would cost a solve each) are skipped. ``starts=m`` forces m - 1
   bumps normal to the straight line whatever its solution;
3. at E = 0 only, curves through the fixed points of the drift in the box around x0 and x1
   (``_energy_routes.py``): the broken lines x0 -> z -> x1 through single fixed points off
   the straight segment, and the cheapest route through several of them where it is far
   cheaper than those (a ring of fixed points). That route is then the first start (the
   first has the full budget, the others ``_energy_refine.EXTRA_START_BUDGET``); the bumps
   are then judged on its solution.

Every start is solved on a coarse grid and the lowest W wins (the W of any curve bounds the
minimum from above, so a lower W is a better curve whether or not its solve converged; ties
within ``TIE`` go to a converged one); the fine grids start from it (``_energy_refine.py``).
At E = 0 every segment's term of W is >= 0 (Cauchy-Schwarz), so a start that converges to
W ~ 0 (the way down from a saddle) ends the search.
"""

from __future__ import annotations

import numpy as np

from . import _energy_routes
from ._energy_routes import SAMPLES, SEED

__all__ = ["start_curves", "best", "describe"]

#: Bump amplitude relative to |x1 - x0|.
BUMP = 0.15
#: Random normal directions for n > 3 (each with both signs), and their seed.
RANDOM_DIRECTIONS = 3
#: Singular values of a solution's points (from x0) below FLAT times the largest: flat.
FLAT = 1e-7
#: Actions closer than this (times max(1, |W|)) to the lowest count as equal (``best``).
TIE = 1e-8


def _normal_directions(u: np.ndarray, count: int | None) -> np.ndarray:
    """(m, n) unit vectors normal to the unit vector u.

    ``count=None`` (auto): an orthonormal basis of the complement for n <= 3, else
    ``RANDOM_DIRECTIONS`` random ones. An int: that many, the basis first (n <= 3), then random.
    """
    n = u.size
    if n == 1:
        return np.zeros((0, 1))
    out = []
    if n <= 3:
        q, _ = np.linalg.qr(np.column_stack([u, np.eye(n)]))
        out = list(q[:, 1:n].T)
    m = (len(out) if n <= 3 else RANDOM_DIRECTIONS) if count is None else count
    rng = np.random.default_rng(SEED)
    while len(out) < m:
        v = rng.standard_normal(n)
        v -= (v @ u) * u
        nv = np.linalg.norm(v)
        if nv > 1e-8:
            out.append(v / nv)
    return np.array(out[:m])


def _bumps(x0, x1, count: int | None, dirs=None):
    """The straight line plus +- half-sine bumps normal to it, as (label, curve) pairs.

    Along ``dirs`` (unit vectors normal to x1 - x0) if given, else ``_normal_directions``.
    """
    chord = x1 - x0
    length = float(np.linalg.norm(chord))
    s = np.linspace(0.0, 1.0, SAMPLES)[:, None]
    line = x0[None] + s * chord[None]
    if dirs is None:
        dirs = _normal_directions(chord / length, None if count is None else (count + 1) // 2)
    out = []
    for i, nu in enumerate(dirs):
        for sign in (1.0, -1.0):
            bump = sign * BUMP * length * np.sin(np.pi * s) * nu[None]
            out.append((f"bump {'+' if sign > 0 else '-'}{i}", line + bump))
    return out if count is None else out[:count]


def trapped_bumps(x0, x1, xs) -> list:
    """Bumps off the affine span of the straight start's solution xs, if that is not full.

    A solution from the straight line that stays in a proper affine subspace through x0 and
    x1 (a line in 2-D, a line or a plane in 3-D: singular values of xs - x0 below ``FLAT``
    times the largest) may be held there by a symmetry of the model (the gradient of W is
    then tangent to it): the bumps go along the directions normal to that subspace (all of
    them up to 3, else ``RANDOM_DIRECTIONS`` random ones in it, seed ``SEED``). A solution
    that spans every direction was not held: no bumps.
    """
    xs = np.asarray(getattr(xs, "xs", xs), dtype=np.float64)
    if x0.size == 1 or not np.all(np.isfinite(xs)):
        return []
    _, sv, vt = np.linalg.svd(np.vstack([xs - x0[None], (x1 - x0)[None]]), full_matrices=True)
    rank = int(np.sum(sv > FLAT * sv[0]))
    normal = vt[rank:]
    if normal.shape[0] == 0:
        return []
    if normal.shape[0] > 3:
        rng = np.random.default_rng(SEED)
        mix = rng.standard_normal((RANDOM_DIRECTIONS, normal.shape[0]))
        normal = mix @ normal
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    return _bumps(x0, x1, None, dirs=normal)


def check_starts(starts, initial):
    """``starts`` checked: "auto", an int >= 1, or a non-empty sequence of curves."""
    if isinstance(starts, str):
        if starts != "auto":
            raise ValueError(
                f"starts must be 'auto', a positive integer or a list of initial curves; got "
                f"{starts!r}"
            )
        return starts
    if initial is not None:
        raise ValueError(
            f"give initial= (one starting curve) or starts= (several), not both; got "
            f"starts={starts!r}"
        )
    if isinstance(starts, bool):
        raise TypeError(f"starts must be 'auto', a positive integer or a list; got {starts!r}")
    if isinstance(starts, int | np.integer):
        if starts < 1:
            raise ValueError(
                f"starts must be a positive integer (1: the straight line only); got {starts}"
            )
        return int(starts)
    try:
        curves = list(starts)
    except TypeError as err:
        raise TypeError(
            f"starts must be 'auto', a positive integer or a list of initial curves; got {starts!r}"
        ) from err
    if not curves:
        raise ValueError("starts must not be an empty list")
    return curves


def start_curves(sde, x0, x1, E: float, starts, initial, args) -> list:
    """The (label, curve) pairs to start from; ``starts`` as checked by ``check_starts``.

    ``initial`` given: that curve only. ``starts="auto"``: the straight line and (at E = 0)
    the broken lines through fixed points; the bumps are added once the straight line is
    solved, if its solution is flat (``trapped_bumps``). An int m: the straight line and
    m - 1 bumps (in the order +nu_1, -nu_1, +nu_2, ...; random normal directions past n - 1),
    whatever the solution. A list: those curves (arrays of points or results with ``.xs``).
    """
    if initial is not None:
        return [("initial", initial)]
    if isinstance(starts, list):
        return [(f"starts[{i}]", c) for i, c in enumerate(starts)]
    s = np.linspace(0.0, 1.0, SAMPLES)[:, None]
    out = [("straight line", x0[None] + s * (x1 - x0)[None])]
    if starts == "auto":
        if E == 0.0:
            broken, route = _energy_routes.fixed_point_curves(sde, x0, x1, args)
            # The route, when there is one, is far cheaper than the straight line on the graph
            # of fixed points: it goes first, with the full budget (the others are capped).
            out = route + out + broken
    elif starts > 1 and x0.size > 1:
        out += _bumps(x0, x1, starts - 1)
    return out


def best(results):
    """Index of the start to keep: the lowest finite action, a converged one among ties.

    Actions within ``TIE`` (absolute, at least; relative for |W| > 1) of the lowest are ties:
    a difference of 1e-8 in the exponent of a probability means nothing, and the way down from
    a saddle (W ~ 1e-11, flat) would otherwise pick an unconverged start by noise. 0 when none
    is finite.
    """
    ok = [
        i
        for i, r in enumerate(results)
        if np.isfinite(r.action) and np.all(np.isfinite(r.xs)) and np.all(np.isfinite(r.ts))
    ]
    if not ok:
        return 0
    low = min(results[i].action for i in ok)
    ties = [i for i in ok if results[i].action <= low + TIE * max(1.0, abs(low))]
    return min(ties, key=lambda i: (not results[i].converged, results[i].action, i))


def describe(labels, results, chosen: int) -> tuple:
    """One JSON-friendly dict per start (for ``stats["starts"]``)."""
    return tuple(
        dict(
            start=label,
            K=int(np.shape(r.xs)[0]),
            action=float(r.action),
            converged=bool(r.converged),
            chosen=i == chosen,
        )
        for i, (label, r) in enumerate(zip(labels, results, strict=True))
    )
