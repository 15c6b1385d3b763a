"""find_paths: many starts, every distinct converged local minimum, sorted by action."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import jax
import numpy as np

from .._checks import (
    as_state,
    check_endpoints,
    check_model_at,
    check_positive,
    check_sde,
    check_time_grid,
    default_box,
)
from .._fixed_points import fixed_points
from . import _mesh
from ._most_likely_path import _resolve, most_likely_path
from ._orbits import (
    check_symmetries,
    detect_symmetries,
    endpoint_group,
    equal_actions,
    group_orbits,
    is_image,
)
from ._result import ConvergenceError, PathResult
from ._starts import _progress, _random_path, _via_path


@dataclass(frozen=True)
class PathSet:
    """The distinct local minima found by ``find_paths``, lowest action first.

    Attributes:
        paths: list of converged PathResult, sorted by action, duplicates removed, one per
            orbit (a mirror image of a listed path is in ``orbits``, not here).
        labels: for each path, the start that found it first ("straight", "via (x, y)",
            "random 3"...).
        global_index: index in ``paths`` of the lowest action found (always 0): the global
            minimum among the starts tried; no finite set of starts can prove it global.
        global_minimum: ``paths[global_index]``; raises ``ConvergenceError`` (with what the
            starts reported) when no start converged (``paths`` is then empty), and warns
            when a start that did not converge ended at a lower action (the converged minimum
            is then likely not the global one).
        attempts: one dict per start: label, converged, action, message, and ``error`` (the
            exception when the start failed with one: a NaN region, a solver error; its
            message is then the reason, and the other starts went on), else None.
        fixed_points: the fixed points used to build starts.
        orbits: one ``PathOrbit`` per entry of ``paths``: the minimum, its ``multiplicity``
            and its ``copies``, ``(symmetry, result)`` pairs, where ``symmetry`` (a
            ``DiscreteSymmetry`` fixing x0 and x1, named by ``.name``) maps the representative
            onto the copy (same S*). Mirror images are grouped here instead of being listed
            in ``paths`` as distinct minima.
        symmetries: the model's discrete symmetries that fix x0 and x1 (closed under
            composition) used to group, [] when there are none, None when not looked for
            (no two minima of equal action, or ``symmetries=False``).
    """

    paths: list
    labels: list
    attempts: list
    fixed_points: list = field(default_factory=list)
    global_index: int = 0
    orbits: list = field(default_factory=list)
    symmetries: list | None = None

    @property
    def all_paths(self) -> list:
        """Every distinct minimiser, copies included, sorted by action."""
        out = [r for o in self.orbits for r in (o.representative, *(c for _, c in o.copies))]
        return sorted(out, key=lambda r: r.action) if self.orbits else list(self.paths)

    @property
    def global_minimum(self) -> PathResult:
        if not self.paths:
            msgs = "; ".join(f"{a['label']}: {a['message']}" for a in self.attempts[:3])
            raise ConvergenceError(
                f"none of the {len(self.attempts)} starts converged, so there is no minimum "
                f"(first messages: {msgs}); try more num_points, a larger max_steps, "
                "continuation= or through= states"
            )
        best = self.paths[self.global_index]
        lower = [
            a
            for a in self.attempts
            if not a.get("converged")
            and np.isfinite(a.get("action", np.nan))
            and a["action"] < best.action - 1e-9 * abs(best.action)
        ]
        if lower:
            low = min(lower, key=lambda a: a["action"])
            warnings.warn(
                f"the lowest converged path (S* = {best.action:.10g}) may not be the global "
                f"minimum: {len(lower)} start(s) that did not converge ended lower (best: "
                f"{low['label']}, S = {low['action']:.10g}: {low['message'][:120]}); try a "
                "larger max_steps, more num_points, or continuation= from smoother models",
                stacklevel=2,
            )
        return best

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.paths[i]

    def __iter__(self):
        return iter(self.paths)


#: Most stable states ``find_paths`` routes starts through by default.
MAX_VIA = 8


def _spread(states, x0, x1, m):
    """At most m of the states, spread out: all of them if there are no more than m, else
    greedily the one farthest from x0, x1 and those already chosen (order kept)."""
    if len(states) <= m:
        return states
    pts = np.asarray(states)
    gap = np.minimum(np.linalg.norm(pts - x0, axis=1), np.linalg.norm(pts - x1, axis=1))
    chosen = []
    for _ in range(m):
        i = int(np.argmax(gap))
        chosen.append(i)
        gap = np.minimum(gap, np.linalg.norm(pts - pts[i], axis=1))
    return [states[i] for i in sorted(chosen)]


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
    symmetries=None,
    **options,
) -> PathSet:
    """All distinct local minima of the action from x0 to x1 found from diverse starts.

    Starts: the straight line; for each state in ``through`` (default: the stable fixed points
    of the drift in ``box``, found by ``fixed_points``), a path that hops to it, waits there
    and hops on; and ``num_starts`` straight lines bent by random smooth (sine) perturbations,
    seeded by ``key``. Each start is solved by ``most_likely_path``; if ``continuation`` lists
    easier models (e.g. smoother sigmoids), each start is first solved through them in order,
    each solution starting the next. Converged minima are deduplicated (same action to 1e-7
    and same path to 1e-3 of its extent) and sorted by action. A start that fails (the drift
    is not finite on it, the solver raises, or it does not converge) is reported in
    ``.attempts`` with its reason, and the other starts go on.

    Minima that are images of each other under the model's discrete symmetries (signed
    permutations P with f(P x) = P f(x), D(P x) = P D P^T, fixing x0 and x1; such a P maps a
    minimiser onto a minimiser of equal S*, Eq. 8) are one entry of ``paths``, with its orbit
    in ``.orbits`` (multiplicity, and the symmetry that maps the representative onto each
    copy). The symmetries are found by ``find_discrete_symmetries`` on states along the
    minima, once, and only when two minima of equal action (to ``max(1e-6, accuracy)``) were
    found; a copy that no start found is solved from the mirror image of its representative.

    Args:
        num_starts: number of random perturbed starts (besides straight and via-fixed-point).
        key: ``jax.random`` key (or int seed) for the random starts; default 0.
        through: states to route starts through; default the stable fixed points found (at
            most ``MAX_VIA`` of them, spread out: a continuum of stable states, such as a ring
            attractor, would give hundreds of starts).
        box: (lower, upper) where fixed points are sought; default the cube around the
            endpoints' bounding box (every side as long as its longest), enlarged by half its
            size on each side: for end points on an axis the bounding box is flat across it.
        continuation: easier models solved first, in order, from each start.
        accuracy: passed to the final ``most_likely_path`` (adaptive grid refinement).
        method, solver, options: the solver, as in ``most_likely_path`` (resolved once and
            passed to every solve); without ``solver`` the default is ``max_steps=1000``.
        num_points, ts, args: passed to ``most_likely_path``.
        progress: show a progress bar over the starts.
        symmetries: None (detect as above), False (no grouping: every distinct minimum is an
            entry), or a list of ``DiscreteSymmetry`` to group by (those fixing x0 and x1 are
            used, with their compositions).

    Returns:
        A ``PathSet``: ``.paths`` sorted by action (``.global_minimum`` is the lowest found),
        ``.labels``, ``.attempts`` (every start, converged or not), ``.orbits`` (one per
        entry of ``paths``) and ``.symmetries``.
    """
    check_sde(sde)
    x0, x1 = check_endpoints(x0, x1)
    ts = check_time_grid(t0, t1, num_points, ts)
    check_model_at(sde, [ts[0]], np.stack([x0, x1]), args, what="x0 and x1")
    symmetries = check_symmetries(symmetries, x0.size)
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
            box = default_box(x0, x1, cube=True)
        if x0.size <= 3:
            fps = fixed_points(sde, box[0], box[1], t=float(ts[0]), args=args)
        through = _spread([fp.x for fp in fps if fp.kind == "stable"], x0, x1, MAX_VIA)
    through = [check_endpoints(x0, p, names=("x0", "through[i]"))[1] for p in through]
    extent = float(np.max(np.abs(x1 - x0))) or 1.0
    starts = [("straight", None)]
    for p in through:
        if np.max(np.abs(p - x0)) > 1e-3 * extent and np.max(np.abs(p - x1)) > 1e-3 * extent:
            label = "via (" + ", ".join(f"{v:.3g}" for v in p) + ")"
            starts.append((label, _via_path(ts, x0, x1, [p])))
    for i in range(num_starts):
        starts.append((f"random {i + 1}", _random_path(ts, x0, x1, rng, 0.5 * extent)))

    def solve(label, init, stages):
        """One start through the stages; its attempt record (the result, or why it failed)."""
        res = init
        try:
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
                    # The continuation is this start's strategy: its easier models are not
                    # also retried coarse to fine (a compile per model and grid size).
                    solver=solver if last else solver.replace(coarse_to_fine=False),
                    accuracy=accuracy if last else None,
                )
        except Exception as err:  # a start must not stop the others: report it and go on
            msg = f"failed: {type(err).__name__}: {err}"
            return None, {
                "label": label,
                "converged": False,
                "action": np.nan,
                "message": msg,
                "error": err,
            }
        ok = bool(res.converged) and bool(np.isfinite(res.action))
        record = {
            "label": label,
            "converged": ok,
            "action": res.action,
            "message": res.message,
            "error": None,
        }
        return (res if ok else None), record

    attempts, found, labels = [], [], []
    bar = _progress(progress, len(starts))
    for label, init in starts:
        res, record = solve(label, init, [*continuation, sde])
        attempts.append(record)
        if res is not None and not any(_same(res, f, 1e-7, 1e-3 * extent) for f in found):
            found.append(res)
            labels.append(label)
        bar.advance(label)
    bar.close()
    order = np.argsort([r.action for r in found])
    found, labels = [found[i] for i in order], [labels[i] for i in order]

    tol_S, tol_x = max(1e-6, accuracy or 0.0), 1e-3 * extent
    group = None
    if symmetries is not False and len(found) >= 1:
        if symmetries is None and equal_actions(found, tol_S):
            symmetries = detect_symmetries(sde, found, ts, args)
        if symmetries is not None:
            group = endpoint_group(symmetries, x0, x1, extent)
    orbits = []
    for orbit, missing in group_orbits(found, labels, group or [], tol_S, tol_x):
        for sym in missing:  # a copy no start found: solve from the mirror image
            rep = orbit.representative
            label = f"mirror of {orbit.label} ({sym.name})"
            image = _mesh.interpolate_path(ts, rep.ts, sym.apply(rep.xs))
            res, record = solve(label, image, [sde])
            attempts.append(record)
            if res is not None and is_image(sym, rep, res, tol_S, tol_x):
                orbit.copies.append((sym, res))
                orbit.copy_labels.append(label)
        orbits.append(orbit)
    return PathSet(
        paths=[o.representative for o in orbits],
        labels=[o.label for o in orbits],
        attempts=attempts,
        fixed_points=fps,
        orbits=orbits,
        symmetries=group,
    )
