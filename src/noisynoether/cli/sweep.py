"""``noisynoether sweep CONFIG.toml``: a parameter sweep on Dask, into one Parquet table.

Reads the TOML configuration (the format: ``noisynoether.sweeps._config`` and the README),
expands it into its problems (models x noise levels x durations x end points x grids), solves
them on a local Dask cluster (or ``--scheduler serial``, ``processes``, or a scheduler's
address) with a progress bar, and writes ``OUT/<config name>.parquet`` (one row per problem,
failures included) and a copy of the configuration. The configuration and the options are
checked before any solve: a bad key or value is one usage line naming it (exit status 2).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from ._args import int_at_least, output_folder, usage_error

_SHOWN = 40  # rows printed in the terminal table; the Parquet file has them all


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``sweep`` subcommand to an argparse subparsers object; return its parser."""
    p = subparsers.add_parser(
        "sweep",
        help="a parameter sweep (models x noise levels x durations x end points) on Dask",
        description="Solve every most likely path of a sweep described in a TOML file on Dask "
        "(an in-process local cluster by default) and write one Parquet table, one row per "
        "problem, failures included. Needs the sweep extra: pip install noisynoether[sweep]. "
        "An earlier run's files in --out are kept (the new ones go to OUT/run-2/) unless "
        "--force.",
    )
    p.add_argument("config", type=Path, metavar="CONFIG.toml", help="the sweep's configuration")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results/sweep"),
        metavar="DIR",
        help="output folder (default: results/sweep/)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="a Dask scheduler's address (tcp://host:8786), or 'threads' (the default: a "
        "local cluster of threads), 'processes' (a local cluster of processes), 'serial' (no "
        "Dask)",
    )
    p.add_argument(
        "--workers",
        type=int_at_least(1),
        default=None,
        metavar="N",
        help="workers of the local cluster (default: the cores, at most the problems)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an earlier run's files")
    p.set_defaults(_run=run, _parser=p)
    return p


def _checked(args):
    """The problems, or a usage error: options, optional packages and the configuration."""
    from ..sweeps import sweep_problems
    from ..sweeps._run import check_scheduler
    from ..sweeps._table import require

    try:
        check_scheduler(args.scheduler, args.workers)
    except ValueError as err:
        usage_error(args, f"argument --scheduler/--workers: {err}")
    try:
        for module in ("pandas", "pyarrow") + (
            ("distributed",) if args.scheduler != "serial" else ()
        ):
            require(module)
    except ImportError as err:
        usage_error(args, str(err))
    try:
        return sweep_problems(args.config)
    except (OSError, TypeError, ValueError) as err:
        usage_error(args, f"argument CONFIG.toml: {err}")


def _table(frame):
    from rich.table import Table

    table = Table(title=f"Sweep: {len(frame)} problems")
    cols = (
        "#",
        "model",
        "D",
        "T",
        "end points",
        "K",
        "S*",
        "converged",
        "status",
        "iter.",
        "wall s",
    )
    for col in cols:
        table.add_column(
            col, justify="left" if col in ("model", "end points", "status") else "right"
        )
    for i, r in frame.head(_SHOWN).iterrows():
        table.add_row(
            str(i),
            r.model,
            r.diffusion or "model's",
            f"{r['T']:g}",
            r.endpoints,
            str(r.num_points),
            f"{r.action:.10g}",
            "yes" if r.converged else "[red]no[/]",
            r.status,
            "" if r.iterations is None or str(r.iterations) == "<NA>" else str(r.iterations),
            f"{r.wall_time:.3f}",
        )
    return table


def run(args) -> int:
    """Execute ``noisynoether sweep``; returns the exit status.

    0 when every problem was solved (a path that did not meet the tolerance is reported in its
    row and a warning); 1 when a task raised (its row holds the error); 2 for a usage error.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from ..sweeps import sweep, write_parquet
    from ..sweeps._tasks import RAISED
    from ._console import console

    problems = _checked(args)
    stem = args.config.stem
    out = output_folder(args, [f"{stem}.parquet", f"{stem}.toml"])
    con = console(120)
    where = args.scheduler or "a local Dask cluster of threads"
    con.print(f"[bold]sweep {args.config}[/]: {len(problems)} problems on {where}")
    t = time.perf_counter()
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=con, disable=not con.is_terminal) as bar:
        task = bar.add_task("solving", total=len(problems))

        def on_row(row):
            bar.advance(task)
            if row["status"] == RAISED:
                bar.console.print(
                    f"  [red]raised[/] ({row['model']}): {row['error']}",
                    markup=True,
                    highlight=False,
                )

        frame = sweep(problems, scheduler=args.scheduler, workers=args.workers, progress=on_row)
    con.print(_table(frame))
    if len(frame) > _SHOWN:
        con.print(f"  ... {len(frame) - _SHOWN} more rows in the table")
    path = write_parquet(frame, out / f"{stem}.parquet")
    shutil.copyfile(args.config, out / f"{stem}.toml")
    counts = frame.status.value_counts().to_dict()
    con.print(
        f"wrote {path} ({len(frame)} rows; {', '.join(f'{k}: {v}' for k, v in counts.items())}"
        f"; {time.perf_counter() - t:.1f} s)"
    )
    raised = frame.index[frame.status == RAISED].tolist()
    unconverged = frame.index[(frame.status != RAISED) & ~frame.converged].tolist()
    if unconverged:
        con.print(f"[yellow]warning[/]: not converged: problems {unconverged} (see `message`)")
    if raised:
        con.print(f"[red]error[/]: problems {raised} raised (see `error` and `traceback`)")
    return 1 if raised else 0
