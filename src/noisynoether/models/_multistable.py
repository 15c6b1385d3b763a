"""The multistable attractor network of the paper's Fig. 1c (Eq. 20, after Piet et al. 2017)."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from .._checks import check_choice, check_positive, check_real
from .._sde import SDE


@dataclass(frozen=True)
class _MultistableDrift:
    tau: float
    mu0: float
    c: float
    A: float
    I: float
    n: float
    form: str

    def _s(self, u):
        if self.form == "logistic":
            return jax.nn.sigmoid((u - self.c) / self.n)
        return 0.5 * (jnp.tanh((u - self.c) / self.n) + 1.0)

    def __call__(self, t, x, args):
        sx, sy = self._s(x[0]), self._s(x[1])
        fx = self.mu0 + self.A * sx - self.I * sy - x[0]
        fy = self.mu0 + self.A * sy - self.I * sx - x[1]
        return jnp.stack([fx, fy]) / self.tau


def multistable(
    *, tau=1.0, mu0=1.25, c=1.5, A=2.0, I=0.9, n=0.01, sigma=0.4, form="logistic"
) -> SDE:
    """Two mutually inhibiting populations with self-excitation (Eq. 20), the notebooks' version.

        tau xdot = mu0 + A s((x - c)/n) - I s((y - c)/n) - x + noise
        tau ydot = mu0 + A s((y - c)/n) - I s((x - c)/n) - y + noise

    ``form="logistic"`` (default): s(u) = 1 / (1 + e^-u), what the authors' notebooks ran.
    ``form="tanh"``: s = (tanh(u) + 1)/2 as Eq. 20 is printed, the same curve as the logistic
    with n doubled (tanh(u/n) = 2 sigmoid(2u/n) - 1), so the ramps are twice as wide.
    Noise ``sqrt(2/tau) sigma`` per unit as in the notebooks, i.e. D = sigma^2 / tau = 0.16 I
    (Eq. 20's printed ``sqrt(2 tau sigma)`` would give D = sigma / tau; see docs/paper-notes.md).
    With n = 0.01 there are four stable states, about (3.25, 0.35), (0.35, 3.25), (2.35, 2.35)
    and a shallow (1.25, 1.25).
    """
    check_choice(form, "form", ("logistic", "tanh"))
    tau, n, sigma = (check_positive(v, k) for k, v in (("tau", tau), ("n", n), ("sigma", sigma)))
    mu0, c, A, I = (check_real(v, k) for k, v in (("mu0", mu0), ("c", c), ("A", A), ("I", I)))
    drift = _MultistableDrift(tau, mu0, c, A, I, n, form)
    return SDE(drift=drift, diffusion=sigma**2 / tau)
