"""The terminal: a rich console wide enough for the tables, and the case studies' step lines."""

from __future__ import annotations


def console(min_width: int = 120):
    """A rich Console at least ``min_width`` wide (tables are not wrapped in narrow pipes)."""
    from rich.console import Console

    return Console(width=max(Console().width, min_width))


class StepPrinter:
    """The ``progress`` callable the CLI gives a case study: prints each step as it starts.

    ``bars`` is true on a terminal, where the Monte Carlo and multi-start loops also draw rich
    progress bars (in a log or a pipe they would only add noise).
    """

    def __init__(self, con):
        self._console = con
        self.bars = bool(con.is_terminal)

    def __call__(self, line: str) -> None:
        self._console.print(f"  {line}", highlight=False, markup=False)
