"""Paths and quantities at fixed energy and in infinite time (paper Sec. 4.1, Eqs. 10, 13).

- ``action_vs_duration``, ``duration_vs_energy``: the S*(T) and T(E) curves (``_curves.py``);
- ``quasipotential``, ``barrier``: V(x) of an attractor and the barrier between two
  (``_quasipotential.py``);
- ``escape_rate``: the Eyring-Kramers rate for gradient drifts (``_rates.py``).

The solvers themselves (``path_with_energy``, ``shoot``, ``shoot_to``) live in ``solvers``.
"""

from ._curves import (
    ActionDurationCurve,
    EnergyDurationCurve,
    action_vs_duration,
    duration_vs_energy,
)
from ._quasipotential import Barrier, BarrierRoute, Quasipotential, barrier, quasipotential
from ._rates import EscapeRate, escape_rate

__all__ = [
    "ActionDurationCurve",
    "EnergyDurationCurve",
    "action_vs_duration",
    "duration_vs_energy",
    "Barrier",
    "BarrierRoute",
    "Quasipotential",
    "barrier",
    "quasipotential",
    "EscapeRate",
    "escape_rate",
]
