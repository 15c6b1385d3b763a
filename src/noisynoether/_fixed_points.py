"""Fixed points of an autonomous drift, f(x) = 0, found from many seeds and classified.

Longer than ~300 lines because the one concept has three parts that share the model's
compiled Newton runner and the classification rule: the search (from a box or given states),
the deduplication, and the classification by the Jacobian's spectrum (dense, or Arnoldi on a
Cayley transform above n = 256, whose reasoning is written next to it).
"""

from __future__ import annotations

import bisect
import functools
import warnings
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from . import _fixed_point_lm as _lm
from ._checks import (
    as_points,
    check_box,
    check_key,
    check_model_at,
    check_positive,
    check_real,
    check_sde,
    drift_and_jacobian,
)
from ._jit import jit

__all__ = ["FixedPoint", "fixed_points"]

#: Largest n for which every eigenvalue of the Jacobian is computed (above: Arnoldi).
DENSE_EIG_MAX_N = 256


@dataclass(frozen=True)
class FixedPoint:
    """A zero of the drift with its linear stability; usable wherever a state is expected.

    ``np.asarray(fp)`` is its state ``fp.x`` (``__array__``), so a FixedPoint can be passed as
    ``x0``, ``x1``, ``attractor_a`` and so on.

    Attributes:
        x: (n,) the state.
        kind: ``"stable"`` (every eigenvalue of the Jacobian has negative real part),
            ``"saddle"`` (some negative, some positive), ``"unstable"`` or ``"degenerate"``.
        eigenvalues: the Jacobian's eigenvalues, sorted by real part: all n of them when
            n <= DENSE_EIG_MAX_N, otherwise the rightmost ones (Arnoldi), enough to include
            every eigenvalue with real part >= 0 and at least one with real part < 0.
        residual: |f(x)|_inf.
        unstable_dim: the number of unstable directions (eigenvalues with positive real
            part): 0 for a stable state, 1 for the saddle a transition crosses.
    """

    x: np.ndarray
    kind: str
    eigenvalues: np.ndarray
    residual: float
    unstable_dim: int | None = None

    def __post_init__(self):
        if self.unstable_dim is None:
            dim = int(np.sum(unstable_directions(self.eigenvalues)))
            object.__setattr__(self, "unstable_dim", dim)

    @property
    def index(self) -> int:
        """The unstable dimension (the Morse index of a gradient system's saddle)."""
        return int(self.unstable_dim)

    def __array__(self, dtype=None, copy=None):
        return np.array(self.x, dtype=dtype, copy=True if copy is None else copy)


def _zero_tol(ev: np.ndarray) -> float:
    """Real parts at most this size count as zero (a degenerate direction)."""
    return 1e-9 * max(1.0, float(np.max(np.abs(ev)))) if np.size(ev) else 0.0


def unstable_directions(ev: np.ndarray) -> np.ndarray:
    """Which Jacobian eigenvalues are unstable: real part above ``_zero_tol`` (the rule of
    ``FixedPoint.unstable_dim``, used wherever unstable directions are counted)."""
    return np.real(ev) > _zero_tol(ev)


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
    sde,
    lower=None,
    upper=None,
    *,
    starts=None,
    num_seeds: int = 10000,
    t: float = 0.0,
    args=None,
    key=None,
    tol=1e-10,
    max_steps: int = 100,
) -> list[FixedPoint]:
    """All fixed points of the drift found from seeds in a box and/or from given starts.

    Box search (``lower``, ``upper``): damped Newton (backtracking on |f|, which copes with
    steep sigmoids) from a grid of seeds (n <= 3) or uniform random seeds (larger n; ``key``
    seeds them); points found outside the slightly enlarged box are dropped. It does not scale
    past a few dimensions.

    Starts (``starts``, e.g. states visited by simulated trajectories): Levenberg-Marquardt
    minimisation of |f|^2 from each start (``_fixed_point_lm``: dense for n <= 32, matrix-free
    conjugate gradients above, all starts in one vmapped call), as the fixed-point finders of
    neuroscience do (Sussillo & Barak 2013). Starts that end at a local minimum of |f|^2 that is
    not a zero (a *slow point*) or do not converge in ``max_steps`` are not fixed points: they
    are dropped and counted in a warning. With both, the union (points from the box's
    seeds kept only inside the box).

    Converged points (``|f|_inf <= tol``) are deduplicated and classified by the eigenvalues of
    the Jacobian of f (all of them for n <= DENSE_EIG_MAX_N, the rightmost ones by Arnoldi
    above). For a time-dependent drift, ``t`` is the time at which f(t, x) is taken.

    Args:
        sde: the model (its drift must use jax.numpy: it is traced with jax.jit).
        lower, upper: (n,) corners of the search box, ``lower < upper`` in every component;
            optional when ``starts`` is given.
        starts: (m, n) states to start from (or one (n,) state).
        num_seeds: number of box seeds, a positive integer (a grid of about
            ``num_seeds ** (1/n)`` per axis for n <= 3).
        t: the time at which the drift is taken.
        args: PyTree passed to the drift.
        key: a jax PRNG key for the random box seeds (n > 3); default ``jax.random.PRNGKey(0)``.
        tol: a point is a fixed point when ``|f(x)|_inf <= tol`` (a positive number).
        max_steps: iteration limit of the search from ``starts``.

    Returns:
        A list of FixedPoint sorted by kind (stable first, then saddles by unstable dimension)
        and by position.

    Raises:
        TypeError: ``sde`` is not an SDE, ``num_seeds`` not an integer, ``tol`` or ``t`` not a
            number, ``key`` not a PRNG key.
        ValueError: neither a box nor starts, a box with ``lower >= upper`` somewhere or of
            mismatched shapes, starts of the wrong shape, non-finite values, ``num_seeds`` or
            ``tol`` not positive, a drift that cannot be traced (written with NumPy instead of
            jax.numpy) or of the wrong shape.
    """
    check_sde(sde)
    num_seeds = check_positive(num_seeds, "num_seeds", integer=True)
    max_steps = check_positive(max_steps, "max_steps", integer=True)
    t = check_real(t, "t")
    tol = check_positive(tol, "tol")
    key = None if key is None else check_key(key)
    box = None
    if lower is not None or upper is not None:
        if lower is None or upper is None:
            raise ValueError(
                "give both lower and upper (a search box) or neither (then starts= is needed)"
            )
        box = check_box(lower, upper)
    if starts is None and box is None:
        raise ValueError(
            "fixed_points needs a search box (lower, upper) or starts= (an (m, n) array of "
            "states, e.g. from nn.simulate); got neither"
        )
    cands: list[tuple[np.ndarray, np.ndarray]] = []  # (points, |f|_inf)
    if starts is not None:
        st = as_points(np.atleast_2d(np.asarray(starts, dtype=float)), "starts")
        if box is not None and st.shape[1] != box[0].size:
            raise ValueError(
                f"starts must have {box[0].size} columns (the box's dimension); got {st.shape}"
            )
        check_model_at(sde, [t], st[:1], args, what="starts", finite=False, diffusion=False)
        cands.append(_from_starts(sde, st, t, args, tol, max_steps))
    if box is not None:
        cands.append(_from_box(sde, box, num_seeds, t, args, key, tol))
    xs = np.concatenate([c[0] for c in cands])
    res = np.concatenate([c[1] for c in cands])
    keep = _distinct(xs, res)
    out = _classified_all(sde, t, args, xs[keep], res[keep])
    order = {"stable": 0, "saddle": 1, "unstable": 2, "degenerate": 3}
    return sorted(out, key=lambda fp: (order[fp.kind], fp.unstable_dim, *fp.x))


def _distinct(xs: np.ndarray, res: np.ndarray) -> list[int]:
    """Indices of the distinct points of xs (m, n), lowest residual first: a point within
    1e-6 (1 + |p|_inf) of a kept point p (max norm) is a copy of it. A candidate is compared
    only with the kept points whose first coordinate is within the largest tolerance (kept
    sorted by it): a continuum of fixed points, such as a ring attractor, gives thousands of
    distinct ones, where comparing with every kept point took ~1-25 s."""
    tol = 1e-6 * (1 + np.max(np.abs(xs), axis=1)) if len(xs) else np.zeros(0)
    reach = float(tol.max()) if len(xs) else 0.0
    keys: list[float] = []  # first coordinates of the kept points, sorted
    kept_sorted: list[int] = []  # their indices, in the same order
    kept: list[int] = []
    for i in np.argsort(res):
        lo = bisect.bisect_left(keys, xs[i, 0] - reach)
        hi = bisect.bisect_right(keys, xs[i, 0] + reach)
        if hi > lo:
            nb = np.asarray(kept_sorted[lo:hi])
            if np.any(np.max(np.abs(xs[nb] - xs[i]), axis=1) < tol[nb]):
                continue
        at = bisect.bisect_right(keys, xs[i, 0])
        keys.insert(at, float(xs[i, 0]))
        kept_sorted.insert(at, int(i))
        kept.append(int(i))
    return kept


def _from_box(sde, box, num_seeds, t, args, key, tol):
    lo, hi = box
    center = 0.5 * (lo + hi)
    check_model_at(
        sde, [t], center[None], args, what="lower and upper", finite=False, diffusion=False
    )
    key = jax.random.PRNGKey(0) if key is None else key
    seeds = box_seeds(lo, hi, num_seeds, lambda shape: np.asarray(jax.random.uniform(key, shape)))
    xs, res = newton_all(sde, jnp.asarray(seeds), jnp.asarray(float(t)), args)
    xs, res = np.asarray(xs), np.asarray(res)
    good = (res <= tol) & in_box(xs, lo, hi)
    return xs[good], res[good]


def box_seeds(lo, hi, num_seeds: int, uniform) -> np.ndarray:
    """Seeds of a box search: a grid of ~num_seeds points for n <= 3, else num_seeds points
    ``lo + (hi - lo) u`` with u = ``uniform((num_seeds, n))`` in [0, 1)."""
    n = lo.size
    if n <= 3:
        per = max(2, int(round(num_seeds ** (1.0 / n))))
        axes = [np.linspace(lo[i], hi[i], per) for i in range(n)]
        return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, n)
    return lo + (hi - lo) * uniform((num_seeds, n))


def in_box(xs, lo, hi) -> np.ndarray:
    """Which rows of xs lie in the box widened by 5 % of its size on each side."""
    span = hi - lo
    return np.all((xs >= lo - 0.05 * span) & (xs <= hi + 0.05 * span), axis=1)


def _from_starts(sde, starts, t, args, tol, max_steps):
    n = starts.shape[1]
    run = _lm.compiled(sde, n <= _lm.DENSE_MAX_N)
    out = run(
        jnp.asarray(starts),
        jnp.asarray(float(t)),
        args,
        tol,
        max_steps=max_steps,
        max_cg=min(50, 2 * n),
    )
    xs, res, stop, _, _ = (np.asarray(a) for a in out)
    good = (res <= tol) & np.all(np.isfinite(xs), axis=1)
    slow = ~good & (stop == _lm.STOP_SLOW)
    other = ~good & ~slow
    if slow.any() or other.any():
        parts = []
        if slow.any():
            parts.append(
                f"{int(slow.sum())} ended at slow points (local minima of |f|^2 that are not "
                f"zeros; smallest |f|_inf {np.min(res[slow]):.3g})"
            )
        if other.any():
            parts.append(
                f"{int(other.sum())} did not reach |f|_inf <= tol = {tol:g} in max_steps = "
                f"{max_steps} (raise max_steps, or start nearer)"
            )
        warnings.warn(
            f"fixed_points: of {len(starts)} starts, "
            + "; ".join(parts)
            + ": they are not reported as fixed points",
            stacklevel=3,
        )
    return xs[good], res[good]


def _classified_all(sde, t, args, pts: np.ndarray, residuals: np.ndarray) -> list[FixedPoint]:
    """Each point classified; up to DENSE_EIG_MAX_N, the Jacobians in one vmapped call per
    chunk and the eigenvalues batched (a continuum of fixed points, such as a ring attractor,
    gives thousands: one compiled call a point took ~0.4 ms each)."""
    m, n = pts.shape
    if n > DENSE_EIG_MAX_N:
        return [_classified(sde, t, args, p, float(r)) for p, r in zip(pts, residuals, strict=True)]
    out = []
    chunk = max(64, int(1e7 // (n * n)) // 64 * 64)
    for i in range(0, m, chunk):
        _, J = drift_and_jacobian(sde, float(t), pts[i : i + chunk], args)
        evs = np.linalg.eigvals(J)
        evs = np.take_along_axis(evs, np.argsort(np.real(evs), axis=1), axis=1)
        for p, ev, r in zip(pts[i : i + chunk], evs, residuals[i : i + chunk], strict=True):
            out.append(FixedPoint(p, _classify(ev), ev, float(r)))
    return out


def _classified(sde, t, args, p, residual) -> FixedPoint:
    J = np.asarray(_lm.jacobian(sde)(jnp.asarray(float(t)), jnp.asarray(p), args))
    ev = _eigenvalues(J)
    return FixedPoint(p, _classify(ev), ev, residual)


def _eigenvalues(J: np.ndarray) -> np.ndarray:
    """All eigenvalues (small n), or the rightmost ones down to one with negative real part.

    For large n, Arnoldi (ARPACK) on the Cayley transform C = (J - sI)^-1 (J + sI), whose
    eigenvalues mu = (lam + s) / (lam - s) have |mu| > 1 exactly where Re lam > 0: the largest
    |mu| are the unstable directions first, and a network's bulk (lam near -s) maps near 0,
    far from them, so Arnoldi converges in a few dozen solves with one LU of J - sI.
    """
    n = J.shape[0]
    if n > DENSE_EIG_MAX_N:
        s = max(float(np.mean(np.abs(np.diag(J)))), 1e-6 * max(1.0, float(np.max(np.abs(J)))))
        lu = scipy.linalg.lu_factor(J - s * np.eye(n))
        op = scipy.sparse.linalg.LinearOperator(
            (n, n), matvec=lambda v: v + 2 * s * scipy.linalg.lu_solve(lu, v), dtype=float
        )
        k = 8
        while k < n - 2:
            try:
                mu = scipy.sparse.linalg.eigs(
                    op, k=k, which="LM", return_eigenvectors=False, maxiter=50 * n, tol=1e-12
                )
            except scipy.sparse.linalg.ArpackNoConvergence:
                break
            ev = s * (mu + 1) / (mu - 1)
            if np.min(np.real(ev)) < -_zero_tol(ev):
                return ev[np.argsort(np.real(ev))]
            k *= 2
    ev = np.linalg.eigvals(J)
    return ev[np.argsort(np.real(ev))]


def newton_all(sde, seeds, t, args, steps=80):
    return _newton_runner(sde, steps)(seeds, t, args)


@functools.lru_cache(maxsize=64)
def _newton_runner(sde, steps):
    """The jitted damped Newton of ``newton_all`` for one model (compiled once per shape)."""

    @jit
    def run(seeds, t, args):
        def f(x):
            return sde.f(t, x, args)

        def one(x):
            def body(_, x):
                fx = f(x)
                J = jax.jacfwd(f)(x)
                # Regularised normal equations (a Cholesky, not lstsq's SVD: 10000 seeds x
                # 80 steps); the tiny shift keeps a singular J (a fold) solvable.
                JtJ = J.T @ J
                mu = 1e-14 * jnp.trace(JtJ) + 1e-300
                dx = jnp.linalg.solve(JtJ + mu * jnp.eye(J.shape[0], dtype=J.dtype), -J.T @ fx)
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

    return run
