"""Compile first, time after: the timing helper shared by the benchmark scripts."""

import time

import numpy as np


def timed(fn, repeat, *, first_call=False):
    """(result, compile seconds ~ first call - best, best of ``repeat`` further calls); with
    ``first_call=True`` the first call's own time instead of the compile estimate."""
    t = time.perf_counter()
    res = fn()
    first = time.perf_counter() - t
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t)
    return res, first if first_call else max(first - best, 0.0), best
