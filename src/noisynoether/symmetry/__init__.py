"""Symmetry discovery and charge balances for any model (paper Eqs. 3-4, 9-17).

- ``find_symmetries``: the affine symmetries ``xi(x) = A x + b`` of (f, D) and time translation.
- ``symmetry_defect``: how nearly a generator is a symmetry (relative equivariance residual).
- ``charge_balance``: Noether with a source, ``Q(t1) - Q(t0) = integral of delta L``, exact on
  most likely paths of the discrete action.
- ``conserved_quantities``: the converse, generators whose charges are constant on given paths.
- ``find_discrete_symmetries``: signed permutations of the coordinates (mirror paths).
"""

from ._balance import ChargeBalance, charge_balance
from ._continuous import DEFAULT_TIMES, Symmetry, SymmetryList, find_symmetries
from ._converse import conserved_quantities
from ._defect import symmetry_defect
from ._discrete import DiscreteSymmetry, find_discrete_symmetries

__all__ = [
    "find_symmetries",
    "symmetry_defect",
    "charge_balance",
    "conserved_quantities",
    "find_discrete_symmetries",
    "Symmetry",
    "SymmetryList",
    "ChargeBalance",
    "DiscreteSymmetry",
    "DEFAULT_TIMES",
]
