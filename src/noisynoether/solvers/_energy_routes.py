"""Starting curves of ``path_with_energy`` at E = 0 through the drift's fixed points.

At E = 0 the most likely path takes infinite time: it runs from attractor to saddle to
attractor, and where the drift vanishes on a whole curve (a ring of fixed points) it follows
that curve at no cost. Two kinds of start come from the fixed points z of the drift in a cube
around x0 and x1 (``default_box(..., cube=True)``), found as ``fixed_points`` does, from
``FIXED_POINT_SEEDS`` seeds, with its compiled damped Newton (cached per model):

1. broken lines x0 -> z -> x1 through single fixed points off the straight segment, the
   shortest detours first, at most ``MAX_FIXED_POINT_CURVES`` (``_through_fixed_points``);
2. the cheapest route through several of them (``_route``): a directed graph whose nodes are
   x0, x1 and the fixed points (thinned to ``ROUTE_SPACING`` |x1 - x0| apart, at most
   ``ROUTE_NODES``), each edge weighted by the discrete W (E = 0) of the straight segment
   between its ends on ``ROUTE_SUBSEGMENTS`` pieces (every piece's term is >= 0 by
   Cauchy-Schwarz, so the weights are too), and Dijkstra's shortest path from x0 to x1. It
   follows a ring of fixed points chord by chord (the ring attractor, where every other start
   crosses the unstable centre: W = 2.5 against 0), and visits the intermediate attractors
   and saddles of a multistable network in order. Added when it passes through two or more
   fixed points (one is a broken line already) and its W on the graph is below ``ROUTE_GAIN``
   times that of the straight line and of every broken line (on the graph too): elsewhere
   those starts cover it, and an extra start costs a solve.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from scipy.sparse import csgraph

from .._checks import default_box
from .._fixed_points import box_seeds, in_box, newton_all
from .._jit import jit
from ._geometric_terms import segment_parts

__all__ = ["fixed_point_curves"]

#: Seeds of the fixed-point search, and the most broken lines through fixed points.
FIXED_POINT_SEEDS = 400
MAX_FIXED_POINT_CURVES = 3
#: The route's graph: fixed points at least ROUTE_SPACING |x1 - x0| apart, at most
#: ROUTE_NODES nodes with x0 and x1 (the edge weights are compiled for this many, per model),
#: each edge's W on ROUTE_SUBSEGMENTS straight pieces.
ROUTE_SPACING = 0.05
ROUTE_NODES = 64
ROUTE_SUBSEGMENTS = 8
#: The route is a start only where its W (on the graph) is below ROUTE_GAIN times that of the
#: straight line and of every broken line through one fixed point.
ROUTE_GAIN = 0.5
#: Samples of every starting curve (it is redistributed onto the solver's grid), and the seed
#: of the random choices (fixed-point seeds for n > 3, random normal directions).
SAMPLES = 65
SEED = 20241130


def _fixed_points(sde, lower, upper, args) -> list[np.ndarray]:
    """The distinct zeros of the drift found from ``FIXED_POINT_SEEDS`` seeds in the box (the
    positions only: ``fixed_points``' compiled Newton, cached per model, without its
    classification)."""
    rng = np.random.default_rng(SEED)
    seeds = box_seeds(lower, upper, FIXED_POINT_SEEDS, rng.random)
    xs, res = (np.asarray(a) for a in newton_all(sde, jnp.asarray(seeds), jnp.asarray(0.0), args))
    finite = np.all(np.isfinite(xs), axis=1)
    good = np.flatnonzero((res <= 1e-10) & in_box(xs, lower, upper) & finite)
    found: list[np.ndarray] = []
    for i in good[np.argsort(res[good])]:
        if not any(np.max(np.abs(xs[i] - p)) < 1e-6 * (1 + np.max(np.abs(p))) for p in found):
            found.append(xs[i])
    return found


def _through_fixed_points(x0, x1, fps):
    """Broken lines x0 -> z -> x1 through the fixed points z off the straight segment."""
    chord = x1 - x0
    length = float(np.linalg.norm(chord))
    picked = []
    for z in fps:
        u = float(np.clip((z - x0) @ chord / length**2, 0.0, 1.0))
        off = float(np.linalg.norm(z - x0 - u * chord))
        if off <= 1e-3 * length:  # on the straight line (or at an end): nothing new
            continue
        detour = float(np.linalg.norm(z - x0) + np.linalg.norm(x1 - z))
        picked.append((detour, z))
    picked.sort(key=lambda p: p[0])
    out = []
    half = SAMPLES // 2 + 1
    s = np.linspace(0.0, 1.0, half)[:, None]
    for _, z in picked[:MAX_FIXED_POINT_CURVES]:
        curve = np.concatenate([x0[None] + s * (z - x0)[None], z[None] + s[1:] * (x1 - z)[None]])
        out.append((f"through the fixed point {np.array2string(z, precision=4)}", curve))
    return out


@functools.lru_cache(maxsize=32)
def _edge_weights(sde):
    """Jitted (N, N) matrix of the discrete W (E = 0) of the straight segment from node i to j."""

    @jit
    def run(nodes, args):
        u = jnp.linspace(0.0, 1.0, ROUTE_SUBSEGMENTS + 1)[:, None]

        def edge(a, b):
            pts = a[None] + u * (b - a)[None]
            dd, ff, df = jax.vmap(lambda p, q: segment_parts(sde, p, q, args))(pts[:-1], pts[1:])
            return jnp.sum(0.5 * (jnp.sqrt(dd) * jnp.sqrt(ff) - df))

        return jax.vmap(lambda a: jax.vmap(lambda b: edge(a, b))(nodes))(nodes)

    return run


def _route(sde, x0, x1, fps, args):
    """The fixed points on the cheapest route x0 -> ... -> x1 of the graph (module docstring)."""
    length = float(np.linalg.norm(x1 - x0))
    nodes = [x0, x1]
    for z in fps:
        if len(nodes) == ROUTE_NODES:
            break
        if min(float(np.linalg.norm(z - p)) for p in nodes) >= ROUTE_SPACING * length:
            nodes.append(z)
    m = len(nodes)
    if m < 4:  # fewer than two fixed points: nothing a broken line does not cover
        return []
    padded = np.stack(nodes + [x0] * (ROUTE_NODES - m))  # one compiled shape per model
    W = np.asarray(_edge_weights(sde)(jnp.asarray(padded), args))[:m, :m]
    W = np.where(np.isfinite(W), np.maximum(W, 0.0), np.inf)  # >= 0 up to rounding; NaN: no edge
    np.fill_diagonal(W, np.inf)
    graph = csgraph.csgraph_from_dense(W, null_value=np.inf)
    cost, pred = csgraph.dijkstra(graph, directed=True, indices=0, return_predecessors=True)
    path, i = [], 1
    while i not in (0, -9999) and len(path) <= m:
        path.append(i)
        i = int(pred[i])
    # Worth a start only where it is far cheaper than the straight line and every broken line
    # through one fixed point (which are starts already).
    single = min(W[0, 1], float(np.min(W[0, 2:] + W[2:, 1])))
    if i != 0 or len(path) < 3 or not cost[1] < ROUTE_GAIN * single:
        return []
    return [nodes[j] for j in path[:0:-1]]  # the intermediate nodes, x0 to x1


def fixed_point_curves(sde, x0, x1, args) -> tuple[list, list]:
    """(broken lines, route): (label, curve) starts through the fixed points (module
    docstring); the route is an empty list or one curve."""
    lower, upper = default_box(x0, x1, cube=True)
    try:
        fps = _fixed_points(sde, lower, upper, args)
    except (ValueError, TypeError, FloatingPointError):  # a drift this cannot handle: skip
        return [], []
    out = []
    via = _route(sde, x0, x1, fps, args)
    if via:
        corners = [x0, *via, x1]
        s = np.linspace(0.0, 1.0, 9)[:-1, None]
        ends = zip(corners[:-1], corners[1:], strict=True)
        pieces = [a[None] + s * (b - a)[None] for a, b in ends]
        curve = np.concatenate(pieces + [x1[None]])
        out.append((f"route through {len(via)} fixed points", curve))
    return _through_fixed_points(x0, x1, fps), out
