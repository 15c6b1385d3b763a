"""The compiled Euler-Maruyama kernel of ``simulate``: one jitted ``lax.scan`` per chunk of paths.

``x_{k+1} = x_k + f(t_k, x_k) dt_k + sqrt(2 D(t_k, x_k) dt_k) xi_k``, vectorised over the paths of
a chunk with ``jax.vmap``; the noise of step k of a path is drawn from ``fold_in(path_key, k)``,
so that the same key gives the same paths whatever the chunk size.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._jit import jit
from ._sde import SDE


@functools.lru_cache(maxsize=64)
def _compiled_chunk(sde: SDE, form: str, has_lower: bool, has_upper: bool):
    """A jitted function simulating one chunk of paths (jit caches each chunk shape).

    Besides the saved states and the hitting steps it returns, per path, the first step at which
    D was negative (clamped to 0 there; -1 if never) and the first at which the state stopped
    being finite (-1 if never), so that ``simulate`` can say so.
    """
    const_chol = sde.is_constant_diffusion and form == "matrix"

    def chunk(x0, ts, keys, args, lower, upper, chol, saved):
        n = x0.shape[0]
        nb = keys.shape[0]
        dts = jnp.diff(ts)

        def noise(t, x, xi, dt):
            if const_chol:
                return jnp.sqrt(2.0 * dt) * (chol @ xi), jnp.asarray(False)
            d = sde.D_raw(t, x, args)
            if form == "matrix":  # symmetric square root: also right for a singular D
                lam, vec = jnp.linalg.eigh(0.5 * (d + d.T))
                root = (vec * jnp.sqrt(jnp.maximum(lam, 0.0))) @ vec.T
                negative = lam[0] < -1e-12 * jnp.max(jnp.abs(lam))
                return jnp.sqrt(2.0 * dt) * (root @ xi), negative
            return jnp.sqrt(2.0 * jnp.maximum(d, 0.0) * dt) * xi, jnp.any(d < 0)

        def draw(key, k):
            return jax.random.normal(jax.random.fold_in(key, k), (n,), dtype=jnp.float64)

        def first(flag, idx, k):
            return jnp.where(flag & (idx < 0), k + 1, idx)

        def step(carry, inp):
            x, alive, hit_idx, hit_side, neg_idx, bad_idx = carry
            k, t, dt = inp
            xi = jax.vmap(draw, in_axes=(0, None))(keys, k)
            fx = jax.vmap(lambda xx: sde.f(t, xx, args))(x)
            dx, negative = jax.vmap(lambda xx, z: noise(t, xx, z, dt))(x, xi)
            x_new = x + fx * dt + dx
            below = jnp.any(x_new <= lower, axis=1) if has_lower else jnp.zeros(nb, bool)
            above = jnp.any(x_new >= upper, axis=1) if has_upper else jnp.zeros(nb, bool)
            crossed = alive & (below | above)
            if has_lower or has_upper:
                x_new = jnp.clip(x_new, lower if has_lower else None, upper if has_upper else None)
            x_next = jnp.where(alive[:, None], x_new, x)
            hit_idx = jnp.where(crossed, k + 1, hit_idx)
            hit_side = jnp.where(crossed, jnp.where(below, -1, 1), hit_side)
            neg_idx = first(alive & negative, neg_idx, k)
            bad_idx = first(~jnp.all(jnp.isfinite(x_next), axis=1), bad_idx, k)
            carry = (x_next, alive & ~crossed, hit_idx, hit_side, neg_idx, bad_idx)
            return carry, x_next

        never = jnp.full(nb, -1, jnp.int32)
        init = (
            jnp.broadcast_to(x0, (nb, n)),
            jnp.ones(nb, bool),
            never,
            jnp.zeros(nb, jnp.int32),
            never,
            never,
        )
        steps = jnp.arange(dts.shape[0], dtype=jnp.int32)
        (_, _, hit_idx, hit_side, neg_idx, bad_idx), xs = jax.lax.scan(
            step, init, (steps, ts[:-1], dts)
        )
        # xs[j] is the state at ts[j + 1]; keep the saved grid points after the first.
        return jnp.swapaxes(xs[saved[1:] - 1], 0, 1), hit_idx, hit_side, neg_idx, bad_idx

    return jit(chunk, runtime_bound=True)  # it runs for seconds: compiled optimised


def _saved_indices(K: int, save_every: int) -> np.ndarray:
    """Every ``save_every``-th grid index from 0, and always the last one."""
    idx = np.arange(0, K, save_every)
    return idx if idx[-1] == K - 1 else np.append(idx, K - 1)
