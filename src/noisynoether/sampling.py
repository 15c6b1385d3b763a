"""Euler-Maruyama sampling of an SDE, with optional absorbing boundaries, and conditioned ensembles.

``simulate`` draws sample paths of ``xdot = f(t, x, args) + G eta`` (Ito, ``D = G G^T / 2``) on a
time grid: ``x_{k+1} = x_k + f(t_k, x_k) dt_k + sqrt(2 D(t_k, x_k) dt_k) xi_k`` with
``xi_k ~ N(0, I)`` (for a matrix D, a square root of ``2 D dt_k``: Cholesky when D is constant).
Paths are vectorised with ``jax.vmap`` inside one jitted ``lax.scan`` and processed in chunks,
so that 10^5 paths fit in memory. Each path has its own key (split from the key given), and the
noise of step k is drawn from ``fold_in(path_key, k)``: the same key gives the same paths,
whatever the chunk size (the kernel is in ``_sampling_kernel``). Only what is asked is kept
(``save_every=``), and a sample that would not fit ``max_memory`` is refused with the estimate.

``conditioned_ensemble`` (in ``_conditioning``) keeps the paths that satisfy a condition
(absorbed at a boundary within a window of hitting times, as in the paper's Fig. 1a, or ending
near a state) and returns their mean, median, standard deviation and quantiles at every time.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from ._checks import (
    _short,
    as_state,
    as_time_grid,
    check_bool,
    check_key,
    check_memory,
    check_model_at,
    check_positive,
    check_real,
    check_sde,
)
from ._conditioning import conditioned_ensemble
from ._sampling_kernel import _compiled_chunk, _saved_indices
from ._sampling_results import ConditionedEnsemble, SampleResult
from ._sde import SDE

__all__ = ["SampleResult", "ConditionedEnsemble", "simulate", "conditioned_ensemble"]

DEFAULT_CHUNK_SIZE = 20_000
#: About the most bytes one batch's scan keeps on the device (it shrinks the batch).
CHUNK_BYTES = 2**29


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
    save_every=1,
    max_memory=None,
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
    whatever ``chunk_size`` and ``save_every``.

    Only what is asked is kept: ``save_every=k`` stores every k-th grid time (and the last), so
    10^6 paths x 2001 steps with ``save_every=2000`` keep the start and final states only (the
    hitting times are still those of the full grid). The memory this needs is estimated first and
    a sample above ``max_memory`` is refused with the estimate.

    Args:
        sde: a ``noisynoether.SDE`` (its drift must use jax.numpy: it is traced with jax.jit).
        x0: (n,) start state (a number for n = 1); strictly between the boundaries.
        ts: (K,) strictly increasing time grid, K >= 2; ``xs[:, 0]`` is at ``ts[0]``.
        key: a jax PRNG key (``jax.random.key(0)`` or ``jax.random.PRNGKey(0)``).
        num_paths: number of paths, a positive integer.
        args: PyTree passed to drift and diffusion.
        lower, upper: absorbing boundaries (numbers, applied to every component) or None.
        chunk_size: paths per compiled batch (default 20000, fewer when the grid is long so that
            a batch stays within about 512 MiB); bounds the memory in use.
        save_every: keep every ``save_every``-th time of ``ts`` (and the last), a positive
            integer; ``len(ts) - 1`` keeps only the start and final states.
        max_memory: the most bytes the kept paths may take (default 4 GiB, as the solvers).
        progress: show a rich progress bar over the chunks.

    Returns:
        SampleResult with ``ts`` (the kept times), ``xs`` (num_paths, len(ts), n), ``hit_time``
        (num_paths,) (inf where not absorbed) and ``hit_boundary`` (num_paths,) in {-1, 0, +1}.

    Raises:
        TypeError: ``sde`` is not an SDE, ``key`` is not a PRNG key, ``num_paths``,
            ``chunk_size`` or ``save_every`` is not an integer, a boundary is not a number.
        ValueError: a non-increasing or non-finite ``ts``, a count < 1, ``lower >= upper``,
            ``x0`` not strictly inside the boundaries, a drift or diffusion that cannot be traced
            (NumPy instead of jax.numpy), is complex or of the wrong shape, a D that is not
            symmetric positive semi-definite at ``(ts[0], x0)`` or turns negative along a path,
            a sample above ``max_memory`` (the message gives the estimate).

    Warns:
        UserWarning: when paths became non-finite (the drift or diffusion overflowed).
    """
    check_sde(sde)
    x0 = as_state(x0, "x0")
    ts = as_time_grid(ts, "ts", min_points=2)
    key = check_key(key)
    num_paths = check_positive(num_paths, "num_paths", integer=True)
    chunk = (
        DEFAULT_CHUNK_SIZE
        if chunk_size is None
        else check_positive(chunk_size, "chunk_size", integer=True)
    )
    save_every = check_positive(save_every, "save_every", integer=True)
    check_bool(progress, "progress")
    lo = None if lower is None else check_real(lower, "lower")
    hi = None if upper is None else check_real(upper, "upper")
    if lo is not None and hi is not None and not lo < hi:
        raise ValueError(f"lower must be less than upper; got lower = {lo!r}, upper = {hi!r}")
    if lo is not None and np.any(x0 <= lo):
        raise ValueError(f"x0 must be strictly above lower = {lo!r}; got x0 = {_short(x0)}")
    if hi is not None and np.any(x0 >= hi):
        raise ValueError(f"x0 must be strictly below upper = {hi!r}; got x0 = {_short(x0)}")
    K, n = ts.size, x0.size
    saved = _saved_indices(K, save_every)
    check_memory(
        8.0 * num_paths * saved.size * n,
        max_memory,
        what=f"simulate keeping {num_paths} paths x {saved.size} times x n = {n} (float64)",
        fix=(
            "keep fewer times (save_every=k keeps every k-th, save_every=len(ts) - 1 only the "
            "start and final states) or simulate fewer num_paths (several calls with keys from "
            "jax.random.split)"
        ),
    )
    d0 = _model_at_start(sde, float(ts[0]), x0, args)
    form = {0: "scalar", 1: "diag", 2: "matrix"}[d0.ndim]

    chol = (
        np.linalg.cholesky(np.asarray(sde._const))
        if sde.is_constant_diffusion and form == "matrix"
        else np.zeros((0, 0))
    )
    fn = _compiled_chunk(sde, form, lo is not None, hi is not None)
    path_keys = jax.random.split(key, num_paths)
    # A batch's scan keeps every step on the device: bound it to about CHUNK_BYTES.
    chunk = max(1, min(chunk, num_paths, CHUNK_BYTES // (8 * K * n)))
    xs = np.empty((num_paths, saved.size, n))
    xs[:, 0] = x0
    hit_idx, hit_side, neg_idx, bad_idx = (np.empty(num_paths, dtype=np.int64) for _ in range(4))
    ts_j, x0_j, saved_j = jnp.asarray(ts), jnp.asarray(x0), jnp.asarray(saved)
    lo_j = jnp.asarray(0.0 if lo is None else lo)
    hi_j = jnp.asarray(0.0 if hi is None else hi)
    starts = range(0, num_paths, chunk)

    def run_chunk(start):
        stop = min(start + chunk, num_paths)
        keys = path_keys[start:stop]
        if stop - start < chunk:  # pad the last chunk so that it reuses the compiled code
            keys = jnp.concatenate([keys, path_keys[: chunk - (stop - start)]])
        out, *flags = fn(x0_j, ts_j, keys, args, lo_j, hi_j, jnp.asarray(chol), saved_j)
        m = stop - start
        xs[start:stop, 1:] = np.asarray(out)[:m]
        for arr, flag in zip((hit_idx, hit_side, neg_idx, bad_idx), flags, strict=True):
            arr[start:stop] = np.asarray(flag)[:m]

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

    _report_flags(ts, neg_idx, bad_idx)
    hit_time = np.where(hit_idx >= 0, ts[np.maximum(hit_idx, 0)], np.inf)
    return SampleResult(
        ts=ts[saved], xs=xs, hit_time=hit_time, hit_boundary=hit_side, lower=lo, upper=hi
    )


def _model_at_start(sde: SDE, t0: float, x0: np.ndarray, args) -> np.ndarray:
    """Check f and D at (t0, x0) as the kernel traces them; D there (its form)."""
    check_model_at(sde, [t0], x0[None], args, what="x0", semidefinite=True)
    return np.asarray(sde.D_raw(t0, jnp.asarray(x0), args))


def _report_flags(ts: np.ndarray, neg_idx: np.ndarray, bad_idx: np.ndarray) -> None:
    """Raise for a D that turned negative on a path; warn for paths that stopped being finite."""
    neg = np.flatnonzero(neg_idx >= 0)
    if neg.size:
        i = neg[np.argmin(neg_idx[neg])]
        raise ValueError(
            f"diffusion D turned negative (not positive semi-definite) on {neg.size} of "
            f"{neg_idx.size} paths, first at t = {ts[neg_idx[i] - 1]:g} (path {i}); sampling "
            "would have to clamp it to 0 there, so the paths would not be samples of the model. "
            "D must be positive semi-definite wherever the paths go: check D(t, x) there, or end "
            "ts before that time"
        )
    bad = np.flatnonzero(bad_idx >= 0)
    if bad.size:
        i = bad[np.argmin(bad_idx[bad])]
        warnings.warn(
            f"{bad.size} of {bad_idx.size} paths stopped being finite (NaN or inf), first at "
            f"t = {ts[bad_idx[i]]:g} (path {i}): the drift or diffusion overflowed there (a drift "
            "that explodes in finite time, or a time step too large for it). Those paths hold "
            "NaN/inf from then on; use a finer ts, absorbing boundaries (lower=, upper=), or "
            "check the model",
            stacklevel=3,
        )
