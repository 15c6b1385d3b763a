"""Denoising score matching on samples of the blurred ring of Fig. 2 (equinox + optax).

The forward process of Eq. 21, ``xdot = sqrt(2t) eta``, turns a data point x_0 into
``x_t = x_0 + t eps`` (eps standard normal): variance t^2 at diffusion time t. The score of the
noised data, ``s = grad log p(x | t)``, minimises the denoising score-matching loss (Vincent 2011)

    J(s) = E_{t, x_0, eps} | t s(x_0 + t eps, t) + eps |^2,

i.e. the noise-prediction loss ``|eps_hat - eps|^2`` with ``eps_hat = -t s`` (the weighting
lambda(t) = t^2 of Song et al. 2021). t is drawn log-uniformly from [t_min, t_max], which
covers the times the Fig. 2 paths visit (10^-0.4 to 10^1.5). Its minimum is not zero: the
exact score's loss (``dsm_loss(ring_score, ...)``) is the floor a network can reach.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._checks import check_key, check_positive
from .._jit import jit

__all__ = [
    "ring_samples",
    "dsm_loss",
    "train_score",
    "train_ring_score",
    "TrainResult",
    "DEFAULT_TIMES",
]

#: The diffusion times trained on: a little wider than Fig. 2's 10^-0.4 .. 10^1.5.
DEFAULT_TIMES = (0.3, 40.0)


def ring_samples(num, key, *, radius=5.0, sigma0=0.55) -> np.ndarray:
    """``num`` samples of the data of Fig. 2: uniform on the ring of radius R, blurred by sigma0.

    ``x_0 = R (cos theta, sin theta) + sigma0 z`` (theta uniform, z standard normal): the
    density ``p(x | t = 0)`` of ``models.ring_log_density``. Returns a (num, 2) float64 array.
    """
    num = check_positive(num, "num", integer=True)
    radius, sigma0 = check_positive(radius, "radius"), check_positive(sigma0, "sigma0")
    return np.asarray(_ring_samples(check_key(key), num, radius, sigma0))


@functools.partial(jit, static_argnums=(1,))
def _ring_samples(key, num, radius, sigma0):
    k1, k2 = jax.random.split(key)
    theta = jax.random.uniform(k1, (num,), jnp.float64, 0.0, 2 * jnp.pi)
    ring = radius * jnp.stack([jnp.cos(theta), jnp.sin(theta)], axis=1)
    return ring + sigma0 * jax.random.normal(k2, (num, 2), jnp.float64)


def _draw(key, samples, batch, t_min, t_max):
    """A DSM batch: data points, log-uniform times, noises."""
    ki, kt, ke = jax.random.split(key, 3)
    x0 = samples[jax.random.randint(ki, (batch,), 0, samples.shape[0])]
    u = jax.random.uniform(kt, (batch,), jnp.float64)
    t = jnp.exp(jnp.log(t_min) + u * (jnp.log(t_max) - jnp.log(t_min)))
    eps = jax.random.normal(ke, x0.shape, jnp.float64)
    return x0, t, eps


_draw_jit = jit(_draw, static_argnums=(2,))


def _loss_on(score, x0, t, eps):
    xt = x0 + t[:, None] * eps
    eps_hat = -t[:, None] * jax.vmap(score)(xt, t)
    return jnp.mean(jnp.sum((eps_hat - eps) ** 2, axis=1))


def dsm_loss(score, samples, key, *, batch=4096, times=DEFAULT_TIMES) -> float:
    """The DSM loss ``E |t s(x_t, t) + eps|^2`` of any score ``s(x, t)`` on one fixed batch.

    The same ``key`` gives the same batch, so losses of different scores (a network, the exact
    ``models.ring_score``) are compared on identical draws.
    """
    samples = jnp.asarray(samples, dtype=jnp.float64)
    t_min, t_max = (float(v) for v in times)
    # the draw compiled once (eager jax.random compiles each of its operations on first use);
    # the score evaluated eagerly (cheaper than compiling a new score for one batch)
    return float(_loss_on(score, *_draw_jit(check_key(key), samples, int(batch), t_min, t_max)))


@dataclass(frozen=True, eq=False)
class TrainResult:
    """A trained score network and how its training went.

    Attributes:
        network: the trained network (an ``equinox.Module``; call ``network(x, t)``).
        losses: (chunks,) the mean training loss over each chunk of steps.
        steps: the number of optimiser steps.
        seconds: wall time of the training (compilation included).
        hyperparameters: what built and trained it (saved next to the weights by ``save_score``).
        chunk_seconds: (chunks,) wall time of each compiled chunk of steps (the first one
            includes the compilation).
    """

    network: eqx.Module
    losses: np.ndarray
    steps: int
    seconds: float
    hyperparameters: dict = field(default_factory=dict)
    chunk_seconds: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def compile_seconds(self) -> float:
        """The first chunk's time less the median of the others' (about the compilation)."""
        c = self.chunk_seconds
        return float(c[0] - np.median(c[1:])) if c.size > 1 else float("nan")


def _make_chunk(optimiser, static, samples, batch, t_min, t_max, chunk):
    def loss_fn(params, key):
        net = eqx.combine(params, static)
        return _loss_on(net, *_draw(key, samples, batch, t_min, t_max))

    def step(carry, key):
        params, opt_state = carry
        loss, grads = jax.value_and_grad(loss_fn)(params, key)
        updates, opt_state = optimiser.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    @jit
    def run(params, opt_state, key):
        (params, opt_state), losses = jax.lax.scan(
            step, (params, opt_state), jax.random.split(key, chunk)
        )
        return params, opt_state, jnp.mean(losses)

    return run


def train_score(
    network,
    samples,
    *,
    steps=5000,
    batch_size=512,
    learning_rate=3e-3,
    times=DEFAULT_TIMES,
    key,
    chunk=100,
    progress=None,
) -> TrainResult:
    """Train a score network by denoising score matching (Adam, cosine-decayed learning rate).

    Args:
        network: an ``equinox.Module`` score ``network(x, t)`` (``make_score_network``).
        samples: (N, n) data samples (``ring_samples``).
        steps: optimiser steps (rounded up to a multiple of ``chunk``).
        batch_size: samples per step (each with its own t and eps).
        learning_rate: Adam's initial learning rate, decayed to 1 % of it by a cosine.
        times: (t_min, t_max): t is drawn log-uniformly between them.
        key: a jax PRNG key (the batches).
        chunk: steps per compiled call (``jax.lax.scan``), between progress reports.
        progress: None or a callable ``(steps_done, steps, mean_loss)`` called after each chunk.

    Returns:
        A ``TrainResult``.
    """
    samples = jnp.asarray(samples, dtype=jnp.float64)
    if samples.ndim != 2 or samples.shape[0] < 1:
        raise ValueError(f"samples must be an (N, n) array of data points; got {samples.shape}")
    steps = check_positive(steps, "steps", integer=True)
    chunk = min(check_positive(chunk, "chunk", integer=True), steps)
    batch_size = check_positive(batch_size, "batch_size", integer=True)
    learning_rate = check_positive(learning_rate, "learning_rate")
    t_min, t_max = (check_positive(v, n) for v, n in zip(times, ("t_min", "t_max"), strict=True))
    if t_min >= t_max:
        raise ValueError(f"times must be (t_min, t_max) with t_min < t_max; got {times!r}")
    key = check_key(key)
    n_chunks = -(-steps // chunk)
    schedule = optax.cosine_decay_schedule(learning_rate, n_chunks * chunk, alpha=0.01)
    optimiser = optax.adam(schedule)
    params, static = eqx.partition(network, eqx.is_inexact_array)
    opt_state = optimiser.init(params)
    run = _make_chunk(optimiser, static, samples, batch_size, t_min, t_max, chunk)
    start = time.perf_counter()
    losses, chunk_times = [], []
    for i, k in enumerate(jax.random.split(key, n_chunks)):
        t0 = time.perf_counter()
        params, opt_state, loss = run(params, opt_state, k)
        losses.append(float(loss))  # float() waits for the chunk
        chunk_times.append(time.perf_counter() - t0)
        if progress is not None:
            progress((i + 1) * chunk, n_chunks * chunk, losses[-1])
    hyper = {
        "steps": n_chunks * chunk,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "times": [t_min, t_max],
        "num_samples": int(samples.shape[0]),
        "final_loss": losses[-1],
    }
    return TrainResult(
        eqx.combine(params, static),
        np.asarray(losses),
        n_chunks * chunk,
        time.perf_counter() - start,
        hyper,
        np.asarray(chunk_times),
    )


def train_ring_score(
    kind="plain",
    *,
    steps=5000,
    width=64,
    depth=3,
    num_samples=20000,
    batch_size=512,
    learning_rate=3e-3,
    radius=5.0,
    sigma0=0.55,
    seed=0,
    chunk=100,
    progress=None,
) -> TrainResult:
    """Sample the blurred ring of Fig. 2 and train a fresh score network of ``kind`` on it.

    The data (``ring_samples(num_samples, key(seed))``), the initial weights and the batches
    come from ``seed`` alone, so two kinds trained with the same arguments see the same data and
    the same budget. ``data_scale`` is the samples' RMS coordinate. The other arguments are
    those of ``make_score_network`` and ``train_score``; everything is recorded in
    ``TrainResult.hyperparameters`` (with ``radius``, ``sigma0``, ``seed``).
    """
    from ._networks import make_score_network

    k_data, k_init, k_train = jax.random.split(jax.random.key(int(seed)), 3)
    samples = ring_samples(num_samples, k_data, radius=radius, sigma0=sigma0)
    data_scale = float(np.sqrt(np.mean(samples**2)))
    net = make_score_network(kind, width=width, depth=depth, data_scale=data_scale, key=k_init)
    res = train_score(
        net,
        samples,
        steps=steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        key=k_train,
        chunk=chunk,
        progress=progress,
    )
    res.hyperparameters.update(radius=float(radius), sigma0=float(sigma0), seed=int(seed))
    return res
