"""Checks of the command line's arguments and output folder, done before any computation.

The ``type=`` functions turn a bad value into argparse's usage error (one line naming the
option, exit status 2). ``output_folder`` checks ``--out`` and never overwrites an earlier
run silently: when a file the command would write is already there, it picks the first free
``OUT/run-2``, ``OUT/run-3``, ... (and says so) unless ``--force``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path


def finite_float(text: str) -> float:
    """A finite number (not nan or inf)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number; got {text!r}")
    return v


def positive_float(text: str) -> float:
    """A finite number > 0."""
    v = finite_float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0; got {text!r}")
    return v


def fraction(text: str) -> float:
    """A number in (0, 1)."""
    v = finite_float(text)
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number between 0 and 1 (exclusive); got {text!r}"
        )
    return v


def int_at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}; got {text!r}")
        return v

    parse.__name__ = f"integer >= {minimum}"
    return parse


def usage_error(args, message: str):
    """Exit with argparse's usage error (status 2) for the subcommand that parsed ``args``."""
    parser = getattr(args, "_parser", None)
    if parser is not None:
        parser.error(message)
    print(f"noisynoether: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _conflicts(folder: Path, names) -> list[Path]:
    return [folder / n for n in names if (folder / n).exists()]


def output_folder(args, names, *, folders: bool = False, option: str = "--out") -> Path:
    """The folder to write ``names`` (files or subfolders) into, created now; or a usage error.

    ``args.out`` must be a folder or a path that can be made one. If any of ``names`` is
    already in it and ``args.force`` is false, the first ``OUT/run-N`` (N = 2, 3, ...) that
    holds none of them is used instead, and a line says so on stderr. ``folders``: the names
    are subfolders (a file of that name is an error).
    """
    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        usage_error(args, f"argument {option}: {str(out)!r} is a file, not a folder")
    force = bool(getattr(args, "force", False))
    target = out
    if not force and _conflicts(out, names):
        n = 2
        while (out / f"run-{n}").exists() and (
            not (out / f"run-{n}").is_dir() or _conflicts(out / f"run-{n}", names)
        ):
            n += 1
        target = out / f"run-{n}"
        print(
            f"noisynoether: {out} already holds {_conflicts(out, names)[0].name}: writing to "
            f"{target} instead (--force overwrites)",
            file=sys.stderr,
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        usage_error(args, f"argument {option}: cannot create the folder {str(target)!r}: {err}")
    if not os.access(target, os.W_OK | os.X_OK):
        usage_error(args, f"argument {option}: the folder {str(target)!r} is not writable")
    for name in names:
        p = target / name
        if folders and p.exists() and not p.is_dir():
            usage_error(args, f"argument {option}: {str(p)!r} is a file, not a folder")
        if p.exists() and not os.access(p, os.W_OK):
            usage_error(args, f"argument {option}: {str(p)!r} exists and is not writable")
    return target
