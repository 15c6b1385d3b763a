"""Parameter sweeps: models x noise levels x durations x end points, on Dask, into one table.

``sweep_problems(config)`` expands a configuration (a dict or a TOML file; the format in
``_config.py`` and the README) into a list of ``SweepProblem``; ``sweep(problems_or_config,
scheduler=None, workers=None, progress=None)`` solves them (``most_likely_path``) serially or
on Dask and returns a pandas DataFrame with one row per problem, failures included
(``_table.COLUMNS``); ``write_parquet`` saves it. Files: ``_config`` (the format),
``_models`` (models by name, parameters and D), ``_tasks`` (one problem -> one row), ``_run``
(schedulers), ``_table`` (the DataFrame and Parquet, lazy imports of the optional packages).

Dask, pandas and pyarrow are optional (``pip install noisynoether[sweep]``) and imported only
when a sweep runs. The default scheduler is an in-process Dask cluster of threads, which share
one JAX compile cache (``_run.py`` says why, docs/benchmarks.md measures it); the same problems
give the same rows with any scheduler.

Example (``noisynoether.sweeps`` is this package; ``nn.sweep`` is its function ``sweep``)::

    import noisynoether as nn
    from noisynoether.sweeps import write_parquet

    table = nn.sweep("examples/sweep.toml", workers=2, progress=True)
    table[["model", "D", "T", "endpoints", "action", "converged", "status"]]
    write_parquet(table, "results/sweep.parquet")
"""

from ._config import load_config, sweep_problems
from ._run import sweep
from ._table import COLUMNS, write_parquet
from ._tasks import SweepProblem, solve_problem

__all__ = [
    "COLUMNS",
    "SweepProblem",
    "load_config",
    "solve_problem",
    "sweep",
    "sweep_problems",
    "write_parquet",
]
