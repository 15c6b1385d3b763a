"""Most likely paths of noisy dynamical systems and their Noether charges."""

from ._most_likely_path import most_likely_path
from ._multistart import PathSet, find_paths
from ._result import ConvergenceError, PathResult

__all__ = ["most_likely_path", "find_paths", "PathSet", "PathResult", "ConvergenceError"]
