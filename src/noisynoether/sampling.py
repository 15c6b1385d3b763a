"""Euler-Maruyama sampling of an SDE, with optional absorbing boundaries, and conditioned ensembles.

``simulate`` draws sample paths of ``xdot = f(t, x, args) + G eta`` (Ito, ``D = G G^T / 2``) on a
time grid: ``x_{k+1} = x_k + f(t_k, x_k) dt_k + sqrt(2 D(t_k, x_k) dt_k) xi_k`` with
``xi_k ~ N(0, I)`` (for a matrix D, a square root of ``2 D dt_k``: Cholesky when D is constant).
Paths are vectorised with ``jax.vmap`` inside one jitted ``lax.scan`` and processed in chunks,
so that 10^5 paths fit in memory. Each path has its own key (split from the key given), and the
noise of step k is drawn from ``fold_in(path_key, k)``: the same key gives the same paths,
whatever the chunk size.

``conditioned_ensemble`` keeps the paths that satisfy a condition (absorbed at a boundary within
a window of hitting times, as in the paper's Fig. 1a, or ending near a state) and returns their
mean, median, standard deviation and quantiles at every time.
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ._sde import SDE
from ._checks import _short, as_state, as_time_grid, check_sde

__all__ = ["SampleResult", "ConditionedEnsemble", "simulate", "conditioned_ensemble"]

DEFAULT_CHUNK_SIZE = 20_000
QUANTILES = (0.05, 0.25, 0.75, 0.95)


@dataclass(frozen=True, eq=False)
class SampleResult:
    """Sample paths from ``simulate``.

    Attributes:
        ts: (K,) the time grid.
        xs: (num_paths, K, n) float64 paths; ``xs[:, 0]`` is x0. An absorbed path stays at the
            boundary (its crossing components set to the boundary value) from its hitting time on.
        hit_time: (num_paths,) the first grid time at or after the path crossed a boundary;
            ``inf`` for a path that was never absorbed.
        hit_boundary: (num_paths,) int: -1 absorbed at ``lower``, +1 at ``upper``, 0 not absorbed.
        lower, upper: the boundaries (None where there is none).
    """

    ts: np.ndarray
    xs: np.ndarray
    hit_time: np.ndarray
    hit_boundary: np.ndarray
    lower: float | None = None
    upper: float | None = None

    @property
    def num_paths(self) -> int:
        return int(self.xs.shape[0])

    @property
    def absorbed(self) -> np.ndarray:
        """(num_paths,) bool: which paths were absorbed at a boundary."""
        return self.hit_boundary != 0


@dataclass(frozen=True, eq=False)
class ConditionedEnsemble:
    """The paths kept by ``conditioned_ensemble`` and their statistics at each time.

    Attributes:
        ts: (K,) the time grid.
        indices: (count,) indices of the kept paths in the sample.
        count: how many paths were kept.
        fraction: count / num_paths of the sample.
        xs: (count, K, n) the kept paths (absorbed ones as recorded: frozen at the boundary).
        mean, median, std: (K, n) over the kept paths at each time (``std`` with ddof = 1);
            NaN where fewer than one (two for ``std``) path was kept.
        quantiles: {q: (K, n)} for q in 0.05, 0.25, 0.75, 0.95.
    """

    ts: np.ndarray
    indices: np.ndarray
    count: int
    fraction: float
    xs: np.ndarray
    mean: np.ndarray
    median: np.ndarray
    std: np.ndarray
    quantiles: dict


# ---------------------------------------------------------------------------------- validation
def _check_key(key):
    """Accept a typed key (``jax.random.key``) or a legacy uint32 (2,) key (``PRNGKey``)."""
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"key must be a single PRNG key; got a key array of shape {key.shape}")
        return key
    if isinstance(key, jax.Array | np.ndarray) and key.dtype == np.uint32 and key.shape == (2,):
        return jnp.asarray(key)
    raise TypeError(
        "key must be a jax PRNG key (jax.random.key(0) or jax.random.PRNGKey(0)); got "
        f"{type(key).__name__} {key!r}"
    )


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer; got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def _check_grid(ts) -> np.ndarray:
    return as_time_grid(ts, "ts", min_points=2)


def _check_bound(value, name: str) -> float | None:
    if value is None:
        return None
    numeric = isinstance(value, numbers.Real) or (
        isinstance(value, np.ndarray | np.generic | jax.Array)
        and np.ndim(value) == 0
        and np.issubdtype(np.asarray(value).dtype, np.number)
    )
    if isinstance(value, bool) or not numeric:
        raise TypeError(f"{name} must be a real number or None; got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return v


def _diffusion_form(sde: SDE, t0: float, x0: np.ndarray, args) -> str:
    """Check f and D at (t0, x0) and return the form of D: scalar, diag or matrix."""
    n = x0.shape[0]
    try:
        f0 = np.asarray(sde.f(jnp.asarray(t0), jnp.asarray(x0), args))
    except Exception as err:  # a user's function can fail in any way: say where
        raise ValueError(f"drift failed at t = {t0:g}, x = {_short(x0)}: {err}") from err
    if f0.shape != (n,):
        raise ValueError(
            f"drift must return an array of the state's shape ({n},) (from x0); got shape "
            f"{f0.shape} at t = {t0:g}, x0 = {_short(x0)}"
        )
    if not np.all(np.isfinite(f0)):
        raise ValueError(f"drift returned a non-finite value {_short(f0)} at x0 = {_short(x0)}")
    try:
        d0 = np.asarray(sde.D_raw(jnp.asarray(t0), jnp.asarray(x0), args))
    except Exception as err:
        raise ValueError(f"diffusion failed at t = {t0:g}, x = {_short(x0)}: {err}") from err
    if d0.shape not in ((), (n,), (n, n)):
        raise ValueError(
            f"diffusion D has shape {d0.shape} but the state has n = {n} components (x0 and the "
            f"drift): D must be a number, shape ({n},) or ({n}, {n})"
        )
    _check_psd(d0, f"at t = {t0:g}, x0 = {_short(x0)}")
    return {0: "scalar", 1: "diag", 2: "matrix"}[d0.ndim]


def _check_psd(d: np.ndarray, where: str) -> None:
    """Sampling needs D symmetric positive *semi*-definite (D = 0 is a deterministic step)."""
    if not np.all(np.isfinite(d)):
        raise ValueError(f"diffusion D must be finite {where}; got {d.tolist()}")
    if d.ndim == 2:
        scale = max(float(np.max(np.abs(d))), 1e-300)
        if not np.allclose(d, d.T, rtol=0, atol=1e-12 * scale):
            raise ValueError(f"diffusion D must be symmetric {where}; got {d.tolist()}")
        eig = np.linalg.eigvalsh(d)
        ok = eig.min() >= -1e-12 * scale
    else:
        eig = np.atleast_1d(d)
        ok = eig.min() >= 0
    if not ok:
        raise ValueError(
            f"diffusion D must be symmetric positive semi-definite {where}; got eigenvalues "
            f"{np.array2string(np.sort(eig), precision=4)}"
        )


# ---------------------------------------------------------------------------------- the kernel
@functools.lru_cache(maxsize=64)
def _compiled_chunk(sde: SDE, form: str, has_lower: bool, has_upper: bool):
    """A jitted function simulating one chunk of paths (jit caches each chunk shape)."""
    const_chol = sde.is_constant_diffusion and form == "matrix"

    def chunk(x0, ts, keys, args, lower, upper, chol):
        n = x0.shape[0]
        nb = keys.shape[0]
        dts = jnp.diff(ts)

        def noise(t, x, xi, dt):
            if const_chol:
                return jnp.sqrt(2.0 * dt) * (chol @ xi)
            d = sde.D_raw(t, x, args)
            if form == "matrix":  # symmetric square root: also right for a singular D
                lam, vec = jnp.linalg.eigh(0.5 * (d + d.T))
                root = (vec * jnp.sqrt(jnp.maximum(lam, 0.0))) @ vec.T
                return jnp.sqrt(2.0 * dt) * (root @ xi)
            return jnp.sqrt(2.0 * jnp.maximum(d, 0.0) * dt) * xi

        def draw(key, k):
            return jax.random.normal(jax.random.fold_in(key, k), (n,), dtype=jnp.float64)

        def step(carry, inp):
            x, alive, hit_idx, hit_side = carry
            k, t, dt = inp
            xi = jax.vmap(draw, in_axes=(0, None))(keys, k)
            fx = jax.vmap(lambda xx: sde.f(t, xx, args))(x)
            dx = jax.vmap(lambda xx, z: noise(t, xx, z, dt))(x, xi)
            x_new = x + fx * dt + dx
            below = jnp.any(x_new <= lower, axis=1) if has_lower else jnp.zeros(nb, bool)
            above = jnp.any(x_new >= upper, axis=1) if has_upper else jnp.zeros(nb, bool)
            crossed = alive & (below | above)
            if has_lower or has_upper:
                x_new = jnp.clip(x_new, lower if has_lower else None, upper if has_upper else None)
            x_next = jnp.where(alive[:, None], x_new, x)
            hit_idx = jnp.where(crossed, k + 1, hit_idx)
            hit_side = jnp.where(crossed, jnp.where(below, -1, 1), hit_side)
            return (x_next, alive & ~crossed, hit_idx, hit_side), x_next

        init = (
            jnp.broadcast_to(x0, (nb, n)),
            jnp.ones(nb, bool),
            jnp.full(nb, -1, jnp.int32),
            jnp.zeros(nb, jnp.int32),
        )
        steps = jnp.arange(dts.shape[0], dtype=jnp.int32)
        (_, _, hit_idx, hit_side), xs = jax.lax.scan(step, init, (steps, ts[:-1], dts))
        return jnp.swapaxes(xs, 0, 1), hit_idx, hit_side

    return jax.jit(chunk)


def simulate(
    sde,
    x0,
    ts,
    key,
    num_paths,
    *,
    args=None,
    lower=None,
    upper=None,
    chunk_size=None,
    progress=False,
) -> SampleResult:
    """Sample paths of an SDE by Euler-Maruyama on a time grid, with optional absorbing bounds.

    Computes ``x_{k+1} = x_k + f(t_k, x_k) dt_k + sqrt(2 D(t_k, x_k) dt_k) xi_k`` (Ito: f and D at
    the left end of each step; for a matrix D, the Cholesky factor of ``2 D dt_k`` when D is
    constant, its symmetric square root when D is a callable, so that D may be singular, e.g.
    ``D(t) = t M`` at t = 0; a D that is zero gives a deterministic step) in float64, for
    ``num_paths`` independent paths started at ``x0``. With ``lower`` and/or ``upper`` a path that
    reaches ``x <= lower`` or ``x >= upper`` in any component is absorbed: its crossing
    components are set to the boundary value, the whole state is frozen from then on, and the
    grid time of that step is recorded as its hitting time (with the boundary; if one step
    crosses both, which needs n > 1, ``lower`` is recorded). The same key gives the same paths,
    whatever ``chunk_size``.

    Args:
        sde: a ``noisynoether.SDE``.
        x0: (n,) start state (a number for n = 1); strictly between the boundaries.
        ts: (K,) strictly increasing time grid, K >= 2; ``xs[:, 0]`` is at ``ts[0]``.
        key: a jax PRNG key (``jax.random.key(0)`` or ``jax.random.PRNGKey(0)``).
        num_paths: number of paths, a positive integer.
        args: PyTree passed to drift and diffusion.
        lower, upper: absorbing boundaries (numbers, applied to every component) or None.
        chunk_size: paths per compiled batch (default 20000); bounds the memory in use.
        progress: show a rich progress bar over the chunks.

    Returns:
        SampleResult with ``ts`` (K,), ``xs`` (num_paths, K, n), ``hit_time`` (num_paths,) (inf
        where not absorbed) and ``hit_boundary`` (num_paths,) in {-1, 0, +1}.

    Raises:
        TypeError: ``sde`` is not an SDE, ``key`` is not a PRNG key, ``num_paths`` or
            ``chunk_size`` is not an integer, a boundary is not a number.
        ValueError: a non-increasing or non-finite ``ts``, ``num_paths < 1``, ``lower >= upper``,
            ``x0`` not strictly inside the boundaries, drift or diffusion of the wrong shape (or
            a D that is not symmetric positive semi-definite) at ``(ts[0], x0)``.
    """
    check_sde(sde)
    x0 = as_state(x0, "x0")
    ts = _check_grid(ts)
    key = _check_key(key)
    num_paths = _check_positive_int(num_paths, "num_paths")
    chunk = (
        DEFAULT_CHUNK_SIZE if chunk_size is None else _check_positive_int(chunk_size, "chunk_size")
    )
    lo, hi = _check_bound(lower, "lower"), _check_bound(upper, "upper")
    if lo is not None and hi is not None and not lo < hi:
        raise ValueError(f"lower must be less than upper; got lower = {lo!r}, upper = {hi!r}")
    if lo is not None and np.any(x0 <= lo):
        raise ValueError(f"x0 must be strictly above lower = {lo!r}; got x0 = {_short(x0)}")
    if hi is not None and np.any(x0 >= hi):
        raise ValueError(f"x0 must be strictly below upper = {hi!r}; got x0 = {_short(x0)}")
    form = _diffusion_form(sde, float(ts[0]), x0, args)

    chol = (
        np.linalg.cholesky(np.asarray(sde._const))
        if sde.is_constant_diffusion and form == "matrix"
        else np.zeros((0, 0))
    )
    fn = _compiled_chunk(sde, form, lo is not None, hi is not None)
    path_keys = jax.random.split(key, num_paths)
    chunk = min(chunk, num_paths)
    K, n = ts.size, x0.size
    xs = np.empty((num_paths, K, n))
    xs[:, 0] = x0
    hit_idx = np.empty(num_paths, dtype=np.int64)
    hit_side = np.empty(num_paths, dtype=np.int64)
    ts_j, x0_j = jnp.asarray(ts), jnp.asarray(x0)
    lo_j = jnp.asarray(0.0 if lo is None else lo)
    hi_j = jnp.asarray(0.0 if hi is None else hi)
    starts = range(0, num_paths, chunk)

    def run_chunk(start):
        stop = min(start + chunk, num_paths)
        keys = path_keys[start:stop]
        if stop - start < chunk:  # pad the last chunk so that it reuses the compiled code
            keys = jnp.concatenate([keys, path_keys[: chunk - (stop - start)]])
        out, idx, side = fn(x0_j, ts_j, keys, args, lo_j, hi_j, jnp.asarray(chol))
        m = stop - start
        xs[start:stop, 1:] = np.asarray(out)[:m]
        hit_idx[start:stop] = np.asarray(idx)[:m]
        hit_side[start:stop] = np.asarray(side)[:m]

    if progress:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"Euler-Maruyama, {num_paths} paths", total=len(starts))
            for s in starts:
                run_chunk(s)
                bar.advance(task)
    else:
        for s in starts:
            run_chunk(s)

    hit_time = np.where(hit_idx >= 0, ts[np.maximum(hit_idx, 0)], np.inf)
    return SampleResult(ts=ts, xs=xs, hit_time=hit_time, hit_boundary=hit_side, lower=lo, upper=hi)


# ---------------------------------------------------------------------------------- conditioning
def conditioned_ensemble(
    sample: SampleResult,
    *,
    boundary=None,
    hit_window=None,
    end_near=None,
    end_tol=None,
) -> ConditionedEnsemble:
    """Keep the paths of a sample that satisfy a condition and compute their statistics.

    Two selections (give the arguments of exactly one):

    - ``boundary`` (-1 or +1), optionally with ``hit_window = (t_a, t_b)``: the paths absorbed at
      that boundary with hitting time in ``[t_a, t_b]`` (inclusive, up to 1e-9 of the time span
      for the round-off of the grid). This is the selection of the paper's Fig. 1a.
    - ``end_near`` (a number or an (n,) state) with ``end_tol > 0``: the paths whose final state
      satisfies ``max_i |x_i(t_K) - end_near_i| <= end_tol``.

    The statistics are taken over the kept paths at each time, for absorbed paths as recorded
    (frozen at the boundary after their hitting time).

    Args:
        sample: a ``SampleResult`` from ``simulate``.
        boundary: -1 (lower) or +1 (upper).
        hit_window: (t_a, t_b) with t_a <= t_b, or None for any hitting time.
        end_near: the target final state.
        end_tol: the half-width of the window around ``end_near``.

    Returns:
        ConditionedEnsemble with ``indices``, ``count``, ``fraction``, ``xs``, ``mean``,
        ``median``, ``std`` and ``quantiles`` (NaN statistics when nothing is kept).

    Raises:
        TypeError: ``sample`` is not a SampleResult.
        ValueError: both or neither selection given, ``boundary`` not -1 or +1, a malformed
            ``hit_window``, ``end_tol`` not positive, ``end_near`` of the wrong shape.
    """
    if not isinstance(sample, SampleResult):
        raise TypeError(
            f"sample must be a SampleResult (from simulate); got {type(sample).__name__}"
        )
    by_boundary = boundary is not None or hit_window is not None
    by_end = end_near is not None or end_tol is not None
    if by_boundary == by_end:
        raise ValueError(
            "give either boundary= (with an optional hit_window=) or end_near= with end_tol=; got "
            f"boundary = {boundary!r}, hit_window = {hit_window!r}, end_near = {end_near!r}, "
            f"end_tol = {end_tol!r}"
        )
    ts, xs = sample.ts, sample.xs
    if by_boundary:
        if isinstance(boundary, bool) or boundary not in (-1, 1):
            raise ValueError(f"boundary must be -1 (lower) or +1 (upper); got {boundary!r}")
        keep = sample.hit_boundary == int(boundary)
        if hit_window is not None:
            try:
                t_a, t_b = (float(v) for v in hit_window)
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"hit_window must be a pair of times (t_a, t_b); got {hit_window!r}"
                ) from err
            if not (np.isfinite(t_a) and np.isfinite(t_b) and t_a <= t_b):
                raise ValueError(f"hit_window must be finite with t_a <= t_b; got {hit_window!r}")
            tol = 1e-9 * (ts[-1] - ts[0])
            keep &= (sample.hit_time >= t_a - tol) & (sample.hit_time <= t_b + tol)
    else:
        if end_near is None or end_tol is None:
            raise ValueError(
                f"end_near and end_tol go together; got end_near = {end_near!r}, "
                f"end_tol = {end_tol!r}"
            )
        target = as_state(end_near, "end_near")
        n = xs.shape[2]
        if target.shape[0] not in (1, n):
            raise ValueError(
                f"end_near must be a number or a state of shape ({n},); got shape {target.shape}"
            )
        tol_v = _check_bound(end_tol, "end_tol")
        if not tol_v > 0:
            raise ValueError(f"end_tol must be > 0; got {end_tol!r}")
        keep = np.max(np.abs(xs[:, -1, :] - target), axis=1) <= tol_v

    indices = np.flatnonzero(keep)
    kept = xs[indices]
    count = int(indices.size)
    shape = xs.shape[1:]
    nan = np.full(shape, np.nan)
    if count:
        mean, median = kept.mean(axis=0), np.median(kept, axis=0)
        qs = {q: np.quantile(kept, q, axis=0) for q in QUANTILES}
    else:
        mean, median, qs = nan, nan.copy(), {q: nan.copy() for q in QUANTILES}
    std = kept.std(axis=0, ddof=1) if count > 1 else nan.copy()
    return ConditionedEnsemble(
        ts=ts,
        indices=indices,
        count=count,
        fraction=count / sample.num_paths,
        xs=kept,
        mean=mean,
        median=median,
        std=std,
        quantiles=qs,
    )
