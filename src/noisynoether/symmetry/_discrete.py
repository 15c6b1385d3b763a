"""Discrete symmetries: coordinate permutations and sign flips that leave the model invariant.

A signed permutation P (an orthogonal matrix with one entry +-1 in each row and column) is a
symmetry of the Lagrangian of Eq. 8 when ``f(t, P x) = P f(t, x)`` and
``D(t, P x) = P D(t, x) P^T``: then ``L(P x, P xdot, t) = L(x, xdot, t)``. It gives no conserved
charge (Noether's theorem needs a continuous family), but it maps paths to paths of equal action:
if ``x*(t)`` is a most likely path from x0 to x1, then ``P x*(t)`` is a most likely path from
``P x0`` to ``P x1`` with the same minimal action S*, the same energy, and momenta ``P p``
(mirror paths). Two consequences:

- if P exchanges the end states (``P x0 = x1``, ``P x1 = x0``), the mirror path is the most
  likely path of the reverse transition ``x1 -> x0``, which therefore has the same action: the
  multistable network's x <-> y swap maps its two decision states onto each other, so both
  switches are equally likely;
- if P fixes both end states, the most likely path is either mapped onto itself (it lies in the
  mirror's fixed subspace, like the ring's phi = -pi/2 path on the x2 axis) or comes with a
  distinct mirror partner of equal action (two degenerate minima).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_model_at, check_sample, grid
from ._continuous import DEFAULT_TIMES

__all__ = ["DiscreteSymmetry", "find_discrete_symmetries"]


@dataclass(frozen=True, eq=False)
class DiscreteSymmetry:
    """A signed permutation ``x -> P x`` under which the model is invariant.

    Attributes:
        matrix: (n, n) the signed permutation P (entries 0 and +-1).
        name: readable: ``"swap x1 <-> x2"``, ``"flip x2 -> -x2"``, combinations joined by
            ", ", or the image ``"(x1, x2) -> (-x2, x1)"`` for other signed permutations.
        residual: the largest relative mismatch of f and D on the sample (0 when exact).
    """

    matrix: np.ndarray
    name: str
    residual: float

    def apply(self, xs) -> np.ndarray:
        """P x for states or a path xs (..., n): the mirror path of a most likely path."""
        xs = np.asarray(xs, dtype=np.float64)
        if xs.shape[-1] != self.matrix.shape[0]:
            raise ValueError(
                f"xs must have last dimension n = {self.matrix.shape[0]}; got shape {xs.shape}"
            )
        return xs @ self.matrix.T

    def __repr__(self) -> str:
        return f"DiscreteSymmetry(name={self.name!r}, residual={self.residual:.2e})"


def _signed_permutations(n: int) -> list[np.ndarray]:
    """Every signed permutation but the identity for n <= 4; pair swaps and single flips above."""
    out = []
    if n <= 4:
        for perm in itertools.permutations(range(n)):
            for signs in itertools.product((1.0, -1.0), repeat=n):
                P = np.zeros((n, n))
                P[np.arange(n), perm] = signs
                if not np.array_equal(P, np.eye(n)):
                    out.append(P)
        return out
    for i, j in itertools.combinations(range(n), 2):
        P = np.eye(n)
        P[[i, j]] = P[[j, i]]
        out.append(P)
    for i in range(n):
        P = np.eye(n)
        P[i, i] = -1.0
        out.append(P)
    return out


def describe_permutation(P: np.ndarray) -> str:
    """A readable name of the signed permutation x -> P x."""
    n = P.shape[0]
    src = np.argmax(np.abs(P), axis=1)  # (P x)_i = sign_i x_src[i]
    sign = P[np.arange(n), src]
    parts, done, simple = [], set(), True
    for i in range(n):
        if i in done:
            continue
        j = src[i]
        if j == i:
            done.add(i)
            if sign[i] < 0:
                parts.append(f"flip x{i + 1} -> -x{i + 1}")
        elif src[j] == i and sign[i] == sign[j]:
            done.update((i, j))
            a, b = sorted((i, j))
            minus = "-" if sign[i] < 0 else ""
            parts.append(f"swap x{a + 1} <-> {minus}x{b + 1}")
        else:
            simple = False
            break
    if simple:
        return ", ".join(parts)
    names = [f"x{i + 1}" for i in range(n)]
    image = [f"{'-' if sign[i] < 0 else ''}x{src[i] + 1}" for i in range(n)]
    return f"({', '.join(names)}) -> ({', '.join(image)})"


@functools.partial(jax.jit, static_argnums=(0,))
def _mismatch(sde, tt, xx, Ps, args):
    """Per P: |f(Px) - P f(x)|, |f(Px)| + |f(x)|, the same for D, over all (t, x) (squares)."""
    n = xx.shape[-1]

    def fD(t, x):
        return sde.f(t, x, args), sde.D_matrix(t, x, args, n)

    f, D = jax.vmap(fD)(tt, xx)

    def one(P):
        fP, DP = jax.vmap(fD)(tt, xx @ P.T)
        df = fP - f @ P.T
        dD = DP - jnp.einsum("ij,mjk,lk->mil", P, D, P)
        return jnp.stack(
            [
                jnp.sqrt(jnp.sum(df**2)),
                jnp.sqrt(jnp.sum(fP**2)) + jnp.sqrt(jnp.sum(f**2)),
                jnp.sqrt(jnp.sum(dD**2)),
                jnp.sqrt(jnp.sum(DP**2)) + jnp.sqrt(jnp.sum(D**2)),
            ]
        )

    return jax.lax.map(one, Ps)


def find_discrete_symmetries(sde, points, *, times=None, tol: float = 1e-8, args=None):
    """The coordinate permutations and sign flips that leave the model invariant.

    Checks every signed permutation matrix P other than the identity (2^n n! - 1 of them) for
    n <= 4, and for larger n only the swaps of two coordinates and single sign flips. P is kept
    when, over all sample states and times, ``|f(P x) - P f(x)| / (|f(P x)| + |f(x)|)`` and
    ``|D(P x) - P D(x) P^T| / (|D(P x)| + |D(x)|)`` are at most ``tol`` (norms over the whole
    sample). Such a P maps most likely paths to most likely paths with the same action (mirror
    paths; see the module docstring): the path from ``P x0`` to ``P x1`` is ``P x*(t)``.

    Args:
        sde: the model.
        points: (m, n) sample states (the region you care about; P x must stay in the model's
            domain).
        times: sample times (default ``DEFAULT_TIMES``).
        tol: relative mismatch below which P counts as a symmetry.
        args: PyTree passed to drift and diffusion.

    Returns:
        A list of ``DiscreteSymmetry`` (``.matrix``, ``.name``, ``.residual``), fewest moved
        coordinates first; empty when there is none.
    """
    points, times, tol = check_sample(sde, points, times, tol, args, default_times=DEFAULT_TIMES)
    n = points.shape[1]
    Ps = _signed_permutations(n)
    if not Ps:
        return []
    mirrored = np.concatenate([points @ P.T for P in Ps])
    check_model_at(sde, times, mirrored, args, what="mirrored points P x")
    tt, xx = grid(times, points)
    m = np.asarray(_mismatch(sde, tt, xx, jnp.asarray(np.array(Ps)), args))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_f = np.where(m[:, 1] > 0, m[:, 0] / m[:, 1], 0.0)
        rel_D = np.where(m[:, 3] > 0, m[:, 2] / m[:, 3], 0.0)
    res = np.maximum(rel_f, rel_D)
    found = [
        DiscreteSymmetry(P, describe_permutation(P), float(r))
        for P, r in zip(Ps, res, strict=True)
        if r <= tol
    ]
    found.sort(key=lambda s: (int(np.sum(np.diag(s.matrix) != 1)), s.name))
    return found
