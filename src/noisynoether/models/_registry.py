"""The built-in models by name, for the command line: one registry shared by its subcommands.

``MODELS[name]`` is a ``RegisteredModel``: a factory for the ``SDE``, a one-line description,
the default end points of a most likely path (x0 -> x1 over [t0, t1]) and, where a uniform
grid is wrong, the time grid to solve on. ``noisynoether symmetries`` and ``noisynoether
energy`` both read it (``energy`` only the autonomous models: fixed energy needs E conserved).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._linear import ornstein_uhlenbeck
from ._multistable import multistable
from ._ring import RING_T_MAX, ring_reverse_diffusion
from ._simple import double_well, drift_diffusion

__all__ = ["MODELS", "RegisteredModel", "autonomous_models", "ring_time_grid"]

RING_T_END = 10**-0.4  # the diffusion time at which Fig. 2's paths reach the ring


def ring_time_grid(K: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, tau): K diffusion times log-spaced from 10^1.5 down to 10^-0.4, and tau = T - t.

    Fig. 2's grid (the authors used 50 log-spaced times): the solver runs in increasing
    tau = RING_T_MAX - t (``models.ring_reverse_diffusion``), with tau[0] = 0 exactly.
    """
    t = np.logspace(np.log10(RING_T_MAX), np.log10(RING_T_END), K)
    tau = RING_T_MAX - t
    tau[0] = 0.0
    return t, tau


@dataclass(frozen=True)
class RegisteredModel:
    """A built-in model as the command line knows it.

    Attributes:
        name: the command-line name.
        description: one line: the model, its parameters and the paper's figure.
        factory: builds the ``SDE`` (no arguments).
        x0, x1: default end points of a most likely path.
        t0, t1: default time span of that path.
        num_points: default number of nodes of that path.
        autonomous: whether f and D do not depend on time (energy is then conserved, Eq. 10).
        time_grid: None (uniform grid) or ``K -> (K,) times`` when the path needs its own grid.
    """

    name: str
    description: str
    factory: Callable
    x0: tuple[float, ...]
    x1: tuple[float, ...]
    t0: float = 0.0
    t1: float = 1.0
    num_points: int = 1001
    autonomous: bool = True
    time_grid: Callable | None = None

    def times(self, num_points: int | None = None) -> np.ndarray:
        """The (K,) time grid of the default path (uniform on [t0, t1] unless ``time_grid``)."""
        K = self.num_points if num_points is None else int(num_points)
        if self.time_grid is not None:
            return np.asarray(self.time_grid(K), dtype=np.float64)
        return np.linspace(self.t0, self.t1, K)


def _ou():
    return ornstein_uhlenbeck(-np.eye(2), 1.0)


def _ou_nonnormal():
    return ornstein_uhlenbeck([[-1.0, 3.0], [0.0, -2.0]], [[0.5, 0.2], [0.2, 0.3]])


def _drift_diffusion():
    return drift_diffusion(0.1, 1.0)


def _double_well():
    return double_well(0.05)


def _ring():
    return ring_reverse_diffusion()


_RING_PHI = np.pi / 4  # the end point on the ring closest to the PF-ODE's (Fig. 2)

_ENTRIES = (
    RegisteredModel(
        "ou",
        "2-D isotropic Ornstein-Uhlenbeck, f = -x, D = 1 (Fig. 1b), (-2, 2) -> (2, 2)",
        _ou,
        x0=(-2.0, 2.0),
        x1=(2.0, 2.0),
    ),
    RegisteredModel(
        "ou-nonnormal",
        "2-D non-normal Ornstein-Uhlenbeck, A = [[-1, 3], [0, -2]], correlated noise, "
        "(0, 0) -> (-0.7, 1.2)",
        _ou_nonnormal,
        x0=(0.0, 0.0),
        x1=(-0.7, 1.2),
    ),
    RegisteredModel(
        "drift-diffusion",
        "1-D drift-diffusion, v = 0.1, sigma = 1 (Fig. 1a, Eq. 18), 0.5 -> -1",
        _drift_diffusion,
        x0=(0.5,),
        x1=(-1.0,),
    ),
    RegisteredModel(
        "double-well",
        "1-D double well, f = x - x^3, D = 0.05, -1 -> 1",
        _double_well,
        x0=(-1.0,),
        x1=(1.0,),
        t1=10.0,
    ),
    RegisteredModel(
        "multistable",
        "the attractor network of Eq. 20 (Fig. 1c), stable state (3.25, 0.35) -> (0.35, 3.25)",
        multistable,
        x0=(3.25, 0.35),
        x1=(0.35, 3.25),
    ),
    RegisteredModel(
        "ring",
        "reverse diffusion on a blurred ring (Eq. 21, Fig. 2), in tau = t_max - t; "
        "(0, 10) at t = 10^1.5 -> the ring at angle pi/4 at t = 10^-0.4",
        _ring,
        x0=(0.0, 10.0),
        x1=(5.0 * np.cos(_RING_PHI), 5.0 * np.sin(_RING_PHI)),
        t1=RING_T_MAX - RING_T_END,
        num_points=401,
        autonomous=False,
        time_grid=lambda K: ring_time_grid(K)[1],
    ),
)

MODELS: dict[str, RegisteredModel] = {m.name: m for m in _ENTRIES}


def autonomous_models() -> tuple[str, ...]:
    """Names of the registered models whose f and D do not depend on time."""
    return tuple(name for name, m in MODELS.items() if m.autonomous)
