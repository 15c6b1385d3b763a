"""Most likely paths of noisy dynamical systems and their Noether charges: the solvers.

Entry points: ``most_likely_path`` (fixed time), ``most_likely_paths`` (a batch of them),
``find_paths`` (many starts),
``path_with_energy`` (fixed energy), ``shoot`` / ``shoot_to`` (Hamilton's equations).
Solver objects: ``Newton``, ``NewtonCG``, ``Geometric``, ``Shooting``. Results:
``PathSolution`` and its subclasses ``PathResult``, ``EnergyPathResult``, ``ShootResult``,
each with a ``Status``.
"""

from ._batch import most_likely_paths
from ._batch_result import PathBatch
from ._geometric import path_with_energy
from ._most_likely_path import most_likely_path
from ._multistart import PathSet, find_paths
from ._result import (
    ConvergenceError,
    DiscretisationWarning,
    EnergyPathResult,
    PathResult,
    ShootResult,
)
from ._shooting import initial_momentum, shoot, shoot_to
from ._solution import PathSolution
from ._solver_geometric import Geometric
from ._solver_newton import Newton, NewtonCG
from ._solver_shooting import Shooting
from ._status import Status

__all__ = [
    "most_likely_path",
    "most_likely_paths",
    "find_paths",
    "path_with_energy",
    "shoot",
    "shoot_to",
    "initial_momentum",
    "PathSet",
    "PathBatch",
    "PathSolution",
    "PathResult",
    "EnergyPathResult",
    "ShootResult",
    "ConvergenceError",
    "DiscretisationWarning",
    "Status",
    "Newton",
    "NewtonCG",
    "Geometric",
    "Shooting",
]
