"""The grids of ``path_with_energy``: starts on a coarse grid, coarse to fine, error estimate.

The discrete geometric action (midpoint rule on nodes equidistributed in arclength, see
``_geometric.py``) is second order: on K nodes ``S_K = S + c / (K - 1)^2 + ...`` with the same
c on every grid, because the string method puts the nodes at the same places along the curve
whatever K. From two grids K_c < K (ratio r = (K - 1)/(K_c - 1)) Richardson gives the error of
the fine value, ``|S_Kc - S_K| / (r^2 - 1)``: this is ``action_error`` (relative, as for
``most_likely_path(..., accuracy=)``; ``stats["action_error"]``). The coarse value is the one
the coarse-to-fine ladder solved anyway (K/4 down to ``coarse_points``); otherwise (K <=
coarse_points, or a solve from ``initial``) it is the discrete action of the fine curve
resampled at K_c nodes of equal arclength (K_c ~ K/2, odd when K is: a symmetric path keeps
its middle node), which needs no solve: that curve is O(h^2) from the coarse minimiser, at
which the action is stationary in the normal directions, so its action is the coarse minimum
to O(h^4) (checked: the two estimates agree to 1 % on the double well and the 2-D model).

Where the path has a corner (E = 0 through a saddle between two attractors) the convergence is
less regular (the node next to the corner matters); the estimate from a ratio-4 pair is then
within a factor ~2 of the true error (measured on the 2-D reflection-symmetric model).

``accuracy=``: while the estimate is above the target, the grid is refined (2 or 4 times the
intervals, as second-order convergence says is needed, times ``SAFETY``) from the fine curve,
up to ``max_points``.
"""

from __future__ import annotations

import dataclasses
import types

import numpy as np

from . import _energy_starts, _mesh
from ._status import Status

__all__ = ["ladder", "coarser", "regularisation_bias", "solve"]

SAFETY = 1.5
#: (max_outer, max_steps) of every start but the first on the coarse grid: a start that
#: wanders (a bump on the far side of a short path) must not cost more than the solve itself.
#: A start stopped by this budget still has an upper bound of the minimum, its W: if that is
#: the lowest, the start is solved again with the full budget (a start whose W is still
#: above the best when stopped, but would have ended below it, is missed).
EXTRA_START_BUDGET = (5, 20)


def ladder(K: int, coarse_points: int) -> list[int]:
    """The grids of a solve without ``initial``, coarse to fine: K/4 steps down to coarse_points."""
    levels = [K]
    while levels[-1] > coarse_points:
        levels.append(max(coarse_points, (levels[-1] - 1) // 4 + 1))
    return levels[::-1]


def coarser(K: int, coarse_points: int) -> int | None:
    """The grid the error of a K-node solve is estimated against (None: K too small)."""
    if K > coarse_points:
        return max(coarse_points, (K - 1) // 4 + 1)
    Kc = 2 * ((K - 1) // 4) + 1 if K % 2 else (K - 1) // 2 + 1
    return Kc if Kc >= 5 else None


def _estimate(S_c, K_c, S_f, K_f) -> float:
    """Richardson: the estimated absolute error of S_f (second order)."""
    r = (K_f - 1) / (K_c - 1)
    return abs(float(S_c) - float(S_f)) / (r * r - 1.0)


def _entry(S_c, K_c, conv_c, fine, err_abs, how):
    return dict(
        K=int(fine.xs.shape[0]),
        action=float(fine.action),
        action_error=float(err_abs / max(abs(float(fine.action)), 1e-300)),
        converged=bool(fine.converged),
        K_coarse=int(K_c),
        action_coarse=float(S_c),
        converged_coarse=bool(conv_c),
        coarse=how,
    )


def regularisation_bias(evaluate, fine) -> float:
    """W_reg - W of the fine curve: what the regularisation eps adds to its action (0 once
    4E >= eps^2). At isolated fixed points it is O(eps^2 log(1/eps)); along a curve of fixed
    points (a ring attractor) |path|_D eps / 2, which Richardson, comparing two grids with the
    same eps, cannot see. Part of ``action_error``; a bound on how far the regularised minimum
    lies above the unregularised one only to first order (it is this curve's, not the exact
    minimiser's)."""
    if not fine.regularisation or not np.all(np.isfinite(fine.xs)):
        return 0.0
    plain = evaluate(fine.xs, types.SimpleNamespace(regularisation=0.0))
    return max(float(fine.action) - plain, 0.0)


def _pair(coarse, fine):
    """Estimate and history entry from two solves."""
    K_c, K_f = coarse.xs.shape[0], fine.xs.shape[0]
    err = _estimate(coarse.action, K_c, fine.action, K_f)
    return err, _entry(coarse.action, K_c, coarse.converged, fine, err, "solved")


def solve(
    run,
    evaluate,
    curves,
    K,
    coarse_points,
    *,
    accuracy,
    max_points,
    estimate,
    warm,
    floor=None,
    more=None,
):
    """Solve on the grids and return the fine result with its estimate.

    Args:
        run: ``run(init, K, final, capped=False) -> EnergyPathResult`` (``final``: with the
            user's xtol; ``capped``: with ``EXTRA_START_BUDGET``).
        evaluate: ``evaluate(xs, like) -> float``: the discrete action of the curve xs (with
            the regularisation of the result ``like``).
        curves: (label, curve) pairs (``_energy_starts.start_curves``).
        K: the grid asked for; coarse_points: the coarse grid (``Geometric.coarse_points``).
        accuracy: target relative error (None: one grid, the estimate only).
        max_points: largest grid ``accuracy`` may use.
        estimate: compute the error estimate (from the fine curve resampled on a coarser
            grid when no coarser grid was solved on the way).
        warm: the single curve is the user's ``initial``: solve on K directly.
        floor: a lower bound of the action (0 at E = 0, where every segment's term of W is
            >= 0 by Cauchy-Schwarz): a converged start within ``TIE`` of it ends the search.
        more: ``more(result) -> [(label, curve), ...]``: starts to add after the first one is
            solved (``_energy_starts.trapped_bumps``).
    """
    chain, starts = [], ()
    if warm:
        chain.append(run(curves[0][1], K, True))
    else:
        levels = ladder(K, coarse_points)
        first, curves = [], list(curves)
        j = 0
        while j < len(curves):
            first.append(run(curves[j][1], levels[0], len(levels) == 1, j > 0))
            r = first[-1]
            if floor is not None and r.converged and r.action <= floor + _energy_starts.TIE:
                break  # nothing can be lower (the way down from a saddle: W ~ 0)
            if j == 0 and more is not None:
                curves[1:1] = more(r)
            j += 1
        pick = _energy_starts.best(first)
        if len(curves) > 1:
            labels = [lab for lab, _ in curves][: len(first)]
            starts = _energy_starts.describe(labels, first, pick)
        chain.append(first[pick])
        if pick > 0 and not first[pick].converged and np.all(np.isfinite(first[pick].xs)):
            chain[-1] = run(first[pick], levels[0], len(levels) == 1)  # the full budget
        for Kl in levels[1:]:
            chain.append(run(chain[-1], Kl, Kl == K))
    fine = chain[-1]
    history, err_abs = [], None
    if estimate or accuracy is not None:
        Kc = coarser(K, coarse_points)
        if len(chain) >= 2:
            err_abs, entry = _pair(chain[-2], fine)
            history.append(entry)
        elif Kc is not None and np.all(np.isfinite(fine.xs)):
            S_c = evaluate(_mesh.redistribute(fine.xs, Kc), fine)
            err_abs = _estimate(S_c, Kc, fine.action, K)
            history.append(_entry(S_c, Kc, fine.converged, fine, err_abs, "resampled"))
    status, message, converged = fine.status, fine.message, fine.converged
    if accuracy is not None and err_abs is None and 2 * K - 1 <= max_points:
        coarse, fine = fine, run(fine, 2 * K - 1, True)  # K < 9: no coarser grid to compare
        err_abs, entry = _pair(coarse, fine)
        history.append(entry)
    if accuracy is not None and err_abs is not None:
        while fine.converged and err_abs > accuracy * abs(float(fine.action)):
            target = accuracy * max(abs(float(fine.action)), 1e-300)
            m = 2 if np.sqrt(err_abs / target) * SAFETY <= 2 else 4
            Kf = fine.xs.shape[0]
            while m > 1 and m * (Kf - 1) + 1 > max_points:
                m //= 2
            if m == 1:
                break
            coarse, fine = fine, run(fine, m * (Kf - 1) + 1, True)
            err_abs, entry = _pair(coarse, fine)
            history.append(entry)
        bias = regularisation_bias(evaluate, fine)
        err_abs += bias
        rel = err_abs / max(abs(float(fine.action)), 1e-300)
        converged = fine.converged and rel <= accuracy
        status, message = fine.status, fine.message
        if not fine.converged:
            message = (
                f"a solve did not converge while refining the grid (K = {fine.xs.shape[0]}): "
                + message
            )
        elif not converged and bias > accuracy * abs(float(fine.action)):
            status = Status.ACCURACY_NOT_MET
            message = (
                f"accuracy target {accuracy:.1e} not met: the regularisation at E = 0 adds up to "
                f"{bias:.1e} to W here (estimated relative error {rel:.1e}; the path runs where "
                "f ~ 0, e.g. along a curve of fixed points), which no finer grid removes. Lower "
                "Geometric(regularisation=) (Newton then needs more steps) or loosen accuracy."
            )
        elif not converged:
            status = Status.ACCURACY_NOT_MET
            message = (
                f"accuracy target {accuracy:.1e} not met: estimated relative error {rel:.1e} "
                f"with K = {fine.xs.shape[0]}; the next grid would exceed max_points = "
                f"{max_points}. Raise max_points (or max_memory) or loosen accuracy."
            )
        else:
            message += f"; estimated relative action error {rel:.1e} (K = {fine.xs.shape[0]})"
    elif err_abs is not None:
        err_abs += regularisation_bias(evaluate, fine)
    elif accuracy is not None:
        converged, status = False, Status.ACCURACY_NOT_MET
        message = (
            f"accuracy target {accuracy:.1e} not checked: no error estimate on K = {K} nodes "
            f"within max_points = {max_points}; use more num_points or max_points"
        )
    stats = dict(fine.stats)
    stats["action_error"] = (
        None if err_abs is None else float(err_abs / max(abs(float(fine.action)), 1e-300))
    )
    stats["refinement"] = tuple(history)
    if starts:
        stats["starts"] = starts
    changes = dict(stats=stats, converged=bool(converged), status=status, message=message)
    if "action_error" in {f.name for f in dataclasses.fields(fine)}:
        changes["action_error"] = stats["action_error"]
    return dataclasses.replace(fine, **changes)
