"""Checks of what the drift must be for an infinite-time or rate formula to apply.

- ``check_fixed_point`` / ``check_stable_fixed_point``: f(x) ~ 0 (relative to the drift's
  scale nearby) and, for an attractor, every Jacobian eigenvalue with negative real part
  (the quasipotential V_a of Eq. 8 in infinite time is defined from a stable fixed point a);
- ``check_autonomous_drift``: f(t, x) independent of t on sampled states (energy, Eq. 10, is
  conserved only then, and the Eyring-Kramers rate needs a time-independent potential);
- ``check_gradient_drift``: f = -D grad U for a constant D, i.e. D^-1 J symmetric (J = df/dx)
  on sampled states; ``sample_around`` draws those states around given centres.

Each raises ValueError saying which condition failed, at which state, and by how much.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from .._jit import jit
from ._model import check_model_at
from ._values import _short

__all__ = [
    "check_autonomous_drift",
    "check_fixed_point",
    "check_gradient_drift",
    "check_stable_fixed_point",
    "drift_and_jacobian",
    "drift_at",
    "sample_around",
]

#: Times at which an autonomous drift is compared with itself at t = 0.
AUTONOMY_TIMES = (0.0, 0.37, 1.0, 2.71828, 10.0)


@functools.lru_cache(maxsize=64)
def _compiled_drift_and_jacobian(sde):
    def one(t, x, args):
        def f(y):
            return sde.f(t, y, args)

        return f(x), jax.jacfwd(f)(x)

    return jit(jax.vmap(one, in_axes=(None, 0, None)))


@functools.lru_cache(maxsize=64)
def _compiled_drift(sde):
    return jit(jax.vmap(lambda t, x, args: sde.f(t, x, args), in_axes=(None, 0, None)))


def _padded_rows(m: int, n: int) -> int:
    """Rows a call of m states is padded to: a multiple of 64 (one compile serves every
    check), or for n > 64 with m < 64 the next power of two (64 Jacobians at n = 1024 are
    512 MB and took 2 s for one state)."""
    if n > 64 and m < 64:
        return 1 << (m - 1).bit_length()
    return m + (-m % 64)


def _pad(xs):
    xs = np.atleast_2d(np.asarray(xs, dtype=np.float64))
    m, n = xs.shape
    return xs, np.concatenate([xs, np.repeat(xs[:1], _padded_rows(m, n) - m, axis=0)])


def drift_and_jacobian(sde, t: float, xs: np.ndarray, args):
    """f(t, x) and df/dx at every row of xs (vmapped forward-mode Jacobians); rows padded
    (``_padded_rows``) so that few shapes are compiled."""
    xs, padded = _pad(xs)
    fs, js = _compiled_drift_and_jacobian(sde)(np.float64(t), padded, args)
    return np.asarray(fs)[: len(xs)], np.asarray(js)[: len(xs)]


def drift_at(sde, t: float, xs: np.ndarray, args) -> np.ndarray:
    """f(t, x) at every row of xs, without the Jacobians (rows padded as above)."""
    xs, padded = _pad(xs)
    return np.asarray(_compiled_drift(sde)(np.float64(t), padded, args))[: len(xs)]


def check_fixed_point(sde, x, name: str, *, args=None, t: float = 0.0, tol: float = 1e-8):
    """Check that ``x`` is a fixed point of the drift; return the Jacobian df/dx there.

    |f(t, x)| must be at most ``tol`` times the drift's scale near x, the largest |f| at
    ``x +- l e_i`` with ``l = 0.1 max(1, |x|)`` (so a fixed point given to about ``tol * l``
    passes whatever the drift's units).

    Raises:
        ValueError: x (named ``name``) is not a fixed point: the residual and the scale.
    """
    x = np.asarray(x, dtype=np.float64)
    check_model_at(sde, [t], x[None], args, what=name, diffusion=False)
    ell = 0.1 * max(1.0, float(np.max(np.abs(x))))
    probes = np.concatenate([x[None], x + ell * np.eye(x.size), x - ell * np.eye(x.size)])
    fs = drift_at(sde, t, probes, args)  # the Jacobian at x alone, below (not at 2n probes)
    r = float(np.max(np.abs(fs[0])))
    finite = np.all(np.isfinite(fs[1:]), axis=1)
    scale = float(np.max(np.abs(fs[1:][finite]))) if finite.any() else 0.0
    if r > tol * scale:
        raise ValueError(
            f"{name} = {_short(x)} is not a fixed point of the drift: |f(x)| = {r:.3e}, against "
            f"a drift scale of {scale:.3e} within {ell:.3g} of it (allowed: tol = {tol:g} "
            "times that); pass the fixed point itself (nn.fixed_points finds it to rounding)"
        )
    J = drift_and_jacobian(sde, t, x[None], args)[1][0]
    if not np.all(np.isfinite(J)):
        raise ValueError(f"the drift's Jacobian at {name} = {_short(x)} is not finite: {J}")
    return J


def check_stable_fixed_point(sde, x, name: str, *, args=None, t: float = 0.0, tol: float = 1e-8):
    """Check that ``x`` is a linearly stable fixed point (an attractor); return the Jacobian.

    ``check_fixed_point``, then every eigenvalue of J = df/dx at x must have a negative real
    part (a zero or positive one: a saddle, an unstable or a degenerate point, from which the
    quasipotential of Eq. 8 and an escape rate are not defined as an attractor's).

    Raises:
        ValueError: x (named ``name``) is not a fixed point, or not a stable one: the
            eigenvalues.
    """
    J = check_fixed_point(sde, x, name, args=args, t=t, tol=tol)
    ev = np.linalg.eigvals(J)
    scale = max(float(np.max(np.abs(ev))), np.finfo(float).tiny)
    if np.any(ev.real >= -1e-12 * scale):
        k = int(np.sum(ev.real >= -1e-12 * scale))
        raise ValueError(
            f"{name} = {_short(np.asarray(x))} is a fixed point but not a stable one: {k} "
            f"eigenvalue(s) of the drift's Jacobian have real part >= 0 (eigenvalues "
            f"{np.array2string(np.sort_complex(ev), precision=4)}); an attractor needs all "
            "real parts < 0 (use nn.fixed_points to find the stable ones)"
        )
    return J


def sample_around(centres, radius: float, count: int = 16, seed: int = 0) -> np.ndarray:
    """``count`` states uniform in the ball of ``radius`` around each centre (seeded)."""
    centres = np.atleast_2d(np.asarray(centres, dtype=np.float64))
    n = centres.shape[1]
    rng = np.random.default_rng(seed)
    out = [centres]
    for c in centres:
        u = rng.standard_normal((count, n))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        r = radius * rng.uniform(0.0, 1.0, count) ** (1.0 / n)
        out.append(c + r[:, None] * u)
    return np.concatenate(out)


def check_autonomous_drift(
    sde, xs, *, args=None, entry: str, times=AUTONOMY_TIMES, rtol: float = 1e-12
) -> None:
    """f(t, x) = f(t0, x) at every state of ``xs`` and every time in ``times``.

    Raises:
        ValueError: ``entry`` needs an autonomous drift; the state, the time and the change.
    """
    xs = np.atleast_2d(np.asarray(xs, dtype=np.float64))
    base = drift_at(sde, float(times[0]), xs, args)
    ok = np.all(np.isfinite(base), axis=1)
    scale = float(np.max(np.abs(base[ok]))) if ok.any() else 0.0
    for t in times[1:]:
        ft = drift_at(sde, float(t), xs, args)
        diff = np.where(ok[:, None], np.abs(ft - base), 0.0)
        diff = np.where(np.isnan(diff), np.inf, diff)
        k = int(np.argmax(np.max(diff, axis=1)))
        change = float(np.max(diff[k]))
        if change > rtol * scale + 1e-300:
            raise ValueError(
                f"{entry} needs an autonomous drift (f independent of t), but f(t, x) depends "
                f"on t: at x = {_short(xs[k])}, |f(t={t:g}, x) - f(t={times[0]:g}, x)| = "
                f"{change:.3e} against a drift scale of {scale:.3e} (allowed: {rtol:g} "
                "relative); fix the time (wrap the drift with t = const) or use "
                "most_likely_path, which handles time-dependent models"
            )


def check_gradient_drift(
    sde, xs, *, args=None, D=None, entry: str, tol: float = 1e-8, where=None
) -> None:
    """f = -D grad U on the states ``xs``: D^-1 J symmetric, J = df/dx (D constant).

    (For constant D, f = -D grad U holds on a simply connected region exactly when
    D^-1 J = -Hess U is symmetric there.)

    The relative asymmetry ``max|A - A^T| / max over the sample of max|A|`` with
    ``A = D^-1 J`` must be at most ``tol`` at every state where the drift is finite. ``D``
    (scalar or (n, n)) defaults to the identity. ``where(k)`` describes state k in messages.

    Raises:
        ValueError: ``entry`` needs a gradient drift ("not a gradient"): the state, the
            asymmetry and the scale.
    """
    xs = np.atleast_2d(np.asarray(xs, dtype=np.float64))
    n = xs.shape[1]
    _, js = drift_and_jacobian(sde, 0.0, xs, args)
    ok = np.all(np.isfinite(js.reshape(len(xs), -1)), axis=1)
    if not ok.any():
        raise ValueError(f"{entry}: the drift's Jacobian is not finite at any sampled state")
    d = np.asarray(1.0 if D is None else D, dtype=np.float64)
    Dm = d * np.eye(n) if d.ndim == 0 else np.diag(d) if d.ndim == 1 else d
    A = np.linalg.solve(Dm[None], js[ok])
    asym = np.max(np.abs(A - np.swapaxes(A, 1, 2)), axis=(1, 2))
    scale = float(np.max(np.abs(A)))
    k = int(np.argmax(asym))
    if asym[k] > tol * scale:
        idx = int(np.flatnonzero(ok)[k])
        place = where(idx) if where is not None else "a sampled state"
        i, j = np.unravel_index(np.argmax(np.abs(A[k] - A[k].T)), (n, n))
        raise ValueError(
            f"the drift is not a gradient f = -D grad U, so {entry} does not apply: D^-1 df/dx "
            f"is not symmetric at x = {_short(xs[idx])} ({place}): entries ({i + 1}, {j + 1}) "
            f"and ({j + 1}, {i + 1}) are {A[k][i, j]:.4g} and {A[k][j, i]:.4g}, an asymmetry of "
            f"{asym[k]:.3e} against a Jacobian scale of {scale:.3e} (allowed: tol = {tol:g} "
            "relative). Non-gradient drifts need the Bouchet-Reygner prefactor (not "
            "implemented); the barrier itself is nn.barrier"
        )
