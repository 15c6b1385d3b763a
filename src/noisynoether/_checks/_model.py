"""Checks of the user's model, evaluated where and as the solvers use it (jit/vmap).

One message for a drift written with NumPy instead of jax.numpy (``JAX_NUMPY_HINT``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._jit import jit
from .._sde import SDE, check_spd
from ._arrays import grid
from ._values import _short

# ------------------------------------------------------------------------------ the user's model
#: The one message for a drift (or diffusion) that cannot be traced: every entry point that
#: evaluates the model gives it (``untraceable_message``).
JAX_NUMPY_HINT = (
    "the {part} must use jax.numpy (jnp.tanh, not np.tanh) because the solvers trace it with "
    "jax.jit/vmap; write it with jnp functions and without Python control flow on the state's "
    "values (jnp.where instead of if, no float(x) or x.item())"
)

_TRACE_ERRORS = (
    jax.errors.TracerArrayConversionError,
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def untraceable_message(part: str, err: BaseException) -> str:
    """The jax.numpy message for a ``part`` ("drift", "diffusion") that failed under tracing."""
    return (
        f"{JAX_NUMPY_HINT.format(part=part)}. It runs on one point but not under jax.jit, "
        f"where it raised {type(err).__name__}: {_first_line(err)}"
    )


def explain_trace_error(err: BaseException, part: str = "drift") -> ValueError | None:
    """A ValueError with the jax.numpy message when ``err`` is a JAX tracing error, else None.

    For solvers that trace the model themselves: ``except Exception as e: raise
    explain_trace_error(e) or e``.
    """
    if isinstance(err, _TRACE_ERRORS):
        return ValueError(untraceable_message(part, err))
    return None


@functools.lru_cache(maxsize=256)
def _on_points(sde, part: str):
    """``part`` (drift, diffusion or noise) vmapped over (t, x) pairs, compiled once per model."""
    fn = _PARTS[part]
    return jit(jax.vmap(lambda t, x, args: fn(sde, t, x, args), in_axes=(0, 0, None)))


_PARTS = {
    "drift": lambda sde, t, x, args: sde.f(t, x, args),
    "diffusion": lambda sde, t, x, args: sde.D_raw(t, x, args),
    "noise": lambda sde, t, x, args: jnp.asarray(sde.noise(t, x, args)),
}


def _drift_on_points(sde):
    """The drift vmapped over (t, x) pairs, compiled once per model."""
    return _on_points(sde, "drift")


def _evaluate(sde, part: str, tt, xx, args, context: str) -> np.ndarray:
    """``part`` at every pair (tt[i], xx[i]), compiled as the solvers compile it.

    When the compiled evaluation fails, the part is called once, eagerly, at the first pair to
    tell a function that fails there (say where) from one that only fails under tracing (say
    that it must use jax.numpy).
    """
    try:
        # NumPy straight to the compiled call: an eager jnp.asarray costs ~40 us each.
        return np.asarray(_on_points(sde, part)(np.asarray(tt), np.asarray(xx), args))
    except Exception as err:  # a user's function can fail in any way
        traced = err
    try:
        np.asarray(_PARTS[part](sde, jnp.asarray(tt[0]), jnp.asarray(xx[0]), args))
    except Exception as err:
        raise ValueError(
            f"{part} failed at t = {tt[0]:g}, x = {_short(xx[0])} ({context}): "
            f"{type(err).__name__}: {_first_line(err)}"
        ) from err
    raise ValueError(untraceable_message(part, traced)) from traced


def _real(values: np.ndarray, part: str, tt, xx) -> None:
    if np.iscomplexobj(values):
        raise ValueError(
            f"{part} must return real values; got dtype {values.dtype} at t = {tt[0]:g}, "
            f"x = {_short(xx[0])}. The action (Eq. 8) is defined for real states: return the "
            "real part (jnp.real) or reformulate the model with real coordinates"
        )


def _check_model(
    sde, tt, xx, args, *, source, locate, finite=True, semidefinite=False, diffusion=True
):
    n = xx.shape[1]
    fs = _evaluate(sde, "drift", tt, xx, args, context=f"{source}, shape {xx.shape}")
    if fs.shape[1:] != (n,):
        raise ValueError(
            f"drift must return an array of the state's shape ({n},) (from {source}); got shape "
            f"{fs.shape[1:]} at t = {tt[0]:g}, x = {_short(xx[0])}. Check that {source} have the "
            "model's state dimension"
        )
    _real(fs, "drift", tt, xx)
    if finite:
        bad = np.argwhere(~np.isfinite(fs))
        if bad.size:
            k = bad[0][0]
            raise ValueError(
                f"drift returned a non-finite value {_short(fs[k])} {locate(k)}: "
                f"t = {tt[k]:g}, x = {_short(xx[k])}. Check the drift there"
            )
    if not diffusion:
        return fs, None
    ds = _check_diffusion_on(sde, tt, xx, args, n, source=source, semidefinite=semidefinite)
    return fs, ds


def check_model_at(
    sde: SDE,
    times,
    points,
    args=None,
    what: str = "points",
    *,
    pairs: bool = False,
    finite: bool = True,
    semidefinite: bool = False,
    diffusion: bool = True,
) -> np.ndarray:
    """Evaluate f and D where they will be used and reject what is malformed, saying why.

    ``times`` (T,) and ``points`` (m, n): every (time, point) pair, or with ``pairs=True``
    ``times`` (m,) paired with ``points``. Checks that f can be traced with jax.jit/vmap (the
    jax.numpy message otherwise), returns shape (n,), is real and finite (unless
    ``finite=False``), and that D (or G) has a shape that fits n, is real, and is symmetric
    positive definite (semi-definite with ``semidefinite=True``, as sampling allows; not
    checked with ``diffusion=False``, for what uses the drift only).
    ``what`` names the argument the points came from. Returns f at the pairs, (N, n).
    """
    points = np.asarray(points, dtype=np.float64)
    times = np.atleast_1d(np.asarray(times, dtype=np.float64))
    tt, xx = (times, points) if pairs else grid(times, points)
    fs, _ = _check_model(
        sde,
        tt,
        xx,
        args,
        source=what,
        locate=lambda k: f"at one of the {what}",
        finite=finite,
        semidefinite=semidefinite,
        diffusion=diffusion,
    )
    return fs


def check_model_on_path(sde: SDE, ts: np.ndarray, xs: np.ndarray, args, *, what="the path"):
    """``check_model_at`` on the interval midpoints of a path (where the action evaluates f, D)."""
    tm = 0.5 * (ts[:-1] + ts[1:])
    xm = 0.5 * (xs[:-1] + xs[1:])
    fs, _ = _check_model(
        sde,
        tm,
        xm,
        args,
        source=f"the states of {what}",
        locate=lambda k: f"on {what} at interval {k}",
    )
    return fs


def _check_diffusion_on(
    sde: SDE, tm, xm, args, n: int, *, source: str = "x0 and x1", semidefinite: bool = False
) -> np.ndarray:
    """D at every pair in its stored form; its shape, dtype and definiteness checked."""
    accepted = f"D must be a number, shape ({n},) or ({n}, {n})"
    if sde.is_constant_diffusion:
        d = sde._const
        if d.ndim == 1 and d.shape != (n,) or d.ndim == 2 and d.shape != (n, n):
            raise ValueError(
                f"diffusion D has shape {d.shape} but the state has n = {n} components "
                f"(from {source} and the drift): {accepted}"
            )
        return np.broadcast_to(d, (len(tm), *d.shape))
    if sde.noise is not None:
        gs = _evaluate(sde, "noise", tm, xm, args, context=source)
        _real(gs, "noise", tm, xm)
        if gs.ndim == 3:
            if gs.shape[1] != n:
                raise ValueError(f"noise G must have shape ({n}, m); got {gs.shape[1:]}")
            if not semidefinite:
                ranks = np.linalg.matrix_rank(gs)
                bad = np.flatnonzero(ranks < n)
                if bad.size:
                    k = bad[0]
                    raise ValueError(
                        f"noise G has rank {ranks[k]} < n = {n} at t = {tm[k]:g}, "
                        f"x = {_short(xm[k])}: D = G G^T / 2 is rank deficient (singular) there."
                    )
    ds = _evaluate(sde, "diffusion", tm, xm, args, context=source)
    _real(ds, "diffusion", tm, xm)
    shape = ds.shape[1:]
    if shape not in ((), (n,), (n, n)):
        raise ValueError(
            f"diffusion D has shape {shape} but the state has n = {n} components "
            f"(from {source} and the drift): {accepted}"
        )
    if semidefinite:
        _check_psd_on(ds, tm, xm)
        return ds
    if len(shape) == 2:
        sym = np.max(np.abs(ds - np.swapaxes(ds, 1, 2)), axis=(1, 2))
        eig = np.linalg.eigvalsh(0.5 * (ds + np.swapaxes(ds, 1, 2)))
        bad = np.flatnonzero(
            (sym > 1e-12 * np.max(np.abs(ds), axis=(1, 2))) | (eig[:, 0] <= 0) | ~np.isfinite(sym)
        )
    else:
        vals = ds.reshape(ds.shape[0], -1)
        bad = np.flatnonzero(np.any(~(vals > 0), axis=1))
    if bad.size:
        k = bad[0]
        check_spd(ds[k], "diffusion D", where=f"at t = {tm[k]:g}, x = {_short(xm[k])}")
    return ds


def _check_psd_on(ds: np.ndarray, tm, xm) -> None:
    """Sampling needs D symmetric positive *semi*-definite (D = 0 is a deterministic step)."""
    for k in range(ds.shape[0]):
        d, where = ds[k], f"at t = {tm[k]:g}, x = {_short(xm[k])}"
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


def at_two_times(sde: SDE, xs, args, *, context: str) -> tuple:
    """(f0, f1, d0, d1): drift and diffusion on the points xs at t = 0 and at t = 1.2345, the
    probe of whether a model depends on t (each caller decides how close is "the same")."""
    xs = np.asarray(xs, dtype=np.float64)
    t0, t1 = np.zeros(len(xs)), np.full(len(xs), 1.2345)
    return tuple(
        _evaluate(sde, part, t, xs, args, context=context)
        for part, t in (("drift", t0), ("drift", t1), ("diffusion", t0), ("diffusion", t1))
    )


def check_autonomous(sde: SDE, xs: np.ndarray, args, *, entry: str) -> None:
    """f and D independent of t at the points xs (needed where energy must be conserved)."""
    xs = np.asarray(xs, dtype=np.float64)
    # Traced as the solvers trace it: the jax.numpy message if not.
    f0, f1, d0, d1 = at_two_times(sde, xs, args, context="the initial path")
    if not np.all(np.isfinite(f0)):
        k = int(np.argwhere(~np.isfinite(f0))[0][0])
        raise ValueError(f"the drift is not finite on the initial path at x = {_short(xs[k])}")
    if not (np.allclose(f0, f1, rtol=1e-12, atol=1e-14) and np.allclose(d0, d1, rtol=1e-12)):
        raise ValueError(
            f"{entry} needs an autonomous model (f and D independent of t): energy is "
            "conserved only then (Eq. 10); use most_likely_path for time-dependent models"
        )


#: Default memory limit (bytes) of the solvers' estimate check (``max_memory=``): 4 GiB.


def check_sample(sde: SDE, points, times, tol, args, *, default_times) -> tuple:
    """The sample (points, times, tol) of a symmetry search, checked, with the model on it.

    Returns ``(points (m, n), times (T,), tol)``; the model is evaluated at every pair.
    """
    from ._arrays import as_points, as_times
    from ._values import check_sde, check_tol

    check_sde(sde)
    points = as_points(points)
    times = as_times(times, default=default_times)
    tol = check_tol(tol)
    check_model_at(sde, times, points, args)
    return points, times, tol
