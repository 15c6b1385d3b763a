"""A rate network trained on a two-choice decision task, reproducibly (issue 12 item 7).

The task (a noisy evidence-integration and memory task, as in the decision-making models the
paper's subject list starts with): a scalar input ``u(t) = c + 0.3 xi(t)`` is on for the first
``stim`` time units with a coherence ``c`` in {+-0.1, +-0.2, +-0.4, +-0.8}; after a delay the
readout ``z = w_out . tanh(x)`` must report ``sign(c)`` from ``read`` to the end of the trial
(``TASK``'s times), with no input: the network has to hold its choice, i.e. grow two attractors.

The network is ``noisy_rnn``'s ``tau xdot = -x + W tanh(x) + B u(t) + noise`` with tau = 1 and
no bias (so f(-x) = -f(x) with u = 0: the two choices are mirror images), simulated for training
with Euler-Maruyama steps of ``TASK['dt']`` and training noise ``TASK['D_train']``. Training:
Adam (optax; learning rate 1e-2 decaying to 1e-3 over 400 steps, cosine) on the mean squared
readout error plus 1e-4 |W|^2, batches of 64 trials, everything seeded by one integer (the same
seed gives the same weights on the same platform).
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

from .._jit import jit

__all__ = ["TASK", "train_decision_rnn", "task_trials", "task_states"]

TASK = {
    "dt": 0.2,  # Euler step of the training simulation (time units; tau = 1)
    "trial": 10.0,  # trial length
    "stim": 3.0,  # input on for t < stim
    "read": 5.0,  # the readout must report the choice for t >= read
    "coherences": (0.1, 0.2, 0.4, 0.8),
    "input_noise": 0.3,
    "D_train": 0.02,  # state noise during training (D, as in Eq. 5)
    "batch": 64,
    "learning_rate": 1e-2,
    "weight_decay": 1e-4,
}


#: Held-out trials for the accuracy and for the states of ``task_states`` (one compiled shape).
EVAL_TRIALS = 256
#: Adam steps over which the learning rate decays (cosine, to a tenth); later steps keep it.
STEPS = 400


def _steps(name: str) -> int:
    return int(round(TASK[name] / TASK["dt"]))


def task_trials(key, batch: int):
    """A batch of trials: coherences c (batch,), inputs u (batch, K) and noise (batch, K, n)."""
    K = _steps("trial")
    k1, k2, k3 = jax.random.split(key, 3)
    c = jax.random.choice(k1, jnp.asarray(TASK["coherences"]), (batch,))
    c = c * jax.random.choice(k2, jnp.array([-1.0, 1.0]), (batch,))
    on = jnp.arange(K) < _steps("stim")
    u = (c[:, None] + TASK["input_noise"] * jax.random.normal(k3, (batch, K))) * on
    return c, u


def _simulate(p, u, noise):
    """Euler-Maruyama for one trial; returns the states (K, n) and the readout (K,)."""
    dt = TASK["dt"]

    def step(x, inp):
        uk, nk = inp
        x = x + dt * (-x + p["W"] @ jnp.tanh(x) + p["B"] * uk) + nk
        return x, (x, jnp.tanh(x) @ p["w_out"])

    _, (xs, z) = jax.lax.scan(step, jnp.zeros(p["W"].shape[0]), (u, noise))
    return xs, z


def _batch(p, key, batch):
    n = p["W"].shape[0]
    ka, kb = jax.random.split(key)
    c, u = task_trials(ka, batch)
    noise = jax.random.normal(kb, (batch, u.shape[1], n)) * jnp.sqrt(
        2 * TASK["D_train"] * TASK["dt"]
    )
    xs, z = jax.vmap(_simulate, (None, 0, 0))(p, u, noise)
    return c, xs, z


_batch_jit = jit(_batch, static_argnums=2)


def _loss(p, key):
    c, _, z = _batch(p, key, TASK["batch"])
    err = z[:, _steps("read") :] - jnp.sign(c)[:, None]
    return jnp.mean(err**2) + TASK["weight_decay"] * jnp.sum(p["W"] ** 2)


@functools.lru_cache(maxsize=1)
def _optimizer():
    """Adam and its jitted update step (compiled once per network size)."""
    import optax

    opt = optax.adam(optax.cosine_decay_schedule(TASK["learning_rate"], STEPS, alpha=0.1))

    @jit
    def update(p, state, k):
        loss, g = jax.value_and_grad(_loss)(p, k)
        upd, state = opt.update(g, state, p)
        return optax.apply_updates(p, upd), state, loss

    return opt, update


def train_decision_rnn(n: int = 16, steps: int = 400, seed: int = 0, progress=None) -> dict:
    """Train the network on the task; returns the weights, losses, accuracy and the time taken.

    Args:
        n: number of units (16-32 trains in seconds on a CPU).
        steps: Adam steps.
        seed: the one seed of the initial weights and of every batch.
        progress: None or a callable ``(done, total, loss)`` called every 50 steps.

    Returns:
        ``{"W": (n, n), "B": (n,), "w_out": (n,), "losses": (steps,), "accuracy", "seconds"}``;
        the accuracy is the fraction of EVAL_TRIALS held-out trials whose final readout has
        the sign of c.
    """
    key = jax.random.PRNGKey(seed)
    k1, k2, k3 = jax.random.split(key, 3)
    p = {
        "W": 0.9 * jax.random.normal(k1, (n, n)) / jnp.sqrt(n),
        "B": jax.random.normal(k2, (n,)),
        "w_out": jax.random.normal(k3, (n,)) / jnp.sqrt(n),
    }
    opt, update = _optimizer()
    state, losses, t = opt.init(p), [], time.perf_counter()
    for i in range(steps):
        p, state, loss = update(p, state, jax.random.fold_in(key, i + 1))
        losses.append(float(loss))
        if progress is not None and ((i + 1) % 50 == 0 or i + 1 == steps):
            progress(i + 1, steps, losses[-1])
    c, _, z = _batch_jit(p, jax.random.fold_in(key, 10**6), EVAL_TRIALS)
    accuracy = float(jnp.mean(jnp.sign(z[:, -1]) == jnp.sign(c)))
    out = {k: np.asarray(v, dtype=np.float64) for k, v in p.items()}
    return dict(out, losses=np.asarray(losses), accuracy=accuracy, seconds=time.perf_counter() - t)


def task_states(net: dict, num_trials: int = EVAL_TRIALS, seed: int = 1) -> np.ndarray:
    """States visited by trials of the task (every 5th step after the input is off): (m, n).

    These are the ``starts`` of ``fixed_points``: where the trained network actually goes.
    """
    p = {k: jnp.asarray(net[k]) for k in ("W", "B", "w_out")}
    _, xs, _ = _batch_jit(p, jax.random.PRNGKey(seed), num_trials)
    return np.asarray(xs[:, _steps("stim") :: 5]).reshape(-1, net["W"].shape[0])
