"""find_paths: many starts, every distinct converged local minimum, sorted by action."""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import numpy as np

from .._checks import (
    as_state,
    check_endpoints,
    check_positive,
    check_sde,
    check_time_grid,
    default_box,
)
from .._fixed_points import fixed_points
from . import _mesh
from ._most_likely_path import _resolve, most_likely_path
from ._result import ConvergenceError, PathResult


@dataclass(frozen=True)
class PathSet:
    """The distinct local minima found by ``find_paths``, lowest action first.

    Attributes:
        paths: list of converged PathResult, sorted by action, duplicates removed.
        labels: for each path, the start that found it first ("straight", "via (x, y)",
            "random 3"...).
        global_index: index in ``paths`` of the lowest action found (always 0): the global
            minimum among the starts tried; no finite set of starts can prove it global.
        global_minimum: ``paths[global_index]``; raises ``ConvergenceError`` (with what the
            starts reported) when no start converged (``paths`` is then empty).
        attempts: one dict per start: label, converged, action, message.
        fixed_points: the fixed points used to build starts.
    """

    paths: list
    labels: list
    attempts: list
    fixed_points: list = field(default_factory=list)
    global_index: int = 0

    @property
    def global_minimum(self) -> PathResult:
        if not self.paths:
            msgs = "; ".join(f"{a['label']}: {a['message']}" for a in self.attempts[:3])
            raise ConvergenceError(
                f"none of the {len(self.attempts)} starts converged, so there is no minimum "
                f"(first messages: {msgs}); try more num_points, a larger max_steps, "
                "continuation= or through= states"
            )
        return self.paths[self.global_index]

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.paths[i]

    def __iter__(self):
        return iter(self.paths)


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


def _same(a: PathResult, b: PathResult, tol_S: float, tol_x: float) -> bool:
    if abs(a.action - b.action) > tol_S * max(abs(a.action), 1e-12):
        return False
    xb = _mesh.interpolate_path(a.ts, b.ts, b.xs)
    return float(np.max(np.abs(a.xs - xb))) <= tol_x


def find_paths(
    sde,
    x0,
    x1,
    t0,
    t1,
    *,
    num_starts: int = 8,
    key=None,
    args=None,
    num_points: int = 513,
    ts=None,
    through=None,
    box=None,
    continuation=(),
    accuracy: float | None = None,
    method: str = "auto",
    solver=None,
    progress: bool = False,
    **options,
) -> PathSet:
    """All distinct local minima of the action from x0 to x1 found from diverse starts.

    Starts: the straight line; for each state in ``through`` (default: the stable fixed points
    of the drift in ``box``, found by ``fixed_points``), a path that hops to it, waits there
    and hops on; and ``num_starts`` straight lines bent by random smooth (sine) perturbations,
    seeded by ``key``. Each start is solved by ``most_likely_path``; if ``continuation`` lists
    easier models (e.g. smoother sigmoids), each start is first solved through them in order,
    each solution starting the next. Converged minima are deduplicated (same action to 1e-7
    and same path to 1e-3 of its extent) and sorted by action.

    Args:
        num_starts: number of random perturbed starts (besides straight and via-fixed-point).
        key: ``jax.random`` key (or int seed) for the random starts; default 0.
        through: states to route starts through; default the stable fixed points.
        box: (lower, upper) where fixed points are sought; default the endpoints' bounding box
            enlarged by half its size on each side.
        continuation: easier models solved first, in order, from each start.
        accuracy: passed to the final ``most_likely_path`` (adaptive grid refinement).
        method, solver, options: the solver, as in ``most_likely_path`` (resolved once and
            passed to every solve); without ``solver`` the default is ``max_steps=1000``.
        num_points, ts, args: passed to ``most_likely_path``.
        progress: show a progress bar over the starts.

    Returns:
        A ``PathSet``: ``.paths`` sorted by action (``.global_minimum`` is the lowest found),
        ``.labels``, ``.attempts`` (every start, converged or not).
    """
    check_sde(sde)
    x0, x1 = check_endpoints(x0, x1)
    ts = check_time_grid(t0, t1, num_points, ts)
    num_starts = check_positive(num_starts, "num_starts", integer=True, allow_zero=True)
    if solver is None:
        options.setdefault("max_steps", 1000)
    solver = _resolve(solver, method, options, x0.size)
    if not isinstance(continuation, list | tuple):
        raise TypeError(f"continuation must be a list of models; got {continuation!r}")
    if key is None or isinstance(key, int | np.integer):
        seed = check_positive(0 if key is None else key, "key", integer=True, allow_zero=True)
    else:
        try:
            seed = int(jax.random.randint(key, (), 0, 2**31 - 1))
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"key must be a jax.random key or an integer seed >= 0; got {key!r}"
            ) from err
    rng = np.random.default_rng(seed)
    fps = []
    if through is None:
        if box is not None:
            box = (as_state(box[0], "box[0]"), as_state(box[1], "box[1]"))
        else:
            box = default_box(x0, x1)
        if x0.size <= 3:
            fps = fixed_points(sde, box[0], box[1], t=float(ts[0]), args=args)
        through = [fp.x for fp in fps if fp.kind == "stable"]
    through = [check_endpoints(x0, p, names=("x0", "through[i]"))[1] for p in through]
    extent = float(np.max(np.abs(x1 - x0))) or 1.0
    starts = [("straight", None)]
    for p in through:
        if np.max(np.abs(p - x0)) > 1e-3 * extent and np.max(np.abs(p - x1)) > 1e-3 * extent:
            label = "via (" + ", ".join(f"{v:.3g}" for v in p) + ")"
            starts.append((label, _via_path(ts, x0, x1, [p])))
    for i in range(num_starts):
        starts.append((f"random {i + 1}", _random_path(ts, x0, x1, rng, 0.5 * extent)))

    attempts, found, labels = [], [], []
    bar = _progress(progress, len(starts))
    for label, init in starts:
        res = init
        stages = [*continuation, sde]
        for i, model in enumerate(stages):
            last = i == len(stages) - 1
            res = most_likely_path(
                model,
                x0,
                x1,
                ts[0],
                ts[-1],
                ts=ts,
                initial=res,
                args=args,
                solver=solver,
                accuracy=accuracy if last else None,
            )
        attempts.append(
            {
                "label": label,
                "converged": res.converged,
                "action": res.action,
                "message": res.message,
            }
        )
        if res.converged and not any(_same(res, f, 1e-7, 1e-3 * extent) for f in found):
            found.append(res)
            labels.append(label)
        bar.advance(label)
    bar.close()
    order = np.argsort([r.action for r in found])
    return PathSet(
        paths=[found[i] for i in order],
        labels=[labels[i] for i in order],
        attempts=attempts,
        fixed_points=fps,
    )


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
