"""Conditioned ensembles: the sample paths that satisfy a condition and their statistics."""

from __future__ import annotations

import warnings

import numpy as np

from ._checks import as_state, check_real
from ._sampling_results import ConditionedEnsemble, SampleResult

__all__ = ["ConditionedEnsemble", "conditioned_ensemble"]

QUANTILES = (0.05, 0.25, 0.75, 0.95)


def conditioned_ensemble(
    sample: SampleResult,
    *,
    boundary=None,
    hit_window=None,
    end_near=None,
    end_tol=None,
) -> ConditionedEnsemble:
    """Keep the paths of a sample that satisfy a condition and compute their statistics.

    Two selections (give the arguments of exactly one):

    - ``boundary`` (-1 or +1), optionally with ``hit_window = (t_a, t_b)``: the paths absorbed at
      that boundary with hitting time in ``[t_a, t_b]`` (inclusive, up to 1e-9 of the time span
      for the round-off of the grid). This is the selection of the paper's Fig. 1a.
    - ``end_near`` (a number or an (n,) state) with ``end_tol > 0``: the paths whose final state
      satisfies ``max_i |x_i(t_K) - end_near_i| <= end_tol``.

    The statistics are taken over the kept paths at each time, for absorbed paths as recorded
    (frozen at the boundary after their hitting time).

    Args:
        sample: a ``SampleResult`` from ``simulate``.
        boundary: -1 (lower) or +1 (upper).
        hit_window: (t_a, t_b) with t_a <= t_b, or None for any hitting time.
        end_near: the target final state.
        end_tol: the half-width of the window around ``end_near``.

    Returns:
        ConditionedEnsemble with ``indices``, ``count``, ``fraction``, ``xs``, ``mean``,
        ``median``, ``std`` and ``quantiles`` (NaN statistics, and a warning, when nothing is
        kept).

    Raises:
        TypeError: ``sample`` is not a SampleResult.
        ValueError: both or neither selection given, ``boundary`` not -1 or +1 or a boundary
            the sample was simulated without, a malformed ``hit_window``, ``end_tol`` not
            positive, ``end_near`` of the wrong shape.
    """
    if not isinstance(sample, SampleResult):
        raise TypeError(
            f"sample must be a SampleResult (from simulate); got {type(sample).__name__}"
        )
    by_boundary = boundary is not None or hit_window is not None
    by_end = end_near is not None or end_tol is not None
    if by_boundary == by_end:
        raise ValueError(
            "give either boundary= (with an optional hit_window=) or end_near= with end_tol=; got "
            f"boundary = {boundary!r}, hit_window = {hit_window!r}, end_near = {end_near!r}, "
            f"end_tol = {end_tol!r}"
        )
    ts, xs = sample.ts, sample.xs
    if by_boundary:
        if isinstance(boundary, bool) or boundary not in (-1, 1):
            raise ValueError(f"boundary must be -1 (lower) or +1 (upper); got {boundary!r}")
        side = "lower" if boundary == -1 else "upper"
        if getattr(sample, side) is None:
            raise ValueError(
                f"boundary={boundary!r} selects the paths absorbed at {side}, but the sample was "
                f"simulated without {side}= (sample.{side} is None), so no path can have been "
                f"absorbed there; simulate with {side}=... or select with end_near= and end_tol="
            )
        keep = sample.hit_boundary == int(boundary)
        if hit_window is not None:
            try:
                t_a, t_b = (float(v) for v in hit_window)
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"hit_window must be a pair of times (t_a, t_b); got {hit_window!r}"
                ) from err
            if not (np.isfinite(t_a) and np.isfinite(t_b) and t_a <= t_b):
                raise ValueError(f"hit_window must be finite with t_a <= t_b; got {hit_window!r}")
            tol = 1e-9 * (ts[-1] - ts[0])
            keep &= (sample.hit_time >= t_a - tol) & (sample.hit_time <= t_b + tol)
    else:
        if end_near is None or end_tol is None:
            raise ValueError(
                f"end_near and end_tol go together; got end_near = {end_near!r}, "
                f"end_tol = {end_tol!r}"
            )
        target = as_state(end_near, "end_near")
        n = xs.shape[2]
        if target.shape[0] not in (1, n):
            raise ValueError(
                f"end_near must be a number or a state of shape ({n},); got shape {target.shape}"
            )
        tol_v = check_real(end_tol, "end_tol")
        if not tol_v > 0:
            raise ValueError(f"end_tol must be > 0; got {end_tol!r}")
        keep = np.max(np.abs(xs[:, -1, :] - target), axis=1) <= tol_v

    indices = np.flatnonzero(keep)
    kept = xs[indices]
    count = int(indices.size)
    if count == 0:
        if by_boundary:
            what = f"was absorbed at boundary={boundary!r} ({side} = {getattr(sample, side)!r})"
            what += "" if hit_window is None else f" within hit_window={hit_window!r}"
            fix = "widen hit_window or simulate more paths"
        else:
            what = f"ends within end_tol={end_tol!r} of end_near={end_near!r}"
            fix = "widen end_tol or simulate more paths"
        warnings.warn(
            f"no path of the {sample.num_paths} {what}: the ensemble is empty and its statistics "
            f"are NaN; {fix}",
            stacklevel=2,
        )
    shape = xs.shape[1:]
    nan = np.full(shape, np.nan)
    if count:
        mean, median = kept.mean(axis=0), np.median(kept, axis=0)
        qs = {q: np.quantile(kept, q, axis=0) for q in QUANTILES}
    else:
        mean, median, qs = nan, nan.copy(), {q: nan.copy() for q in QUANTILES}
    std = kept.std(axis=0, ddof=1) if count > 1 else nan.copy()
    return ConditionedEnsemble(
        ts=ts,
        indices=indices,
        count=count,
        fraction=count / sample.num_paths,
        xs=kept,
        mean=mean,
        median=median,
        std=std,
        quantiles=qs,
    )
