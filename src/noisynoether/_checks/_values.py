"""Checks of single values: counts, tolerances, choices, flags, keys, memory estimates."""

from __future__ import annotations

import numbers

import jax
import jax.numpy as jnp
import numpy as np

from .._sde import SDE


def _short(a) -> str:
    return np.array2string(np.asarray(a), precision=6, threshold=8)


def check_sde(sde) -> None:
    if not isinstance(sde, SDE):
        raise TypeError(f"sde must be a noisynoether.SDE; got {type(sde).__name__}")


def check_positive(
    value,
    name: str,
    *,
    integer: bool = False,
    allow_zero: bool = False,
    upper: float | None = None,
    allow_none: bool = False,
):
    """A finite real (or integer) > 0 (>= 0 with ``allow_zero``), below ``upper`` when given.

    Returns the value as ``float`` (or ``int``), or None when ``allow_none`` and it is None.
    """
    if value is None and allow_none:
        return None
    kind = "an integer" if integer else "a real number"
    ok_type = isinstance(value, numbers.Integral if integer else numbers.Real) or (
        isinstance(value, np.ndarray | np.generic | jax.Array)
        and np.ndim(value) == 0
        and np.issubdtype(np.asarray(value).dtype, np.integer if integer else np.number)
        and not np.iscomplexobj(value)
    )
    if isinstance(value, bool) or not ok_type:
        none = " or None" if allow_none else ""
        raise TypeError(f"{name} must be {kind}{none}; got {value!r}")
    v = int(value) if integer else float(value)
    bound = ">= 0" if allow_zero else "> 0"
    rng = f"{bound}" + ("" if upper is None else f" and < {upper:g}")
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} must be {kind} {rng}; got {value!r}")
    if upper is not None and v >= upper:
        raise ValueError(f"{name} must be {kind} {rng}; got {value!r}")
    return v


def check_choice(value, name: str, choices) -> str:
    """One of a fixed set of strings; the message lists them."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_real(value, name: str) -> float:
    """A finite real number (not bool), returned as float."""
    if isinstance(value, bool) or not (
        isinstance(value, numbers.Real)
        or (np.ndim(value) == 0 and np.isrealobj(value) and np.asarray(value).dtype.kind in "fiu")
    ):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return v


#: Default memory limit (bytes) of the solvers' estimate check (``max_memory=``): 4 GiB.
MAX_MEMORY = 4 * 2**30


def check_memory(estimate: float, max_memory, *, what: str, fix: str) -> None:
    """Refuse a computation whose estimated memory exceeds ``max_memory`` (None: MAX_MEMORY)."""
    limit = MAX_MEMORY if max_memory is None else check_positive(max_memory, "max_memory")
    if estimate > limit:
        raise ValueError(
            f"{what} needs about {estimate / 2**30:.3g} GiB of memory, above the limit of "
            f"{limit / 2**30:.3g} GiB (max_memory={max_memory!r}); {fix}, or raise max_memory "
            "(bytes) if the machine has the memory"
        )


def check_bool(value, name: str) -> bool:
    """True or False (a NumPy bool too); not a number or a string."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_tol(tol, name: str = "tol") -> float:
    """A relative tolerance: a real number in (0, 1)."""
    return check_positive(tol, name, upper=1.0)


def check_key(key, name: str = "key"):
    """A typed key (``jax.random.key``) or a legacy uint32 (2,) key (``jax.random.PRNGKey``)."""
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(
                f"{name} must be a single PRNG key; got a key array of shape {key.shape} "
                f"(pass one of them, e.g. {name}[0])"
            )
        return key
    if isinstance(key, jax.Array | np.ndarray) and key.dtype == np.uint32 and key.shape == (2,):
        return jnp.asarray(key)
    raise TypeError(
        f"{name} must be a jax PRNG key (jax.random.key(0) or jax.random.PRNGKey(0)); got "
        f"{type(key).__name__} {key!r}"
    )
