"""The quasipotential V(x) of an attractor, and the barrier between two attractors.

In the normalisation of the action (Eq. 8, transition density ~ exp(-S*)), the quasipotential
of an attractor a is the infinite-time minimal action ``V_a(x) = inf_T S*(a -> x; T)``, the
geometric action at E = 0 (``path_with_energy``). The stationary density is ~ exp(-V) to
leading order; for a linear SDE ``xdot = A x + G eta`` exactly
``V(x) = 1/2 x^T Sigma^-1 x`` with ``A Sigma + Sigma A^T + 2 D = 0`` (Lyapunov), whatever the
normality of A or the correlations of D; for a gradient drift ``f = -grad U`` with D = d I,
``V = (U - U(a)) / d``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .._checks import as_state, check_endpoints, check_sde, default_box
from .._fixed_points import fixed_points
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
        action_error: estimated error of ``value`` (None: not estimated; the discretisation
            error is O(1/num_points^2)).
    """

    value: float | np.ndarray
    converged: bool
    paths: tuple = field(repr=False)
    action_error: float | None = None

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
    **options,
) -> Quasipotential:
    """V(x) = the minimal action from ``attractor`` to x in infinite time (E = 0).

    Args:
        sde: an autonomous model.
        attractor: (n,) a stable fixed point (where V = 0).
        x: (n,) one point, or (m, n) several.
        num_points: nodes per path (the error is O(1/num_points^2), larger where the path
            passes through other fixed points).
        solver, options: ``nn.Geometric(...)`` or its options as keywords, and
            ``initial=``, passed on to ``path_with_energy``.
        return_paths: deprecated (use the result's ``.path``/``.paths``): also return the
            paths, as ``(value, paths)``.

    Returns:
        A ``Quasipotential`` (``float(q)`` for one point). A point at the attractor has V = 0.
    """
    check_sde(sde)
    a = as_state(attractor, "attractor")
    initial = options.pop("initial", None)
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
    vals, paths = np.zeros(pts.shape[0]), []
    for i, p in enumerate(pts):
        if np.allclose(p, a, rtol=0, atol=1e-14):
            paths.append(None)
            continue
        res = path_with_energy(
            sde, a, p, 0.0, num_points=num_points, args=args, initial=initial, solver=solver
        )
        vals[i] = res.action
        paths.append(res)
    value = float(vals[0]) if single else vals
    converged = all(r is None or r.converged for r in paths)
    out = Quasipotential(value=value, converged=converged, paths=tuple(paths))
    if return_paths:
        warnings.warn(
            "quasipotential(..., return_paths=True) is deprecated; use the result's .path "
            "(one point) or .paths",
            DeprecationWarning,
            stacklevel=2,
        )
        return value, (paths[0] if single else tuple(paths))
    return out


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

    ``route["uphill"]`` (the 0.1 dict access) still works, with a DeprecationWarning, and
    gives the numbers it gave (``uphill``/``downhill``: the actions).
    """

    saddle: np.ndarray
    uphill: EnergyPathResult = field(repr=False)
    downhill: EnergyPathResult = field(repr=False)
    total: float
    converged: bool

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
            the cheapest).
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
    **options,
) -> Barrier:
    """The barrier S*(inf) from attractor a to attractor b, via the saddles found automatically.

    Finds the saddles (index-1 fixed points: one unstable direction) with ``fixed_points`` in
    the box [lower, upper] (default: the box spanned by a and b, enlarged by half its size on
    each side), computes for each the E = 0 actions a -> s and s -> b with
    ``path_with_energy`` (``solver``: ``nn.Geometric(...)``, or its options as keywords), and
    returns the cheapest route.
    """
    check_sde(sde)
    a, b = check_endpoints(attractor_a, attractor_b, names=("attractor_a", "attractor_b"))
    solver = configure(solver, Geometric(), (Geometric,), options, entry="barrier")
    if lower is None or upper is None:
        box = default_box(a, b)
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
            path_with_energy(sde, u, v, 0.0, num_points=num_points, args=args, solver=solver)
            for u, v in ((a, s), (s, b))
        )
        routes.append(
            BarrierRoute(
                saddle=s,
                uphill=up,
                downhill=down,
                total=up.action + down.action,
                converged=up.converged and down.converged,
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
    )
