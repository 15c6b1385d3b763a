"""The SDE model: drift f(t, x, args) and diffusion tensor D(t, x, args) = G G^T / 2 (paper Eq. 5).

A model is a small immutable object. Its diffusion is stored in one of three *forms*, so that
D^-1 r costs O(n) whenever it can:

- ``"scalar"``: D = d I (d a positive number or a callable returning a scalar),
- ``"diag"``:   D = diag(d) (a length-n vector or a callable returning one),
- ``"matrix"``: a full symmetric positive-definite n x n matrix (constant or callable).

A callable diffusion (or noise) is inspected once, at the first time and state it is evaluated
on, to learn its form from the shape it returns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["SDE"]

Drift = Callable[[Any, Any, Any], Any]


def _const_array(value, name: str) -> np.ndarray:
    accepted = f"{name} must be a number, a vector, a matrix or a callable (t, x, args) -> D"
    if isinstance(value, str | bool | np.bool_) or np.iscomplexobj(value):
        raise TypeError(f"{accepted} of real values; got {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{accepted}; got {type(value).__name__}") from err
    if arr.ndim > 2:
        raise ValueError(f"{name} must have at most 2 dimensions; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {arr.tolist()}")
    return arr


def _form_of(arr_shape: tuple[int, ...]) -> str:
    return {0: "scalar", 1: "diag", 2: "matrix"}[len(arr_shape)]


def check_spd(d: np.ndarray, name: str, where: str = "") -> None:
    """Raise ValueError unless d (a scalar, diagonal or matrix D) is symmetric pos. definite."""
    d = np.asarray(d, dtype=np.float64)
    loc = f" {where}" if where else ""
    if d.ndim == 2:
        if d.shape[0] != d.shape[1]:
            raise ValueError(f"{name} must be a square matrix; got shape {d.shape}{loc}")
        scale = max(np.max(np.abs(d)), 1e-300)
        if not np.allclose(d, d.T, rtol=0, atol=1e-12 * scale):
            raise ValueError(f"{name} must be symmetric; got {d.tolist()}{loc}")
        eig = np.linalg.eigvalsh(d)
    else:
        eig = np.atleast_1d(d)
    if not np.all(np.isfinite(eig)):
        raise ValueError(f"{name} must be finite{loc}; got {d.tolist()}")
    if np.min(eig) <= 0:
        raise ValueError(
            f"{name} must be symmetric positive definite{loc}; got eigenvalues "
            f"{np.array2string(np.sort(eig), precision=4)}. The diffusion tensor D = G G^T / 2 "
            "must have every eigenvalue > 0 (the action of Eq. 8 needs D^-1)."
        )


@dataclass(frozen=True, eq=False)
class SDE:
    """An Ito SDE ``xdot = f(t, x, args) + G eta`` with diffusion tensor ``D = G G^T / 2`` (Eq. 5).

    Args:
        drift: ``f(t, x, args) -> (n,)`` array, the deterministic part (diffrax's convention).
        diffusion: D, one of: a positive number (``D = d I``), a length-n vector (diagonal D),
            an n x n symmetric positive-definite matrix, or a callable ``(t, x, args)`` returning
            any of these (state- and time-dependent D).
        noise: G instead of D (exactly one of ``diffusion`` and ``noise`` must be given): a
            number, an n x m matrix or a callable returning one; then ``D = G G^T / 2``.

    Two SDEs built from the same drift function and the same diffusion compare equal, so the
    solvers' compiled code is reused between them.

    Example:
        >>> ou = SDE(drift=lambda t, x, args: -x, diffusion=0.5)
    """

    drift: Drift
    diffusion: Any = None
    noise: Any = None
    _form: str | None = field(default=None, repr=False)
    _const: np.ndarray | None = field(default=None, repr=False)
    _key: tuple = field(default=(), repr=False)

    def __post_init__(self):
        if not callable(self.drift):
            raise TypeError(
                f"drift must be a callable f(t, x, args) -> array; got {type(self.drift).__name__}"
            )
        if (self.diffusion is None) == (self.noise is None):
            raise TypeError("give exactly one of diffusion= (D) or noise= (G, D = G G^T / 2)")
        spec, name = (
            (self.diffusion, "diffusion") if self.diffusion is not None else (self.noise, "noise")
        )
        if callable(spec):
            key = (self.drift, name, spec)
        else:
            arr = _const_array(spec, name)
            if name == "noise":
                arr = _noise_to_diffusion(arr)
            else:
                check_spd(arr, "diffusion")
            object.__setattr__(self, "_form", _form_of(arr.shape))
            object.__setattr__(self, "_const", arr)
            digest = hashlib.sha1(arr.tobytes() + str(arr.shape).encode()).hexdigest()
            key = (self.drift, "const", digest)
        object.__setattr__(self, "_key", key)

    # Equality by content, so that compiled solvers are cached across equal models.
    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, SDE) and self._key == other._key

    # ------------------------------------------------------------------ properties
    @property
    def is_constant_diffusion(self) -> bool:
        """True when D depends neither on t nor on x."""
        return self._const is not None

    @property
    def diffusion_form(self) -> str | None:
        """``"scalar"``, ``"diag"`` or ``"matrix"``; None for a callable not yet inspected."""
        return self._form

    # ------------------------------------------------------------------ evaluation (jittable)
    def f(self, t, x, args=None):
        """The drift f(t, x, args)."""
        return jnp.asarray(self.drift(t, x, args))

    def D_raw(self, t, x, args=None):
        """D at (t, x) in its stored form (scalar, diagonal vector or matrix)."""
        if self._const is not None:
            return jnp.asarray(self._const)
        if self.diffusion is not None:
            return jnp.asarray(self.diffusion(t, x, args))
        g = jnp.asarray(self.noise(t, x, args))
        if g.ndim == 0:
            return 0.5 * g**2
        return 0.5 * g @ g.T

    def D_inv_apply(self, t, x, r, args=None):
        """D(t, x)^-1 r, using the cheapest form available."""
        d = self.D_raw(t, x, args)
        if d.ndim == 2:
            return jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(d), r)
        return r / d

    def D_matrix(self, t, x, args=None, n: int | None = None):
        """D(t, x) as a full n x n matrix."""
        d = self.D_raw(t, x, args)
        if d.ndim == 2:
            return d
        n = x.shape[-1] if n is None else n
        return jnp.eye(n) * d if d.ndim == 0 else jnp.diag(d)


def _noise_to_diffusion(g: np.ndarray) -> np.ndarray:
    """D = G G^T / 2 for a constant G, rejecting a G that makes D singular."""
    if g.ndim == 0:
        if g == 0:
            raise ValueError("noise G = 0 makes D = G G^T / 2 = 0, which is singular")
        return 0.5 * g**2
    if g.ndim == 1:
        raise ValueError(
            f"noise G must be a number or an n x m matrix; got a vector of shape {g.shape} "
            "(for diagonal noise pass diffusion=0.5 * g**2, or noise=np.diag(g))"
        )
    d = 0.5 * g @ g.T
    rank = np.linalg.matrix_rank(g)
    if rank < g.shape[0]:
        raise ValueError(
            f"noise G of shape {g.shape} has rank {rank} < n = {g.shape[0]}: D = G G^T / 2 is "
            "rank deficient (singular), so the action of Eq. 8 is undefined. Every state "
            "direction needs noise; add a small noise term to the missing directions."
        )
    check_spd(d, "diffusion D = G G^T / 2 (from noise G)")
    return d
