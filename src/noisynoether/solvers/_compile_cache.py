"""Opt-in persistent compilation cache: compiled solvers carried from one process to the next.

JAX compiles every solver once per model and grid shape (1-10 s at n = 1024, more than a
solve; docs/benchmarks.md). Within a process the compiled code is reused; across processes
(scripts, CLI runs, Dask workers) JAX's persistent cache on disk can supply it instead.
It stays off unless asked for, because it writes to disk.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax

__all__ = ["enable_compilation_cache"]

#: Where the cache lives when no path is given (and $NOISYNOETHER_CACHE_DIR is not set).
DEFAULT_DIR = Path.home() / ".cache" / "noisynoether" / "jax"


def enable_compilation_cache(path=None, *, min_compile_time: float = 0.5) -> Path:
    """Turn on JAX's persistent compilation cache for this process; returns its folder.

    Args:
        path: the cache folder (created if missing). Default: ``$NOISYNOETHER_CACHE_DIR``
            if set, else ``~/.cache/noisynoether/jax``. The same effect without code:
            ``JAX_COMPILATION_CACHE_DIR=folder`` in the environment before Python starts.
        min_compile_time: only computations that took at least this many seconds to
            compile are written (small ones are faster to compile than to read back).

    Compiled code is keyed by the computation, the jax/jaxlib version and the device, so a
    stale entry is never used; delete the folder to reclaim the space.

    Raises:
        TypeError, ValueError: ``path`` is not a path, or ``min_compile_time`` is negative.
    """
    if path is None:
        path = os.environ.get("NOISYNOETHER_CACHE_DIR") or DEFAULT_DIR
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike folder, or None; got {path!r}")
    if isinstance(min_compile_time, bool) or not isinstance(min_compile_time, (int, float)):
        raise TypeError(f"min_compile_time must be a number of seconds; got {min_compile_time!r}")
    if not min_compile_time >= 0:
        raise ValueError(f"min_compile_time must be >= 0 seconds; got {min_compile_time!r}")
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"path must be a folder; {str(folder)!r} is a file")
    folder.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_time))
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder
