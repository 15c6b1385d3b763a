"""Continuous symmetries of a model: the Lie algebra of affine generators ``xi(x) = A x + b``.

Noether's theorem (paper Eqs. 3-4) needs a transformation that leaves the Lagrangian of Eq. 8,
``L = 1/4 (xdot - f)^T D^-1 (xdot - f)``, invariant. Under ``x -> x + eps xi(x)`` with the
affine generator ``xi(x) = A x + b`` the velocity moves by ``eps A xdot`` and the residual
``r = xdot - f`` by ``eps (A xdot - J_f xi)``. If the drift is *equivariant*,

    J_f(t, x) (A x + b) = A f(t, x)                                           (drift condition)

then ``delta r = A r`` and ``delta L = 1/4 r^T D^-1 (A D + D A^T - J_D[xi]) D^-1 r``, which
vanishes for every r exactly when the diffusion is *preserved*,

    J_D(t, x)[A x + b] = A D + D A^T   (A D + D A^T = 0 for constant D).   (diffusion condition)

Both conditions are linear in the n^2 + n unknowns (A, b). ``find_symmetries`` builds them at
every sample state and time with JAX Jacobians, stacks them, and returns the null space (an SVD)
as an orthonormal basis of generators, with the charge ``Q = p . xi`` (Eq. 4; Eqs. 14-17 for
translations and rotations) of each. Time translation (energy, Eq. 10) is reported when f and D
do not depend on t.

Only exact (not quasi-) symmetries of L with time-independent affine generators are searched:
a total-derivative term K in Eq. 3, or a generator that depends on t (a Galilean boost of
Brownian motion, say), is not found.
"""

from __future__ import annotations

import functools
import numbers
import re
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from .._charges import energy, noether_charge
from .._checks import _check_diffusion_on, _short, check_sde

__all__ = ["Symmetry", "SymmetryList", "find_symmetries", "DEFAULT_TIMES"]

#: Times at which the conditions are checked when ``times`` is not given.
DEFAULT_TIMES = (0.0, 0.5, 1.0, 2.0)

_SQRT2 = float(np.sqrt(2.0))
_NAME_TOL = 1e-6  # relative size below which an entry counts as zero when naming


# ---------------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class Symmetry:
    """A continuous symmetry of a model (or a candidate one) and its Noether charge.

    Attributes:
        kind: ``"affine"`` (the generator ``xi(x) = A x + b``) or ``"time"`` (time translation).
        A: (n, n) matrix of the generator; None for ``"time"``.
        b: (n,) vector of the generator; None for ``"time"``.
        name: a readable description: ``"rotation in the (x1, x2) plane"``,
            ``"translation along x3"``, ``"time translation (energy, Eq. 10)"``, or a generic
            ``"affine generator ..."``.
        residual: how exactly it holds on the sample. For ``"affine"``: ``|M u| / s_max``, M the
            row-scaled constraint matrix (see ``find_symmetries``), u the generator's
            coordinates and s_max M's largest singular value (about 1e-16 for an exact
            symmetry). For ``"time"``: the relative change of f and D between the sample times.
        coefficients: for symmetries found by ``conserved_quantities``, the weights of the
            candidate generators that make it up; None otherwise.

    Affine generators are normalised in the inner product ``<xi, xi'> = 1/2 tr(A^T A') + b . b'``,
    under which the rotation ``A = E_ji - E_ij`` and the translation ``b = e_i`` have norm 1, so
    their charges are exactly L_ij (Eq. 16) and p_i (Eq. 14).
    """

    kind: str
    A: np.ndarray | None
    b: np.ndarray | None
    name: str
    residual: float
    sde: Any = None
    args: Any = None
    coefficients: np.ndarray | None = None

    def charge(self, ts, xs, args=None) -> np.ndarray:
        """(K-1,) the conserved charge on each interval of a path (ts (K,), xs (K, n)).

        ``Q = p . (A x + b)`` at interval midpoints (Eq. 4, ``noether_charge``) for an affine
        symmetry; the energy ``E = 1/4 xdot^T D^-1 xdot - 1/4 f^T D^-1 f`` (Eq. 10,
        ``energy``) for the time translation. ``args`` defaults to the ones the symmetry was
        found with.
        """
        if self.sde is None:
            raise ValueError("this Symmetry has no model attached: use noether_charge(sde, ...)")
        args = self.args if args is None else args
        if self.kind == "time":
            return energy(self.sde, ts, xs, args)
        return noether_charge(self.sde, ts, xs, self.A, self.b, args)

    def xi(self, x) -> np.ndarray:
        """The generator ``A x + b`` at states x (..., n) (affine symmetries only)."""
        if self.kind != "affine":
            raise ValueError(f"xi is defined for affine symmetries only; this one is {self.kind!r}")
        x = np.asarray(x, dtype=np.float64)
        return x @ self.A.T + self.b

    def __repr__(self) -> str:
        return f"Symmetry(kind={self.kind!r}, name={self.name!r}, residual={self.residual:.2e})"


class SymmetryList(list):
    """A list of ``Symmetry`` objects with what the search found out about the model.

    Attributes:
        autonomous: True when f and D do not depend on t at the sample (the time translation is
            then in the list, its charge the energy of Eq. 10), False when they do (no energy
            conservation: ``message`` says so), None when only one time was checked.
        time_residual: the relative change of f and D between the sample times (0 for an
            autonomous model); None with one time.
        singular_values: (n^2 + n,) singular values of the constraint matrix relative to the
            largest, in decreasing order; those at most ``tol`` are the affine symmetries.
        message: a one-line summary.
    """

    def __init__(
        self, items=(), *, autonomous=None, time_residual=None, singular_values=None, message=""
    ):
        super().__init__(items)
        self.autonomous = autonomous
        self.time_residual = time_residual
        self.singular_values = (
            np.zeros(0) if singular_values is None else np.asarray(singular_values)
        )
        self.message = message

    @property
    def affine(self) -> list[Symmetry]:
        """The affine symmetries only."""
        return [s for s in self if s.kind == "affine"]

    def __repr__(self) -> str:
        return f"SymmetryList({list.__repr__(self)}, autonomous={self.autonomous})"


# ------------------------------------------------------------------------------- validation
def check_tol(tol, name: str = "tol") -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {tol!r}")
    if not 0.0 < float(tol) < 1.0:
        raise ValueError(f"{name} must be in (0, 1) (relative to the largest term); got {tol!r}")
    return float(tol)


def as_points(points, name: str = "points") -> np.ndarray:
    """(m, n) float64 array of sample states."""
    if callable(points) or isinstance(points, str):
        raise TypeError(f"{name} must be an (m, n) array of states; got {type(points).__name__}")
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be an (m, n) array of states; got {type(points).__name__}"
        ) from err
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        hint = " (for a 1-D model pass points[:, None])" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be an (m, n) array of states{hint}; got shape {arr.shape}")
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name} must be finite; {name}[{bad[0][0]}] = {_short(arr[bad[0][0]])}")
    return arr


def as_times(times, name: str = "times") -> np.ndarray:
    """Distinct, finite sample times (DEFAULT_TIMES when None)."""
    if times is None:
        return np.asarray(DEFAULT_TIMES, dtype=np.float64)
    try:
        arr = np.atleast_1d(np.asarray(times, dtype=np.float64))
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a number or a 1-D array of times; got {times!r}") from err
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of times; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {_short(arr)}")
    return np.unique(arr)


def grid(times: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (time, point) pair: (T*m,) times and (T*m, n) states."""
    tt = np.repeat(times, points.shape[0])
    xx = np.tile(points, (times.size, 1))
    return tt, xx


def check_model_at(sde, times, points, args, what: str = "points") -> None:
    """f must return shape (n,) and be finite, D must fit n and be SPD, at every (t, x)."""
    n = points.shape[1]
    t0, x0 = float(times[0]), points[0]
    try:
        f0 = np.asarray(sde.f(jnp.asarray(t0), jnp.asarray(x0), args))
    except Exception as err:  # a user's function can fail in any way: say where
        raise ValueError(
            f"drift failed at t = {t0:g}, x = {_short(x0)} (the first of the {what}, shape "
            f"{points.shape}; {what} must be (m, n) with n the model's state dimension): {err}"
        ) from err
    if f0.shape != (n,):
        raise ValueError(
            f"{what} have n = {n} components (shape {points.shape}) but the drift returns shape "
            f"{f0.shape} at t = {t0:g}, x = {_short(x0)}: {what} must be (m, n) with n the "
            "model's state dimension"
        )
    tt, xx = grid(times, points)
    fs = np.asarray(jax.vmap(lambda t, x: sde.f(t, x, args))(tt, xx))
    bad = np.argwhere(~np.isfinite(fs))
    if bad.size:
        k = bad[0][0]
        raise ValueError(
            f"drift returned a non-finite value {_short(fs[k])} at t = {tt[k]:g}, "
            f"x = {_short(xx[k])} (one of the {what})"
        )
    _check_diffusion_on(sde, tt, xx, args, n)


def as_generator(generator, n: int, name: str = "generator"):
    """("affine", A, b) or ("time", None, None) from a Symmetry or a pair (A, b)."""
    if isinstance(generator, Symmetry):
        if generator.kind == "time":
            return "time", None, None
        A, b = generator.A, generator.b
    elif isinstance(generator, (tuple, list)) and len(generator) == 2:
        A, b = generator
    else:
        raise TypeError(
            f"{name} must be a Symmetry or a pair (A, b) of an (n, n) matrix and an (n,) vector "
            f"(b may be None); got {type(generator).__name__}"
        )
    try:
        A = np.asarray(A, dtype=np.float64)
        b = np.zeros(n) if b is None else np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must hold numeric arrays (A, b); got {generator!r}") from err
    if A.shape != (n, n):
        raise ValueError(f"{name}: A must have shape ({n}, {n}) for n = {n}; got {A.shape}")
    if b.shape != (n,):
        raise ValueError(f"{name}: b must have shape ({n},) for n = {n}; got {b.shape}")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        raise ValueError(f"{name} must be finite; got A = {_short(A)}, b = {_short(b)}")
    return "affine", A, b


# ------------------------------------------------------------------------- the constraints
@functools.partial(jax.jit, static_argnums=(0,))
def _local_terms(sde, tt, xx, args):
    """f, J_f, D, J_D at every (t, x): shapes (N, n), (N, n, n), (N, n, n), (N, n, n, n)."""
    n = xx.shape[-1]

    def one(t, x):
        f = lambda y: sde.f(t, y, args)  # noqa: E731
        D = lambda y: sde.D_matrix(t, y, args, n)  # noqa: E731
        return f(x), jax.jacfwd(f)(x), D(x), jax.jacfwd(D)(x)

    return jax.vmap(one)(tt, xx)


def basis(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n^2 + n coordinate generators of the u-coordinates: sqrt(2) E_ac, then e_a.

    u = (vec(A) / sqrt(2), b), so that |u|^2 = 1/2 |A|_F^2 + |b|^2 (see ``Symmetry``).
    """
    P = n * n + n
    As = np.zeros((P, n, n))
    bs = np.zeros((P, n))
    for j in range(n * n):
        As[j, j // n, j % n] = _SQRT2
    for a in range(n):
        bs[n * n + a, a] = 1.0
    return As, bs


def from_coordinates(u: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(A, b) of the u-coordinates of a generator."""
    return _SQRT2 * u[: n * n].reshape(n, n) + 0.0, u[n * n :] + 0.0  # + 0.0: no -0.0


def constraint_rows(f, Jf, D, JD, xx, As, bs) -> np.ndarray:
    """Row-scaled constraints (N, n + n^2, G) of the generators (As (G, n, n), bs (G, n)).

    Drift rows ``J_f xi - A f`` are divided by ``|J_f|_F (|x| + 1) + |f|`` and diffusion rows
    ``J_D[xi] - (A D + D A^T)`` by ``|J_D|_F (|x| + 1) + 2 |D|_F`` at each point: the largest
    either can be for a unit generator, so each row measures a relative violation.
    """
    xi = np.einsum("gij,mj->mgi", As, xx) + bs[None]
    drift = np.einsum("mik,mgk->mgi", Jf, xi) - np.einsum("gij,mj->mgi", As, f)
    AD = np.einsum("gik,mkj->mgij", As, D)
    diff = np.einsum("mijk,mgk->mgij", JD, xi) - (AD + np.swapaxes(AD, -1, -2))
    xnorm = np.linalg.norm(xx, axis=-1) + 1.0
    s_f = np.linalg.norm(Jf.reshape(len(xx), -1), axis=-1) * xnorm + np.linalg.norm(f, axis=-1)
    s_D = np.linalg.norm(JD.reshape(len(xx), -1), axis=-1) * xnorm + 2 * np.linalg.norm(
        D.reshape(len(xx), -1), axis=-1
    )
    s_f = np.where(s_f > 0, s_f, 1.0)
    s_D = np.where(s_D > 0, s_D, 1.0)
    drift = drift / s_f[:, None, None]
    diff = diff.reshape(*diff.shape[:2], -1) / s_D[:, None, None]
    return np.concatenate([drift, diff], axis=-1).transpose(0, 2, 1)


def triangular_factor(rows: np.ndarray, chunk: int = 20000) -> np.ndarray:
    """An R with R^T R = rows^T rows (same singular values and right vectors), by chunked QR."""
    G = rows.shape[1]
    R = np.zeros((0, G))
    for start in range(0, rows.shape[0], chunk):
        block = np.vstack([R, rows[start : start + chunk]])
        R = np.linalg.qr(block, mode="r")
    if R.shape[0] < G:  # fewer rows than unknowns: pad, the missing directions are null
        R = np.vstack([R, np.zeros((G - R.shape[0], G))])
    return R


def null_space(R: np.ndarray, tol: float):
    """(s / s_max (G,), V (G, G), s_max, mask of the relative singular values <= tol)."""
    _, s, Vt = np.linalg.svd(R)
    s_max = s[0] if s[0] > 0 else 1.0
    rel = s / s_max
    return rel, Vt.T, s_max, rel <= tol


# ---------------------------------------------------------------------- naming and tidying
def _sign_key(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Entries in the order that fixes a generator's sign: A below the diagonal, b, the rest."""
    n = A.shape[0]
    lower = [A[j, i] for i in range(n) for j in range(i + 1, n)]
    diag = [A[i, i] for i in range(n)]
    upper = [A[i, j] for i in range(n) for j in range(i + 1, n)]
    return np.array(lower + list(b) + diag + upper)


def tidy_basis(U: np.ndarray, n: int) -> np.ndarray:
    """Rotate an orthonormal basis U (G, k) of a subspace towards sparse generators.

    The null space is defined up to rotation. QR with column pivoting picks k well-conditioned
    pivot coordinates; the basis that is the identity on them (a reduced row echelon form) is
    sparse (single rotations E_ji - E_ij, single translations e_i, ...). It is then
    re-orthonormalised in pivot order (which leaves an already orthogonal one unchanged) and
    each vector's sign fixed (the first entry of A below the diagonal, else of b, positive).
    """
    k = U.shape[1]
    if k == 0:
        return U
    if k > 1:
        _, _, piv = scipy.linalg.qr(U.T, pivoting=True, mode="economic")
        pivots = np.sort(piv[:k])
        B = np.linalg.solve(U.T[:, pivots], U.T)  # (k, G), identity on the pivots
        scale = np.max(np.abs(B), axis=1, keepdims=True)
        B = np.where(np.abs(B) < 1e-13 * scale, 0.0, B)
        U, _ = np.linalg.qr(B.T)
    for j in range(k):
        A, b = from_coordinates(U[:, j], n)
        key = _sign_key(A, b)
        big = np.flatnonzero(np.abs(key) > _NAME_TOL * np.max(np.abs(key)))
        if big.size and key[big[0]] < 0:
            U[:, j] = -U[:, j]
    return U


def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) > 1e-12 else "0"


def describe(A: np.ndarray, b: np.ndarray, D: np.ndarray | None = None) -> str:
    """A readable name of the affine generator ``xi(x) = A x + b``.

    With a constant diffusion matrix D, a generator with ``A D`` antisymmetric in one plane
    (and b = 0) is a rotation in the metric of D (``A D + D A^T = 0``): a "D-rotation".
    """
    n = A.shape[0]
    scale = max(np.max(np.abs(A)), np.max(np.abs(b)), 1e-300)
    An, bn = A / scale, b / scale
    tol = _NAME_TOL
    a_zero = np.all(np.abs(An) < tol)
    b_zero = np.all(np.abs(bn) < tol)
    if a_zero and b_zero:
        return "zero generator"
    if a_zero:
        nz = np.flatnonzero(np.abs(bn) >= tol)
        if nz.size == 1:
            return f"translation along x{nz[0] + 1}"
        u = b / np.linalg.norm(b)
        return "translation along (" + ", ".join(_fmt(v) for v in u) + ")"
    if np.all(np.abs(An + An.T) < tol):
        planes = [(i, j) for i in range(n) for j in range(i + 1, n) if abs(An[j, i]) >= tol]
        if len(planes) == 1:
            i, j = planes[0]
            plane = f"rotation in the (x{i + 1}, x{j + 1}) plane"
            if b_zero:
                return plane
            others = [k for k in range(n) if k not in (i, j)]
            if all(abs(bn[k]) < tol for k in others):
                # xi = A (x - c): b = -A c with c in the plane
                sub = A[np.ix_([i, j], [i, j])]
                c = -np.linalg.solve(sub, b[[i, j]])
                return f"{plane} about (x{i + 1}, x{j + 1}) = ({_fmt(c[0])}, {_fmt(c[1])})"
            return f"{plane} with translation b = (" + ", ".join(_fmt(v) for v in b) + ")"
        if b_zero and n == 3:
            w = np.array([A[2, 1], A[0, 2], A[1, 0]])
            w = w / np.linalg.norm(w)
            return "rotation about the axis (" + ", ".join(_fmt(v) for v in w) + ")"
        if b_zero:
            return f"rotation in {len(planes)} planes (antisymmetric A)"
    if D is not None and b_zero:
        W = A @ D
        W = W / np.max(np.abs(W))
        if np.all(np.abs(W + W.T) < tol):
            planes = [(i, j) for i in range(n) for j in range(i + 1, n) if abs(W[j, i]) >= tol]
            if len(planes) == 1:
                i, j = planes[0]
                return f"D-rotation in the (x{i + 1}, x{j + 1}) plane (A D antisymmetric)"
            return "D-rotation (A D antisymmetric)"
    if b_zero and np.all(np.abs(An - An[0, 0] * np.eye(n)) < tol):
        return "dilation x -> (1 + eps) x"
    rows = "; ".join(", ".join(_fmt(v) for v in row) for row in A)
    return f"affine generator A = [{rows}], b = (" + ", ".join(_fmt(v) for v in b) + ")"


def _natural(name: str) -> list:
    """Sort key that orders x2 before x10."""
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", name)]


def _category(name: str) -> int:
    for i, head in enumerate(("translation", "rotation", "D-rotation", "dilation")):
        if name.startswith(head):
            return i
    return 3


# ------------------------------------------------------------------------------ the search
def _time_residual(sde, times, points, args) -> float:
    """max over sample times of the relative change of f and D from the first time."""
    tt, xx = grid(times, points)
    f, _, D, _ = (np.asarray(a) for a in _local_terms(sde, tt, xx, args))
    T, m = times.size, points.shape[0]
    f = f.reshape(T, m, -1)
    D = D.reshape(T, m, -1)
    worst = 0.0
    for arr in (f, D):
        for i in range(1, T):
            num = np.linalg.norm(arr[i] - arr[0])
            den = np.linalg.norm(arr[i]) + np.linalg.norm(arr[0])
            worst = max(worst, num / den if den > 0 else 0.0)
    return float(worst)


def find_symmetries(sde, points, *, times=None, tol: float = 1e-8, args=None) -> SymmetryList:
    """The affine symmetries ``xi(x) = A x + b`` of a model, and time translation if it has it.

    A generator is a symmetry of the Lagrangian (Eq. 8) when, at every sample state x and time t,
    the drift is equivariant, ``J_f(x) (A x + b) = A f(x)``, and the diffusion is preserved,
    ``J_D(x)[A x + b] = A D + D A^T`` (``A D + D A^T = 0`` for constant D); then the charge
    ``Q = p . (A x + b)`` (Eq. 4) is conserved along every most likely path (Eqs. 14-17:
    momentum for translations, angular momentum for rotations).

    Both conditions are linear in (A, b). They are evaluated at every (t, x) pair with JAX
    Jacobians, each point's drift rows divided by ``|J_f|_F (|x| + 1) + |f|`` and its diffusion
    rows by ``|J_D|_F (|x| + 1) + 2 |D|_F`` (so that they are relative), and stacked into a
    matrix M whose null space (SVD; right singular vectors with singular value at most
    ``tol`` times the largest) is the symmetry algebra on the sample. The null-space basis is
    rotated towards sparse generators and named; it is orthonormal in
    ``<xi, xi'> = 1/2 tr(A^T A') + b . b'`` (rotations ``E_ji - E_ij`` and translations
    ``e_i`` have norm 1, so their charges are L_ij and p_i).

    Time translation (Eq. 9; charge the energy E of Eq. 10) is included when f and D do not
    change between the sample times (relative change at most ``tol``). For a model that depends
    on t there is no energy conservation: the list's ``autonomous`` is False and its
    ``message`` says so; the affine conditions must then hold at every sample time.

    Args:
        sde: the model.
        points: (m, n) states where the symmetry must hold: the region you care about (a
            symmetry of a nonlinear model is only as good as the sample; include the states
            your paths visit). A few dozen random states are usually enough.
        times: times at which to check (a number or a 1-D array); default ``DEFAULT_TIMES``
            (0, 0.5, 1, 2). Give the model's own range for a time-dependent model (for the ring
            model in tau, times below its t_max). With one time, autonomy is not checked.
        tol: relative singular value (and relative time change) below which a symmetry counts.
        args: PyTree passed to drift and diffusion.

    Returns:
        A ``SymmetryList``: the affine symmetries (translations first, then rotations, then
        rotations in the metric of an anisotropic constant D, "D-rotations" with ``A D``
        antisymmetric, then others), then the time translation if the model is autonomous.
        Each ``Symmetry`` has ``.kind``, ``.A``, ``.b``, ``.name``, ``.residual`` and
        ``.charge(ts, xs)``. The list has ``.autonomous``, ``.singular_values`` and
        ``.message``.

    Example:
        >>> ou = nn.models.ornstein_uhlenbeck(-np.eye(3), 1.0)
        >>> syms = nn.find_symmetries(ou, np.random.default_rng(0).normal(size=(20, 3)))
        >>> [s.name for s in syms]   # so(3) and the energy
        ['rotation in the (x1, x2) plane', 'rotation in the (x1, x3) plane',
         'rotation in the (x2, x3) plane', 'time translation (energy, Eq. 10)']
    """
    check_sde(sde)
    points = as_points(points)
    times = as_times(times)
    tol = check_tol(tol)
    check_model_at(sde, times, points, args)
    n = points.shape[1]

    tt, xx = grid(times, points)
    f, Jf, D, JD = (np.asarray(a) for a in _local_terms(sde, tt, xx, args))
    As, bs = basis(n)
    rows = constraint_rows(f, Jf, D, JD, xx, As, bs).reshape(-1, As.shape[0])
    R = triangular_factor(rows)
    rel, V, s_max, null = null_space(R, tol)
    U = tidy_basis(V[:, null].copy(), n)

    D_const = (
        np.asarray(sde.D_matrix(0.0, jnp.zeros(n), None, n)) if sde.is_constant_diffusion else None
    )
    found = []
    for j in range(U.shape[1]):
        A, b = from_coordinates(U[:, j], n)
        resid = float(np.linalg.norm(R @ U[:, j]) / s_max)
        found.append(Symmetry("affine", A, b, describe(A, b, D_const), resid, sde, args))
    found.sort(key=lambda s: (_category(s.name), _natural(s.name)))

    if times.size >= 2:
        t_res = _time_residual(sde, times, points, args)
        autonomous = t_res <= tol
    else:
        t_res, autonomous = None, None
    if autonomous:
        found.append(
            Symmetry("time", None, None, "time translation (energy, Eq. 10)", t_res, sde, args)
        )
        tmsg = "autonomous: time translation, energy E (Eq. 10) conserved"
    elif autonomous is None:
        tmsg = "one time given: time translation not checked"
    else:
        tmsg = (
            f"not autonomous: f or D changes by {t_res:.2g} (relative) between the times "
            f"{_short(times)}, so there is no time-translation symmetry and energy (Eq. 10) is "
            "not conserved"
        )
    k = len([s for s in found if s.kind == "affine"])
    msg = f"{k} affine symmetr{'y' if k == 1 else 'ies'} on {points.shape[0]} points; {tmsg}"
    return SymmetryList(
        found, autonomous=autonomous, time_residual=t_res, singular_values=rel, message=msg
    )
