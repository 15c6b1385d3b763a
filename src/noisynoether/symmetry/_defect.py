"""How nearly a generator is a symmetry: the relative equivariance residual on a sample."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import as_generator, as_points, as_times, check_model_at, check_sde, grid
from .._jit import jit
from ._constraints import _time_residual
from ._continuous import DEFAULT_TIMES

__all__ = ["symmetry_defect"]


@functools.partial(jit, static_argnums=(0,))
def _defect_terms(sde, tt, xx, A, b, args):
    """Sums of squares: J_f xi, |A|_F |f|, J_f xi - A f; J_D[xi], 2 |A|_F |D|_F, the D residual."""
    n = xx.shape[-1]

    def one(t, x):
        xi = A @ x + b
        f, Jxi = jax.jvp(lambda y: sde.f(t, y, args), (x,), (xi,))
        D, JDxi = jax.jvp(lambda y: sde.D_matrix(t, y, args, n), (x,), (xi,))
        a2 = jnp.sum(A**2)
        AD = A @ D + D @ A.T
        return jnp.stack(
            [
                jnp.sum(Jxi**2),
                a2 * jnp.sum(f**2),
                jnp.sum((Jxi - A @ f) ** 2),
                jnp.sum(JDxi**2),
                4 * a2 * jnp.sum(D**2),
                jnp.sum((JDxi - AD) ** 2),
            ]
        )

    return jnp.sum(jax.vmap(one)(tt, xx), axis=0)


def _ratio(num: float, a: float, b: float) -> float:
    den = a + b
    return float(num / den) if den > 0 else 0.0


def symmetry_defect(sde, generator, points, *, times=None, args=None) -> float:
    """The relative size of the symmetry conditions' residual for one generator, in [0, 2].

    For the affine generator ``xi(x) = A x + b`` (a ``Symmetry`` or a pair ``(A, b)``), with
    norms taken over every sample state and time (root sum of squares; ``|.|_F`` Frobenius):

        defect = |J_f xi - A f| / (|J_f xi| + |A|_F |f|)
               + |J_D[xi] - (A D + D A^T)| / (|J_D[xi]| + 2 |A|_F |D|_F)

    the residuals of the drift-equivariance and diffusion-preservation conditions of
    ``find_symmetries``, each divided by an upper bound of the sizes of its two sides (a part
    whose denominator vanishes counts 0). Each part is 0 for an exact symmetry and at most 1
    (no cancellation at all); the defect is scale-free, so it scores how nearly a learned drift
    or score is equivariant (they are never exactly). The bounds ``|A|_F |f| >= |A f|`` and
    ``2 |A|_F |D|_F >= |A D + D A^T|`` (rather than the sides themselves) keep the score
    continuous: for constant D with isotropy broken by a relative eps, J_D = 0 and the
    diffusion part is about eps (with ``|A D + D A^T|`` in the denominator it would be 1 for
    every eps > 0, and 0/0 at rounding level for an exact rotation). The leakage of the charge
    ``Q = p . xi`` along a path grows with the defect (see ``charge_balance``).

    For the time translation (a ``Symmetry`` with ``kind == "time"``) the defect is the largest
    relative change of f and D between the sample times, ``|f(t_i) - f(t_0)| / (|f(t_i)| +
    |f(t_0)|)`` (and the same for D): 0 for an autonomous model (Eq. 9).

    Args:
        sde: the model.
        generator: a ``Symmetry`` or a pair ``(A, b)`` ((n, n) and (n,), b may be None).
        points: (m, n) sample states.
        times: sample times (default ``DEFAULT_TIMES``; at least two for the time translation).
        args: PyTree passed to drift and diffusion.

    Returns:
        The defect as a float.
    """
    check_sde(sde)
    points = as_points(points)
    times = as_times(times, default=DEFAULT_TIMES)
    n = points.shape[1]
    check_model_at(sde, times, points, args)  # points of the model's dimension first
    kind, A, b = as_generator(generator, n)
    if kind == "time":
        if times.size < 2:
            raise ValueError(
                f"times must hold at least two distinct times to score a time translation; "
                f"got {times.tolist()}"
            )
        return _time_residual(sde, times, points, args)
    tt, xx = grid(times, points)
    s = np.sqrt(np.asarray(_defect_terms(sde, tt, xx, jnp.asarray(A), jnp.asarray(b), args)))
    return _ratio(s[2], s[0], s[1]) + _ratio(s[5], s[3], s[4])
