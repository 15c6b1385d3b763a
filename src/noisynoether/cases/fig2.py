"""Fig. 2: reverse diffusion on a blurred ring, and the angular momentum of its most likely paths.

Data: a ring of radius R = 5 blurred with sigma0 = 0.55; forward process ``xdot = sqrt(2t) eta``.
Reverse SDE (Eq. 21) ``xdot = -2t s(x, t) + sqrt(2t) eta`` (D = t), diffusion time t running
down from T = 10^1.5. The solver needs increasing time, so the model runs in tau = T - t
(``models.ring_reverse_diffusion``): there dx/dtau = 2t s, and momenta and L_12 have the opposite
sign to the paper's t-convention (``L12_t = -L12``). The action is Eq. 8 with the cross term kept:
f depends on t, so the potential form of Eq. 11 does not apply. E is not conserved (f and D
depend on time); L_12 is (the score is rotation-equivariant and D isotropic).

Most likely paths from (0, 2R) at t = 10^1.5 to R(cos phi, sin phi) at t = 10^-0.4 for
phi = pi/4, 0, -pi/4, -pi/2, on a grid log-spaced in t (the authors used 50 times). The straight
line is a good enough start: each solve converges in about 7 damped Newton steps, and starts
along circle arcs (both ways round for phi = -pi/2) converge to the same paths (checked in
``checks["arc_starts"]``), so no continuation was needed.

Found (see ``checks`` and the report): S* grows with the angular distance from the PF-ODE's end
point (0, R), as the paper says, but |L_12| does not: it vanishes for phi = -pi/2 (by the mirror
symmetry the minimiser runs straight down the x2 axis through the centre, and it is a strict
minimum) and is largest near phi = 0. The paper's ordering "pi/4, 0, -pi/4, -pi/2 = lowest to
highest |L|" is not what the converged Eq. 8 problem gives. (Minimising the authors' notebook
objective, which drops the cross term, to convergence gives the same pattern; their paths were
solved in polar coordinates from arcs and far from converged, see SOLVER-NOTES.md.)

The PF-ODE runs radially, as the paper says, but ends at r = 3.92 at t = 10^-0.4, inside the
ring: it transports p(x | t), so it keeps the radial CDF (4.8 % at both ends); the paper draws it
ending on the ring.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.integrate import quad, solve_ivp
from scipy.special import i0e

from .. import most_likely_path
from .._jit import jit
from ..models import (
    RING_T_MAX,
    ring_log_density,
    ring_reverse_diffusion,
    ring_score,
    tau_to_diffusion_time,
)
from ..models._registry import RING_T_END, ring_time_grid
from ._common import Steps, path_summary

R, SIGMA0 = 5.0, 0.55
T_START, T_END = RING_T_MAX, RING_T_END  # diffusion times: start (noise) and end (near data)
X0 = np.array([0.0, 2 * R])
PHIS = (np.pi / 4, 0.0, -np.pi / 4, -np.pi / 2)  # the paper: lowest to highest |L|
PHI_LABELS = ("pi/4", "0", "-pi/4", "-pi/2")
DENSITY_TIMES = (0.0, 1.5, 5.0)


def time_grid(K: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, tau): K diffusion times log-spaced from 10^1.5 down to 10^-0.4, and tau = T - t."""
    return ring_time_grid(K)


def arc_path(tau: np.ndarray, phi_end: float) -> np.ndarray:
    """A start along an arc: angle pi/2 -> phi_end and radius 2R -> R, linear in tau."""
    s = (tau - tau[0]) / (tau[-1] - tau[0])
    ang = np.pi / 2 + s * (phi_end - np.pi / 2)
    rad = 2 * R + s * (R - 2 * R)
    return np.stack([rad * np.cos(ang), rad * np.sin(ang)], axis=1)


def radial_cdf(r: float, t: float) -> float:
    """P(|x| <= r) under p(x | t), by quadrature of 2 pi rho p(rho, t) (scipy's Bessel i0e)."""
    s2 = SIGMA0**2 + t**2

    def integrand(rho):
        z = R * rho / s2
        return rho / s2 * np.exp(-((rho - R) ** 2) / (2 * s2)) * i0e(z)

    return float(quad(integrand, 0.0, r, epsabs=1e-13, epsrel=1e-12, limit=200)[0])


def pfode_trajectory(x_start=X0, n_out: int = 400) -> dict:
    """The PF-ODE dx/dtau = t s(x, t) from x_start at t = 10^1.5 down to t = 10^-0.4 (solve_ivp).

    The PF-ODE transports p(x | t), and with a radial score it moves points radially, so it
    preserves the radial CDF: P(|x| <= r(t)) is the same at both ends (checked in ``run``).
    """
    x_start = np.asarray(x_start, dtype=float)
    score = jit(lambda x, t: ring_score(x, t, radius=R, sigma0=SIGMA0))

    def rhs(tau, x):
        t = tau_to_diffusion_time(tau)
        return t * np.asarray(score(x, t))

    tau1 = RING_T_MAX - T_END
    _, tau_eval = time_grid(n_out)
    tau_eval[-1] = tau1
    sol = solve_ivp(
        rhs, (0.0, tau1), x_start, method="DOP853", rtol=1e-10, atol=1e-12, t_eval=tau_eval
    )
    xs = sol.y.T
    ang = np.arctan2(xs[:, 1], xs[:, 0])
    ang0 = np.arctan2(x_start[1], x_start[0])
    return {
        "ts": tau_to_diffusion_time(sol.t),
        "xs": xs,
        "success": bool(sol.success),
        "final_radius": float(np.hypot(*xs[-1])),
        "max_angle_change": float(np.max(np.abs(ang - ang0))),
        "max_abs_x1": float(np.max(np.abs(xs[:, 0]))),
    }


def densities(n: int = 201, half_width: float = 10.0) -> list[dict]:
    """p(x | t) on an n x n grid over [-half_width, half_width]^2 at t = 0, 1.5, 5."""
    g = np.linspace(-half_width, half_width, n)
    X, Y = np.meshgrid(g, g)
    pts = np.stack([X, Y], axis=-1)
    out = []
    for t in DENSITY_TIMES:
        p = np.exp(np.asarray(ring_log_density(pts, t, radius=R, sigma0=SIGMA0)))
        out.append({"t": t, "x": g, "y": g, "p": p})
    return out


def run(quick: bool = False, progress=None) -> dict:
    """Solve the four paths, integrate the PF-ODE, tabulate the densities; return the data.

    ``progress``: None, True or a callable (see ``cases._common``): one line per step.
    """
    steps = Steps(progress, "fig2")
    start = time.perf_counter()
    sde = ring_reverse_diffusion(R, SIGMA0, t_max=RING_T_MAX, process="sde")
    K = 401 if quick else 2001
    t, tau = time_grid(K)
    paths, summaries, arc_checks = [], [], []
    for phi, lab in zip(PHIS, PHI_LABELS, strict=True):
        x1 = R * np.array([np.cos(phi), np.sin(phi)])
        steps(f"phi = {lab}: most likely path on {K} times, and from arc starts")
        # The straight line in x is enough (about 7 damped Newton steps, see the module doc).
        res = most_likely_path(sde, X0, x1, tau[0], tau[-1], ts=tau)
        L12 = res.angular_momentum[:, 0, 1]
        row = path_summary(f"phi = {lab}", res, {"L12": L12})
        row["phi"] = float(phi)
        row["L12_t_convention_mean"] = -float(np.mean(L12))
        summaries.append(row)
        # Other starts: arcs clockwise (and, for phi = -pi/2, counter-clockwise) round the ring.
        ends = [phi] + ([phi + 2 * np.pi] if np.isclose(phi, -np.pi / 2) else [])
        for phi_end in ends:
            alt = most_likely_path(
                sde, X0, x1, tau[0], tau[-1], ts=tau, initial=arc_path(tau, phi_end)
            )
            arc_checks.append(
                {
                    "phi": lab,
                    "arc_to": float(phi_end),
                    "converged": bool(alt.converged),
                    "action_difference": float(alt.action - res.action),
                    "max_path_difference": float(np.max(np.abs(alt.xs - res.xs))),
                }
            )
        tm = 0.5 * (t[:-1] + t[1:])
        paths.append(
            {
                "phi": float(phi),
                "label": lab,
                "ts": t,
                "tm": tm,
                "xs": res.xs,
                "L12": L12,
                "energy": res.energy,
                "action": float(res.action),
            }
        )
    steps("PF-ODE trajectories and the radial distribution")
    pf = pfode_trajectory()
    pf_off = pfode_trajectory(np.array([6.0, 8.0]), n_out=50)  # off the symmetry axis
    cdf_start = radial_cdf(float(np.hypot(*X0)), T_START)
    cdf_end = radial_cdf(pf["final_radius"], T_END)
    absL = [abs(r["charges"]["L12"]["mean"]) for r in summaries]
    actions = [r["action"] for r in summaries]
    order = [PHI_LABELS[i] for i in np.argsort(absL)]
    checks = {
        "all_converged": all(r["converged"] for r in summaries),
        "L12_relative_spread": {
            r["label"]: r["charges"]["L12"]["spread"]
            / max(abs(r["charges"]["L12"]["mean"]), 1e-300)
            for r in summaries
        },
        "L12_spread": {r["label"]: r["charges"]["L12"]["spread"] for r in summaries},
        "energy_spread": {r["label"]: r["energy"]["spread"] for r in summaries},
        "abs_L12_order_lowest_to_highest": order,
        "paper_abs_L12_order_holds": bool(np.all(np.diff(absL) > 0)),
        "action_increases_with_angular_distance": bool(np.all(np.diff(actions) > 0)),
        "arc_starts": arc_checks,
        "arc_starts_agree": all(
            c["converged"] and abs(c["action_difference"]) < 1e-9 for c in arc_checks
        ),
        "pfode": {
            "success": pf["success"],
            "final_radius": pf["final_radius"],
            "max_angle_change_rad": pf["max_angle_change"],
            "max_abs_x1": pf["max_abs_x1"],
            "radially_straight": pf["max_angle_change"] < 1e-9,
            "off_axis_start": [6.0, 8.0],
            "off_axis_max_angle_change_rad": pf_off["max_angle_change"],
            "off_axis_final_radius": pf_off["final_radius"],
            # the PF-ODE transports the density: the radial CDF at the start and at the end agree
            "radial_cdf_at_start": cdf_start,
            "radial_cdf_at_end": cdf_end,
            "radial_cdf_preserved": abs(cdf_start - cdf_end) < 1e-8,
        },
        "seconds": time.perf_counter() - start,
    }
    notes = [
        "Time runs in tau = 10^1.5 - t (solvers need increasing time): L12 here is minus the "
        "paper's t-convention value (L12_t_convention_mean in each row).",
        "Eq. 8 with the cross term kept (f = 2t s depends on t, so Eq. 11 does not apply); "
        "E is not conserved, L12 is (rotation symmetry).",
        "The paper's ordering of |L| (pi/4 < 0 < -pi/4 < -pi/2) does not hold for the "
        "converged paths: the phi = -pi/2 minimiser runs down the x2 axis with L12 = 0. "
        "S* does increase with the angular distance from the PF-ODE end point (0, R).",
        f"The PF-ODE runs radially (from (0, 10) and from an off-axis start) and ends at radius "
        f"{pf['final_radius']:.4f} at t = 10^-0.4, inside the ring: it preserves the radial CDF "
        f"({100 * cdf_start:.2f} % at both ends), so it ends at that quantile of p(x | t), not "
        "at R = 5 where the paper draws the dashed line's end.",
        "p(x|t) uses the prefactor 1/(2 pi (sigma0^2 + t^2)); the paper prints 1/(2 pi t^2).",
    ]
    return {
        "name": "fig2",
        "title": (
            "Fig. 2: reverse diffusion on a ring (R = 5, sigma0 = 0.55), most likely reverse-SDE "
            "paths from (0, 10) at t = 10^1.5 to the ring at t = 10^-0.4"
        ),
        "paths": paths,
        "pfode": pf,
        "densities": densities(121 if quick else 201),
        "summary": summaries,
        "charges_discussed": ["L12"],
        "checks": checks,
        "notes": notes,
        "ring": {"radius": R, "sigma0": SIGMA0, "x0": X0, "t_start": T_START, "t_end": T_END},
    }
