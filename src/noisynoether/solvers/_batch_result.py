"""PathBatch: the result of ``most_likely_paths``, one ``PathResult`` per problem of a batch.

Stacked views (``action`` (B,), ``xs`` (B, K, n), ``ts`` (B, K), ``converged`` (B,),
``iterations`` (B,), ``status``) for array work, and ``batch[i]``: the i-th problem's full
``PathResult`` (path, S*, charges, status, message, stats), as ``most_likely_path`` returns it.
"""

from __future__ import annotations

import collections
import dataclasses

import numpy as np

from ._result import PathResult

__all__ = ["PathBatch"]


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class PathBatch:
    """Most likely paths of a batch of fixed-time problems (``most_likely_paths``).

    ``len(batch)`` is the number of problems B; ``batch[i]`` is the i-th ``PathResult``
    (``batch[a:b]`` or ``batch[[i, j]]`` a smaller ``PathBatch``); iterating gives the
    ``PathResult`` s in order. ``print(batch)`` gives a summary: how many converged, the
    range of S*, and for the others their statuses, indices and what to try.

    Attributes:
        results: tuple of the B ``PathResult`` s.
        stats: how the batch was solved: ``method``, ``linear_solver``, ``handoffs`` (members
            that needed the full loop, with negative-curvature steps and re-timing),
            ``recertified`` (members whose end certificate needed the full eigen-solver).
        ts: (B, K) time grid of each member.
        xs: (B, K, n) the paths.
        action: (B,) S* of each member (Eq. 8).
        momentum: (B, K-1, n) and energy: (B, K-1) the charges on each interval (Eqs. 15, 10).
        converged: (B,) bool; status: tuple of B ``Status``; iterations: (B,) int.
        messages: tuple of each member's message.
    """

    results: tuple
    stats: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        results = tuple(self.results)
        if not results or not all(isinstance(r, PathResult) for r in results):
            raise TypeError("PathBatch holds one or more PathResult; got " + repr(self.results))
        object.__setattr__(self, "results", results)

    # ------------------------------------------------------------------ stacked views
    @property
    def ts(self) -> np.ndarray:
        return np.stack([r.ts for r in self.results])

    @property
    def xs(self) -> np.ndarray:
        return np.stack([r.xs for r in self.results])

    @property
    def action(self) -> np.ndarray:
        return np.array([float(r.action) for r in self.results])

    @property
    def momentum(self) -> np.ndarray:
        return np.stack([r.momentum for r in self.results])

    @property
    def energy(self) -> np.ndarray:
        return np.stack([r.energy for r in self.results])

    @property
    def converged(self) -> np.ndarray:
        return np.array([bool(r.converged) for r in self.results])

    @property
    def status(self) -> tuple:
        return tuple(r.status for r in self.results)

    @property
    def iterations(self) -> np.ndarray:
        return np.array([int(r.iterations) for r in self.results])

    @property
    def messages(self) -> tuple:
        return tuple(r.message for r in self.results)

    @property
    def num_converged(self) -> int:
        return int(np.sum(self.converged))

    @property
    def failed(self) -> np.ndarray:
        """Indices of the members that did not converge."""
        return np.flatnonzero(~self.converged)

    # ------------------------------------------------------------------ container protocol
    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self):
        return iter(self.results)

    def __getitem__(self, index):
        if isinstance(index, int | np.integer):
            return self.results[int(index)]
        picked = np.arange(len(self.results))[index]
        if np.ndim(picked) == 0:
            return self.results[int(picked)]
        return PathBatch(tuple(self.results[int(i)] for i in picked), dict(self.stats))

    # ------------------------------------------------------------------ summary
    @property
    def message(self) -> str:
        """One paragraph: how many converged, the range of S*, the others and what to try."""
        B, ok = len(self), self.converged
        head = f"{int(ok.sum())} of {B} converged"
        if ok.any():
            S = self.action[ok]
            head += f"; S* in [{S.min():.10g}, {S.max():.10g}]"
        if ok.all():
            return head
        counts = collections.Counter(r.status for r in self.results if not r.converged)
        bad = self.failed
        shown = ", ".join(str(i) for i in bad[:10]) + (", ..." if bad.size > 10 else "")
        parts = [head + f"; {bad.size} did NOT converge (indices {shown})"]
        for status, count in counts.most_common():
            parts.append(f"{status.name} x{count}: {status.message}")
        parts.append("each member's own message: batch[i].message")
        return ". ".join(parts)

    def __repr__(self) -> str:
        K = self.results[0].xs.shape[0]
        n = self.results[0].xs.shape[1]
        return f"PathBatch: {len(self)} paths, K = {K} points, n = {n}\n  {self.message}"
