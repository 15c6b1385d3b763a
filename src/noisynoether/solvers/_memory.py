"""Memory estimates of the path solvers, checked before allocating (``max_memory=``).

Measured: ``most_likely_path`` with Newton at K = 10^7 points and n = 2 peaked at 9.9 GB,
about 990 bytes per point; the estimate ``8 (12 n^2 + 40 n)`` bytes per point (1024 at
n = 2) covers the per-interval Hessians (K-1, 2n, 2n), the block-tridiagonal factors and the
line search's trial paths. Newton-CG keeps only O(n) vectors per point (CG and Lanczos), and
the geometric action the same Hessian terms as Newton.
"""

from __future__ import annotations

from .._checks import check_memory

__all__ = ["solver_bytes", "check_solver_memory"]


def solver_bytes(K: int, n: int, method: str) -> float:
    """Estimated peak bytes of one solve on K points in dimension n (``method`` a name)."""
    if method == "newton-cg":
        return 8.0 * K * 60 * n
    return 8.0 * K * (12 * n * n + 40 * n)


def check_solver_memory(K: int, n: int, method: str, max_memory, *, entry: str) -> None:
    """Raise ValueError with the estimate when a solve on K points would exceed the limit."""
    check_memory(
        solver_bytes(K, n, method),
        max_memory,
        what=f"{entry} with {K} points in dimension n = {n} ({method})",
        fix="use fewer num_points (or a smaller max_points with accuracy=)",
    )


def max_points_within(n: int, method: str, max_memory) -> int:
    """The largest K whose estimate fits ``max_memory`` (None: the default limit)."""
    from .._checks import MAX_MEMORY

    limit = MAX_MEMORY if max_memory is None else float(max_memory)
    return int(limit // solver_bytes(1, n, method))
