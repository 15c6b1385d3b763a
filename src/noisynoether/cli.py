"""Command line: ``noisynoether reproduce fig1a|fig1b|fig1c|fig2|all [--out DIR] [--quick]``
``noisynoether symmetries MODEL`` and ``noisynoether energy MODEL``.

argparse (standard library) rather than typer: one subcommand so far, and one dependency fewer.
Bad arguments print one line (argparse's usage error) and exit with status 2.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    from .cases import CASES

    p = argparse.ArgumentParser(
        prog="noisynoether",
        description="Most likely paths of noisy dynamical systems and their Noether charges.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rep = sub.add_parser(
        "reproduce",
        help="reproduce a figure of the paper (Vastola 2024) into --out",
        description="Solve a case study of the paper, check it, and write its figure (PNG, PDF),"
        " summary.json and report.md to OUT/<case>/.",
    )
    rep.add_argument("case", choices=[*CASES, "all"], help="which figure ('all' for every one)")
    rep.add_argument(
        "--out", default="results", type=Path, help="output folder (default: results/)"
    )
    rep.add_argument(
        "--quick",
        action="store_true",
        help="fewer Monte Carlo paths, fewer starts and looser accuracy, for a fast check",
    )
    from . import _cli_energy, _cli_symmetries

    _cli_symmetries.add_parser(sub)
    _cli_energy.add_parser(sub)
    return p


def _reproduce(case_names, out: Path, quick: bool) -> int:
    from rich.console import Console
    from rich.table import Table

    from . import _report
    from .cases import CASES
    from .plotting import FIGURES

    console = Console(width=max(Console().width, 132))
    status = 0
    for name in case_names:
        t = time.perf_counter()
        console.print(f"[bold]{name}[/]: solving{' (quick)' if quick else ''}...")
        run = CASES[name].run
        if "progress" in inspect.signature(run).parameters:  # Monte Carlo / multi-start
            data = run(quick=quick, progress=console.is_terminal)
        else:
            data = run(quick=quick)
        figs = FIGURES[name](data, out / name)
        files = _report.write_case(data, out / name, figs)
        head, rows = _report.table_rows(data)
        table = Table(title=f"{data['title']}  ({time.perf_counter() - t:.1f} s)")
        for h in head:
            table.add_column(h, justify="right")
        for r in rows:
            table.add_row(*r)
        console.print(table)
        console.print(f"wrote {', '.join(str(p) for p in [*figs, *files.values()])}")
        if not all(r["converged"] for r in data["summary"]):
            console.print(f"[red]{name}: a path did not converge; see report.md[/]")
            status = 1
    return status


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "reproduce":
        from .cases import CASES

        names = list(CASES) if args.case == "all" else [args.case]
        return _reproduce(names, args.out, args.quick)
    if args.command == "symmetries":
        from . import _cli_symmetries

        return _cli_symmetries.run(args)
    if args.command == "energy":
        from . import _cli_energy

        return _cli_energy.run(args)
    return 2  # unreachable: argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
