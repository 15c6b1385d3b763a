"""Reverse diffusion on a blurred ring: the paper's Fig. 2 model (Section 5.3, Eq. 21).

The data distribution is a ring of radius R in the plane blurred with a Gaussian of width
sigma0. The forward process ``xdot = sqrt(2t) eta`` (diffusion time t from 0 up) adds variance
t^2 per coordinate, so the noised density is the ring convolved with N(0, s2 I),
``s2 = sigma0^2 + t^2``:

    p(x | t) = exp(-(|x|^2 + R^2) / (2 s2)) / (2 pi s2) * I0(R |x| / s2).

(The paper prints the prefactor as 1/(2 pi t^2); 1/(2 pi s2) is what normalises it.) Bessel
functions are evaluated exponentially scaled (``i0e``, ``i1e``), so that everything stays
finite for |x| up to 1e3 and more and t down to 1e-3.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
from jax.scipy.special import i0e, i1e

from .._checks import check_choice, check_positive
from .._sde import SDE

__all__ = [
    "ring_log_density",
    "ring_score",
    "ring_reverse_diffusion",
    "reverse_diffusion_from_score",
    "diffusion_time_to_tau",
    "tau_to_diffusion_time",
    "RING_T_MAX",
]

#: The start of the reverse process in the paper's Fig. 2: diffusion time t = 10^1.5.
RING_T_MAX = 10**1.5

# Below this z = R |x| / s2 the ratio I1(z) / (z I0(z)) is replaced by its series 1/2 - z^2/16
# (the next term, z^4/96, is below 1e-18 there).
_Z_SERIES = 1e-4


def _variance(t, sigma0):
    return sigma0**2 + jnp.asarray(t) ** 2


def _safe_sqrt(r2):
    """sqrt(r2) with a zero (not NaN) derivative at r2 = 0: the double-where trick."""
    pos = r2 > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, r2, 1.0)), 0.0)


def _plane_points(x):
    """x as an array of points in the plane, shape (..., 2) (checked: shapes are static)."""
    x = jnp.asarray(x)
    if x.ndim == 0 or x.shape[-1] != 2:
        raise ValueError(f"x must be points in the plane, shape (..., 2); got shape {x.shape}")
    return x


def _log_i0(z):
    """log I0(z) for z >= 0, stable for large z."""
    return jnp.log(i0e(z)) + z


def _i1_over_z_i0(z2):
    """I1(z) / (z I0(z)) as a smooth function of z^2 (finite, = 1/2, at z = 0)."""
    small = z2 < _Z_SERIES**2
    z = jnp.sqrt(jnp.where(small, 1.0, z2))
    exact = i1e(z) / (i0e(z) * z)
    return jnp.where(small, 0.5 - z2 / 16.0, exact)


def ring_log_density(x, t, *, radius=5.0, sigma0=0.55):
    """log p(x | t) of the ring of radius ``radius`` blurred with ``sigma0``, noised to time t.

    ``p = exp(-(|x|^2 + R^2) / (2 s2)) / (2 pi s2) * I0(R |x| / s2)``, ``s2 = sigma0^2 + t^2``
    (the forward process ``xdot = sqrt(2t) eta`` of Eq. 21 adds variance t^2). Uses
    ``log I0(z) = log(i0e(z)) + z`` and a norm whose derivative is finite at x = 0, so it is
    finite and JAX-differentiable everywhere.

    Args:
        x: (..., 2) points.
        t: diffusion time (broadcast against x's leading axes), t >= 0.
        radius, sigma0: the ring's radius and blur.

    Returns:
        (...,) log densities.
    """
    x = _plane_points(x)
    s2 = _variance(t, sigma0)
    r2 = jnp.sum(x**2, axis=-1)
    r = _safe_sqrt(r2)
    z = radius * r / s2
    return -(r2 + radius**2) / (2 * s2) - jnp.log(2 * jnp.pi * s2) + _log_i0(z)


def ring_score(x, t, *, radius=5.0, sigma0=0.55):
    """The score s(x, t) = grad_x log p(x | t) of :func:`ring_log_density`, in closed form.

    ``s = -x / s2 + (R / s2) (I1(z) / I0(z)) x / |x|`` with ``z = R |x| / s2``, written as
    ``s = x (-1/s2 + (R/s2)^2 I1(z) / (z I0(z)))`` so that it is smooth through x = 0, where
    s = 0 (near the origin s ~ x (R^2 / (2 s2) - 1) / s2). Jittable, differentiable to any
    order, vectorised over x of shape (..., 2).
    """
    x = _plane_points(x)
    s2 = _variance(t, sigma0)
    k = radius / s2
    z2 = k**2 * jnp.sum(x**2, axis=-1)
    h = -1.0 / s2 + k**2 * _i1_over_z_i0(z2)
    return x * h[..., None]


def diffusion_time_to_tau(t, t_max=RING_T_MAX):
    """The solver's forward time ``tau = t_max - t`` of diffusion time t."""
    return t_max - t


def tau_to_diffusion_time(tau, t_max=RING_T_MAX):
    """The diffusion time ``t = t_max - tau`` of the solver's forward time tau."""
    return t_max - tau


@dataclass(frozen=True)
class _RingScore:
    """The exact score of the blurred ring as a score function ``s(x, t)`` (compared by value)."""

    radius: float
    sigma0: float

    def __call__(self, x, t):
        return ring_score(x, t, radius=self.radius, sigma0=self.sigma0)


@dataclass(frozen=True)
class _ReverseDrift:
    score: object
    t_max: float
    process: str

    def __call__(self, tau, x, args):
        t = self.t_max - tau
        factor = 2.0 if self.process == "sde" else 1.0
        return factor * t * self.score(x, t)


@dataclass(frozen=True)
class _RingReverseDiffusion:
    t_max: float

    def __call__(self, tau, x, args):
        return jnp.asarray(self.t_max - tau, dtype=jnp.result_type(float))


def reverse_diffusion_from_score(score, *, t_max=RING_T_MAX, process: str = "sde") -> SDE:
    """The reverse process of Eq. 21 driven by any score function ``s(x, t)``, in forward time tau.

    For the forward process ``xdot = sqrt(2t) eta`` (the noise schedule of the ring of Fig. 2,
    variance t^2 added by diffusion time t), with ``score(x, t)`` the score of the noised data
    at diffusion time t (exact, as in :func:`ring_reverse_diffusion`, or learned). In
    ``tau = t_max - t`` the drift is ``2 t s(x, t)`` (``process="sde"``) or ``t s(x, t)``
    (``"pfode"``) and ``D = t`` (see :func:`ring_reverse_diffusion` for the conventions).

    The SDE compares equal to another when their scores do (a frozen dataclass compares by
    value; any other callable by identity), so the solvers' compiled code is reused.

    Args:
        score: a callable ``(x, t) -> (n,)``: x a state (n,), t a scalar diffusion time;
            jittable and differentiable in x and t.
        t_max: the diffusion time at tau = 0.
        process: ``"sde"`` (reverse process B) or ``"pfode"`` (reverse process A).
    """
    if not callable(score):
        raise TypeError(
            f"score must be a callable s(x, t) -> array (the score at state x and diffusion "
            f"time t); got {type(score).__name__}"
        )
    check_choice(process, "process", ("sde", "pfode"))
    t_max = check_positive(t_max, "t_max")
    return SDE(drift=_ReverseDrift(score, t_max, process), diffusion=_RingReverseDiffusion(t_max))


def ring_reverse_diffusion(
    radius=5.0, sigma0=0.55, *, t_max=RING_T_MAX, process: str = "sde"
) -> SDE:
    """The reverse process of Eq. 21 for the blurred ring, as an ``SDE`` in forward time tau.

    The paper writes the reverse processes in diffusion time t running *down* from T to 0:

        reverse SDE:  xdot = -2t s(x, t) + sqrt(2t) eta   (D = t),
        PF-ODE:       xdot = -t s(x, t),

    with s the score (:func:`ring_score`; :func:`reverse_diffusion_from_score` builds the same
    process from any score, e.g. a learned one). The solvers take increasing time, so this model
    runs in ``tau = t_max - t`` (``tau = 0`` at ``t = t_max``), where the drift is

        ``process="sde"``:   dx/dtau = 2 t s(x, t) + sqrt(2t) eta, i.e. D = t = t_max - tau,
        ``process="pfode"``: dx/dtau = t s(x, t).

    The PF-ODE has no noise: it is returned with the same D = t only so that it can be
    integrated and its action or charges inspected with the same tools; its "most likely path"
    has no probabilistic meaning.

    Because the velocity is dx/dtau = -dx/dt, the momenta p and the angular momentum L_12 of a
    path computed in tau have the opposite sign to the paper's t-convention (the action S is
    the same). The model is valid for tau < t_max (t > 0); D vanishes at t = 0.
    ``diffusion_time_to_tau`` and ``tau_to_diffusion_time`` convert times.

    Args:
        radius, sigma0: the ring's radius R and blur (the paper: 5 and 0.55).
        t_max: the diffusion time at tau = 0 (the paper: 10^1.5).
        process: ``"sde"`` (reverse process B) or ``"pfode"`` (reverse process A).
    """
    check_choice(process, "process", ("sde", "pfode"))
    radius, sigma0, t_max = (
        check_positive(v, k) for k, v in (("radius", radius), ("sigma0", sigma0), ("t_max", t_max))
    )
    return reverse_diffusion_from_score(_RingScore(radius, sigma0), t_max=t_max, process=process)
