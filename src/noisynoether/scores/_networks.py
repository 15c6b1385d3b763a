"""Score networks for the reverse diffusion of Eq. 21: a plain MLP and a rotation-equivariant one.

Both are denoisers in the preconditioned form of Karras et al. (EDM, 2022): with
``c = data_scale`` (the data's RMS coordinate) and ``s2 = c^2 + t^2``,

    D(x, t) = c^2 / s2 * x + (t c / sqrt(s2)) * F(x / sqrt(s2), log t),
    s(x, t) = (D(x, t) - x) / t^2        (Tweedie: D = E[x_0 | x_t = x]),

for the forward process ``xdot = sqrt(2t) eta`` (``x_t = x_0 + t eps``, variance t^2). F = 0
is the exact score of Gaussian data N(0, c^2 I), so the network learns only the departure from
it, with O(1) inputs and targets at every noise level; at large t its errors enter the drift
``2 t s`` damped by c / t (most of Fig. 2's tau-duration is at large t).

- ``ScoreMLP``: ``F = MLP(x_in, log t)``, an MLP from R^3 to R^2. Nothing ties it to
  the data's rotation symmetry: its score is equivariant only as far as training made it.
- ``EquivariantScoreMLP``: ``F = g(|x_in|^2, log t) x_in`` with g a scalar MLP, so
  ``s(x, t) = h(|x|^2, t) x`` commutes with every rotation (and reflection) *by construction*
  (to rounding: ``|Q x|^2 = |x|^2``), and is smooth at x = 0 (g depends on |x|^2, not |x|).
  With it the reverse SDE's drift ``2 t s`` is rotation-equivariant and D = t isotropic, so the
  angular momentum L_12 (Eq. 17) of every most likely path is conserved (the paper's future
  work: symmetries built into the network are inherited by its paths).

Each network is an ``equinox.Module`` (a PyTree: train it with optax, serialise it with
``equinox.tree_serialise_leaves``); call ``net(x, t)`` on one state (n,) and a scalar t.
Parameters are float64.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from .._checks import check_choice, check_key, check_positive

__all__ = ["ScoreMLP", "EquivariantScoreMLP", "make_score_network", "KINDS"]

#: The network kinds: ``"plain"`` (``ScoreMLP``) and ``"equivariant"`` (``EquivariantScoreMLP``).
KINDS = ("plain", "equivariant")


def _mlp(in_size, out_size, width, depth, key):
    return eqx.nn.MLP(
        in_size, out_size, width, depth, activation=jax.nn.silu, key=key, dtype=jnp.float64
    )


def _scaled_input(x, t, data_scale):
    x = jnp.asarray(x, dtype=jnp.float64)
    t = jnp.asarray(t, dtype=jnp.float64)
    return x / jnp.sqrt(data_scale**2 + t**2), jnp.log(t)


def _score(x, t, data_scale, F):
    """s = (D - x) / t^2 with D = c^2/s2 x + (t c / sqrt(s2)) F (the module docstring)."""
    x = jnp.asarray(x, dtype=jnp.float64)
    t = jnp.asarray(t, dtype=jnp.float64)
    s2 = data_scale**2 + t**2
    denoised = data_scale**2 / s2 * x + t * data_scale / jnp.sqrt(s2) * F
    return (denoised - x) / t**2


class ScoreMLP(eqx.Module):
    """A plain score network: ``F = MLP(x_in, log t)`` in the denoiser (the module docstring).

    Attributes:
        mlp: the MLP from (x_in, log t) in R^{n+1} to F in R^n.
        data_scale: ``c`` of the input scaling ``x_in = x / sqrt(c^2 + t^2)``.
    """

    mlp: eqx.nn.MLP
    data_scale: float = eqx.field(static=True)

    def __init__(self, *, dim=2, width=64, depth=3, data_scale=1.0, key):
        self.mlp = _mlp(dim + 1, dim, width, depth, key)
        self.data_scale = float(data_scale)

    def __call__(self, x, t):
        """The score s(x, t): (n,) for one state x (n,) and a scalar diffusion time t > 0."""
        x_in, c_noise = _scaled_input(x, t, self.data_scale)
        return _score(x, t, self.data_scale, self.mlp(jnp.concatenate([x_in, c_noise[None]])))


class EquivariantScoreMLP(eqx.Module):
    """A rotation-equivariant score: ``F = g(|x_in|^2, log t) x_in`` in the denoiser.

    ``g`` is a scalar MLP of the two rotation invariants, so ``s(Q x, t) = Q s(x, t)`` for every
    orthogonal Q exactly (up to rounding), and s is smooth through x = 0.

    Attributes:
        mlp: the MLP from (|x_in|^2, log t) to the scalar g.
        data_scale: ``c`` of the input scaling ``x_in = x / sqrt(c^2 + t^2)``.
    """

    mlp: eqx.nn.MLP
    data_scale: float = eqx.field(static=True)

    def __init__(self, *, dim=2, width=64, depth=3, data_scale=1.0, key):
        del dim  # any dimension: g sees only |x|^2 and t
        self.mlp = _mlp(2, "scalar", width, depth, key)
        self.data_scale = float(data_scale)

    def __call__(self, x, t):
        """The score s(x, t) = h(|x|^2, t) x: (n,) for one state x (n,) and a scalar t > 0."""
        x_in, c_noise = _scaled_input(x, t, self.data_scale)
        g = self.mlp(jnp.stack([jnp.sum(x_in**2), c_noise]))
        return _score(x, t, self.data_scale, g * x_in)


def make_score_network(kind="plain", *, width=64, depth=3, data_scale=1.0, dim=2, key):
    """A fresh (untrained) score network of the given kind, with float64 parameters.

    Args:
        kind: ``"plain"`` (``ScoreMLP``) or ``"equivariant"`` (``EquivariantScoreMLP``).
        width, depth: the MLP's hidden width and number of hidden layers.
        data_scale: the data's RMS coordinate (input scaling, see the module docstring).
        dim: the state dimension n.
        key: a jax PRNG key for the initial weights.
    """
    check_choice(kind, "kind", KINDS)
    width = check_positive(width, "width", integer=True)
    depth = check_positive(depth, "depth", integer=True)
    dim = check_positive(dim, "dim", integer=True)
    data_scale = check_positive(data_scale, "data_scale")
    key = check_key(key)
    cls = ScoreMLP if kind == "plain" else EquivariantScoreMLP
    return cls(dim=dim, width=width, depth=depth, data_scale=data_scale, key=key)
