"""Built-in models of the paper's case studies, each an ``SDE`` (see each function's docstring).

Drifts are small frozen dataclasses compared by value, so building the same model twice reuses
the solvers' compiled code.
"""

from ._linear import linear_bridge, ornstein_uhlenbeck
from ._multistable import multistable
from ._ring import (
    RING_T_MAX,
    diffusion_time_to_tau,
    reverse_diffusion_from_score,
    ring_log_density,
    ring_reverse_diffusion,
    ring_score,
    tau_to_diffusion_time,
)
from ._rnn import RNNWeights, noisy_rnn, rnn_weights
from ._rnn_io import noisy_rnn_from_npz, noisy_rnn_from_torch
from ._simple import double_well, drift_diffusion

__all__ = [
    "drift_diffusion",
    "ornstein_uhlenbeck",
    "linear_bridge",
    "double_well",
    "multistable",
    "noisy_rnn",
    "noisy_rnn_from_npz",
    "noisy_rnn_from_torch",
    "rnn_weights",
    "RNNWeights",
    "ring_reverse_diffusion",
    "reverse_diffusion_from_score",
    "ring_score",
    "ring_log_density",
    "diffusion_time_to_tau",
    "tau_to_diffusion_time",
    "RING_T_MAX",
]
