"""``sweep``: run a list of problems serially or on Dask and gather one row per problem.

Where the problems run (``scheduler=``):

- ``None`` (default) or ``"threads"``: an in-process Dask ``LocalCluster`` of ``workers``
  threads (default: the number of cores, at most the number of problems). Threads share one
  JAX compile cache: each model and grid size compiles once for the whole sweep, and the
  compiled solver releases the GIL. On this project's 2-core machine it was 1.5-2x faster
  than processes on both workloads measured, where compiling dominates (docs/benchmarks.md,
  "Sweeps on Dask"); on 2 cores it ties with the serial loop at best.
- ``"processes"``: a local cluster of ``workers`` processes; each imports JAX and compiles
  for itself (JAX's persistent compilation cache, ``JAX_COMPILATION_CACHE_DIR`` set before
  the sweep, lets later runs load it). Worth it when solves are long and hold the GIL.
- ``"serial"``: no Dask, one problem after the other in this process (the reference run).
- an address (``"tcp://host:8786"``) or a ``distributed.Client``: a running Dask cluster,
  whose workers must have noisynoether installed.

Every problem gets its row: a task that raises, or whose worker dies, is reported in its row
(``status = "RAISED"``, ``error``, ``traceback``) and the others complete.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from ._config import sweep_problems
from ._table import require, to_frame
from ._tasks import SweepProblem, error_row, solve_problem

__all__ = ["check_scheduler", "sweep"]

_LOCAL = ("threads", "processes")


def _problems(problems_or_config) -> list[SweepProblem]:
    if isinstance(problems_or_config, list | tuple):
        problems = list(problems_or_config)
        for i, p in enumerate(problems):
            if not isinstance(p, SweepProblem):
                raise TypeError(
                    f"problems_or_config[{i}] must be a SweepProblem; got {type(p).__name__} "
                    "(or pass a configuration: a dict or the path of a TOML file)"
                )
        return problems
    if isinstance(problems_or_config, dict | str | os.PathLike):
        return sweep_problems(problems_or_config)
    raise TypeError(
        "problems_or_config must be a list of SweepProblem, a configuration dict or the path "
        f"of a TOML file; got {type(problems_or_config).__name__}"
    )


def check_scheduler(scheduler, workers=None) -> None:
    """ValueError/TypeError unless ``scheduler`` and ``workers`` are accepted by ``sweep``."""
    accepted = (
        "None, 'threads', 'processes', 'serial', a Dask scheduler's address (tcp://host:8786 "
        "or host:8786) or a distributed.Client"
    )
    if isinstance(scheduler, str):
        if scheduler not in (*_LOCAL, "serial") and ":" not in scheduler:
            raise ValueError(f"scheduler must be {accepted}; got {scheduler!r}")
    elif scheduler is not None:
        distributed = require("distributed")
        if not isinstance(scheduler, distributed.Client):
            raise TypeError(f"scheduler must be {accepted}; got {type(scheduler).__name__}")
    if workers is None:
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1 (or None); got {workers!r}")
    if not (scheduler is None or scheduler in _LOCAL):
        raise ValueError(
            f"workers sizes a local cluster (scheduler None, 'threads' or 'processes'); got "
            f"workers={workers!r} with scheduler={scheduler!r}"
        )


def _bar(total: int):
    """A rich progress bar as a context manager yielding a per-row callback."""
    from contextlib import contextmanager

    from rich.progress import Progress

    @contextmanager
    def bar():
        with Progress(transient=True) as prog:
            task = prog.add_task(f"sweep, {total} problems", total=total)
            yield lambda row: prog.advance(task)

    return bar()


def _run_serial(problems, on_row) -> list[dict]:
    rows = []
    for p in problems:
        rows.append(solve_problem(p))
        on_row(rows[-1])
    return rows


def _local_client(kind: str, workers: int):
    distributed = require("distributed")
    cluster = distributed.LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=kind == "processes",
        dashboard_address=":0",  # a free port: no clash with a cluster already on 8787
        silence_logs=logging.ERROR,
    )
    return distributed.Client(cluster), cluster


def _remote_client(address: str):
    distributed = require("distributed")
    try:
        return distributed.Client(address, timeout="20s")
    except (OSError, TimeoutError) as err:
        raise OSError(
            f"scheduler: could not connect to a Dask scheduler at {address!r} ({err}); give "
            "its address as tcp://host:port, or None for a local cluster"
        ) from err


def _compile_key(p: SweepProblem) -> tuple:
    """What the solver compiles for: the model (with its D), the grid size and the method."""
    opts = p.solver_dict
    return (
        p.model,
        p.params,
        p.D,
        p.num_points,
        opts.get("method", "auto"),
        opts.get("linear_solver"),
        opts.get("max_cg"),
    )


def _solve_after(problem: SweepProblem, first_row: dict) -> dict:
    """``solve_problem`` once the first problem of the same compile key has finished."""
    return solve_problem(problem)


def _submit(problems, client) -> list:
    """One future per problem. The first problem of each compile key runs first; the others
    of that key wait for it, so that a process compiles the key once (two threads starting
    the same uncompiled solve would both compile it) while other keys compile alongside."""
    first: dict[tuple, object] = {}
    futures = []
    for p in problems:
        key = _compile_key(p)
        if key in first:
            futures.append(client.submit(_solve_after, p, first[key], pure=False))
        else:
            first[key] = client.submit(solve_problem, p, pure=False, priority=1)
            futures.append(first[key])
    return futures


def _run_dask(problems, client, on_row) -> list[dict]:
    distributed = require("distributed")
    futures = _submit(problems, client)
    position = {f.key: i for i, f in enumerate(futures)}
    rows: list[dict | None] = [None] * len(problems)
    for fut in distributed.as_completed(futures):
        i = position[fut.key]
        try:
            rows[i] = fut.result()
        except Exception as err:  # the worker died or the task was lost, not the solve
            rows[i] = error_row(problems[i], err, where="on the Dask worker")
        on_row(rows[i])
    return rows


def sweep(
    problems_or_config,
    *,
    scheduler=None,
    workers: int | None = None,
    progress: bool | Callable | None = None,
):
    """Solve many most likely paths (Eq. 8) on Dask and gather them in one table.

    Args:
        problems_or_config: a list of ``SweepProblem``, or a configuration (a dict or the
            path of a TOML file; the format is in the README and ``sweep_problems``).
        scheduler: where the problems run: None (default: an in-process local Dask cluster
            of threads), ``"threads"``, ``"processes"`` (a local cluster of processes),
            ``"serial"`` (no Dask), the address of a Dask scheduler (``"tcp://host:8786"``)
            or a ``distributed.Client`` (left open).
        workers: the local cluster's number of workers (default: the cores, at most the
            number of problems); only with a local cluster.
        progress: None/False (silent), True (a rich progress bar) or a callable called with
            each finished row (a dict), in the order the problems finish.

    Returns:
        A pandas DataFrame with one row per problem, in the order of the problem list
        (columns in ``noisynoether.sweeps._table.COLUMNS``): the problem (model, params, D,
        t0, T, end points, num_points, solver), the result (action, converged, status,
        message, iterations, grad_norm, energy_mean and energy_spread of E, Eq. 10), the
        wall time of the solve, and ``error``/``traceback`` for a task that raised (status
        ``"RAISED"``). The same problems give the same rows with any scheduler (up to
        ``wall_time``).

    Raises:
        ImportError: Dask, pandas or pyarrow is missing (``pip install noisynoether[sweep]``).
        TypeError, ValueError: a bad configuration (naming the key and value) or argument.
        OSError: the scheduler at the given address cannot be reached.
    """
    problems = _problems(problems_or_config)
    check_scheduler(scheduler, workers)
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise TypeError(f"progress must be None, a bool or a callable; got {progress!r}")
    require("pandas")
    if scheduler != "serial":
        require("distributed")
    if progress is True and problems:
        with _bar(len(problems)) as on_row:
            rows = _execute(problems, scheduler, workers, on_row)
    else:
        on_row = progress if callable(progress) else (lambda row: None)
        rows = _execute(problems, scheduler, workers, on_row)
    return to_frame(rows)


def _execute(problems, scheduler, workers, on_row) -> list[dict]:
    if scheduler == "serial" or not problems:
        return _run_serial(problems, on_row)
    if scheduler is None or scheduler in _LOCAL:
        n = workers or max(1, min(os.cpu_count() or 1, len(problems)))
        client, cluster = _local_client(scheduler or "threads", n)
        try:
            return _run_dask(problems, client, on_row)
        finally:
            client.close()
            cluster.close()
    if isinstance(scheduler, str):
        client = _remote_client(scheduler)
        try:
            return _run_dask(problems, client, on_row)
        finally:
            client.close()
    return _run_dask(problems, scheduler, on_row)
