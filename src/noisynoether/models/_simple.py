"""One-line models: drift-diffusion (Eq. 18) and the double well."""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

from .._checks import as_state, check_real
from .._sde import SDE


@dataclass(frozen=True)
class _ConstantDrift:
    v: tuple

    def __call__(self, t, x, args):
        return jnp.zeros_like(x) + jnp.asarray(self.v)


@dataclass(frozen=True)
class _DoubleWellDrift:
    def __call__(self, t, x, args):
        return x - x**3


def drift_diffusion(v=0.1, sigma=1.0) -> SDE:
    """Drift-diffusion model of decision making (Eq. 18): ``xdot = v + sigma eta``, D = sigma^2/2.

    ``v`` may be a number (1-D) or a vector (Brownian motion with constant drift in n-D).
    The most likely path between two states is a straight line with constant momentum
    ``p = (xdot - v) / sigma^2`` (Eq. 19). Paper's Fig. 1a: v = 0.1, sigma = 1.
    """
    v = tuple(float(a) for a in as_state(v, "v"))
    sigma = check_real(sigma, "sigma")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0 (the noise amplitude); got {sigma!r}")
    return SDE(drift=_ConstantDrift(v), diffusion=0.5 * sigma**2)


def double_well(diffusion=0.05) -> SDE:
    """Double well ``xdot = x - x^3 + noise`` (f = -V', V = x^4/4 - x^2/2), D = ``diffusion``.

    Stable states -1 and +1, saddle 0, barrier dV = 1/4: the infinite-time action of Eq. 8
    from -1 to 0 is dV / D.
    """
    return SDE(drift=_DoubleWellDrift(), diffusion=diffusion)
