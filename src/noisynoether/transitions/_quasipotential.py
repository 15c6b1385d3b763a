"""The quasipotential V(x) of an attractor, and the barrier between two attractors.

In the normalisation of the action (Eq. 8, transition density ~ exp(-S*)), the quasipotential
of an attractor a is the infinite-time minimal action ``V_a(x) = inf_T S*(a -> x; T)``, the
geometric action at E = 0 (``path_with_energy``). The stationary density is ~ exp(-V) to
leading order; for a linear SDE ``xdot = A x + G eta`` exactly
``V(x) = 1/2 x^T Sigma^-1 x`` with ``A Sigma + Sigma A^T + 2 D = 0`` (Lyapunov), whatever the
normality of A or the correlations of D; for a gradient drift ``f = -grad U`` with D = d I,
``V = (U - U(a)) / d``.

Every E = 0 path starts from several curves (``path_with_energy``'s ``starts``: the straight
line, broken lines through fixed points, and bumps off the straight line when its solution
stays on a symmetry axis or plane) and keeps the lowest W, so that a symmetry axis through
the attractor does not trap the solve on a saddle of W; its error is estimated by Richardson
from a coarse grid (``action_error``, absolute, in the units of V), and ``accuracy=`` refines
the grids until the estimate is small. The attractors are checked to be stable fixed points.

Longer than ~300 lines because it holds the two entry points that share one concept (the
E = 0 route from an attractor) and their result classes, whose docstrings are most of it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .._checks import (
    _short,
    as_points,
    as_state,
    check_endpoints,
    check_fixed_point,
    check_sde,
    check_stable_fixed_point,
    default_box,
)
from .._fixed_points import fixed_points, unstable_directions
from ..solvers._geometric import path_with_energy
from ..solvers._result import EnergyPathResult
from ..solvers._solver_base import configure
from ..solvers._solver_geometric import Geometric
from ..solvers._status import Status

__all__ = ["Quasipotential", "Barrier", "BarrierRoute", "quasipotential", "barrier"]


@dataclass(frozen=True)
class Quasipotential:
    """V(x) of an attractor at one point or several (``quasipotential``).

    ``float(q)`` gives V for one point and ``np.asarray(q)`` the values, so code written for
    the 0.1 return value (a bare float or array) keeps working.

    Attributes:
        value: V(x): a float for one point, an (m,) array for several.
        converged: every E = 0 path met its tolerances.
        paths: the ``EnergyPathResult`` of each point (None for a point at the attractor).
        action_error: estimated absolute error of ``value`` (same shape; 0 at the attractor):
            Richardson from the path's grid and a coarser one (second order; see
            ``path_with_energy``). None (nan for one of several points) when not estimated
            (``error_estimate=False``, or fewer than 9 points).
    """

    value: float | np.ndarray
    converged: bool
    paths: tuple = field(repr=False)
    action_error: float | np.ndarray | None = None

    @property
    def path(self) -> EnergyPathResult | None:
        """The path of a single point (for several points use ``paths``)."""
        if np.ndim(self.value) != 0:
            raise ValueError(
                f"this Quasipotential holds {len(self.paths)} points: use .paths[i], not .path"
            )
        return self.paths[0]

    def __float__(self) -> float:
        if np.ndim(self.value) != 0:
            raise TypeError(f"float() of a Quasipotential of {len(self.paths)} points; use .value")
        return float(self.value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)


def quasipotential(
    sde,
    attractor,
    x,
    *,
    num_points: int = 401,
    args=None,
    solver: Geometric | None = None,
    return_paths: bool = False,
    starts="auto",
    accuracy: float | None = None,
    max_points: int = 2**14 + 1,
    error_estimate: bool = True,
    **options,
) -> Quasipotential:
    """V(x) = the minimal action from ``attractor`` to x in infinite time (E = 0).

    Each point's E = 0 path is the lowest of several starts (``starts``), with its error
    estimated (``action_error``); ``converged`` is False unless every path converged (and,
    with ``accuracy``, met the target).

    Args:
        sde: an autonomous model.
        attractor: (n,) a stable fixed point (where V = 0): checked (ValueError with the
            residual or the Jacobian's eigenvalues otherwise).
        x: (n,) one point, or (m, n) several.
        num_points: nodes per path (the error is O(1/num_points^2), larger where the path
            passes through other fixed points).
        solver, options: ``nn.Geometric(...)`` or its options as keywords, and
            ``initial=``, passed on to ``path_with_energy``.
        starts, accuracy, max_points, error_estimate: as in ``path_with_energy``: the
            starting curves (default ``"auto"``: straight line, broken lines through fixed
            points, bumps off the straight line if its solution stays on a symmetry axis or
            plane; ``starts=1``: the straight line only), the target relative error of each
            value (grids refined until met), the largest grid, and whether to estimate the
            error.
        return_paths: deprecated (use the result's ``.path``/``.paths``): also return the
            paths, as ``(value, paths)``.

    Returns:
        A ``Quasipotential`` (``float(q)`` for one point) with ``converged``,
        ``action_error`` and the paths. A point at the attractor has V = 0.
    """
    check_sde(sde)
    a = as_state(attractor, "attractor")
    initial = options.pop("initial", None)
    check_stable_fixed_point(sde, a, "attractor", args=args)  # V is defined from an attractor
    solver = configure(solver, Geometric(), (Geometric,), options, entry="quasipotential")
    try:
        pts = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"x must be an array of states; got {x!r}") from err
    single = pts.ndim == 0 or (pts.ndim == 1 and a.size > 1) or (pts.ndim == 1 and pts.size == 1)
    if (
        pts.size == 0
        or pts.size % a.size
        or pts.ndim > 2
        or (pts.ndim == 2 and pts.shape[1] != a.size)
    ):
        raise ValueError(
            f"x must be one state of shape ({a.size},) or several of shape (m, {a.size}) to match "
            f"the attractor; got shape {pts.shape}"
        )
    pts = pts.reshape(-1, a.size)
    if not np.all(np.isfinite(pts)):
        raise ValueError(f"x must be finite; got {pts}")
    vals, errs, paths = np.zeros(pts.shape[0]), np.zeros(pts.shape[0]), []
    for i, p in enumerate(pts):
        if np.allclose(p, a, rtol=0, atol=1e-14):
            paths.append(None)
            continue
        res = path_with_energy(
            sde,
            a,
            p,
            0.0,
            num_points=num_points,
            args=args,
            initial=initial,
            solver=solver,
            starts=starts,
            accuracy=accuracy,
            max_points=max_points,
            error_estimate=error_estimate,
        )
        vals[i] = res.action
        errs[i] = _absolute_error(res)
        paths.append(res)
    value = float(vals[0]) if single else vals
    if single:
        error = None if np.isnan(errs[0]) else float(errs[0])
    else:
        error = None if np.all(np.isnan(errs)) else errs
    converged = all(r is None or r.converged for r in paths)
    out = Quasipotential(value=value, converged=converged, paths=tuple(paths), action_error=error)
    if return_paths:
        warnings.warn(
            "quasipotential(..., return_paths=True) is deprecated; use the result's .path "
            "(one point) or .paths",
            DeprecationWarning,
            stacklevel=2,
        )
        return value, (paths[0] if single else tuple(paths))
    return out


def _absolute_error(res) -> float:
    """The estimated absolute error of an E = 0 path's action (nan: not estimated)."""
    rel = res.stats.get("action_error")
    return float("nan") if rel is None else float(rel) * max(abs(float(res.action)), 1e-300)


@dataclass(frozen=True)
class BarrierRoute:
    """One route a -> saddle -> b of ``barrier``.

    Attributes:
        saddle: (n,) the saddle.
        uphill: the E = 0 path a -> s (``EnergyPathResult``); its action is V_a(s).
        downhill: the E = 0 path s -> b (its action is ~0 when s's unstable manifold leads
            into b).
        total: uphill.action + downhill.action.
        converged: both paths converged.
        action_error: estimated absolute error of ``total`` (the two paths' Richardson
            estimates added; None when not estimated).

    ``route["uphill"]`` (the 0.1 dict access) still works, with a DeprecationWarning, and
    gives the numbers it gave (``uphill``/``downhill``: the actions).
    """

    saddle: np.ndarray
    uphill: EnergyPathResult = field(repr=False)
    downhill: EnergyPathResult = field(repr=False)
    total: float
    converged: bool
    action_error: float | None = None

    def __getitem__(self, key):
        warnings.warn(
            f"route[{key!r}] is deprecated; use the attribute route.{key} (uphill and "
            "downhill are now the paths; their .action is the old number)",
            DeprecationWarning,
            stacklevel=2,
        )
        if key in ("uphill", "downhill"):
            return getattr(self, key).action
        if key in ("saddle", "total", "converged"):
            return getattr(self, key)
        raise KeyError(key)


@dataclass(frozen=True)
class Barrier:
    """The action barrier from attractor a to attractor b, minimised over routes via saddles.

    Attributes:
        barrier: min over saddles s of V_a(s) + V_s(b) (the second part is ~0 when s's unstable
            manifold leads into b): the infinite-time action S*(inf) of the transition.
        saddle: (n,) the saddle of the cheapest route.
        routes: one ``BarrierRoute`` per saddle found.
        path: (M, n) the cheapest route a -> s -> b (the two E = 0 paths joined).
        converged: every route's two paths converged (else a route that did not might be
            the cheapest), and with ``accuracy`` the cheapest route's estimate met it.
        action_error: estimated absolute error of ``barrier`` (the cheapest route's).
        status: ``Status.SUCCESSFUL``, or the status of the first path that did not converge.
        message: what happened.
    """

    barrier: float
    saddle: np.ndarray
    routes: tuple
    path: np.ndarray = field(repr=False)
    converged: bool = True
    status: Status = Status.SUCCESSFUL
    message: str = ""
    action_error: float | None = None

    def __float__(self) -> float:
        return float(self.barrier)


def _given_saddles(sde, saddles, n: int, args) -> list[np.ndarray]:
    """``barrier``'s saddles= checked: fixed points of the drift with one unstable direction."""
    if isinstance(saddles, list | tuple):  # FixedPoints, or states
        try:
            saddles = [np.asarray(s, dtype=np.float64) for s in saddles]
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"saddles must be (m, n) states or FixedPoints; got {saddles!r}"
            ) from err
    pts = as_points(saddles if np.ndim(saddles) == 2 else np.atleast_2d(saddles), "saddles")
    if pts.shape[1] != n:
        raise ValueError(
            f"saddles must be states of the model's dimension n = {n}; got shape {pts.shape}"
        )
    for i, s in enumerate(pts):
        J = check_fixed_point(sde, s, f"saddles[{i}]", args=args)
        ev = np.linalg.eigvals(J)
        up = int(np.sum(unstable_directions(ev)))
        if up != 1:
            raise ValueError(
                f"saddles[{i}] = {_short(s)} has {up} unstable directions (Jacobian eigenvalues "
                f"with real part > 0); a saddle between two attractors has exactly one"
            )
    return list(pts)


def barrier(
    sde,
    attractor_a,
    attractor_b,
    *,
    lower=None,
    upper=None,
    num_points: int = 401,
    args=None,
    solver: Geometric | None = None,
    starts="auto",
    accuracy: float | None = None,
    max_points: int = 2**14 + 1,
    saddles=None,
    **options,
) -> Barrier:
    """The barrier S*(inf) from attractor a to attractor b, via the saddles found automatically.

    Both attractors are checked to be stable fixed points (ValueError otherwise). Finds the
    saddles (index-1 fixed points: one unstable direction) with ``fixed_points`` in
    the box [lower, upper] (default: the cube around the box spanned by a and b, every side
    as long as its longest, enlarged by half its size on each side: for attractors on an axis
    the spanned box is flat across it and would miss a saddle off the axis), computes for
    each the E = 0 actions a -> s and s -> b with ``path_with_energy`` (``solver``:
    ``nn.Geometric(...)``, or its options as keywords), and returns the cheapest route. Each
    path starts from several curves (``starts``, as in ``path_with_energy``: by default the
    straight line, broken lines through fixed points and bumps off a flat solution, the lowest
    W kept), and carries a Richardson estimate of its error (the routes' and the barrier's
    ``action_error``, absolute).
    ``accuracy``: target relative error of each route's uphill action (the downhill one is
    ~0, its error is only estimated); the grids are refined up to ``max_points``.
    ``saddles``: (m, n) states (or ``FixedPoint``s, e.g. from ``fixed_points(sde,
    starts=...)``) to route through instead of the box search, which does not scale to
    networks (n = 16: ~100 s); each must be a fixed point with one unstable direction
    (ValueError otherwise).
    """
    check_sde(sde)
    a, b = check_endpoints(attractor_a, attractor_b, names=("attractor_a", "attractor_b"))
    solver = configure(solver, Geometric(), (Geometric,), options, entry="barrier")
    check_stable_fixed_point(sde, a, "attractor_a", args=args)
    check_stable_fixed_point(sde, b, "attractor_b", args=args)
    if not (isinstance(starts, str | int | np.integer) and not isinstance(starts, bool)):
        raise TypeError(
            f"barrier: starts must be 'auto' or a positive integer (the routes' paths have "
            f"different end points, so curves cannot be given); got {starts!r}"
        )
    if saddles is not None:
        saddles = _given_saddles(sde, saddles, a.size, args)
    else:
        if lower is None or upper is None:
            box = default_box(a, b, cube=True)
            lower = box[0] if lower is None else lower
            upper = box[1] if upper is None else upper
        # Index-1 fixed points (one unstable direction): the saddles, and in 1-D the maxima.
        saddles = [
            fp.x
            for fp in fixed_points(sde, lower, upper, args=args)
            if fp.index == 1 and fp.kind != "degenerate"
        ]
    if not saddles:
        raise ValueError(
            f"no saddle of the drift found in the box [{lower}, {upper}]; give lower= and "
            "upper= that contain the saddle between the attractors"
        )
    routes = []
    for s in saddles:
        up, down = (
            path_with_energy(
                sde,
                u,
                v,
                0.0,
                num_points=num_points,
                args=args,
                solver=solver,
                starts=starts,
                accuracy=acc,
                max_points=max_points,
            )
            for u, v, acc in ((a, s, accuracy), (s, b, None))
        )
        err = _absolute_error(up) + _absolute_error(down)
        routes.append(
            BarrierRoute(
                saddle=s,
                uphill=up,
                downhill=down,
                total=up.action + down.action,
                converged=up.converged and down.converged,
                action_error=None if np.isnan(err) else err,
            )
        )
    best = min(routes, key=lambda r: r.total)
    failed = [p for r in routes for p in (r.uphill, r.downhill) if not p.converged]
    if failed:
        status = failed[0].status
        message = (
            f"{len(failed)} of {2 * len(routes)} E = 0 paths did not converge (first: "
            f"{failed[0].message})"
        )
    else:
        status = Status.SUCCESSFUL
        message = f"converged: {len(routes)} route(s), the cheapest via the saddle {best.saddle}"
    return Barrier(
        barrier=float(best.total),
        saddle=best.saddle,
        routes=tuple(routes),
        path=np.concatenate([best.uphill.xs, best.downhill.xs[1:]]),
        converged=not failed,
        status=status,
        message=message,
        action_error=best.action_error,
    )
