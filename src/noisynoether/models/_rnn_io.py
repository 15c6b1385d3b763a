"""Rate networks from files and from PyTorch: ``noisy_rnn_from_npz``, ``noisy_rnn_from_torch``.

torch is never imported unless a torch module or tensor is passed (``pip install
noisynoether[torch]``); a state dict of NumPy arrays with torch's key names works without it.
"""

from __future__ import annotations

import os

import numpy as np

from .._checks import as_matrix, as_vector
from .._sde import SDE
from ._rnn import noisy_rnn

__all__ = ["noisy_rnn_from_npz", "noisy_rnn_from_torch", "NPZ_KEYS", "TORCH_KEYS"]

#: Keys of a network file: W required; b, tau, B optional.
NPZ_KEYS = ("W", "b", "tau", "B")
#: Keys of a one-layer torch.nn.RNN state dict (the biases are optional: bias=False).
TORCH_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


def noisy_rnn_from_npz(path, *, D, nonlinearity="tanh", u=None) -> SDE:
    """``noisy_rnn`` from an ``.npz`` file with arrays ``W`` (n, n) and optionally ``b`` (n,),
    ``tau`` (a number) and ``B`` (n, m) (``np.savez(path, W=W, b=b, tau=tau, B=B)``).

    ``u`` (a jax-traceable function of t) drives the input weights B; without ``u`` the
    network runs without input (B, if stored, is then unused).

    Raises:
        FileNotFoundError: no such file.
        ValueError: no ``W`` in the file, an unknown key, or a check of ``noisy_rnn`` failed.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a file path (str or os.PathLike); got {path!r}")
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: np.asarray(data[k]) for k in data.files}
    unknown = sorted(set(arrays) - set(NPZ_KEYS))
    if "W" not in arrays or unknown:
        raise ValueError(
            f"{os.fspath(path)} must hold arrays named {NPZ_KEYS} (W required); got keys "
            f"{sorted(arrays)}"
        )
    tau = arrays.get("tau", np.asarray(1.0))
    if tau.size != 1:
        raise ValueError(
            f"tau in {os.fspath(path)} must be one number (the network's time constant); got "
            f"an array of shape {tau.shape}"
        )
    tau = tau.reshape(())  # a 0-d or 1-element array: noisy_rnn checks its value
    inputs = None if u is None or "B" not in arrays else (arrays["B"], u)
    if u is not None and "B" not in arrays:
        raise ValueError(f"u was given but {os.fspath(path)} holds no input weights B")
    return noisy_rnn(
        arrays["W"], arrays.get("b"), tau=tau, D=D, nonlinearity=nonlinearity, inputs=inputs
    )


def _to_numpy(value, key: str) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor (torch is imported by whoever made it)
        value = value.detach().cpu().double().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"state dict entry {key!r} must be an array; got {value!r:.60}") from err


def _state_dict(module_or_state_dict) -> dict:
    obj = module_or_state_dict
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        name = type(obj).__name__
        if name != "RNN":
            raise TypeError(f"module must be a torch.nn.RNN; got {name}")
        if obj.num_layers != 1 or obj.bidirectional or obj.nonlinearity != "tanh":
            raise ValueError(
                "only a single-layer, unidirectional torch.nn.RNN with nonlinearity='tanh' maps "
                f"to a rate network; got num_layers={obj.num_layers}, "
                f"bidirectional={obj.bidirectional}, nonlinearity={obj.nonlinearity!r}"
            )
        obj = obj.state_dict()
    if not hasattr(obj, "keys"):
        raise TypeError(
            "module_or_state_dict must be a torch.nn.RNN or its state dict (a mapping with keys "
            f"{TORCH_KEYS}); got {type(obj).__name__}"
        )
    keys = set(obj.keys())
    extra = sorted(keys - set(TORCH_KEYS))
    if extra or not {"weight_ih_l0", "weight_hh_l0"} <= keys:
        raise ValueError(
            f"the state dict must have keys {TORCH_KEYS} (biases optional) of a single-layer, "
            f"unidirectional torch.nn.RNN; got {sorted(keys)}"
            + (" (more than one layer or direction is not supported)" if extra else "")
        )
    return {k: _to_numpy(obj[k], k) for k in keys}


def noisy_rnn_from_torch(module_or_state_dict, *, D, tau=1.0, u=None) -> SDE:
    """The rate network of a one-layer ``torch.nn.RNN`` (tanh), in pre-activation variables.

    torch's discrete update ``h' = tanh(W_ih u + b_ih + W_hh h + b_hh)`` becomes, with
    ``x = W_hh h + b_ih + b_hh + W_ih u`` (so that ``h = tanh(x)`` at rest),

        tau xdot = -x + W_hh tanh(x) + (b_ih + b_hh) + W_ih u(t)

    i.e. ``noisy_rnn(W_hh, b_ih + b_hh, inputs=(W_ih, u))``. Fixed points correspond one to
    one: x* = W_hh tanh(x*) + b + W_ih u  iff  h* = tanh(x*) solves h* = tanh(W_ih u + b +
    W_hh h*). Stability need not: the map is stable where the eigenvalues of
    diag(1 - h*^2) W_hh lie inside the unit circle, the flow where their real parts are < 1
    (a map-stable point is flow-stable; the converse fails for eigenvalues near -1).

    Args:
        module_or_state_dict: a ``torch.nn.RNN`` (num_layers=1, tanh, unidirectional) or its
            ``state_dict()``, whose values may be torch tensors or NumPy arrays (keys
            ``weight_ih_l0``, ``weight_hh_l0``, optional ``bias_ih_l0``, ``bias_hh_l0``).
        D: the diffusion, as in ``noisy_rnn``.
        tau: the time constant (torch's step is one unit of time when tau = 1).
        u: a jax-traceable function of t giving the input; None runs the network without input.
    """
    sd = _state_dict(module_or_state_dict)
    W_hh, W_ih = as_matrix(sd["weight_hh_l0"], "weight_hh_l0"), sd["weight_ih_l0"]
    n = W_hh.shape[0]
    for k in ("bias_ih_l0", "bias_hh_l0"):
        if k in sd:
            as_vector(sd[k], k, n)
    b = sd.get("bias_ih_l0", np.zeros(n)) + sd.get("bias_hh_l0", np.zeros(n))
    inputs = None if u is None else (W_ih, u)
    return noisy_rnn(W_hh, b, tau=tau, D=D, nonlinearity="tanh", inputs=inputs)
