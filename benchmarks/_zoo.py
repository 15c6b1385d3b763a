"""The robustness zoo of issue 11: problems a new user would try, each with an independent S*.

Every problem is a ``Problem``: the model, endpoints, horizon T and grid K, which entry point
solves it (``kind``), and its reference value with a line saying how that value was obtained.
``bench_robustness.py`` runs them; a test can import ``PROBLEMS`` (cheap: building the list
evaluates no reference; ``Problem.reference()`` does, the closed forms and quadratures in
well under a second each).

Kinds: ``"fixed"``: ``most_likely_path(sde, x0, x1, 0, T, num_points=K)``; ``"energy0"``:
``path_with_energy(sde, x0, x1, energy=0)`` (x1 a saddle); ``"quasipotential"``:
``quasipotential(sde, x0, x1)``; ``"barrier"``: ``barrier(sde, x0, x1)`` (x0, x1 attractors);
``"find_paths"``: ``find_paths(sde, x0, x1, 0, T, num_points=K).global_minimum``.

References marked "same grid" were computed once with ``bench_robustness.py --references`` (scipy
``trust-ncg`` with exact JAX Hessian-vector products on the same discrete action and grid,
the best of the straight start and smooth bumps off it along every direction perpendicular
to x1 - x0; no noisynoether solver involved) and are stored here as numbers (fewer starts for
three, to save time: Maier-Stein T = 50 bumps of +0.3 and +1, Fig. 1c T = 10 of +-1 with up to
3000 iterations, rate-64 four random directions); the others are computed at run time in
``_references.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np
from _references import linear_closed_form, quadrature_1d

import noisynoether as nn


# ---- models (frozen dataclasses: equal models share compiled code) ---------------------------
@dataclass(frozen=True)
class MaierStein:
    """f = (x - x^3 - beta x y^2, -(1 + x^2) y): Maier & Stein (1993), the standard MAM/gMAM
    test model (E, Ren & Vanden-Eijnden 2004; Heymann & Vanden-Eijnden 2008). Reflection
    y -> -y; for beta > 4 the minimum-action path from (-1, 0) to the saddle (0, 0) leaves
    the axis (two mirror-image minima), and the axis path is a saddle of the action."""

    beta: float = 10.0

    def __call__(self, t, x, args):
        return jnp.stack([x[0] - x[0] ** 3 - self.beta * x[0] * x[1] ** 2, -(1 + x[0] ** 2) * x[1]])


@dataclass(frozen=True)
class MaierSteinAxial:
    """The 3-D axial version: (x, rho) -> (x - x^3 - beta x rho^2, -(1 + x^2) rho) with
    rho = (y, z): invariant under rotations about the x-axis, so its minimisers form a circle
    (one zero mode) and any plane through the axis carries the 2-D problem."""

    beta: float = 10.0

    def __call__(self, t, x, args):
        rho2 = x[1] ** 2 + x[2] ** 2
        return jnp.concatenate(
            [(x[0] - x[0] ** 3 - self.beta * x[0] * rho2)[None], -(1 + x[0] ** 2) * x[1:]]
        )


@dataclass(frozen=True)
class Ring:
    """f = x (1 - |x|^2): the unit circle is a ring of fixed points, the centre a source."""

    def __call__(self, t, x, args):
        return x * (1 - jnp.sum(x**2))


@dataclass(frozen=True)
class Linear:
    A: tuple

    def __call__(self, t, x, args):
        return jnp.asarray(self.A) @ x


@dataclass(frozen=True)
class DoubleWell:
    def __call__(self, t, x, args):
        return x - x**3


@dataclass(frozen=True)
class SteepBistable:
    """f = -x + 2 tanh(gain x): 1-D bistable with a steep sigmoid (slope 2 gain - 1 at 0)."""

    gain: float = 10.0

    def __call__(self, t, x, args):
        return -x + 2 * jnp.tanh(self.gain * x)


@dataclass(frozen=True)
class Zero:
    def __call__(self, t, x, args):
        return jnp.zeros_like(x)


@dataclass(frozen=True)
class RateNet:
    """xdot = -x + W tanh(x)."""

    W: tuple

    def __call__(self, t, x, args):
        return -x + jnp.asarray(self.W) @ jnp.tanh(x)


@dataclass(frozen=True)
class StateTimeD:
    """D(t, x) = d (1 + x^2) (1 + a sin(2 pi t / T))."""

    d: float
    a: float
    T: float

    def __call__(self, t, x, args):
        return self.d * (1 + x**2) * (1 + self.a * jnp.sin(2 * jnp.pi * t / self.T))


@dataclass(frozen=True)
class StateD:
    """D(x) = d (1 + x^2)."""

    d: float

    def __call__(self, t, x, args):
        return self.d * (1 + x**2)


@dataclass(frozen=True)
class TimeD:
    """D(t) = d (1 + a sin(t)) (scalar)."""

    d: float
    a: float

    def __call__(self, t, x, args):
        return self.d * (1 + self.a * jnp.sin(t))


def _rate3():
    W = 0.5 * np.eye(3) + 0.5 * np.ones((3, 3))
    a = 1.0
    for _ in range(200):  # attractor a (1,1,1): a = 2 tanh(a)
        a = 2 * np.tanh(a)
    return nn.SDE(drift=RateNet(tuple(map(tuple, W))), diffusion=0.05), a * np.ones(3)


def _rate64():
    rng = np.random.default_rng(0)  # bench_large_n.problem(64)
    W = 0.8 * rng.standard_normal((64, 64)) / 8.0
    sde = nn.SDE(drift=RateNet(tuple(map(tuple, W))), diffusion=0.1)
    return sde, 0.5 * rng.standard_normal(64), 0.5 * rng.standard_normal(64)


def _tanh3():
    """docs/robustness.md item 7: W = 2.5 m m^T / 3 + 0.3 G / sqrt(3), from a stable state to
    its mirror image through the saddle at 0 (a washboard of departure times at T = 40)."""
    rng = np.random.default_rng(3)
    m = rng.choice([-1.0, 1.0], 3)
    G = rng.standard_normal((3, 3))
    W = 2.5 * np.outer(m, m) / 3 + 0.3 * G / np.sqrt(3)
    sde = nn.SDE(drift=RateNet(tuple(map(tuple, W))), diffusion=0.05)
    stable = [p.x for p in nn.fixed_points(sde, starts=[2 * m, -2 * m]) if p.kind == "stable"]
    a, b = sorted(stable, key=lambda x: float(x @ m))
    return sde, a, b


A_NN = ((-1.0, 3.0), (0.0, -2.0))  # non-normal stable drift
D_CORR = ((0.2, 0.15), (0.15, 0.3))  # correlated, anisotropic
RATE3_A = _rate3()[1][0]


# ---- problems ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    name: str
    group: str
    kind: str  # fixed | energy0 | quasipotential | barrier | find_paths
    model: Callable  # () -> SDE  (or (SDE, x0, x1) when x0 is None)
    x0: tuple | None
    x1: tuple | None
    T: float = np.inf
    K: int = 401
    ref: float | Callable | None = None  # a number, or () -> (value, how)
    ref_how: str = ""
    # relative error of S* accepted as "solved": None means 1e-6 against a same-grid reference
    # (comparable to rounding) and 1e-3 against a continuous one (discretisation O(dt^2))
    tol: float | None = None
    quick: bool = False
    expect_zero_modes: int = 0
    note: str = ""
    starts: dict = field(default_factory=dict)  # options of the --references multistart

    def build(self):
        """(sde, x0, x1) as arrays."""
        out = self.model()
        if isinstance(out, tuple):
            return out
        return out, np.asarray(self.x0, float), np.asarray(self.x1, float)

    @property
    def tolerance(self) -> float:
        if self.tol is not None:
            return self.tol
        return 1e-6 if self.kind in ("fixed", "find_paths") and "same" in self.ref_how else 1e-3

    def reference(self):
        """(S_ref, how)."""
        if callable(self.ref):
            return self.ref()
        return self.ref, self.ref_how


def _ms():
    return nn.SDE(drift=MaierStein(10.0), diffusion=0.5)


def _ms3():
    return nn.SDE(drift=MaierSteinAxial(10.0), diffusion=0.5)


def _ring():
    return nn.SDE(drift=Ring(), diffusion=0.1)


def _dw(D=0.05):
    return nn.SDE(drift=DoubleWell(), diffusion=D)


def _dw_state_d():
    return nn.SDE(drift=DoubleWell(), diffusion=StateD(0.05))


def _quad(f, D, x0, x1, T):
    return lambda: quadrature_1d(f, D, x0, x1, T)


SAME = "same grid: scipy trust-ncg, best of off-axis starts (--references)"
MS_T20, MS_T50 = 0.3400488559168266, 0.3400533902939016  # same-grid minima, dt 0.01 and 0.025
MS_INF = MS_T20 - (MS_T50 - MS_T20) / (2.5**2 - 1)  # Richardson in dt^2: 0.34004799
MS_INF_HOW = (
    "Richardson (dt^2) of the same-grid fixed-T minima (-1,0) -> (1,0) at T = 20, K = 2001 and "
    "T = 50, K = 2001 (S(T) - S(inf) ~ e^-T is below 1e-8 there)"
)
# rate-3 network, same-grid minima: T = 20 at dt = 0.01 and 0.02, T = 40 at dt = 0.02
R3_T20, R3_T20_COARSE, R3_T40_COARSE = 38.48897546162136, 38.48923128196734, 38.46455195937413
R3_INF = R3_T40_COARSE + (R3_T20 - R3_T20_COARSE) * 4 / 3  # dt -> 0 (dt^2): 38.464211
R3_INF_HOW = (
    "same-grid fixed-T minimum at T = 40, K = 2001, corrected to dt -> 0 (Richardson, dt^2) "
    "with the T = 20 minima at K = 1001 and 2001"
)

# fmt: off
PROBLEMS: list[Problem] = [
    # symmetric saddles
    Problem("maier-stein T=10", "symmetric", "fixed", _ms, (-1, 0), (1, 0), 10, 1001,
            0.34409450085754806, SAME, quick=True),
    Problem("maier-stein T=20", "symmetric", "fixed", _ms, (-1, 0), (1, 0), 20, 2001,
            MS_T20, SAME),
    Problem("maier-stein T=50", "symmetric", "fixed", _ms, (-1, 0), (1, 0), 50, 2001,
            MS_T50, SAME),
    Problem("maier-stein E=0 to saddle", "symmetric", "energy0", _ms, (-1, 0), (0, 0),
            ref=MS_INF, ref_how=MS_INF_HOW),
    Problem("maier-stein quasipotential", "symmetric", "quasipotential", _ms, (-1, 0), (0, 0),
            ref=MS_INF, ref_how=MS_INF_HOW),
    Problem("maier-stein barrier", "symmetric", "barrier", _ms, (-1, 0), (1, 0),
            ref=MS_INF, ref_how=MS_INF_HOW),
    Problem("axial 3-D T=10", "symmetric", "fixed", _ms3, (-1, 0, 0), (1, 0, 0), 10, 1001,
            0.34409450085754806, "the 2-D same-grid value (a plane through the axis)",
            quick=True, expect_zero_modes=1),
    Problem("ring T=5", "symmetric", "fixed", _ring, (1, 0), (-1, 0), 5, 1001,
            2.8992752982905197, SAME),
    Problem("ring T=20", "symmetric", "fixed", _ring, (1, 0), (-1, 0), 20, 2001,
            1.2263800816093786, SAME, quick=True,
            note="the path through the centre (S = 2.5000347) is a local minimum here"),
    Problem("ring T=20 find_paths", "symmetric", "find_paths", _ring, (1, 0), (-1, 0), 20,
            2001, 1.2263800816093786, SAME),
    Problem("ring E=0", "symmetric", "energy0", _ring, (1, 0), (-1, 0), ref=0.0,
            ref_how="closed form: along the ring of fixed points W = 0"),
    # long horizons
    Problem("double well T=10", "long-horizon", "fixed", _dw, (-1,), (1,), 10, 1001,
            _quad(lambda x: x - x**3, lambda x: 0.05, -1.0, 1.0, 10.0)),
    Problem("double well T=30", "long-horizon", "fixed", _dw, (-1,), (1,), 30, 2001,
            _quad(lambda x: x - x**3, lambda x: 0.05, -1.0, 1.0, 30.0)),
    Problem("double well T=100", "long-horizon", "fixed", _dw, (-1,), (1,), 100, 4001,
            _quad(lambda x: x - x**3, lambda x: 0.05, -1.0, 1.0, 100.0), quick=True),
    Problem("OU T=1", "long-horizon", "fixed", lambda: nn.SDE(drift=Linear(((-1.0,),)),
            diffusion=0.5), (0,), (2,), 1, 1001,
            lambda: linear_closed_form(-1.0, 0.5, 0.0, 2.0, 1.0)),
    Problem("OU T=100", "long-horizon", "fixed", lambda: nn.SDE(drift=Linear(((-1.0,),)),
            diffusion=0.5), (0,), (2,), 100, 4001,
            lambda: linear_closed_form(-1.0, 0.5, 0.0, 2.0, 100.0)),
    # steep sigmoids
    Problem("steep tanh (gain 10) T=10", "steep", "fixed",
            lambda: nn.SDE(drift=SteepBistable(10.0), diffusion=0.5), (-2,), (2,), 10, 1001,
            _quad(lambda x: -x + 2 * np.tanh(10 * x), lambda x: 0.5, -2.0, 2.0, 10.0)),
    Problem("fig. 1c network T=1", "steep", "fixed", nn.models.multistable, (3, 0.1), (0.1, 3),
            1, 1001, 27.953506183143688, SAME),
    Problem("fig. 1c network T=10", "steep", "fixed", nn.models.multistable, (3, 0.1),
            (0.1, 3), 10, 2001, 6.839650559342683, SAME),
    # state- and time-dependent, correlated D
    Problem("D(t,x) zero drift T=1", "diffusion", "fixed",
            lambda: nn.SDE(drift=Zero(), diffusion=StateTimeD(0.1, 0.5, 1.0)), (-2,), (3,), 1,
            1001, (np.arcsinh(3.0) + np.arcsinh(2.0)) ** 2 / (4 * 0.1 * 1.0),
            "closed form: (asinh x1 - asinh x0)^2 / (4 d int g dt)"),
    Problem("double well D(x) T=10", "diffusion", "fixed", _dw_state_d, (-1,), (1,), 10, 1001,
            _quad(lambda x: x - x**3, lambda x: 0.05 * (1 + x**2), -1.0, 1.0, 10.0)),
    Problem("OU D(t) T=10", "diffusion", "fixed",
            lambda: nn.SDE(drift=Linear(((-1.0,),)), diffusion=TimeD(0.5, 0.9)), (0,), (2,),
            10, 1001,
            lambda: linear_closed_form(-1.0, 0.5, 0.0, 2.0, 10.0, g=lambda t: 1 + 0.9 * np.sin(t))),
    Problem("correlated D, non-normal A T=5", "diffusion", "fixed",
            lambda: nn.SDE(drift=Linear(A_NN), diffusion=np.array(D_CORR)), (0, 0), (1, 1), 5,
            1001, lambda: linear_closed_form(A_NN, D_CORR, (0, 0), (1, 1), 5.0), quick=True),
    # rate networks
    Problem("rate-3 network T=20", "network", "fixed", lambda: _rate3()[0],
            (-RATE3_A,) * 3, (RATE3_A,) * 3, 20, 2001, R3_T20, SAME, quick=True),
    Problem("rate-3 barrier", "network", "barrier", lambda: _rate3()[0], (-RATE3_A,) * 3,
            (RATE3_A,) * 3, ref=R3_INF, ref_how=R3_INF_HOW),
    Problem("rate-3 quasipotential at saddle", "network", "quasipotential",
            lambda: _rate3()[0], (-RATE3_A,) * 3, (0, 0, 0), ref=R3_INF, ref_how=R3_INF_HOW),
    Problem("tanh-3 network T=40", "network", "fixed", _tanh3, None, None, 40, 401,
            80.53604938910992, SAME,
            note="trust-ncg creeps too: 400 iterations from each of 9 starts, |g| 2e-8 to 9e-6"),
    Problem("rate-64 random network T=1", "network", "fixed", _rate64, None, None, 1, 200,
            122.16997679552013, SAME, starts={"random_directions": 4}),
]
# fmt: on
BY_NAME = {p.name: p for p in PROBLEMS}
