"""Coarse to fine: the retry of a fixed-time solve that crept to ``max_steps`` (issue 11).

Over a long horizon the action's Hessian has soft directions (how long the path waits near
each fixed point, where along the horizon a transition happens) and damped Newton from the
straight line can creep along them for thousands of steps. On a coarse grid the same problem
has few unknowns and its soft valley is short: Newton crosses it in tens of steps, and each
finer grid, started from the coarser solution interpolated, is already in the right basin.
Measured on Fig. 1c at T = 40 (K = 513, Eq. 20 with n = 0.02): the straight start crept to
max_steps = 3000 at S = 8.38; the ladder 33 -> 65 -> 129 -> 257 -> 513 converged in 19, 14, 9,
20 and 27 iterations to S* = 6.589, a certified minimum.

The ladder runs only after the solve on the requested grid stopped at ``max_steps`` (each
level is one more compile, ~1 s, so problems that converge directly never pay it). It stops at
the first level that does not converge: if that level crept to max_steps (a finite path, lower
in action), the requested grid is solved once more from its path; otherwise the start is
reported as it was. If that last solve fails too, the lower of it and the start is reported,
and where the path waits near fixed points for most of the horizon the message says why
Newton creeps there (``waiting_hint``). Levels are
uniform grids of 2^j + 1 points from ``COARSEST`` up to below half the requested size; the
requested grid is solved last from the finest level's path.
"""

from __future__ import annotations

import numpy as np

from . import _departures, _mesh
from ._result import replace_result
from ._status import Status

__all__ = [
    "COARSEST",
    "FINAL_BUDGET",
    "MIN_STEPS",
    "levels",
    "retry",
    "retry_if_crept",
    "start_solver",
    "waiting_hint",
]

#: Points of the coarsest grid of the ladder.
COARSEST = 33

#: Least ``max_steps`` for which the ladder is tried (each level takes ~10-30 iterations).
MIN_STEPS = 20

#: The requested grid's solve from the ladder's path may take this many times ``max_steps``.
#: It starts on the right route, and what is left is slow by nature: over a long horizon the
#: path's timing (how long it waits at each fixed point) is exp(-T)-soft, and a transition
#: moves along a curved valley a fraction of its width per step. Fig. 1c at T = 40 on the
#: default 1001 points: 638 iterations from the 257-point level (max_steps = 200 gave
#: MAX_STEPS_REACHED).
FINAL_BUDGET = 10


def levels(K: int) -> list[int]:
    """The ladder's grid sizes below K: 33, 65, ... (2^j + 1) up to at most (K + 1) / 2."""
    out, k = [], COARSEST
    while 2 * k - 1 <= K:
        out.append(k)
        k = 2 * k - 1
    return out


def would_retry(first, solver) -> bool:
    """Whether ``retry_if_crept`` retries ``first``: it stopped at max_steps and ``solver``
    allows a retry (its option ``coarse_to_fine``, and ``max_steps >= MIN_STEPS``)."""
    return (
        first.status is Status.MAX_STEPS_REACHED
        and solver.coarse_to_fine
        and solver.max_steps >= MIN_STEPS
    )


def retry_if_crept(solve_grid, first, ts, xs, solver):
    """``retry`` where ``first`` crept (``would_retry``); else ``first`` unchanged."""
    if would_retry(first, solver):
        return retry(solve_grid, first, ts, xs)
    return first


def start_solver(solve_grid, solver):
    """``solve_start(ts, xs) -> PathResult``: one solve from a start path (not a converged
    coarser solution), retried coarse to fine where it crept (``retry_if_crept``)."""

    def solve_start(ts, xs):
        return retry_if_crept(solve_grid, solve_grid(ts, xs, False), ts, xs, solver)

    return solve_start


def retry(solve_grid, first, ts, xs):
    """The result of the ladder from the start path xs (K, n) on ts, or ``first`` (the solve on
    ts that reached max_steps) with what was tried in its message.

    ``solve_grid(ts_k, xs_k, warm) -> PathResult``: one fixed-time solve (``warm``: the start is
    a converged coarser solution, interpolated).
    """
    sizes = levels(ts.size)
    if not sizes:
        return first
    path_ts, path_xs, tried = ts, xs, []
    for K in sizes:
        ts_k = np.linspace(ts[0], ts[-1], K)
        res = solve_grid(ts_k, _mesh.interpolate_path(ts_k, path_ts, path_xs), bool(tried))
        tried.append((K, int(res.iterations), bool(res.converged)))
        crept = res.status is Status.MAX_STEPS_REACHED and np.all(np.isfinite(res.xs))
        if res.converged or crept:
            path_ts, path_xs = res.ts, res.xs
        if not res.converged:
            break
    if res.converged or crept:
        # A level that crept to max_steps still lowered the action: the requested grid, where
        # the path is resolved, gets one try from it (Fig. 1c at T = 10, K = 2001: the level of
        # 257 points creeps, the requested grid from its path converges to the same-grid
        # minimum). The intermediate levels are skipped: each costs a compile.
        res = solve_grid(ts, _mesh.interpolate_path(ts, path_ts, path_xs), True, FINAL_BUDGET)
        tried.append((ts.size, int(res.iterations), bool(res.converged)))
    ladder = " -> ".join(f"{K}" for K, _, _ in tried)
    info = dict(
        first_attempt_iterations=int(first.iterations),
        levels=[dict(num_points=K, iterations=it, converged=ok) for K, it, ok in tried],
    )
    stats = {**first.stats, **res.stats, "coarse_to_fine": info}
    total = int(first.iterations) + sum(it for _, it, _ in tried)
    if res.converged:
        note = (
            f"; the start crept to max_steps = {first.iterations} on {ts.size} points, so it "
            f"was solved coarse to fine ({ladder} points; {total} iterations in all)"
        )
        return replace_result(res, message=res.message + note, stats=stats, iterations=total)
    last = f"{int(res.iterations)} iterations on {res.ts.size} points"
    if np.isfinite(res.grad_norm):
        last += f", gradient norm {res.grad_norm:.2e}"
    note = f" Coarse to fine ({ladder} points) did not converge either ({last})"
    out = first
    if _lower_on_same_grid(res, first):
        # Neither converged; the ladder's last solve (the requested grid from its path) went
        # further down: report that path, not the start's.
        out = res
        note += f"; the path reported is its last one, {first.action - res.action:.2e} lower in S"
    if np.all(np.isfinite(out.xs)):
        # Last resort over a long horizon: the transitions moved by whole grid steps.
        # At most what the ladder's last solve was allowed (``first`` stopped at max_steps).
        budget = FINAL_BUDGET * max(int(first.iterations), 1)
        found, rounds, its = _departures.search(solve_grid, out, budget=budget)
        if rounds:
            info["departure_search"] = dict(
                rounds=rounds, iterations=its, converged=found is not None
            )
        total += its
        if found is not None:
            note = (
                f"; the start crept to max_steps = {first.iterations} on {ts.size} points, and "
                f"so did coarse to fine ({ladder} points); moving the path's transitions by "
                f"whole grid steps ({rounds} round(s) of short solves) then converged "
                f"({total} iterations in all)"
            )
            stats = {**stats, **found.stats, "coarse_to_fine": info}
            return replace_result(
                found, message=found.message + note, stats=stats, iterations=total
            )
        if rounds:
            note += f"; moving its transitions by whole grid steps did not converge ({rounds} "
            note += "rounds)"
    note += "." + waiting_hint(out.ts, out.xs)
    return replace_result(out, message=first.message + note, stats=stats, iterations=total)


def _lower_on_same_grid(res, first) -> bool:
    """Whether ``res`` is a finite path on ``first``'s grid with a lower action."""
    return (
        res.ts.size == first.ts.size
        and np.all(np.isfinite(res.xs))
        and np.isfinite(res.action)
        and res.action < first.action
    )


#: ``waiting_hint`` speaks when at least this fraction of the intervals wait.
WAIT_FRACTION = 0.5


def waiting_hint(ts, xs) -> str:
    """A sentence for the message of a long-horizon solve that crept, or "".

    Where the path waits near fixed points for most of its horizon (``WAIT_FRACTION`` of its
    intervals slower than ``_departures.WAIT_SPEED`` times its top speed), when it leaves each is
    decided by exponentially small terms, and Newton creeps along that flat direction
    (docs/robustness.md, "What fails", item 7: a 3-unit network at T = 40 creeps for thousands
    of steps while S changes by 1e-9 relative).
    """
    if np.size(ts) < 3 or not np.all(np.isfinite(xs)):
        return ""
    speed, top = _departures.speeds(ts, xs)
    if not top > 0:
        return ""
    waiting = float(np.mean(speed < _departures.WAIT_SPEED * top))
    if waiting < WAIT_FRACTION:
        return ""
    return (
        f" The path waits near fixed points for {100 * waiting:.0f} % of its horizon: over so "
        "long a horizon when it leaves each one is nearly free (exponentially small terms "
        "decide it), and Newton creeps along that flat direction; S then usually changes far "
        "below the grid's error, but the path is not certified as a minimum. Try a shorter "
        "duration (the waiting costs almost nothing), a larger max_steps, or quasipotential/"
        "barrier for the infinite-time limit."
    )
