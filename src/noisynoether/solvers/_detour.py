"""Around an unstable node: a second start for a fixed-time solve whose answer, from the
straight start, runs through a fixed point with two or more unstable directions (issue 11).

A straight line between two states that lie on opposite sides of a source (the ring attractor
``f = x (1 - |x|^2)`` from (1, 0) to (-1, 0): the centre) leads Newton to the path through the
source. At short horizons that is the global minimum (T = 5: S* = 2.899); at long ones it is
only a local minimum, certified as such (T = 20: 2.50003), and the path around the source,
along the ring, costs less (1.22638). With two or more unstable directions at the point, at
least one of them is transverse to the path, and a curve bent that way goes around the point
instead of through it: the global minimum cannot be told from the local one without trying
it. A point with one unstable direction (the saddle of a barrier crossing) has no way around
and gets no detour.

The check costs two drift evaluations at ROWS midpoints of the answer and, where |f| nearly
vanishes away from the end points, one Jacobian; the detour itself (two more solves, one each
way around) runs only for an answer through such a point. The lower of the certified minima
is returned.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
import scipy.sparse.linalg

from .._checks import drift_and_jacobian
from .._fixed_points import DENSE_EIG_MAX_N, unstable_directions
from .._jit import jit
from ._result import replace_result

__all__ = ["NEAR", "around_unstable_nodes", "unstable_node_on", "unstable_nodes_on_batch"]

#: Eigenvalues of the Jacobian Arnoldi finds above ``fixed_points``' DENSE_EIG_MAX_N (a dense
#: eig at n = 1024 takes ~1 s): the rightmost, enough to count two unstable directions.
RIGHTMOST = 6

#: Midpoints at which |f| is evaluated per call (twice a check).
ROWS = 64

#: A midpoint of the answer is on a fixed point when |f| there is below NEAR max |f| along it.
NEAR = 1e-2

#: Midpoints closer than this fraction of |x1 - x0| to an end point are not searched (a long
#: horizon waits at the attractors it starts or ends on, where f vanishes too).
END_MARGIN = 0.1


def _rows(sde):
    """f(t_i, x_i) on rows (not jitted)."""
    return jax.vmap(lambda t, x, args: sde.f(t, x, args), in_axes=(0, 0, None))


@functools.lru_cache(maxsize=64)
def _drift_rows(sde):
    """Jitted f(t_i, x_i) on ROWS rows (one compile per model, whatever the grid)."""
    return jit(_rows(sde))


def _padded(idx):
    """idx (at most ROWS indices) padded to ROWS with its first: one compiled shape."""
    return np.concatenate([idx, np.repeat(idx[:1], ROWS - len(idx))])


def _sample(lo: int, hi: int) -> np.ndarray:
    """At most ROWS indices spread evenly over lo..hi (all of them if there are no more)."""
    return np.unique(np.linspace(lo, hi, min(hi - lo + 1, ROWS)).round().astype(int))


def _unstable_at(sde, t, x, args):
    """(x, an orthonormal basis of its unstable directions) where the drift's Jacobian at x has
    two or more, else None."""
    _, J = drift_and_jacobian(sde, float(t), x[None], args)
    ev, vecs = _rightmost(J[0])
    if ev is None:
        return None
    up = unstable_directions(ev)
    if np.count_nonzero(up) < 2:
        return None
    # A real orthonormal basis of the unstable subspace (complex pairs give two real vectors).
    basis = np.concatenate([np.real(vecs[:, up]), np.imag(vecs[:, up])], axis=1)
    u, s, _ = np.linalg.svd(basis, full_matrices=False)
    return x, u[:, s > 1e-8 * s[0]]


def unstable_node_on(sde, ts, xs, args):
    """(state, unstable directions (n, m)) of a point with >= 2 unstable directions that the
    path xs (K, n) on ts runs through, or None.

    |f| is evaluated at ROWS midpoints spread along the path, then at ROWS around the smallest
    (two calls of one compiled shape per model: a call at every midpoint compiled once per
    grid size, ~7 % of a cold solve's time). The batch's check with one path.
    """
    return unstable_nodes_on_batch(sde, [(ts, xs, args)], args)[0]


#: Members per call of the batched check (a fixed shape: one compile per model).
MEMBERS = 64


@functools.lru_cache(maxsize=64)
def _drift_rows_batched(sde, batched_args: bool):
    """Jitted f on (MEMBERS, ROWS) rows, args shared or one per member."""
    return jit(jax.vmap(_rows(sde), in_axes=(0, 0, 0 if batched_args else None)))


def _take(tree, idx):
    return jax.tree_util.tree_map(lambda a: a[idx], tree)


def _norms_batched(sde, t, x, args, batched_args):
    """|f| (B, R) at rows t (B, R), x (B, R, n) of B paths (R <= ROWS), MEMBERS paths a call
    (rows padded to ROWS with their first, the last call with its first path); one path alone
    in a call of ROWS rows (a large model's f at 64 x 64 padded rows would cost seconds).
    ``args`` shared, or (``batched_args``) with a leading axis of length B."""
    B, R = t.shape
    cols = _padded(np.arange(R))
    if B == 1:
        a = _take(args, 0) if batched_args else args
        # NumPy arrays straight into the compiled call (jnp.asarray here would be two eager
        # dispatches, ~0.3 ms each: a third of the check's cost on a small problem).
        f = np.asarray(_drift_rows(sde)(t[0][cols], x[0][cols], a))
        return np.linalg.norm(f[:R], axis=-1)[None]
    fn = _drift_rows_batched(sde, bool(batched_args))
    out = np.empty((B, R))
    for start in range(0, B, MEMBERS):
        part = np.arange(start, min(start + MEMBERS, B))
        real = part.size
        part = np.concatenate([part, np.full(MEMBERS - real, part[0])])
        a = _take(args, part) if batched_args else args
        f = np.asarray(fn(t[part][:, cols], x[part][:, cols], a))
        out[start : start + real] = np.linalg.norm(f[:real, :R], axis=-1)
    return out


def unstable_nodes_on_batch(sde, paths, args, batched_args=False, *, norms=None):
    """``unstable_node_on`` for many paths [(ts, xs, args_i)] on grids of one size: the layout,
    both samples and the threshold for all paths at once (NumPy on the stacked paths), |f|
    for MEMBERS paths in one compiled call; the Jacobian only at the few points that pass.
    ``args``: shared, or (``batched_args``) each path's own args_i. ``norms``: per path, |f|
    at all its K - 1 midpoints when already known (the batch's compiled call computes them),
    else None; only the others' samples are evaluated here."""
    B = len(paths)
    if B == 0 or paths[0][1].shape[1] < 2:
        return [None] * B
    if batched_args:
        args = jax.tree_util.tree_map(lambda *v: np.stack(v), *[p[2] for p in paths])
    norms = [None] * B if norms is None else norms
    have = np.array([v is not None for v in norms])

    def sample(cols):  # |f| at the midpoints cols (B, R): known, or evaluated
        out = np.empty(cols.shape)
        if have.any():
            known = np.stack([v for v in norms if v is not None])
            out[have] = np.take_along_axis(known, cols[have], axis=1)
        todo = np.flatnonzero(~have)
        if todo.size:
            rows, a = todo[:, None], _take(args, todo) if batched_args else args
            t, x = tm[rows, cols[todo]], xm[rows, cols[todo]]
            out[todo] = _norms_batched(sde, t, x, a, batched_args)
        return out

    ts = np.stack([np.asarray(p[0], dtype=float) for p in paths])
    xs = np.stack([np.asarray(p[1], dtype=float) for p in paths])
    tm, xm = 0.5 * (ts[:, 1:] + ts[:, :-1]), 0.5 * (xs[:, 1:] + xs[:, :-1])
    span = np.linalg.norm(xs[:, -1] - xs[:, 0], axis=-1)
    d0, d1 = xm - xs[:, :1], xm - xs[:, -1:]
    ends = np.sqrt(np.minimum(np.einsum("bki,bki->bk", d0, d0), np.einsum("bki,bki->bk", d1, d1)))
    inside = ends > END_MARGIN * span[:, None]
    rows = np.arange(B)[:, None]
    coarse = _sample(0, xm.shape[1] - 1)
    fc = sample(np.broadcast_to(coarse, (B, coarse.size)))
    # The second sample: ROWS midpoints evenly between the neighbours of the smallest |f| of
    # the first (np.linspace's formula; the unused places repeat the first).
    live = np.any(inside[:, coarse], axis=1) & np.all(np.isfinite(fc), axis=1)
    j = np.argmin(np.where(inside[:, coarse], fc, np.inf), axis=1)
    lo = coarse[np.maximum(j - 1, 0)]
    hi = coarse[np.minimum(j + 1, coarse.size - 1)]
    m = np.minimum(hi - lo + 1, ROWS)
    step = (hi - lo) / np.maximum(m - 1, 1)
    i = np.arange(ROWS)[None]
    near = np.where(i < m[:, None], lo[:, None] + i * step[:, None], lo[:, None])
    near = near.round().astype(int)
    near[:, -1] = np.where(m == ROWS, hi, near[:, -1])  # linspace ends exactly at hi
    fn = sample(near)
    # On a fixed point where the smallest |f| is below NEAR of the largest seen; the Jacobian
    # only there.
    fn = np.where(inside[rows, near], fn, np.inf)
    best = np.min(fn, axis=1)
    finite = np.where(np.isfinite(fn), fn, -np.inf)
    scale = np.maximum(np.max(np.where(np.isfinite(fc), fc, -np.inf), axis=1), finite.max(1))
    k = near[np.arange(B), np.argmin(fn, axis=1)]
    hit = live & np.isfinite(best) & ~(best > NEAR * scale)
    found = [None] * B
    for b in np.flatnonzero(hit):
        a = _take(args, b) if batched_args else args
        found[b] = _unstable_at(sde, tm[b, k[b]], xm[b, k[b]], a)
    return found


def _rightmost(J: np.ndarray):
    """(eigenvalues, eigenvectors) of J: all of them for n <= DENSE_EIG_MAX_N, else the RIGHTMOST
    ones with the largest real parts (Arnoldi; enough to count two unstable directions and
    find a transverse one); (None, None) if Arnoldi does not converge."""
    n = J.shape[0]
    if n <= DENSE_EIG_MAX_N:
        return np.linalg.eig(J)
    try:
        return scipy.sparse.linalg.eigs(J, k=RIGHTMOST, which="LR", maxiter=20 * n)
    except scipy.sparse.linalg.ArpackNoConvergence:
        return None, None


def _detour_starts(ts, x0, x1, node, unstable):
    """Two curves around ``node``: the straight line plus a half-sine bump of height R (the
    node's distance to the farther end point) along the unstable direction most transverse to
    the line, one each way; [] if every unstable direction lies along the line."""
    chord = (x1 - x0) / np.linalg.norm(x1 - x0)
    transverse = unstable - np.outer(chord, chord @ unstable)
    u, s, _ = np.linalg.svd(transverse, full_matrices=False)
    if s[0] < 1e-6:
        return []
    e = u[:, 0]
    R = max(np.linalg.norm(node - x0), np.linalg.norm(node - x1))
    sfrac = (ts - ts[0]) / (ts[-1] - ts[0])
    line = x0[None] + sfrac[:, None] * (x1 - x0)[None]
    bump = np.sin(np.pi * sfrac)[:, None] * R * e[None]
    return [line + bump, line - bump]


_CHECK = object()


def around_unstable_nodes(solve, first, ts, x0, x1, *, sde, args, found=_CHECK):
    """``first`` (the answer from the straight start), or the lower certified minimum reached
    from a start around the unstable node it runs through, with ``stats["detour"]``.

    ``solve(ts, xs) -> PathResult``: the same solve as the one that gave ``first``.
    ``found``: ``unstable_node_on``'s answer for ``first``, when it was computed beforehand
    (``unstable_nodes_on_batch``).
    """
    if not first.converged:
        return first
    if found is _CHECK:
        found = unstable_node_on(sde, np.asarray(ts), np.asarray(first.xs), args)
    if found is None:
        return first
    node, unstable = found
    tried = [solve(ts, xs) for xs in _detour_starts(ts, x0, x1, node, unstable)]
    if not tried:
        return first
    info = dict(
        node=node.tolist(),
        unstable_directions=int(unstable.shape[1]),
        through_node=float(first.action),
        around=[float(r.action) if r.converged else None for r in tried],
    )
    best = min((r for r in tried if r.converged), key=lambda r: r.action, default=None)
    total = int(first.iterations) + sum(int(r.iterations) for r in tried)
    if best is None or best.action >= first.action - 1e-9 * abs(first.action):
        info["chosen"] = "through"
        return replace_result(first, stats={**first.stats, "detour": info})
    info["chosen"] = "around"
    note = (
        f"; the straight start's minimum runs through an unstable node at "
        f"{np.array2string(node, precision=3)} (S = {first.action:.6g}); a start around it "
        f"reached this lower one ({total} iterations in all)"
    )
    return replace_result(
        best, message=best.message + note, stats={**best.stats, "detour": info}, iterations=total
    )
