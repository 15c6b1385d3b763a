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
every sample state and time with JAX Jacobians, stacks them, and returns the null space (an SVD
of the dense system for small n; for networks, matrix-free block inverse iteration on the
operator, ``_operator`` and ``_iterative``) as an orthonormal basis of generators, with the
charge ``Q = p . xi`` (Eq. 4; Eqs. 14-17 for translations and rotations) of each. Time
translation (energy, Eq. 10) is reported when f and D do not depend on t.

Only exact (not quasi-) symmetries of L with time-independent affine generators are searched:
a total-derivative term K in Eq. 3, or a generator that depends on t (a Galilean boost of
Brownian motion, say), is not found.
"""

from __future__ import annotations

import warnings

import jax.numpy as jnp
import numpy as np

from .._checks import _short, check_choice, check_positive, check_sample, grid
from ._constraints import (
    _local_terms,
    _time_residual,
    basis,
    constraint_rows,
    from_coordinates,
    null_space,
    triangular_factor,
)
from ._iterative import null_space as iterative_null_space
from ._naming import _category, _natural, describe, tidy_basis
from ._operator import Conditions
from ._results import Symmetry, SymmetryList

__all__ = ["Symmetry", "SymmetryList", "find_symmetries", "DEFAULT_TIMES"]

#: Times at which the conditions are checked when ``times`` is not given.
DEFAULT_TIMES = (0.0, 0.5, 1.0, 2.0)

#: ``method="auto"`` uses the dense system while it needs at most this many bytes.
DENSE_BYTES = 2**28

_METHODS = ("auto", "dense", "matrix-free")


def find_symmetries(
    sde,
    points,
    *,
    times=None,
    tol: float = 1e-8,
    args=None,
    method: str = "auto",
    max_generators: int = 64,
) -> SymmetryList:
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
        method: ``"dense"`` (the stacked system and its SVD: memory ``~8 N n^4`` bytes for N
            (time, point) pairs, 24 GB at n = 64), ``"matrix-free"`` (only f and J_f at the
            pairs are stored, ``8 N n^2`` bytes; the null space by block inverse iteration
            with conjugate gradients on ``M^T M``, for a constant D in the coordinates
            ``A = K D^-1``, K antisymmetric, that satisfy the diffusion condition exactly; an
            autonomous model's conditions are taken at the first time only, the others being
            the same), or ``"auto"`` (dense while it needs at most ``DENSE_BYTES``, 256 MB).
            Both give the same generators; the matrix-free ``singular_values`` are those of
            the final block only, and it needs a sample that pins A down: ``N n >= n^2 + n``
            conditions, so at least n + 1 points (2n is safer).
        max_generators: matrix-free only: the largest algebra searched for (the block of
            vectors grows from 8 up to ``max_generators + 4``). When the algebra is larger
            (an isotropic model has ``n (n - 1) / 2`` rotations) the list holds
            ``max_generators`` of them, its ``message`` says it is incomplete and a warning is
            raised: use ``"dense"`` at small n or raise ``max_generators``.

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
    points, times, tol = check_sample(sde, points, times, tol, args, default_times=DEFAULT_TIMES)
    method = check_choice(method, "method", _METHODS)
    max_generators = check_positive(max_generators, "max_generators", integer=True)
    n = points.shape[1]
    if times.size >= 2:
        t_res = _time_residual(sde, times, points, args)
        autonomous = t_res <= tol
    else:
        t_res, autonomous = None, None
    if method == "auto":
        N, P = times.size * points.shape[0], n * n + n
        dense = 8.0 * N * ((n + n * n) * P + n**3)
        method = "dense" if dense <= DENSE_BYTES else "matrix-free"

    D_const = (
        np.asarray(sde.D_matrix(0.0, jnp.zeros(n), None, n)) if sde.is_constant_diffusion else None
    )
    extra = ""
    if method == "dense":
        U, resids, rel = _dense(sde, times, points, tol, args)
    else:
        U, resids, rel, extra = _matrix_free(
            sde, times[:1] if autonomous else times, points, tol, args, max_generators
        )
    found = []
    for j in range(U.shape[1]):
        A, b = from_coordinates(U[:, j], n)
        found.append(Symmetry("affine", A, b, _name(A, b, D_const), resids[j], sde, args))
    found.sort(key=lambda s: (_category(s.name), _natural(s.name)))
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
    msg = f"{k} affine symmetr{'y' if k == 1 else 'ies'} on {points.shape[0]} points; {tmsg}{extra}"
    return SymmetryList(
        found, autonomous=autonomous, time_residual=t_res, singular_values=rel, message=msg
    )


def _name(A, b, D_const) -> str:
    """``describe``, with the generic form shortened for large n (it lists every entry)."""
    name = describe(A, b, D_const)
    if len(name) > 300 and name.startswith("affine generator"):
        big = np.abs(A) > 1e-6 * max(np.max(np.abs(A)), np.max(np.abs(b)), 1e-300)
        name = (
            f"affine generator with {int(np.sum(big))} nonzero entries of A (rows "
            f"{_short(np.flatnonzero(np.any(big, axis=1)) + 1)}), |b| = {np.linalg.norm(b):.3g}"
        )
    return name


def _dense(sde, times, points, tol, args):
    """(U (n^2 + n, k) tidied null basis, residuals (k,), relative singular values)."""
    n = points.shape[1]
    tt, xx = grid(times, points)
    f, Jf, D, JD = (np.asarray(a) for a in _local_terms(sde, tt, xx, args))
    As, bs = basis(n)
    rows = constraint_rows(f, Jf, D, JD, xx, As, bs).reshape(-1, As.shape[0])
    R = triangular_factor(rows)
    rel, V, s_max, null = null_space(R, tol)
    U = tidy_basis(V[:, null].copy(), n)
    resids = [float(np.linalg.norm(R @ U[:, j]) / s_max) for j in range(U.shape[1])]
    return U, resids, rel


def _matrix_free(sde, times, points, tol, args, max_generators):
    """``_dense``'s answer by the matrix-free operator, and a note for the message."""
    n = points.shape[1]
    tt, xx = grid(times, points)
    cond = Conditions(sde, tt, xx, args)
    A, b, rel, s_max, complete, converged = iterative_null_space(
        cond, tol, max_generators=max_generators
    )
    A, b = A[:max_generators], b[:max_generators]
    U = np.concatenate([A.reshape(len(A), n * n) / np.sqrt(2.0), b], axis=1).T
    if U.shape[1]:
        U, _ = np.linalg.qr(U)
        U = tidy_basis(U, n)
    As = np.stack(
        [from_coordinates(U[:, j], n)[0] for j in range(U.shape[1])] or [np.zeros((n, n))]
    )
    bs = np.stack([from_coordinates(U[:, j], n)[1] for j in range(U.shape[1])] or [np.zeros(n)])
    resids = [float(r) for r in cond.residuals(As, bs)[: U.shape[1]] / s_max]
    extra = "; matrix-free"
    if not complete:
        extra += (
            f"; INCOMPLETE: at least {U.shape[1]} symmetries, more than max_generators = "
            f"{max_generators}: raise max_generators or use method='dense' (small n)"
        )
        warnings.warn(
            f"find_symmetries: the symmetry algebra has more than max_generators = "
            f"{max_generators} generators; only {U.shape[1]} are returned (raise "
            "max_generators, or use method='dense' at small n)",
            stacklevel=3,
        )
    if not converged:
        extra += (
            "; the inverse iteration did not settle: residuals near tol are uncertain (try "
            "more points, 2n or more, or method='dense' at small n)"
        )
    if tt.size * n < n * n + n:
        short = (
            f"only {tt.size * n} conditions for {n * n + n} unknowns: give at least "
            f"{n + 1} points (the null space is at least {n * n + n - tt.size * n}-dimensional)"
        )
        extra += "; " + short
        # Said loudly too: the generators returned are then mostly artefacts of the sample.
        warnings.warn(f"find_symmetries: {short}", stacklevel=3)
    return U, resids, rel, extra
