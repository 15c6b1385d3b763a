"""Departure search: a long-horizon path that crept, its transitions moved by whole grid steps.

Over a long horizon the most likely path waits near fixed points and crosses between them in
transitions. When each transition starts is decided by exponentially small terms, far below
the grid's error, and the discrete action has a washboard of nearly equal local minima in
those departure times: damped Newton creeps along it for thousands of steps (docs/robustness.md,
"What fails", item 7). On a uniform grid moving a transition by whole steps keeps its discrete
shape, so it jumps across the washboard for free; but every such move *raises* S a little
before Newton reshapes the path (a 3-unit tanh network at T = 40: by 3e-11 to 9e-9), so a
move accepted on S alone never takes one. Here each candidate is polished by a short solve
first, and compared after it.

``search`` (the last resort of ``_coarse_to_fine.retry``, after the ladder also crept):

- the path's transitions are the maximal runs of intervals faster than ``WAIT_SPEED`` times
  its top speed; each is moved by each of ``SHIFTS`` grid steps, taking the points from the
  wait before it and adding copies of its last point after it (or the reverse);
- each candidate gets ``POLISH_STEPS`` Newton iterations on the same grid (no new compile);
- a candidate that converges (certified) at an action no higher than the path's ends the
  search, the lowest such one; otherwise the lowest-action candidate becomes the path and
  the next round starts from it, up to ``ROUNDS`` rounds while the action goes down and the
  candidates' iterations stay within the caller's budget (``_coarse_to_fine``: 10 x
  max_steps, what the ladder's last solve was allowed).

It runs last, from the path that the ladder's last solve (10 x max_steps) relaxed along the
washboard: run after only max_steps of that solve, it converged on 1 of 5 networks of the
same family tried, in its 4th round, and failed on the other 4 (~1600 iterations more each),
and from a straight start that crept far from
the minimum a polished candidate could be a costlier local minimum that the ladder avoids.

Measured on that network (T = 40, 401 points): from the path after 200 crept iterations, 4
rounds (0.96 s) end at a certified minimum S* = 80.5360493255, where 2400 iterations of
Newton had not converged; from the ladder's path, one round (3 iterations).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "POLISH_STEPS",
    "ROUNDS",
    "SHIFTS",
    "WAIT_SPEED",
    "search",
    "shifted",
    "speeds",
    "transitions",
]

#: Grid steps by which each transition is moved (negative: earlier).
SHIFTS = (-8, -5, -3, -2, -1, 1, 2, 3, 5, 8)

#: Newton iterations given to each candidate before the candidates are compared.
POLISH_STEPS = 20

#: Rounds of candidates at most (each from the previous round's lowest-action candidate).
ROUNDS = 4

#: An interval moves (belongs to a transition) when its speed is at least this fraction of
#: the path's top speed; slower ones wait.
WAIT_SPEED = 1e-2

#: Transitions moved at most (the fastest ones), to bound a round's solves.
MAX_TRANSITIONS = 4


def speeds(ts, xs):
    """(K - 1,) speed |x_{k+1} - x_k| / dt_k of each interval, and the top one (0 where the
    path has no interval or does not move; not finite where the path is not)."""
    ts, xs = np.asarray(ts), np.asarray(xs)
    speed = np.linalg.norm(np.diff(xs, axis=0), axis=1) / np.diff(ts)
    return speed, (float(np.max(speed)) if speed.size else 0.0)


def transitions(ts, xs) -> list[tuple[int, int]]:
    """The path's transitions: (lo, hi) with intervals lo..hi-1 moving (points lo..hi), the
    ``MAX_TRANSITIONS`` of largest top speed, in time order; [] where nothing waits."""
    speed, top = speeds(ts, xs)
    if not (np.isfinite(top) and top > 0):
        return []
    moving = speed >= WAIT_SPEED * top
    if moving.all():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], moving.astype(int), [0]])))
    runs = list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))
    runs.sort(key=lambda r: -float(np.max(speed[r[0] : r[1]])))
    return sorted(runs[:MAX_TRANSITIONS])


def shifted(xs, lo: int, hi: int, s: int):
    """xs (K, n) with the transition on points lo..hi moved by s grid steps (s < 0: earlier,
    the s points before it removed and s copies of x_hi added after it; s > 0: later, s
    copies of x_lo before it, the s points after it removed); None where the waits around it
    are too short (the end points stay)."""
    xs = np.asarray(xs)
    K = xs.shape[0]
    if s < 0:
        if lo + s < 1:
            return None
        end = np.repeat(xs[hi : hi + 1], -s, axis=0)
        parts = [xs[: lo + s], xs[lo : hi + 1], end, xs[hi + 1 :]]
    else:
        if hi + 1 + s > K - 1:
            return None
        start = np.repeat(xs[lo : lo + 1], s, axis=0)
        parts = [xs[:lo], start, xs[lo : hi + 1], xs[hi + 1 + s :]]
    return np.concatenate(parts, axis=0)


def search(solve_grid, res, *, budget: int | None = None):
    """A certified minimum found by moving ``res``'s transitions (see the module docstring), as
    ``(result, rounds, iterations)``, or ``(None, rounds, iterations)`` (rounds 0: the path
    has no transitions, nothing waits).

    ``res``: a finite path that crept (its ``ts``, ``xs``, ``action``).
    ``solve_grid(ts, xs, warm, max_steps=...) -> PathResult``: a fixed-time solve on ts.
    ``iterations``: the candidates' Newton iterations in all. ``budget``: no new round
    starts once they reach it (the caller passes what its own last solve was allowed).
    """
    ts, xs, S = np.asarray(res.ts), np.asarray(res.xs), float(res.action)
    iterations = 0
    for rnd in range(1, ROUNDS + 1):
        runs = transitions(ts, xs)
        if not runs and rnd == 1:
            return None, 0, 0
        if budget is not None and iterations >= budget:
            return None, rnd - 1, iterations
        tried = []
        for lo, hi in runs:
            for s in SHIFTS:
                start = shifted(xs, lo, hi, s)
                if start is None:
                    continue
                out = solve_grid(ts, start, True, max_steps=POLISH_STEPS)
                iterations += int(out.iterations)
                if np.isfinite(out.action) and np.all(np.isfinite(out.xs)):
                    tried.append(out)
        if not tried:
            return None, rnd, iterations
        done = [o for o in tried if o.converged and o.action <= S]
        if done:
            return min(done, key=lambda o: o.action), rnd, iterations
        best = min(tried, key=lambda o: o.action)
        if not best.action < S:
            return None, rnd, iterations
        xs, S = np.asarray(best.xs), float(best.action)
    return None, ROUNDS, iterations
