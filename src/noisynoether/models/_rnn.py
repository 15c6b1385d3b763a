"""Noisy recurrent rate networks ``tau xdot = -x + W phi(x) + b + B u(t) + noise`` (issue 12).

The paper's subjects are trained recurrent networks (its Sec. 1: "models of decision-making,
recurrent neural networks"); ``noisy_rnn`` turns one into an ``SDE`` (Eq. 5) that every solver
accepts. The weights live in an ``RNNWeights`` PyTree: the model carries its own (used when
``args`` is None), and passing other weights of the same shapes as ``args=`` solves that
network with the code compiled for the first (no recompilation).

Nonlinearities: ``"tanh"``, ``"sigmoid"``, ``"softplus"`` (log(1 + e^x), the smooth ReLU),
``"linear"`` or any jax-traceable callable. A plain ReLU is refused: the Newton solvers use
second derivatives of f (the Hessian of the action, Eq. 8, and the Jacobian of |f|^2 at fixed
points), which a kink makes undefined; ``"softplus"`` is the smooth replacement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import as_matrix, as_vector, check_positive
from .._sde import SDE

__all__ = ["RNNWeights", "rnn_weights", "noisy_rnn"]

NONLINEARITIES: dict[str, Callable] = {
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "softplus": jax.nn.softplus,
    "linear": lambda x: x,
}


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class RNNWeights:
    """The parameters of ``noisy_rnn`` as a PyTree (pass as ``args=`` to swap networks).

    Attributes:
        W: (n, n) recurrent weights.
        b: (n,) bias.
        tau: the time constant, a 0-d array.
        B: (n, m) input weights, or None for a network without input.
    """

    W: np.ndarray
    b: np.ndarray
    tau: np.ndarray
    B: np.ndarray | None = None

    def digest(self) -> str:
        h = hashlib.sha1()
        for a in (self.W, self.b, self.tau, self.B):
            if a is not None:
                a = np.asarray(a, dtype=np.float64)
                h.update(a.tobytes() + str(a.shape).encode())
        return h.hexdigest()


def rnn_weights(W, b=None, *, tau=1.0, B=None) -> RNNWeights:
    """Checked ``RNNWeights``: W (n, n), b (n,) (zeros when None), tau > 0, B (n, m) or None."""
    W = as_matrix(W, "W")
    n = W.shape[0]
    b = np.zeros(n) if b is None else as_vector(b, "b", n)
    tau = np.asarray(check_positive(tau, "tau"), dtype=np.float64)
    if B is not None:
        if isinstance(B, str | bool) or np.iscomplexobj(B):
            raise TypeError(f"B must be a real (n, m) matrix of input weights; got {B!r}")
        B = np.asarray(B, dtype=np.float64)
        B = B[:, None] if B.ndim == 1 else B
        if B.ndim != 2 or B.shape[0] != n:
            raise ValueError(
                f"B (input weights) must have shape ({n}, m) for W of shape ({n}, {n}); got "
                f"{np.shape(B)}"
            )
        if not np.all(np.isfinite(B)):
            raise ValueError("B (input weights) must be finite")
    return RNNWeights(W, b, tau, B)


@dataclass(frozen=True, eq=False)
class _RNNDrift:
    """f(t, x, w) = (-x + W phi(x) + b + B u(t)) / tau with w = args or the model's weights."""

    weights: RNNWeights
    phi: str | Callable
    u: Callable | None
    _key: tuple = field(default=(), repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_key", (self.weights.digest(), self.phi, self.u))

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, _RNNDrift) and self._key == other._key

    def __call__(self, t, x, args):
        w = self.weights if args is None else args
        if not isinstance(w, RNNWeights):
            raise TypeError(
                "args of a noisy_rnn model must be None (its own weights) or "
                f"nn.models.rnn_weights(...) (other weights); got {type(w).__name__}"
            )
        phi = NONLINEARITIES[self.phi] if isinstance(self.phi, str) else self.phi
        rhs = -x + jnp.asarray(w.W) @ phi(x) + jnp.asarray(w.b)
        if self.u is not None:
            rhs = rhs + jnp.asarray(w.B) @ jnp.atleast_1d(jnp.asarray(self.u(t)))
        return rhs / jnp.asarray(w.tau)


def _check_inputs(inputs, n: int):
    if inputs is None:
        return None, None
    if not (isinstance(inputs, tuple | list) and len(inputs) == 2 and callable(inputs[1])):
        raise TypeError(
            "inputs must be None or a pair (B, u): B the (n, m) input weights and u a "
            f"jax-traceable function of t returning m inputs; got {inputs!r:.80}"
        )
    B, u = inputs
    B = np.asarray(B, dtype=np.float64) if not isinstance(B, str | bool) else B
    if not isinstance(B, np.ndarray):
        raise TypeError(f"inputs[0] (B) must be a real (n, m) matrix; got {B!r}")
    m = 1 if B.ndim == 1 else B.shape[-1]
    try:
        shape = jax.eval_shape(u, jnp.zeros(())).shape
    except Exception as err:  # noqa: BLE001 - any trace error is the user's u
        raise ValueError(
            "inputs[1] (u) must be a jax-traceable function of t (write it with jax.numpy); "
            f"calling it on a traced t failed: {type(err).__name__}: {err}"
        ) from err
    if shape not in ((), (m,)):
        raise ValueError(f"inputs[1] (u) must return {m} input(s) (shape ({m},)); got {shape}")
    return B, u


def noisy_rnn(W, b=None, *, tau=1.0, D, nonlinearity="tanh", inputs=None) -> SDE:
    """A rate network ``xdot = (-x + W phi(x) + b + B u(t)) / tau`` with diffusion D (Eq. 5).

    x is the vector of (pre-activation) currents of n units and phi(x) their rates. An input
    signal u(t) makes the drift time-dependent, which the fixed-time solvers handle exactly
    (the energy, Eq. 10, is then not conserved; ``charge_balance`` shows by how much).

    Args:
        W: (n, n) recurrent weights (NumPy or anything array-like).
        b: (n,) constant bias; zeros when None.
        tau: time constant > 0.
        D: the diffusion tensor as in ``SDE`` (a number, (n,) or (n, n) SPD matrix).
        nonlinearity: ``"tanh"`` (default), ``"sigmoid"``, ``"softplus"`` (smooth ReLU),
            ``"linear"`` or a jax-traceable callable applied elementwise. ``"relu"`` is refused
            (the solvers need second derivatives; use ``"softplus"``).
        inputs: None, or ``(B, u)`` with B the (n, m) input weights and ``u(t)`` a
            jax-traceable function returning the m inputs at time t.

    Returns:
        An ``SDE`` whose drift reads its weights from ``args`` when given (an ``RNNWeights``
        from ``rnn_weights``, same shapes) and its own otherwise; ``sde.drift.weights`` holds them.

    Raises:
        TypeError/ValueError: W not square, b / B of the wrong shape, tau <= 0, an unknown
            nonlinearity, u not traceable or of the wrong size, D not SPD or of the wrong size.

    Example:
        >>> sde = noisy_rnn(1.5 * np.eye(2), D=0.1)      # two attractors per unit
    """
    if isinstance(nonlinearity, str):
        if nonlinearity == "relu":
            raise ValueError(
                "nonlinearity='relu' is not supported: the Newton solvers need second "
                "derivatives of f, which relu's kink makes undefined; use 'softplus' "
                "(log(1 + e^x), a smooth relu) or pass a smooth callable"
            )
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"nonlinearity must be one of {sorted(NONLINEARITIES)} or a callable; got "
                f"{nonlinearity!r}"
            )
    elif not callable(nonlinearity):
        raise TypeError(
            f"nonlinearity must be a name {sorted(NONLINEARITIES)} or a callable; got "
            f"{nonlinearity!r}"
        )
    W = as_matrix(W, "W")
    n = W.shape[0]
    if callable(nonlinearity):
        _check_traceable(nonlinearity, n)
    B, u = _check_inputs(inputs, n)
    weights = rnn_weights(W, b, tau=tau, B=B)
    _check_D(D, n)
    return SDE(drift=_RNNDrift(weights, nonlinearity, u), diffusion=D)


def _check_traceable(phi, n: int) -> None:
    """A callable nonlinearity must map (n,) to (n,) under jax's tracing (jax.numpy, not NumPy):
    the solvers differentiate it twice."""
    try:
        out = jax.eval_shape(lambda x: phi(x), jax.ShapeDtypeStruct((n,), jnp.float64))
    except Exception as err:
        raise TypeError(
            f"nonlinearity {phi!r} must be jax-traceable (written with jax.numpy, not NumPy): "
            f"calling it on a traced (n,) array failed with {type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}"
        ) from None
    if getattr(out, "shape", None) != (n,):
        raise ValueError(
            f"nonlinearity must act elementwise, mapping shape ({n},) to ({n},); got "
            f"{getattr(out, 'shape', type(out).__name__)}"
        )


def _check_D(D, n: int) -> None:
    if callable(D):
        return
    if not isinstance(D, str | bool) and np.iscomplexobj(D):
        raise TypeError(f"D must be real (a number, ({n},) or ({n}, {n}) SPD); got {D!r}")
    try:
        arr = np.asarray(D, dtype=np.float64) if not isinstance(D, str | bool) else None
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim > 2:
        return  # SDE's own check names the problem
    if (arr.ndim == 1 and arr.shape != (n,)) or (arr.ndim == 2 and arr.shape != (n, n)):
        raise ValueError(
            f"D has shape {arr.shape} but W is {n} x {n}: D must be a number, shape ({n},) or "
            f"({n}, {n})"
        )
