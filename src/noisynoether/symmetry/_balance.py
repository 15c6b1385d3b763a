"""Noether's theorem with a source: how much a broken symmetry's charge leaks along a path.

Continuous form (paper Eqs. 3-4): under ``x -> x + eps xi(x)``, ``xi(x) = A x + b``, the
Lagrangian changes by ``delta L = dL/dx . xi + dL/dxdot . A xdot``, and on a solution of the
Euler-Lagrange equations (Eq. 2) the charge ``Q = p . xi`` obeys ``dQ/dt = delta L``: Q is
conserved when ``delta L = 0`` (a symmetry) and leaks at the rate ``delta L`` otherwise. For the
time translation, ``dE/dt = -dL/dt|_explicit`` (Eqs. 9-10).

Discrete form, exact for the solver's midpoint action. With the interval term
``L_d(x_k, x_{k+1}) = dt_k/4 r_k^T D^-1 r_k`` (``_lagrangian.interval_term``), the momenta at the
two ends of interval k are ``p_k^- = -dL_d/dx_k`` and ``p_{k+1}^+ = dL_d/dx_{k+1}``, and a most
likely path of the discrete action satisfies the discrete Euler-Lagrange equations
``p_k^+ = p_k^-`` (``dS/dx_k = 0``) at every interior node. For any path, exactly,

    p_{k+1}^+ . xi(x_{k+1}) - p_k^- . xi(x_k) = delta L_d,k,

``delta L_d,k`` the derivative of ``L_d`` along ``(xi(x_k), xi(x_{k+1}))``. So with the interval
charge ``Q_k = 1/2 (p_k^- . xi(x_k) + p_{k+1}^+ . xi(x_{k+1}))`` (the midpoint charge
``p . xi(x_m)`` up to O(dt^2)),

    Q_{k+1} - Q_k = 1/2 (delta L_d,k + delta L_d,k+1) - dS/dx_{k+1} . xi(x_{k+1}),

and the balance closes to the solver's gradient (about 1e-10), not just to O(dt^2). An affine
symmetry of (f, D) is an exact symmetry of ``L_d`` (xi is affine, so it commutes with the
midpoint), so its Q_k is conserved to solver precision even for nonlinear drifts.

The time translation has no such exact law on a fixed grid (the grid is not varied, so the
discrete energy equation is not imposed): its balance uses the midpoint energy E_k (Eq. 10) and
``delta_t L_d,k`` (the derivative of ``L_d`` under shifting both times of the interval), and
closes to O(dt^2) (to rounding for linear drifts with constant D).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .. import _lagrangian as lag
from .._checks import as_generator, as_path, as_time_grid, check_model_on_path, check_sde
from .._jit import jit

__all__ = ["ChargeBalance", "charge_balance"]


@dataclass(frozen=True, eq=False)
class ChargeBalance:
    """A charge along a path and the integrated change of the Lagrangian that moves it.

    Attributes:
        kind: ``"affine"`` or ``"time"``.
        times: (K-1,) interval midpoint times.
        charge: (K-1,) Q_k on each interval: for an affine generator the discrete Noether charge
            ``1/2 (p_k^- . xi(x_k) + p_{k+1}^+ . xi(x_{k+1}))`` (see the module docstring;
            equal to ``midpoint_charge`` up to O(dt^2)); for the time translation the energy E_k
            (Eq. 10).
        source: (K-1,) the integral of the change of L from the first interval's midpoint to
            each interval's (trapezoid over the per-interval ``variation``): ``delta L`` for an
            affine generator, ``-dL/dt|_explicit`` for the time translation. ``source[0] = 0``.
        residual: ``max_k |charge_k - charge_0 - source_k|``: about 1e-10 on a converged most
            likely path for an affine generator (symmetry or not), O(dt^2) for the time
            translation of a nonlinear model; large on a path that is not most likely.
        midpoint_charge: (K-1,) ``p . xi(x_m)`` at interval midpoints (``noether_charge``; the
            energy for the time translation).
        variation: (K-1,) ``delta L_d,k`` on each interval (the integral of delta L over it).
    """

    kind: str
    times: np.ndarray
    charge: np.ndarray
    source: np.ndarray
    residual: float
    midpoint_charge: np.ndarray
    variation: np.ndarray

    @property
    def leakage(self) -> float:
        """``charge[-1] - charge[0]``: 0 for a symmetry, ``source[-1]`` on a most likely path."""
        return float(self.charge[-1] - self.charge[0])

    @property
    def scale(self) -> float:
        """``max |charge|``, to make the residual and the leakage relative."""
        return float(np.max(np.abs(self.charge)))

    def __repr__(self) -> str:
        return (
            f"ChargeBalance(kind={self.kind!r}, K-1={self.charge.size}, leakage={self.leakage:.3e},"
            f" residual={self.residual:.2e})"
        )


@functools.partial(jit, static_argnums=(0,))
def endpoint_momenta(sde, ts, xs, args):
    """(K-1, n) p_k^- = -dL_d/dx_k and (K-1, n) p_{k+1}^+ = dL_d/dx_{k+1} of each interval."""

    def one(ta, tb, xa, xb):
        def term(ya, yb):
            return lag.interval_term(sde, ta, tb, ya, yb, args)

        ga, gb = jax.grad(term, argnums=(0, 1))(xa, xb)
        return -ga, gb

    return jax.vmap(one)(ts[:-1], ts[1:], xs[:-1], xs[1:])


def discrete_charges(pm, pp, xs, As, bs) -> np.ndarray:
    """(G, K-1) interval charges 1/2 (p^- . xi(x_k) + p^+ . xi(x_{k+1})) of G generators."""
    pm, pp, xs = np.asarray(pm), np.asarray(pp), np.asarray(xs)
    left = np.einsum("ki,gij,kj->gk", pm, As, xs[:-1]) + np.einsum("ki,gi->gk", pm, bs)
    right = np.einsum("ki,gij,kj->gk", pp, As, xs[1:]) + np.einsum("ki,gi->gk", pp, bs)
    return 0.5 * (left + right)


@functools.partial(jit, static_argnums=(0,))
def _affine_terms(sde, ts, xs, A, b, args):
    xi = xs @ A.T + b

    def one(ta, tb, xa, xb, za, zb):
        def term(ya, yb):
            return lag.interval_term(sde, ta, tb, ya, yb, args)

        ga, gb = jax.grad(term, argnums=(0, 1))(xa, xb)
        _, var = jax.jvp(term, (xa, xb), (za, zb))
        return 0.5 * (jnp.vdot(-ga, za) + jnp.vdot(gb, zb)), var

    charge, var = jax.vmap(one)(ts[:-1], ts[1:], xs[:-1], xs[1:], xi[:-1], xi[1:])
    mid = lag.interval_charge(sde, ts, xs, A, b, args)
    return charge, var, mid


@functools.partial(jit, static_argnums=(0,))
def _time_terms(sde, ts, xs, args):
    def one(ta, tb, xa, xb):
        def shifted(e):
            return lag.interval_term(sde, ta + e, tb + e, xa, xb, args)

        return jax.jvp(shifted, (jnp.zeros_like(ta),), (jnp.ones_like(ta),))[1]

    var = jax.vmap(one)(ts[:-1], ts[1:], xs[:-1], xs[1:])
    return lag.interval_energy(sde, ts, xs, args), -var


def _trapezoid_cumsum(var: np.ndarray) -> np.ndarray:
    out = np.zeros_like(var)
    out[1:] = np.cumsum(0.5 * (var[:-1] + var[1:]))
    return out


def charge_balance(sde, ts, xs, generator, *, args=None) -> ChargeBalance:
    """Q along a path and the integrated change of L under the generator (Noether with a source).

    On a most likely path ``dQ/dt = dL/dx . xi + dL/dxdot . A xdot`` for ``Q = p . xi`` and
    ``xi(x) = A x + b`` (Eqs. 3-4 with the symmetry broken), so that ``Q(t1) - Q(t0)`` equals the
    integral of that change: zero for a symmetry, the leakage otherwise. For the time
    translation (a ``Symmetry`` of kind ``"time"``) the charge is the energy E of Eq. 10 and
    ``dE/dt = -dL/dt|_explicit``, which measures how much a time-dependent model pumps energy.

    The charge and source are those of the solver's discrete midpoint action, for which the
    affine balance is an exact identity on a most likely path (see the module docstring):
    ``.residual`` is then at the solver's precision (about 1e-10), for any drift. A large
    residual means the path is not a most likely path (or not a converged one).

    Args:
        sde: the model.
        ts: (K,) strictly increasing times (K >= 3).
        xs: (K, n) the path, ideally ``most_likely_path(...).xs``.
        generator: a ``Symmetry`` (affine or time) or a pair ``(A, b)`` ((n, n), (n,) or None).
        args: PyTree passed to drift and diffusion.

    Returns:
        A ``ChargeBalance`` with ``.charge``, ``.source``, ``.residual`` (the largest
        ``|charge_k - charge_0 - source_k|``), ``.leakage``, ``.midpoint_charge``, ``.times``.
    """
    check_sde(sde)
    ts = as_time_grid(ts)
    xs = as_path(xs, ts)
    n = xs.shape[1]
    kind, A, b = as_generator(generator, n)
    check_model_on_path(sde, ts, xs, args)
    tm = 0.5 * (ts[:-1] + ts[1:])
    if kind == "time":
        E, var = (np.asarray(a) for a in _time_terms(sde, ts, xs, args))
        charge, mid = E, E
    else:
        charge, var, mid = (
            np.asarray(a) for a in _affine_terms(sde, ts, xs, jnp.asarray(A), jnp.asarray(b), args)
        )
    source = _trapezoid_cumsum(var)
    residual = float(np.max(np.abs(charge - charge[0] - source)))
    return ChargeBalance(kind, tm, charge, source, residual, mid, var)
