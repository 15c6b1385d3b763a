"""Learned scores of the ring of Fig. 2: training, saving, and their reverse SDE's paths.

The paper's subjects include diffusion generative models, whose reverse SDE (Eq. 21) is driven
by a *learned* score; its future work suggests equivariant networks. This package trains small
score networks (equinox + optax) by denoising score matching on samples of the blurred ring,
saves and loads them, builds the reverse SDE through them, and compares their most likely
paths and angular momentum L_12 with the exact score's:

- ``make_score_network("plain" | "equivariant", ...)``: ``ScoreMLP`` (no built-in symmetry)
  or ``EquivariantScoreMLP`` (``s = h(|x|^2, t) x``: commutes with rotations by construction).
- ``train_ring_score`` / ``train_score``: denoising score matching (``dsm_loss``).
- ``save_score`` / ``load_score``: ``.eqx`` weights plus ``.json`` hyperparameters.
- ``learned_reverse_diffusion(score)``: the reverse-SDE ``SDE`` in forward time tau (the same
  builder as ``models.ring_reverse_diffusion``, ``models.reverse_diffusion_from_score``).
- ``compare_scores({name: sde}, reference=...)``: Fig. 2's paths, S*, path distance, L_12
  along each path (``charge_balance``) and the rotation defect (``symmetry_defect``).

Import it as ``from noisynoether import scores`` (it imports equinox and optax; the core of
the package never imports it).
"""

from ._io import load_score, network_hyperparameters, save_score
from ._models import (
    FIG2_PHIS,
    ROTATION,
    LearnedScore,
    compare_scores,
    defect_points,
    learned_reverse_diffusion,
)
from ._networks import KINDS, EquivariantScoreMLP, ScoreMLP, make_score_network
from ._training import (
    DEFAULT_TIMES,
    TrainResult,
    dsm_loss,
    ring_samples,
    train_ring_score,
    train_score,
)

__all__ = [
    "KINDS",
    "ScoreMLP",
    "EquivariantScoreMLP",
    "make_score_network",
    "ring_samples",
    "dsm_loss",
    "train_score",
    "train_ring_score",
    "TrainResult",
    "DEFAULT_TIMES",
    "save_score",
    "load_score",
    "network_hyperparameters",
    "learned_reverse_diffusion",
    "LearnedScore",
    "compare_scores",
    "defect_points",
    "ROTATION",
    "FIG2_PHIS",
]
