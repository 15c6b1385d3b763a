"""Most likely paths of noisy dynamical systems and their Noether charges."""

from ._most_likely_path import most_likely_path
from ._result import ConvergenceError, PathResult

__all__ = ["most_likely_path", "PathResult", "ConvergenceError"]
