"""The starts of ``find_paths`` (straight lines bent through states or at random) and its
progress bar."""

from __future__ import annotations

import numpy as np


def _via_path(ts, x0, x1, stops, hop_fraction=0.1):
    """Hop quickly from x0 to each stop in turn and on to x1, waiting at each stop."""
    pts = [x0, *stops, x1]
    m = len(pts) - 1
    T = ts[-1] - ts[0]
    hop = hop_fraction * T / m
    wait = (T - hop * m) / max(m - 1, 1)
    knots, states, t = [ts[0]], [pts[0]], ts[0]
    for i in range(1, m + 1):
        t += hop
        knots.append(t)
        states.append(pts[i])
        if i < m:
            t += wait
            knots.append(t)
            states.append(pts[i])
    knots = np.array(knots)
    knots = ts[0] + (knots - ts[0]) * T / (knots[-1] - ts[0])
    states = np.array(states)
    return np.stack([np.interp(ts, knots, states[:, j]) for j in range(states.shape[1])], 1)


def _random_path(ts, x0, x1, rng, scale, modes=4):
    s = (ts - ts[0]) / (ts[-1] - ts[0])
    base = x0[None] + s[:, None] * (x1 - x0)[None]
    coeffs = rng.standard_normal((modes, x0.size)) * scale / np.arange(1, modes + 1)[:, None]
    bumps = np.sin(np.pi * np.outer(s, np.arange(1, modes + 1)))
    return base + bumps @ coeffs


class _progress:
    """A rich progress bar over the starts, or nothing."""

    def __init__(self, show: bool, total: int):
        self.bar = None
        if show:
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task("find_paths", total=total)

    def advance(self, label):
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"find_paths: {label}")

    def close(self):
        if self.bar is not None:
            self.bar.stop()
