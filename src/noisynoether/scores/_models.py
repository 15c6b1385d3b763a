"""The reverse SDE of Eq. 21 through a learned score, and its most likely paths' charges.

``learned_reverse_diffusion(network)`` is ``models.reverse_diffusion_from_score`` (the builder
the exact ring model uses too) with the network as the score: same noise schedule, same
forward time ``tau = t_max - t``, so the exact and learned models differ only in s(x, t).

``compare_scores`` solves the most likely reverse-SDE paths of Fig. 2 (from (0, 2R) at
t = 10^1.5 to ``R (cos phi, sin phi)`` at t = 10^-0.4) for several models on one grid and
reports, per model and end point: the path, S*, the largest distance to the reference
model's path, and the angular momentum L_12 along it as ``charge_balance`` computes it (the
discrete Noether charge, whose change equals the integrated delta L: zero when the drift is
rotation-equivariant, the leak otherwise); per model: the rotation-symmetry defect
(``symmetry_defect``) on states around the ring at the times the paths visit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import most_likely_path
from ..models import RING_T_MAX, reverse_diffusion_from_score
from ..models._registry import ring_time_grid
from ..symmetry import charge_balance, symmetry_defect

__all__ = [
    "learned_reverse_diffusion",
    "LearnedScore",
    "compare_scores",
    "ROTATION",
    "FIG2_PHIS",
    "defect_points",
]

#: The rotation generator xi(x) = A x of the plane: its charge p . A x is L_12 (Eq. 17).
ROTATION = np.array([[0.0, -1.0], [1.0, 0.0]])
#: Fig. 2's end angles on the ring (the paper's order).
FIG2_PHIS = (np.pi / 4, 0.0, -np.pi / 4, -np.pi / 2)


@dataclass(frozen=True, eq=False)
class LearnedScore:
    """A score function ``s(x, t)`` wrapping any callable (e.g. an ``equinox`` network).

    Compared and hashed by identity (a network's weights are arrays, which cannot be hashed),
    so an ``SDE`` built from it keys the solvers' compiled code to this object.
    """

    network: object

    def __call__(self, x, t):
        return self.network(x, t)


def learned_reverse_diffusion(score, *, t_max=RING_T_MAX, process="sde"):
    """The reverse process of Eq. 21 with a learned score, in forward time ``tau = t_max - t``.

    ``dx/dtau = 2 t s(x, t)`` with D = t (``process="sde"``), or ``t s(x, t)`` (``"pfode"``),
    t = t_max - tau: ``models.reverse_diffusion_from_score`` with ``score`` wrapped in a
    ``LearnedScore``. With ``score = models.ring_score`` it is the exact model of Fig. 2.

    Args:
        score: a callable ``s(x, t)`` on one state (n,) and a scalar diffusion time (a network
            from ``train_score`` or ``load_score``, or any jittable function).
        t_max, process: as in ``models.ring_reverse_diffusion``.
    """
    if not callable(score):
        raise TypeError(
            f"score must be a callable s(x, t) (e.g. a trained network); got {type(score).__name__}"
        )
    return reverse_diffusion_from_score(LearnedScore(score), t_max=t_max, process=process)


def defect_points(num=200, *, radius=5.0, seed=0) -> np.ndarray:
    """``num`` seeded states around the ring, radii uniform in [0, 2R]: where paths go."""
    rng = np.random.default_rng(seed)
    r = 2 * radius * rng.uniform(size=num)
    th = rng.uniform(0.0, 2 * np.pi, size=num)
    return np.stack([r * np.cos(th), r * np.sin(th)], axis=1)


def _one_path(sde, tau, x0, x1, initial):
    res = most_likely_path(sde, x0, x1, tau[0], tau[-1], ts=tau, initial=initial)
    bal = charge_balance(sde, tau, res.xs, (ROTATION, None))
    drift = bal.charge - bal.charge[0]
    return {
        "xs": np.asarray(res.xs),
        "action": float(res.action),
        "converged": bool(res.converged),
        "message": res.message,
        "L12": bal.charge,
        "L12_leakage": bal.leakage,
        "L12_max_drift": float(np.max(np.abs(drift))),
        "L12_relative_drift": float(np.max(np.abs(drift)) / max(bal.scale, 1e-300)),
        "balance_residual": bal.residual,
    }


def compare_scores(
    models: dict,
    *,
    reference: str,
    num_points=201,
    phis=FIG2_PHIS,
    radius=5.0,
    num_defect_points=200,
    defect_times=8,
    progress=None,
) -> dict:
    """Most likely Fig. 2 paths of several reverse-SDE models, their L_12 and symmetry defects.

    Args:
        models: ``{name: SDE}`` in forward time tau (``learned_reverse_diffusion`` or
            ``models.ring_reverse_diffusion``), all with ``t_max = RING_T_MAX``.
        reference: the name of the model the others' paths are compared with (the exact one).
        num_points: K, nodes of Fig. 2's log-spaced grid in t.
        phis: end angles on the ring.
        radius: the ring's radius R (start (0, 2R), ends R (cos phi, sin phi)).
        num_defect_points, defect_times: the sample of ``symmetry_defect`` (states
            ``defect_points``, times log-spaced over the grid's diffusion times).
        progress: None or a callable taking one line of text per solve.

    The reference model's paths start from the straight line; the others' from the reference
    path to the same end point (the same minimum's basin: each is checked converged).

    Returns:
        ``{"t": (K,) diffusion times, "tau": (K,), "phis": [...], "models": {name: {"defect":
        float, "paths": [per phi: xs, action, converged, L12 (K-1,), L12_leakage,
        L12_max_drift, L12_relative_drift, balance_residual, distance_to_reference]}}}``.
    """
    if reference not in models:
        raise ValueError(f"reference must name one of the models {list(models)}; got {reference!r}")
    t, tau = ring_time_grid(int(num_points))
    x0 = np.array([0.0, 2 * radius])
    points = defect_points(num_defect_points, radius=radius)
    t_def = np.logspace(np.log10(t[-1]), np.log10(t[0]), defect_times)
    tau_def = np.sort(RING_T_MAX - t_def)
    order = [reference] + [m for m in models if m != reference]
    out = {"t": t, "tau": tau, "phis": [float(p) for p in phis], "models": {}}
    for name in order:
        sde = models[name]
        paths = []
        for i, phi in enumerate(phis):
            if progress is not None:
                progress(f"{name}: most likely path to phi = {phi:+.4f}")
            x1 = radius * np.array([np.cos(phi), np.sin(phi)])
            # the learned models start from the reference path (same end points and grid)
            ref = out["models"].get(reference)
            initial = None if ref is None else ref["paths"][i]["xs"]
            paths.append(_one_path(sde, tau, x0, x1, initial))
        defect = symmetry_defect(sde, (ROTATION, None), points, times=tau_def)
        out["models"][name] = {"defect": float(defect), "paths": paths}
    ref_paths = out["models"][reference]["paths"]
    for entry in out["models"].values():
        for p, r in zip(entry["paths"], ref_paths, strict=True):
            p["distance_to_reference"] = float(np.max(np.linalg.norm(p["xs"] - r["xs"], axis=1)))
            p["action_difference"] = p["action"] - r["action"]
    return out
