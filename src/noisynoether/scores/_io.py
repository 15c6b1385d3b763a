"""Save and load a score network: equinox's leaf serialisation plus a JSON of hyperparameters.

``save_score(path, network, hyperparameters)`` writes ``path.eqx`` (the weights, by
``equinox.tree_serialise_leaves``) and ``path.json`` (the network's kind, width, depth,
data_scale and dimension, plus anything else given, e.g. the training settings and final loss).
``load_score(path)`` rebuilds an untrained network of the same shape from the JSON and fills
in the saved weights (``equinox.tree_deserialise_leaves``): the loaded network gives the same
outputs bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path

import equinox as eqx
import jax

from ._networks import KINDS, EquivariantScoreMLP, make_score_network

__all__ = ["save_score", "load_score", "network_hyperparameters"]

_SHAPE_KEYS = ("kind", "width", "depth", "data_scale", "dim")


def network_hyperparameters(network) -> dict:
    """``{"kind", "width", "depth", "data_scale", "dim"}`` of a network of this package."""
    mlp = getattr(network, "mlp", None)
    if not isinstance(mlp, eqx.nn.MLP):
        raise TypeError(
            "network must be a ScoreMLP or EquivariantScoreMLP (make_score_network); got "
            f"{type(network).__name__}"
        )
    equivariant = isinstance(network, EquivariantScoreMLP)
    return {
        "kind": "equivariant" if equivariant else "plain",
        "width": int(mlp.width_size),
        "depth": int(mlp.depth),
        "data_scale": float(network.data_scale),
        "dim": 2 if equivariant else int(mlp.out_size),
    }


def _paths(path) -> tuple[Path, Path]:
    p = Path(path).expanduser()
    if p.suffix in (".eqx", ".json"):
        p = p.with_suffix("")
    return p.with_suffix(".eqx"), p.with_suffix(".json")


def save_score(path, network, hyperparameters=None) -> tuple[Path, Path]:
    """Write the network to ``path.eqx`` and its hyperparameters to ``path.json``.

    Args:
        path: the file stem (a ``.eqx`` or ``.json`` suffix is dropped); the folder must exist.
        network: a ``ScoreMLP`` or ``EquivariantScoreMLP``.
        hyperparameters: more JSON-serialisable entries for the JSON (e.g.
            ``TrainResult.hyperparameters``); the network's own shape entries take precedence.

    Returns:
        The two paths written.
    """
    weights, meta = _paths(path)
    if not weights.parent.is_dir():
        raise ValueError(f"path must be in an existing folder; got {str(path)!r}")
    info = dict(hyperparameters or {})
    info.update(network_hyperparameters(network))
    eqx.tree_serialise_leaves(weights, network)
    meta.write_text(json.dumps(info, indent=2, sort_keys=True))
    return weights, meta


def load_score(path):
    """The network saved by ``save_score`` at ``path`` (stem, ``.eqx`` or ``.json``).

    Returns:
        ``(network, hyperparameters)``: the network with its saved weights, and the JSON's dict.
    """
    weights, meta = _paths(path)
    for p in (weights, meta):
        if not p.is_file():
            raise FileNotFoundError(f"no saved score network at {str(path)!r}: {p} is missing")
    info = json.loads(meta.read_text())
    missing = [k for k in _SHAPE_KEYS if k not in info]
    if missing or info["kind"] not in KINDS:
        raise ValueError(
            f"{meta} is not a score network's JSON: needs {list(_SHAPE_KEYS)} with kind in "
            f"{list(KINDS)}; got keys {sorted(info)}"
        )
    skeleton = make_score_network(
        info["kind"],
        width=info["width"],
        depth=info["depth"],
        data_scale=info["data_scale"],
        dim=info["dim"],
        key=jax.random.key(0),
    )
    return eqx.tree_deserialise_leaves(weights, skeleton), info
