"""most_likely_path(..., accuracy=): adaptive grids until the action's estimated error is small.

Each round solves on a grid and on its bisection; (S_K - S_2K)/3 estimates the error of S_2K
(second-order rule, Richardson). If it is above the target, a new grid is made by equidistributing
arc length in (t, x, f) along the fine path (``_mesh.equidistribute``), with as many points as
second-order convergence says are needed (times a safety factor), and the round repeats. Grid
sizes are kept to 2^j + 1 so that compiled solvers are reused between rounds and runs.
"""

from __future__ import annotations

import numpy as np

from . import _mesh
from ._result import replace_result
from ._status import Status

SAFETY = 1.5


def _bucket(K: int) -> int:
    return 2 ** int(np.ceil(np.log2(max(K - 1, 2)))) + 1


def refine(solve, drift_mid, ts0, initial, accuracy: float, max_points: int):
    """Run the refinement loop. ``solve(ts, initial) -> PathResult``; returns the final result."""
    ts_c = ts0
    res_c = solve(ts_c, initial)
    history = []
    while True:
        ts_f = _mesh.bisect(ts_c)
        res_f = solve(ts_f, res_c)
        err = _mesh.richardson_error(res_c.action, res_f.action)
        history.append(
            {
                "K": int(ts_f.size),
                "action": res_f.action,
                "action_error": err,
                "K_coarse": int(ts_c.size),
                "action_coarse": res_c.action,
            }
        )
        done = err <= accuracy
        failed = not (res_c.converged and res_f.converged)
        if done or failed:
            break
        need = ts_c.size * np.sqrt(err / accuracy) * SAFETY
        # At most 4x more points a round: the estimate assumes the old grid's mapping, and the
        # new, equidistributed grid usually does much better than that.
        K_new = min(_bucket(int(np.ceil(need))), _bucket(4 * (ts_c.size - 1) + 1))
        K_new = max(K_new, _bucket(ts_c.size + 1))
        while 2 * K_new - 1 > max_points and K_new > _bucket(ts_c.size + 1):
            K_new = (K_new - 1) // 2 + 1
        if 2 * K_new - 1 > max_points:
            break
        tm = 0.5 * (res_f.ts[:-1] + res_f.ts[1:])
        xm = 0.5 * (res_f.xs[:-1] + res_f.xs[1:])
        ts_c = _mesh.equidistribute(res_f.ts, res_f.xs, drift_mid(tm, xm), K_new)
        res_c = solve(ts_c, res_f)
    if failed:
        status = (res_f if not res_f.converged else res_c).status
        message = (
            f"a solve did not converge while refining the grid (K = {ts_c.size} and "
            f"{ts_f.size}): {res_f.message if not res_f.converged else res_c.message}"
        )
    elif not done:
        status = Status.ACCURACY_NOT_MET
        message = (
            f"accuracy target {accuracy:.1e} not met: estimated relative error {err:.1e} with "
            f"K = {ts_f.size}; the next grid would exceed max_points = {max_points} (the smaller "
            "of max_points and what max_memory allows). Raise max_points (or max_memory) or "
            "loosen accuracy."
        )
    else:
        status = Status.SUCCESSFUL
        message = res_f.message + f"; estimated relative action error {err:.1e} (K = {ts_f.size})"
    return replace_result(
        res_f,
        converged=bool(done and not failed),
        status=status,
        message=message,
        action_error=float(err),
        refinement=tuple(history),
    )
