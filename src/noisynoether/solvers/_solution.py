"""PathSolution: the one result protocol every path solver returns, with save/load as .npz.

Every solver result (``PathResult``, ``EnergyPathResult``, ``ShootResult``) subclasses
``PathSolution`` and so has the same names meaning the same things: ``ts`` (K,), ``xs``
(K, n), ``action`` (the total S of Eq. 8, a float), ``momentum`` (K-1, n) and ``energy``
(K-1,) on each interval by the midpoint rule (Eqs. 15 and 10), ``converged``, ``status``
(a ``Status``), ``message``, ``iterations`` and ``stats`` (solver-specific counters).

Results are immutable PyTrees (frozen dataclasses registered with
``jax.tree_util.register_dataclass``): the arrays and ``action`` are leaves, everything else
(flags, status, message, counters) is static metadata.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import jax
import numpy as np

from ._status import Status

__all__ = ["PathSolution", "pytree_result", "deprecated_alias"]

#: Version of the file format written by ``PathSolution.save``.
FORMAT_VERSION = 1
_METADATA_KEY = "__metadata__"
_CLASSES: dict[str, type] = {}


def pytree_result(cls):
    """Register a frozen result dataclass as a PyTree: ``cls._data_fields`` are the leaves."""
    _CLASSES[cls.__name__] = cls
    names = [f.name for f in dataclasses.fields(cls)]
    data = [n for n in names if n in cls._data_fields]
    meta = [n for n in names if n not in cls._data_fields]
    jax.tree_util.register_dataclass(cls, data_fields=data, meta_fields=meta)
    return cls


def deprecated_alias(old: str, new: str, getter, *, doc: str = ""):
    """A property ``old`` that warns (DeprecationWarning) and returns ``getter(self)``."""

    def get(self):
        warnings.warn(
            f"{type(self).__name__}.{old} is deprecated and will be removed after 0.2; use {new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getter(self)

    return property(get, doc=doc or f"Deprecated: use ``{new}``.")


def _to_json(value):
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _to_json(value.tolist())
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if value is None or isinstance(value, int | float | str):
        return value
    raise TypeError(f"cannot save a value of type {type(value).__name__} in the metadata")


def _from_json(value):
    """Lists back to tuples (results keep tuples: hashable, immutable)."""
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    return value


@dataclasses.dataclass(frozen=True, kw_only=True, repr=False)
class PathSolution:
    """The common part of every path solver's result (see the module docstring).

    Attributes:
        ts: (K,) times of the nodes.
        xs: (K, n) the path.
        action: the total action S of Eq. 8 along it (a float).
        momentum: (K-1, n) p = 1/2 D^-1 (xdot - f) on each interval, midpoint rule (Eq. 15).
        energy: (K-1,) E = 1/4 xdot^T D^-1 xdot - 1/4 f^T D^-1 f on each interval, midpoint
            rule (Eq. 10), as ``nn.energy(sde, ts, xs)``.
        converged: True when the solver met its tolerances (``status`` is SUCCESSFUL).
        status: a ``Status``: why the solver stopped (``status.message``: cause and fix).
        message: what happened in this run, with its numbers, and what to try.
        iterations: the solver's main iteration count (see the subclass).
        stats: solver-specific counters (a dict; see the subclass).

    Saved files (``save``/``load``): one ``.npz`` archive holding every array field under its
    own name and one entry ``__metadata__``, a JSON string (as written by Python's ``json``:
    ``Infinity``/``NaN`` allowed) with ``class`` (the result class name), ``format_version``
    (1), ``fields`` (every non-array field: scalars, ``status`` by name, ``message``,
    ``stats``). Loading needs no pickle.
    """

    ts: np.ndarray
    xs: np.ndarray
    action: float
    momentum: np.ndarray
    energy: np.ndarray
    converged: bool
    status: Status
    message: str
    iterations: int = 0
    stats: dict = dataclasses.field(default_factory=dict)

    _data_fields = ("ts", "xs", "action", "momentum", "energy")

    @property
    def energy_spread(self) -> float:
        """max E - min E over the intervals: about 0 for an autonomous model's minimiser."""
        return float(np.ptp(self.energy))

    @property
    def momentum_spread(self) -> np.ndarray:
        """(n,) max p - min p per component along the path."""
        return np.ptp(self.momentum, axis=0)

    def _summary_extra(self) -> str:
        return ""

    def __repr__(self) -> str:
        K, n = np.shape(self.xs)
        state = "converged" if self.converged else f"NOT converged ({self.status.name})"
        head = (
            f"{type(self).__name__}: {state}, {self.iterations} iterations; K = {K} points, "
            f"n = {n}, t in [{self.ts[0]:.6g}, {self.ts[-1]:.6g}]"
        )
        return (
            f"{head}\n  action S = {float(self.action):.12g}{self._summary_extra()}\n"
            f"  message: {self.message}"
        )

    # ------------------------------------------------------------------ saving and loading
    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write the result to ``path`` (``.npz``; the suffix is added if missing).

        The format is described in the class docstring. Refuses to replace an existing file
        unless ``overwrite=True``. Returns the path written.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        if path.exists() and not overwrite:
            raise FileExistsError(
                f"{path} exists; pass overwrite=True to replace it, or choose another path"
            )
        arrays, fields = {}, {}
        for f in dataclasses.fields(self):
            value = vars(self)[f.name]  # as stored: a field built on first use stays unbuilt
            if isinstance(value, np.ndarray | jax.Array):
                arrays[f.name] = np.asarray(value)
            elif isinstance(value, Status):
                fields[f.name] = value.name
            else:
                fields[f.name] = _to_json(value)
        meta = dict(class_name=type(self).__name__, format_version=FORMAT_VERSION, fields=fields)
        arrays[_METADATA_KEY] = np.array(json.dumps(meta))
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
        return path

    @classmethod
    def load(cls, path) -> PathSolution:
        """Read a result written by ``save``; returns the class that was saved."""
        with np.load(Path(path), allow_pickle=False) as data:
            if _METADATA_KEY not in data.files:
                raise ValueError(f"{path} is not a saved noisynoether result (no metadata entry)")
            meta = json.loads(str(data[_METADATA_KEY]))
            arrays = {k: np.array(data[k]) for k in data.files if k != _METADATA_KEY}
        version = meta.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"{path} has format version {version!r}; this noisynoether reads version "
                f"{FORMAT_VERSION}"
            )
        target = _CLASSES.get(meta.get("class_name"))
        if target is None or not issubclass(target, cls):
            raise ValueError(f"{path} holds a {meta.get('class_name')!r}, not a {cls.__name__}")
        fields = {k: _from_json(v) for k, v in meta["fields"].items()}
        fields["status"] = Status[fields["status"]]
        return target(**fields, **arrays)

    def plot(self, **kw):
        """Draw the path and its charges: ``noisynoether.plotting.plot_path(self, **kw)``."""
        from ..plotting import plot_path

        return plot_path(self, **kw)
