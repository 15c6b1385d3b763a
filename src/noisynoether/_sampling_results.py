"""The results of sampling: ``SampleResult`` (paths) and ``ConditionedEnsemble`` (a selection)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SampleResult", "ConditionedEnsemble"]


@dataclass(frozen=True, eq=False)
class SampleResult:
    """Sample paths from ``simulate``.

    Attributes:
        ts: (K,) the time grid.
        xs: (num_paths, K, n) float64 paths; ``xs[:, 0]`` is x0. An absorbed path stays at the
            boundary (its crossing components set to the boundary value) from its hitting time on.
        hit_time: (num_paths,) the first grid time at or after the path crossed a boundary;
            ``inf`` for a path that was never absorbed.
        hit_boundary: (num_paths,) int: -1 absorbed at ``lower``, +1 at ``upper``, 0 not absorbed.
        lower, upper: the boundaries (None where there is none).
    """

    ts: np.ndarray
    xs: np.ndarray
    hit_time: np.ndarray
    hit_boundary: np.ndarray
    lower: float | None = None
    upper: float | None = None

    @property
    def num_paths(self) -> int:
        return int(self.xs.shape[0])

    @property
    def absorbed(self) -> np.ndarray:
        """(num_paths,) bool: which paths were absorbed at a boundary."""
        return self.hit_boundary != 0


@dataclass(frozen=True, eq=False)
class ConditionedEnsemble:
    """The paths kept by ``conditioned_ensemble`` and their statistics at each time.

    Attributes:
        ts: (K,) the time grid.
        indices: (count,) indices of the kept paths in the sample.
        count: how many paths were kept.
        fraction: count / num_paths of the sample.
        xs: (count, K, n) the kept paths (absorbed ones as recorded: frozen at the boundary).
        mean, median, std: (K, n) over the kept paths at each time (``std`` with ddof = 1);
            NaN where fewer than one (two for ``std``) path was kept.
        quantiles: {q: (K, n)} for q in 0.05, 0.25, 0.75, 0.95.
    """

    ts: np.ndarray
    indices: np.ndarray
    count: int
    fraction: float
    xs: np.ndarray
    mean: np.ndarray
    median: np.ndarray
    std: np.ndarray
    quantiles: dict
