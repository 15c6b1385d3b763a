"""Escape rates: the Eyring-Kramers formula for gradient drifts with isotropic noise.

For ``xdot = -grad U(x) + G eta`` with D = d I (Eq. 5), the rate of escape from the
minimum m of U over the saddle s (one unstable direction) is, as d -> 0,

    k = |lambda_-| / (2 pi) * sqrt(det H_m / |det H_s|) * exp(-(U(s) - U(m)) / d)

(Eyring-Kramers; H = Hessian of U, lambda_- its negative eigenvalue at s). The exponent
(U(s) - U(m)) / d is the action barrier S*(inf) of Eq. 8 (the quasipotential of the saddle).
The relative error is O(d / dU) (Bovier, Eckhoff, Gayrard and Klein 2004). The mean time to
cross from m into the next basin is 1/k.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_endpoints, check_model_at, check_sde

__all__ = ["EscapeRate", "escape_rate"]


@dataclass(frozen=True)
class EscapeRate:
    """The Eyring-Kramers escape rate and its parts.

    Attributes:
        rate: k (per unit time).
        barrier: the action barrier (U(s) - U(m)) / d = S*(inf) of Eq. 8.
        potential_difference: U(s) - U(m) = -int_m^s f . dx (along the straight segment).
        prefactor: |lambda_-| / (2 pi) sqrt(det H_m / |det H_s|).
        mean_exit_time: 1 / k.
        diffusion: d.
        hessian_minimum, hessian_saddle: eigenvalues of H = -df/dx at m and at s.
    """

    rate: float
    barrier: float
    potential_difference: float
    prefactor: float
    mean_exit_time: float
    diffusion: float
    hessian_minimum: np.ndarray
    hessian_saddle: np.ndarray


def escape_rate(sde, attractor, saddle, *, args=None, symmetry_tol: float = 1e-8) -> EscapeRate:
    """The Eyring-Kramers rate of escape from ``attractor`` over ``saddle``.

    Needs an autonomous gradient drift ``f = -grad U`` (checked: the Jacobian of f must be
    symmetric at both points and along the segment between them) and a constant isotropic
    diffusion D = d I (a scalar ``diffusion``). U(s) - U(m) is the line integral of -f along the
    segment from m to s (exact for a gradient field; Gauss-Legendre, 64 nodes).

    Raises:
        ValueError: a non-gradient drift, a non-isotropic or non-constant D, an attractor that
            is not a minimum, or a saddle without exactly one unstable direction.
    """
    check_sde(sde)
    m, s = check_endpoints(attractor, saddle, names=("attractor", "saddle"))
    check_model_at(sde, [0.0], np.stack([m, s]), args, what="attractor and saddle")
    if not sde.is_constant_diffusion or sde.diffusion_form != "scalar":
        raise ValueError(
            "escape_rate needs a constant isotropic diffusion D = d I (a scalar diffusion=); the "
            "Eyring-Kramers formula does not apply otherwise"
        )
    d = float(np.asarray(sde.D_raw(0.0, jnp.asarray(m), args)))

    def f(x):
        return sde.f(0.0, x, args)

    jac = jax.jit(jax.jacfwd(f))
    nodes, weights = np.polynomial.legendre.leggauss(64)
    u = 0.5 * (nodes + 1.0)
    seg = m[None] + u[:, None] * (s - m)[None]
    for x in [m, s, *seg[::8]]:
        J = np.asarray(jac(jnp.asarray(x)))
        if np.max(np.abs(J - J.T)) > symmetry_tol * max(1.0, np.max(np.abs(J))):
            raise ValueError(
                f"the drift's Jacobian is not symmetric at {x}: f is not a gradient -grad U, so "
                "the Eyring-Kramers formula does not apply (non-gradient drifts need the "
                "Bouchet-Reygner prefactor, not implemented)"
            )
    for name, x in (("attractor", m), ("saddle", s)):
        r = float(np.max(np.abs(np.asarray(f(jnp.asarray(x))))))
        if r > 1e-8 * max(1.0, float(np.max(np.abs(x)))):
            raise ValueError(f"{name} {x} is not a fixed point: |f| = {r:.2e}")
    Hm = -np.asarray(jac(jnp.asarray(m)))
    Hs = -np.asarray(jac(jnp.asarray(s)))
    em, es = np.linalg.eigvalsh(0.5 * (Hm + Hm.T)), np.linalg.eigvalsh(0.5 * (Hs + Hs.T))
    if np.any(em <= 0):
        raise ValueError(f"attractor {m} is not a minimum of U: Hessian eigenvalues {em}")
    if np.sum(es < 0) != 1 or np.any(es == 0):
        raise ValueError(f"saddle {s} must have exactly one unstable direction: eigenvalues {es}")
    fs = np.asarray(jax.vmap(f)(jnp.asarray(seg)))
    dU = -0.5 * float(np.sum(weights * (fs @ (s - m))))
    pref = abs(es[0]) / (2 * np.pi) * np.sqrt(np.prod(em) / abs(np.prod(es)))
    B = dU / d
    k = pref * np.exp(-B)
    return EscapeRate(
        rate=float(k),
        barrier=float(B),
        potential_difference=dU,
        prefactor=float(pref),
        mean_exit_time=float(1.0 / k),
        diffusion=d,
        hessian_minimum=em,
        hessian_saddle=es,
    )
