"""Fixed points of an autonomous drift, f(x) = 0, found from many seeds and classified."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import (
    check_box,
    check_key,
    check_model_at,
    check_positive,
    check_real,
    check_sde,
)

__all__ = ["FixedPoint", "fixed_points"]


@dataclass(frozen=True)
class FixedPoint:
    """A zero of the drift with its linear stability; usable wherever a state is expected.

    ``np.asarray(fp)`` is its state ``fp.x`` (``__array__``), so a FixedPoint can be passed as
    ``x0``, ``x1``, ``attractor_a`` and so on.

    Attributes:
        x: (n,) the state.
        kind: ``"stable"`` (every eigenvalue of the Jacobian has negative real part),
            ``"saddle"`` (some negative, some positive), ``"unstable"`` or ``"degenerate"``.
        eigenvalues: the Jacobian's eigenvalues, sorted by real part.
        residual: |f(x)|_inf.
        index: the number of unstable directions (eigenvalues with positive real part): 0 for
            a stable state, 1 for the saddle a transition crosses (a maximum in 1-D).
    """

    x: np.ndarray
    kind: str
    eigenvalues: np.ndarray
    residual: float

    @property
    def index(self) -> int:
        return int(np.sum(np.real(self.eigenvalues) > _zero_tol(self.eigenvalues)))

    def __array__(self, dtype=None, copy=None):
        return np.array(self.x, dtype=dtype, copy=True if copy is None else copy)


def _zero_tol(ev: np.ndarray) -> float:
    """Real parts at most this size count as zero (a degenerate direction)."""
    return 1e-9 * max(1.0, float(np.max(np.abs(ev)))) if np.size(ev) else 0.0


def _classify(ev: np.ndarray) -> str:
    re = np.real(ev)
    tol = _zero_tol(ev)
    if np.any(np.abs(re) <= tol):
        return "degenerate"
    if np.all(re < 0):
        return "stable"
    if np.all(re > 0):
        return "unstable"
    return "saddle"


def fixed_points(
    sde, lower, upper, *, num_seeds: int = 10000, t: float = 0.0, args=None, key=None, tol=1e-10
) -> list[FixedPoint]:
    """All fixed points of the drift found from seeds in the box [lower, upper].

    Runs damped Newton (backtracking on |f|, which copes with steep sigmoids) from a grid of
    seeds (n <= 3) or uniform random seeds (larger n; ``key`` seeds them), keeps the converged
    ones inside a slightly enlarged box, removes duplicates, and classifies each by the
    eigenvalues of the Jacobian of f. For a time-dependent drift, ``t`` is the time at which
    f(t, x) is taken.

    Args:
        sde: the model (its drift must use jax.numpy: it is traced with jax.jit).
        lower, upper: (n,) corners of the search box, ``lower < upper`` in every component.
        num_seeds: number of Newton starts, a positive integer (a grid of about
            ``num_seeds ** (1/n)`` per axis for n <= 3).
        t: the time at which the drift is taken.
        args: PyTree passed to the drift.
        key: a jax PRNG key for the random seeds (n > 3); default ``jax.random.PRNGKey(0)``.
        tol: a seed converged when ``|f(x)|_inf <= tol`` (a positive number).

    Returns:
        A list of FixedPoint sorted by kind (stable first, then saddles) and by position.

    Raises:
        TypeError: ``sde`` is not an SDE, ``num_seeds`` not an integer, ``tol`` or ``t`` not a
            number, ``key`` not a PRNG key.
        ValueError: a box with ``lower >= upper`` somewhere or of mismatched shapes, non-finite
            values, ``num_seeds`` or ``tol`` not positive, a drift that cannot be traced (written
            with NumPy instead of jax.numpy) or of the wrong shape.
    """
    check_sde(sde)
    lo, hi = check_box(lower, upper)
    num_seeds = check_positive(num_seeds, "num_seeds", integer=True)
    t = check_real(t, "t")
    tol = check_positive(tol, "tol")
    key = None if key is None else check_key(key)
    center = 0.5 * (lo + hi)
    check_model_at(
        sde, [t], center[None], args, what="lower and upper", finite=False, diffusion=False
    )
    n = lo.size
    if n <= 3:
        per = max(2, int(round(num_seeds ** (1.0 / n))))
        axes = [np.linspace(lo[i], hi[i], per) for i in range(n)]
        seeds = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, n)
    else:
        key = jax.random.PRNGKey(0) if key is None else key
        seeds = np.asarray(lo + (hi - lo) * jax.random.uniform(key, (num_seeds, n)))
    xs, res = _newton_all(sde, jnp.asarray(seeds), jnp.asarray(float(t)), args)
    xs, res = np.asarray(xs), np.asarray(res)
    span = hi - lo
    inside = np.all((xs >= lo - 0.05 * span) & (xs <= hi + 0.05 * span), axis=1)
    good = np.flatnonzero((res <= tol) & inside)
    found: list[np.ndarray] = []
    for i in good[np.argsort(res[good])]:
        if not any(np.max(np.abs(xs[i] - p)) < 1e-6 * (1 + np.max(np.abs(p))) for p in found):
            found.append(xs[i])
    jac = jax.jit(jax.jacfwd(lambda x: sde.f(t, x, args)))
    out = []
    for p in found:
        ev = np.linalg.eigvals(np.asarray(jac(jnp.asarray(p))))
        ev = ev[np.argsort(np.real(ev))]
        out.append(FixedPoint(p, _classify(ev), ev, float(res[np.argmax(np.all(xs == p, 1))])))
    order = {"stable": 0, "saddle": 1, "unstable": 2, "degenerate": 3}
    return sorted(out, key=lambda fp: (order[fp.kind], *fp.x))


def _newton_all(sde, seeds, t, args, steps=80):
    @jax.jit
    def run(seeds, t, args):
        def f(x):
            return sde.f(t, x, args)

        def one(x):
            def body(_, x):
                fx = f(x)
                J = jax.jacfwd(f)(x)
                dx = jnp.linalg.lstsq(J, -fx)[0]
                norm0 = jnp.max(jnp.abs(fx))

                def try_alpha(a):
                    return jnp.max(jnp.abs(f(x + a * dx)))

                alphas = 0.5 ** jnp.arange(12.0)
                vals = jax.vmap(try_alpha)(alphas)
                better = vals < norm0
                idx = jnp.argmax(better)  # largest step that lowers |f|
                step = jnp.where(jnp.any(better), alphas[idx], 0.0)
                return x + step * dx

            x = jax.lax.fori_loop(0, steps, body, x)
            return x, jnp.max(jnp.abs(f(x)))

        return jax.vmap(one)(seeds)

    return run(seeds, t, args)
