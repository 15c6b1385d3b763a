"""The command line: ``noisynoether reproduce|symmetries|energy ...`` (``main``).

``noisynoether reproduce fig1a|fig1b|fig1c|fig2|all [--out DIR] [--quick] [--force]``,
``noisynoether symmetries MODEL [--tol] [--points]`` and ``noisynoether energy MODEL
[--energies ...] [--num-points] [--out DIR] [--force]``; the models are those of
``noisynoether.models._registry``. Each subcommand is a module with ``add_parser(subparsers)``
and ``run(args)``; ``noisynoether sweep CONFIG.toml [--out DIR] [--scheduler ADDRESS]
[--workers N] [--force]`` (``sweep.py``) runs a parameter sweep on Dask.

argparse (standard library): one dependency fewer than typer. Arguments and the output folder
are checked before any computation: a bad value prints argparse's one-line usage error naming
the option and exits with status 2.
"""

from __future__ import annotations

import argparse

from . import energy, reproduce, rnn, scores, sweep, symmetries

SUBCOMMANDS = (reproduce, symmetries, energy, scores, sweep, rnn)


def build_parser() -> argparse.ArgumentParser:
    """The ``noisynoether`` parser with every subcommand."""
    p = argparse.ArgumentParser(
        prog="noisynoether",
        description="Most likely paths of noisy dynamical systems and their Noether charges.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return p


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(argv)
    return args._run(args)


__all__ = ["build_parser", "main"]
