"""``noisynoether reproduce fig1a|fig1b|fig1c|fig2|all [--out DIR] [--quick] [--force]``.

Runs each case study (``cases.<name>.run(quick=, progress=)``, one printed line per step),
draws its figure (``plotting.FIGURES``) and writes ``<name>.png``, ``<name>.pdf``,
``summary.json`` and ``report.md`` into ``OUT/<name>/``. The output folder is checked first;
an earlier run is not overwritten (``OUT/run-2/...``) unless ``--force``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..cases import CASE_NAMES
from ._args import output_folder


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``reproduce`` subcommand to an argparse subparsers object; return its parser."""
    p = subparsers.add_parser(
        "reproduce",
        help="reproduce a figure of the paper (Vastola 2024) into --out",
        description="Solve a case study of the paper, check it, and write its figure (PNG, PDF),"
        " summary.json and report.md to OUT/<case>/. An earlier run in OUT is kept: the new"
        " one goes to OUT/run-2/ (run-3, ...) unless --force.",
    )
    p.add_argument("case", choices=[*CASE_NAMES, "all"], help="which figure ('all' for every one)")
    p.add_argument("--out", default="results", type=Path, help="output folder (default: results/)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="fewer Monte Carlo paths, fewer starts and looser accuracy, for a fast check",
    )
    p.add_argument("--force", action="store_true", help="overwrite an earlier run's files in --out")
    p.set_defaults(_run=run, _parser=p)
    return p


def _table(data, seconds):
    from rich.table import Table

    from ._report import table_rows

    head, rows = table_rows(data)
    table = Table(title=f"{data['title']}  ({seconds:.1f} s)")
    for h in head:
        table.add_column(h, justify="right")
    for r in rows:
        table.add_row(*r)
    return table


def run(args) -> int:
    """Execute ``noisynoether reproduce``; 0, or 1 when a path did not converge."""
    import matplotlib

    matplotlib.use("Agg")  # files only; set before pyplot is imported by the figures

    from ..cases import CASES
    from ..plotting import FIGURES
    from . import _report
    from ._console import StepPrinter, console

    names = list(CASE_NAMES) if args.case == "all" else [args.case]
    out = output_folder(args, names, folders=True)
    con = console(132)
    status = 0
    for name in names:
        t = time.perf_counter()
        con.print(f"[bold]{name}[/]: solving{' (quick)' if args.quick else ''}...")
        data = CASES[name].run(quick=args.quick, progress=StepPrinter(con))
        con.print(f"  {name}: drawing the figure")
        figs = FIGURES[name](data, out / name)
        files = _report.write_case(data, out / name, figs)
        con.print(_table(data, time.perf_counter() - t))
        con.print(f"wrote {', '.join(str(p) for p in [*figs, *files.values()])}")
        if not all(r["converged"] for r in data["summary"]):
            con.print(f"[red]{name}: a path did not converge; see report.md[/]")
            status = 1
    return status
