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

import jax.numpy as jnp
import numpy as np

from .._checks import (
    check_autonomous_drift,
    check_endpoints,
    check_fixed_point,
    check_gradient_drift,
    check_model_at,
    check_sde,
    check_stable_fixed_point,
    drift_at,
    sample_around,
)

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


def _sample_states(m: np.ndarray, s: np.ndarray):
    """States around the attractor and the saddle where the drift's structure is checked.

    m, s, 9 points on the segment between them, and 24 states uniform in each ball of radius
    R = |s - m| around m and around s (seeded): most lie off the segment, hence off any
    symmetry axis the segment lies on. Returns the states and a function naming state k.
    """
    R = float(np.linalg.norm(s - m)) or 0.1 * max(1.0, float(np.max(np.abs(m))))
    seg = m[None] + np.linspace(0.0, 1.0, 11)[1:-1, None] * (s - m)[None]
    balls = sample_around(np.stack([m, s]), R, count=24)[2:]
    xs = np.concatenate([np.stack([m, s]), seg, balls])
    names = ["the attractor", "the saddle"] + ["on the segment attractor-saddle"] * len(seg)
    names += [f"within R = {R:.3g} of the attractor"] * 24
    names += [f"within R = {R:.3g} of the saddle"] * 24
    return xs, names.__getitem__


def escape_rate(sde, attractor, saddle, *, args=None, symmetry_tol: float = 1e-8) -> EscapeRate:
    """The Eyring-Kramers rate of escape from ``attractor`` over ``saddle``.

    Needs an autonomous gradient drift ``f = -grad U`` and a constant isotropic diffusion
    D = d I (a scalar ``diffusion``); checked before anything is computed:

    - the attractor is a stable fixed point (``check_stable_fixed_point``: f ~ 0 there and
      every Jacobian eigenvalue with negative real part) and the saddle a fixed point;
    - f(t, x) does not depend on t, and the Jacobian J = df/dx is symmetric (D^-1 J is, for a
      gradient of U in the noise metric; relative asymmetry at most ``symmetry_tol``), on
      states sampled around both points (the attractor, the saddle, the segment between them
      and random states within R = |saddle - attractor| of each), not only on the segment:
      a symmetric model's Jacobian can be symmetric on its axis and not off it.

    U(s) - U(m) is the line integral of -f along the segment from m to s (exact for a gradient
    field; Gauss-Legendre, 64 nodes).

    Raises:
        ValueError: a time-dependent or non-gradient drift (the state, and by how much), a
            non-isotropic or non-constant D, an attractor that is not a stable fixed point, or
            a saddle that is not a fixed point with exactly one unstable direction.
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
    xs, where = _sample_states(m, s)
    check_autonomous_drift(sde, xs, args=args, entry="escape_rate (Eyring-Kramers)")
    Jm = check_stable_fixed_point(sde, m, "attractor", args=args)
    Js = check_fixed_point(sde, s, "saddle", args=args)
    check_gradient_drift(
        sde,
        xs,
        args=args,
        D=d,
        entry="the Eyring-Kramers formula (escape_rate)",
        tol=symmetry_tol,
        where=where,
    )

    Hm, Hs = -Jm, -Js
    em, es = np.linalg.eigvalsh(0.5 * (Hm + Hm.T)), np.linalg.eigvalsh(0.5 * (Hs + Hs.T))
    if np.any(em <= 0):
        raise ValueError(f"attractor {m} is not a minimum of U: Hessian eigenvalues {em}")
    if np.sum(es < 0) != 1 or np.any(es == 0):
        raise ValueError(f"saddle {s} must have exactly one unstable direction: eigenvalues {es}")
    nodes, weights = np.polynomial.legendre.leggauss(64)
    seg = m[None] + 0.5 * (nodes + 1.0)[:, None] * (s - m)[None]
    fs = drift_at(sde, 0.0, seg, args)
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
