"""noisynoether: most likely paths of noisy dynamical systems and their Noether charges.

Implements Vastola (NeurReps 2024): for ``xdot = f(x, t) + G eta`` with ``D = G G^T / 2`` the
most likely path minimises the action of Eq. 8, and each symmetry of (f, D) gives a conserved
charge (energy, Eq. 10; momentum, Eq. 15; angular momentum, Eq. 17).

Importing this package switches JAX to 64-bit mode (``jax_enable_x64``): every result is float64.
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from . import models  # noqa: E402
from ._charges import action, angular_momentum, energy, momentum, noether_charge  # noqa: E402
from ._fixed_points import FixedPoint, fixed_points  # noqa: E402
from ._sde import SDE  # noqa: E402
from .plotting import plot_path  # noqa: E402  (imports matplotlib only when called)
from .sampling import (  # noqa: E402
    ConditionedEnsemble,
    SampleResult,
    conditioned_ensemble,
    simulate,
)
from .solvers import (  # noqa: E402
    ConvergenceError,
    DiscretisationWarning,
    EnergyPathResult,
    Geometric,
    Newton,
    NewtonCG,
    PathBatch,
    PathResult,
    PathSet,
    PathSolution,
    Shooting,
    ShootResult,
    Status,
    find_paths,
    initial_momentum,
    most_likely_path,
    most_likely_paths,
    path_with_energy,
    shoot,
    shoot_to,
)
from .solvers._compile_cache import enable_compilation_cache  # noqa: E402
from .solvers._native import native_available  # noqa: E402
from .sweeps import SweepProblem, sweep, sweep_problems  # noqa: E402  (Dask: only when run)
from .symmetry import (  # noqa: E402
    ChargeBalance,
    DiscreteSymmetry,
    Symmetry,
    SymmetryList,
    charge_balance,
    conserved_quantities,
    find_discrete_symmetries,
    find_symmetries,
    symmetry_defect,
)
from .transitions import (  # noqa: E402
    ActionDurationCurve,
    Barrier,
    BarrierRoute,
    EnergyDurationCurve,
    EscapeRate,
    Quasipotential,
    action_vs_duration,
    barrier,
    duration_vs_energy,
    escape_rate,
    quasipotential,
)

__version__ = "0.1.0"

__all__ = [
    "SDE",
    "most_likely_path",
    "most_likely_paths",
    "PathBatch",
    "native_available",
    "enable_compilation_cache",
    "find_paths",
    "PathSet",
    "PathResult",
    "ConvergenceError",
    "DiscretisationWarning",
    "Status",
    "PathSolution",
    "Newton",
    "NewtonCG",
    "Geometric",
    "Shooting",
    "action",
    "momentum",
    "energy",
    "angular_momentum",
    "noether_charge",
    "fixed_points",
    "path_with_energy",
    "EnergyPathResult",
    "action_vs_duration",
    "duration_vs_energy",
    "ActionDurationCurve",
    "EnergyDurationCurve",
    "quasipotential",
    "Quasipotential",
    "BarrierRoute",
    "barrier",
    "Barrier",
    "escape_rate",
    "EscapeRate",
    "shoot",
    "shoot_to",
    "initial_momentum",
    "ShootResult",
    "find_symmetries",
    "symmetry_defect",
    "charge_balance",
    "conserved_quantities",
    "find_discrete_symmetries",
    "Symmetry",
    "SymmetryList",
    "ChargeBalance",
    "DiscreteSymmetry",
    "FixedPoint",
    "simulate",
    "SampleResult",
    "conditioned_ensemble",
    "ConditionedEnsemble",
    "models",
    "plot_path",
    "sweep",
    "sweep_problems",
    "SweepProblem",
]
