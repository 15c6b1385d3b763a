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

from dataclasses import dataclass, field

import numpy as np

from .._fixed_points import fixed_points
from .._checks import as_state, check_sde
from ..solvers._geometric import path_with_energy

__all__ = ["Barrier", "quasipotential", "barrier"]


def quasipotential(
    sde, attractor, x, *, num_points: int = 401, args=None, return_paths: bool = False, **options
):
    """V(x) = the minimal action from ``attractor`` to x in infinite time (E = 0).

    Args:
        sde: an autonomous model.
        attractor: (n,) a stable fixed point (where V = 0).
        x: (n,) one point, or (m, n) several.
        num_points: nodes per path (the error is O(1/num_points^2), larger where the path
            passes through other fixed points).
        return_paths: also return the ``EnergyPathResult`` of each point.
        options: passed on to ``path_with_energy`` (e.g. ``initial``, ``rtol``).

    Returns:
        A float for one point, an (m,) array for several (and the paths with ``return_paths``).
        A point at the attractor itself has V = 0.
    """
    check_sde(sde)
    a = as_state(attractor, "attractor")
    pts = np.asarray(x, dtype=np.float64)
    single = pts.ndim == 0 or (pts.ndim == 1 and a.size > 1) or (pts.ndim == 1 and pts.size == 1)
    pts = pts.reshape(-1, a.size)
    vals, paths = np.zeros(pts.shape[0]), []
    for i, p in enumerate(pts):
        if np.allclose(p, a, rtol=0, atol=1e-14):
            paths.append(None)
            continue
        res = path_with_energy(sde, a, p, 0.0, num_points=num_points, args=args, **options)
        vals[i] = res.action
        paths.append(res)
    out = float(vals[0]) if single else vals
    if return_paths:
        return out, (paths[0] if single else tuple(paths))
    return out


@dataclass(frozen=True)
class Barrier:
    """The action barrier from attractor a to attractor b, minimised over routes via saddles.

    Attributes:
        barrier: min over saddles s of V_a(s) + V_s(b) (the second part is ~0 when s's unstable
            manifold leads into b): the infinite-time action S*(inf) of the transition.
        saddle: (n,) the saddle of the cheapest route.
        routes: one dict per saddle found: ``saddle``, ``uphill`` = V_a(s), ``downhill`` =
            the E = 0 action from s to b, ``total``, ``converged``.
        path: (M, n) the cheapest route a -> s -> b (the two E = 0 paths joined).
    """

    barrier: float
    saddle: np.ndarray
    routes: tuple
    path: np.ndarray = field(repr=False)


def barrier(
    sde,
    attractor_a,
    attractor_b,
    *,
    lower=None,
    upper=None,
    num_points: int = 401,
    args=None,
    **options,
) -> Barrier:
    """The barrier S*(inf) from attractor a to attractor b, via the saddles found automatically.

    Finds the saddles (index-1 fixed points: one unstable direction) with ``fixed_points`` in
    the box [lower, upper] (default: the box spanned by a and b, enlarged by half its size on
    each side), computes for each the E = 0 actions a -> s and s -> b with
    ``path_with_energy``, and returns the cheapest route.
    """
    check_sde(sde)
    a, b = as_state(attractor_a, "attractor_a"), as_state(attractor_b, "attractor_b")
    if lower is None or upper is None:
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        span = np.maximum(hi - lo, 1e-3 * max(1.0, float(np.max(np.abs(hi)))))
        lower = lo - 0.5 * span if lower is None else lower
        upper = hi + 0.5 * span if upper is None else upper
    # Index-1 fixed points (one unstable direction): the saddles, and in 1-D the maxima.
    saddles = [
        fp.x
        for fp in fixed_points(sde, lower, upper, args=args)
        if np.sum(np.real(fp.eigenvalues) > 0) == 1 and fp.kind != "degenerate"
    ]
    if not saddles:
        raise ValueError(
            f"no saddle of the drift found in the box [{lower}, {upper}]; give lower= and "
            "upper= that contain the saddle between the attractors"
        )
    routes, best = [], None
    for s in saddles:
        up = path_with_energy(sde, a, s, 0.0, num_points=num_points, args=args, **options)
        down = path_with_energy(sde, s, b, 0.0, num_points=num_points, args=args, **options)
        total = up.action + down.action
        routes.append(
            dict(
                saddle=s,
                uphill=up.action,
                downhill=down.action,
                total=total,
                converged=up.converged and down.converged,
            )
        )
        if best is None or total < best[0]:
            best = (total, s, np.concatenate([up.xs, down.xs[1:]]))
    return Barrier(barrier=float(best[0]), saddle=best[1], routes=tuple(routes), path=best[2])
