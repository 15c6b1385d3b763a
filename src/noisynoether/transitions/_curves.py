"""The action-duration and duration-energy curves, S*(T) and T(E), with dS*/dT = -E checked.

For an autonomous model the minimal action between two states in time T, S*(T), and the
energy E of Eq. 10 along the minimiser are related by the Hamilton-Jacobi identity
``dS*/dT = -E``; through the Legendre transform ``S*(T) = W(E) - E T`` with the geometric
action W, ``dW/dE = T(E)``, which in 1-D is Eq. 13. The paper's Sec. 4.1: high E means a fast,
direct path, E -> 0 a slow one through attractors and saddles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._checks import check_endpoints, check_positive, check_sde
from ..solvers._energy_starts import check_starts, start_curves, trapped_bumps
from ..solvers._geometric import path_with_energy
from ..solvers._most_likely_path import _resolve, most_likely_path
from ..solvers._solver_base import configure
from ..solvers._solver_geometric import Geometric

__all__ = ["ActionDurationCurve", "EnergyDurationCurve", "action_vs_duration", "duration_vs_energy"]


@dataclass(frozen=True)
class ActionDurationCurve:
    """S*(T) and E(T) from fixed-time minimisers, with the identity dS*/dT = -E checked.

    Attributes:
        durations: (m,) T values.
        actions: (m,) S*(T), the minimal action of Eq. 8.
        energies: (m,) E: the mean of Eq. 10 along each minimiser.
        energy_spreads: (m,) max - min of E along each minimiser (O(dt^2) for nonlinear f).
        dS_dT: (m,) dS*/dT by a central difference with step ``rel_step * T`` (two more
            warm-started solves per T).
        identity_residual: (m,) dS_dT + E; about 0 (O(step^2) and O(dt^2)).
        converged: (m,) each solve's flag (all three solves).
        paths: the ``PathResult`` at each T.
    """

    durations: np.ndarray
    actions: np.ndarray
    energies: np.ndarray
    energy_spreads: np.ndarray
    dS_dT: np.ndarray
    identity_residual: np.ndarray
    converged: np.ndarray
    paths: tuple = field(repr=False, default=())

    @property
    def identity_error(self) -> float:
        """max |dS*/dT + E| / max(max |E|, 1e-300): the relative violation of dS*/dT = -E."""
        return float(
            np.max(np.abs(self.identity_residual)) / max(np.max(np.abs(self.energies)), 1e-300)
        )

    def plot(self, axes=None):
        """S*(T) and E(T) side by side (``plotting.plot_action_duration``); returns the figure."""
        from ..plotting import plot_action_duration

        return plot_action_duration(self, axes=axes)


@dataclass(frozen=True)
class EnergyDurationCurve:
    """T(E), W(E) and S = W - E T from fixed-energy paths, with dW/dE = T checked.

    Attributes:
        energies: (m,) E values (as given).
        durations: (m,) T(E) (inf at E = 0).
        actions: (m,) S = W - E T, the action of Eq. 8 along the path.
        geometric_actions: (m,) W(E).
        dW_dE: (m,) central difference of W with step ``rel_step * E`` (nan at E = 0).
        identity_residual: (m,) dW_dE - T (nan at E = 0); equivalently dS*/dT = -E.
        converged: (m,) each solve's flag (the path and the two of the difference).
        paths: the ``EnergyPathResult`` at each E.
        action_errors: (m,) estimated relative error of each action (Richardson from a
            coarser grid, ``stats["action_error"]`` of each path; nan where not estimated).
    """

    energies: np.ndarray
    durations: np.ndarray
    actions: np.ndarray
    geometric_actions: np.ndarray
    dW_dE: np.ndarray
    identity_residual: np.ndarray
    converged: np.ndarray
    paths: tuple = field(repr=False, default=())
    action_errors: np.ndarray | None = None

    @property
    def identity_error(self) -> float:
        """max |dW/dE - T| / T over the finite durations."""
        ok = np.isfinite(self.identity_residual)
        if not np.any(ok):
            return float("nan")
        return float(np.max(np.abs(self.identity_residual[ok]) / self.durations[ok]))

    def plot(self, axes=None):
        """T(E) and S*(T) (``plotting.plot_energy_duration``); returns the figure."""
        from ..plotting import plot_energy_duration

        return plot_energy_duration(self, axes=axes)


def _positive_sorted(values, name):
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size < 1 or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be a non-empty array of finite numbers; got {values!r}")
    return v


def action_vs_duration(
    sde,
    x0,
    x1,
    durations,
    *,
    num_points: int = 1001,
    args=None,
    rel_step: float = 1e-3,
    method: str = "auto",
    solver=None,
    **options,
) -> ActionDurationCurve:
    """S*(T) and E(T) for each duration T, with the identity dS*/dT = -E checked numerically.

    Each T is solved by ``most_likely_path`` on ``num_points`` uniform points (warm-started from
    the previous T's path in normalised time, durations taken in increasing order), and
    dS*/dT by a central difference over ``T (1 +- rel_step)``.

    Args:
        durations: T values > 0 (any order; the result keeps the given order).
        num_points: K per solve.
        rel_step: relative step of the derivative check, in (0, 1).
        method, solver, options: the solver, as in ``most_likely_path`` (``nn.Newton(...)``,
            or its options as keywords: ``rtol=``, ``max_steps=``, ``damping=``, ...); the
            damping defaults to 1e-5 for every solve.
    """
    check_sde(sde)
    x0, x1 = check_endpoints(x0, x1)
    rel_step = check_positive(rel_step, "rel_step", upper=1.0)
    solver = _resolve(solver, method, options, x0.size)
    if solver.damping is None:
        solver = solver.replace(damping=1e-5)
    Ts = _positive_sorted(durations, "durations")
    if np.any(Ts <= 0):
        raise ValueError(f"durations must be > 0; got {Ts}")
    order = np.argsort(Ts)
    out = [None] * Ts.size
    prev = None

    def solve(T, init):
        return most_likely_path(
            sde,
            x0,
            x1,
            0.0,
            float(T),
            num_points=num_points,
            args=args,
            initial=None if init is None else init.xs,
            solver=solver,
        )

    for i in order:
        T = Ts[i]
        res = solve(T, prev)
        lo, hi = solve(T * (1 - rel_step), res), solve(T * (1 + rel_step), res)
        dS = (hi.action - lo.action) / (2 * rel_step * T)
        out[i] = (res, dS, res.converged and lo.converged and hi.converged)
        prev = res
    paths = tuple(o[0] for o in out)
    E = np.array([float(np.mean(p.energy)) for p in paths])
    dS = np.array([o[1] for o in out])
    return ActionDurationCurve(
        durations=Ts,
        actions=np.array([p.action for p in paths]),
        energies=E,
        energy_spreads=np.array([p.energy_spread for p in paths]),
        dS_dT=dS,
        identity_residual=dS + E,
        converged=np.array([o[2] for o in out]),
        paths=paths,
    )


def duration_vs_energy(
    sde,
    x0,
    x1,
    energies,
    *,
    num_points: int = 401,
    args=None,
    rel_step: float = 1e-3,
    initial=None,
    solver: Geometric | None = None,
    starts="auto",
    **options,
) -> EnergyDurationCurve:
    """T(E), W(E) and S = W - E T for each energy E, by ``path_with_energy``.

    Energies are solved from the largest down, each from the previous path (large E gives
    direct paths, small E ones through attractors and saddles) and, by default, also from the
    starting curves of ``path_with_energy`` (the straight line, at E = 0 broken lines through
    fixed points, and bumps off the previous path if it is flat: on a symmetry axis or
    plane), the lowest W kept: a branch that becomes a saddle of W as E decreases (the
    symmetric path of a symmetric model) is not followed blindly. The identity dW/dE = T
    (equivalently dS*/dT = -E; Eq. 13 in 1-D) is checked by a central difference over
    ``E (1 +- rel_step)`` (skipped at E = 0, where T = inf).

    Args:
        energies: E values (any order; the result keeps the given order).
        num_points: nodes per path.
        rel_step: relative step of the derivative check, in (0, 1).
        initial: starting curve of the first (largest) energy, as in ``path_with_energy``.
        starts: ``"auto"`` (default) as above; an int m: the previous path plus m - 1 of
            ``path_with_energy``'s starts (the first energy: ``starts=m`` there); ``1``: each
            energy from the previous path only (the first from ``initial`` or the straight
            line).
        solver, options: ``nn.Geometric(...)``, or its options as keywords (``rtol=``, ...),
            used for every solve.
    """
    check_sde(sde)
    x0, x1 = check_endpoints(x0, x1)
    rel_step = check_positive(rel_step, "rel_step", upper=1.0)
    solver = configure(solver, Geometric(), (Geometric,), options, entry="duration_vs_energy")
    Es = _positive_sorted(energies, "energies")
    if isinstance(starts, bool) or not isinstance(starts, str | int | np.integer):
        raise TypeError(f"starts must be 'auto' or a positive integer; got {starts!r}")
    starts = check_starts(starts, None)
    order = np.argsort(-Es)
    init = initial
    out = [None] * Es.size
    for i in order:
        E = Es[i]
        if init is initial:  # the first energy: the user's curve, or the default starts
            kw = dict(initial=init) if init is not None else dict(starts=starts)
        elif starts == 1:
            kw = dict(initial=init)
        else:
            more = start_curves(sde, x0, x1, E, starts, None, args)
            if starts != "auto":
                more = more[: starts - 1]
            else:  # the previous path held on a symmetry axis or plane: bumps off it
                more += trapped_bumps(x0, x1, init.xs)
            kw = dict(starts=[init.xs] + [c for _, c in more])
        res = path_with_energy(
            sde, x0, x1, E, num_points=num_points, args=args, solver=solver, **kw
        )
        ok = res.converged
        if E != 0.0:
            lo = path_with_energy(
                sde,
                x0,
                x1,
                E * (1 - rel_step),
                num_points=num_points,
                args=args,
                initial=res,
                solver=solver,
                error_estimate=False,
            )
            hi = path_with_energy(
                sde,
                x0,
                x1,
                E * (1 + rel_step),
                num_points=num_points,
                args=args,
                initial=res,
                solver=solver,
                error_estimate=False,
            )
            dW = (hi.geometric_action - lo.geometric_action) / (2 * rel_step * E)
            ok = ok and lo.converged and hi.converged
        else:
            dW = np.nan
        out[i] = (res, dW, ok)
        init = res
    paths = tuple(o[0] for o in out)
    T = np.array([p.duration for p in paths])
    dW = np.array([o[1] for o in out])
    with np.errstate(invalid="ignore"):
        resid = np.where(np.isfinite(T), dW - T, np.nan)
    return EnergyDurationCurve(
        energies=Es,
        durations=T,
        actions=np.array([p.action for p in paths]),
        geometric_actions=np.array([p.geometric_action for p in paths]),
        dW_dE=dW,
        identity_residual=resid,
        converged=np.array([o[2] for o in out]),
        paths=paths,
        action_errors=np.array([_relative_error(p) for p in paths]),
    )


def _relative_error(path) -> float:
    err = path.stats.get("action_error")
    return float("nan") if err is None else float(err)
