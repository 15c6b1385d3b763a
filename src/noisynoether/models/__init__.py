"""Built-in models of the paper's case studies, each an ``SDE`` (see each function's docstring).

Drifts are small frozen dataclasses compared by value, so building the same model twice reuses
the solvers' compiled code.
"""

from ._linear import linear_bridge, ornstein_uhlenbeck
from ._multistable import multistable
from ._simple import double_well, drift_diffusion

__all__ = ["drift_diffusion", "ornstein_uhlenbeck", "linear_bridge", "double_well", "multistable"]
