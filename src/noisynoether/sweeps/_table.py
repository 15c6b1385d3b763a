"""The sweep's table: one row per problem, as a pandas DataFrame, written as Parquet (pyarrow).

pandas, pyarrow and Dask are optional (the ``sweep`` extra); ``require`` imports one of them
when a sweep needs it and otherwise says how to install them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

__all__ = ["COLUMNS", "require", "to_frame", "write_parquet"]

#: The columns, in order, with their pandas dtypes: the problem, then its result.
COLUMNS = {
    "model": "string",
    "params": "string",  # JSON of the model function's keywords
    "D": "float64",  # the scalar noise level; NaN for the model's own D or a vector/matrix D
    "diffusion": "string",  # JSON of the D given ("" for the model's own)
    "t0": "float64",
    "T": "float64",  # NaN: the model's own time grid
    "endpoints": "string",  # "given j", "stable i -> j", "default"
    "x0": "object",  # list of floats
    "x1": "object",
    "num_points": "int64",
    "solver": "string",  # JSON of method, accuracy and options
    "action": "float64",
    "converged": "bool",
    "status": "string",  # an nn.Status name, or "RAISED"
    "message": "string",
    "iterations": "Int64",  # missing when the task raised
    "grad_norm": "float64",
    "energy_mean": "float64",
    "energy_spread": "float64",
    "wall_time": "float64",  # seconds, compile included on a process's first solve of a shape
    "error": "string",  # "ValueError: ..." when the task raised
    "traceback": "string",
}

_EXTRA = "pip install noisynoether[sweep]"


def require(module: str):
    """Import ``module`` (dask, distributed, pandas, pyarrow) or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"sweeps need the optional packages dask[distributed], pandas and pyarrow; "
            f"{module!r} could not be imported ({err}). Install them with: {_EXTRA}"
        ) from err


def to_frame(rows: list[dict]):
    """The rows (dicts from ``solve_problem``) as a DataFrame, indexed by problem number."""
    pd = require("pandas")
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame = frame.astype(COLUMNS)
    frame.index = pd.RangeIndex(len(rows), name="problem")
    return frame


def write_parquet(frame, path) -> Path:
    """Write the table to ``path`` (Parquet, pyarrow); the path written."""
    require("pyarrow")
    path = Path(path)
    frame.to_parquet(path, engine="pyarrow")
    return path
