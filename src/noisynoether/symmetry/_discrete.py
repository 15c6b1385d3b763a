"""Discrete symmetries: coordinate permutations and sign flips that leave the model invariant.

A signed permutation P (an orthogonal matrix with one entry +-1 in each row and column) is a
symmetry of the Lagrangian of Eq. 8 when ``f(t, P x) = P f(t, x)`` and
``D(t, P x) = P D(t, x) P^T``: then ``L(P x, P xdot, t) = L(x, xdot, t)``. It gives no conserved
charge (Noether's theorem needs a continuous family), but it maps paths to paths of equal action:
if ``x*(t)`` is a most likely path from x0 to x1, then ``P x*(t)`` is a most likely path from
``P x0`` to ``P x1`` with the same minimal action S*, the same energy, and momenta ``P p``
(mirror paths). Two consequences:

- if P exchanges the end states (``P x0 = x1``, ``P x1 = x0``), the mirror path is the most
  likely path of the reverse transition ``x1 -> x0``, which therefore has the same action: the
  multistable network's x <-> y swap maps its two decision states onto each other, so both
  switches are equally likely;
- if P fixes both end states, the most likely path is either mapped onto itself (it lies in the
  mirror's fixed subspace, like the ring's phi = -pi/2 path on the x2 axis) or comes with a
  distinct mirror partner of equal action (two degenerate minima).
"""

from __future__ import annotations

import itertools
import warnings

import jax.numpy as jnp
import numpy as np

from .._checks import check_choice, check_model_at, check_sample, grid
from ._automorphisms import automorphism_generators
from ._continuous import DEFAULT_TIMES
from ._permutations import (
    cycles_of,
    describe_flip,
    describe_signed,
    flip_candidates,
    model_graph,
    parse_weights,
    perm_mismatch,
    signed_weight_graph,
    unsign,
    weight_graph,
    weights_of,
)

__all__ = ["DiscreteSymmetry", "find_discrete_symmetries"]


class DiscreteSymmetry:
    """A signed permutation ``x -> P x`` under which the model is invariant.

    Built from the matrix, ``DiscreteSymmetry(P, name, residual)``, or without one (what the
    graph search does at n = 1024, where a dense P is 8 MB) from
    ``permutation=src`` (and ``signs=``): ``(P x)_i = signs_i x_src[i]``.

    Attributes:
        matrix: (n, n) the signed permutation P (entries 0 and +-1), made on first use.
        permutation: (n,) int, ``src`` above: ``apply`` is ``signs * x[..., src]``.
        signs: (n,) the signs (all +1 for a permutation of units).
        cycles: the unit permutation in cycle notation, 0-based: the value of unit j moves to
            unit k for each consecutive (j, k) in a cycle (``[(0, 4), (1, 5, 8)]``).
        name: readable: ``"swap x1 <-> x2"``, ``"flip x2 -> -x2"``, combinations joined by
            ", ", the image ``"(x1, x2) -> (-x2, x1)"`` for other signed permutations of up to
            4 coordinates, or from the graph search ``"permutation (x1 x5)(x2 x6 x9)"``
            (cycles, 1-based; a single transposition is a ``"swap"``), with
            ``", then flip x5 -> -"`` where values also change sign (``"signed"``).
        residual: the largest relative mismatch of f and D on the sample (0 when exact).
    """

    def __init__(
        self, matrix=None, name: str = "", residual: float = 0.0, *, permutation=None, signs=None
    ):
        if matrix is not None:
            P = np.asarray(matrix, dtype=np.float64)
            src = np.argmax(np.abs(P), axis=1)
            signs = P[np.arange(len(P)), src]
        else:
            src = np.asarray(permutation, dtype=np.int64)
            signs = np.ones(len(src)) if signs is None else np.asarray(signs, dtype=np.float64)
            P = None
        self._matrix, self._src, self._signs = P, src, signs
        self.name, self.residual = name, float(residual)

    @property
    def matrix(self) -> np.ndarray:
        if self._matrix is None:
            n = len(self._src)
            self._matrix = np.zeros((n, n))
            self._matrix[np.arange(n), self._src] = self._signs
        return self._matrix

    @property
    def permutation(self) -> np.ndarray:
        return self._src.copy()

    @property
    def signs(self) -> np.ndarray:
        return self._signs.copy()

    @property
    def cycles(self) -> list[tuple[int, ...]]:
        return cycles_of(self._src)

    def apply(self, xs) -> np.ndarray:
        """P x for states or a path xs (..., n): the mirror path of a most likely path."""
        xs = np.asarray(xs, dtype=np.float64)
        if xs.shape[-1] != len(self._src):
            raise ValueError(
                f"xs must have last dimension n = {len(self._src)}; got shape {xs.shape}"
            )
        return xs[..., self._src] * self._signs

    def __repr__(self) -> str:
        return f"DiscreteSymmetry(name={self.name!r}, residual={self.residual:.2e})"


def _signed_permutations(n: int) -> list[np.ndarray]:
    """Every signed permutation but the identity for n <= 4; pair swaps, single flips and the
    flip of all coordinates (x -> -x: an odd network without bias) above."""
    out = []
    if n <= 4:
        for perm in itertools.permutations(range(n)):
            for signs in itertools.product((1.0, -1.0), repeat=n):
                P = np.zeros((n, n))
                P[np.arange(n), perm] = signs
                if not np.array_equal(P, np.eye(n)):
                    out.append(P)
        return out
    for i, j in itertools.combinations(range(n), 2):
        P = np.eye(n)
        P[[i, j]] = P[[j, i]]
        out.append(P)
    for i in range(n):
        P = np.eye(n)
        P[i, i] = -1.0
        out.append(P)
    out.append(-np.eye(n))
    return out


def describe_permutation(P: np.ndarray) -> str:
    """A readable name of the signed permutation x -> P x."""
    n = P.shape[0]
    if n > 2 and np.array_equal(P, -np.eye(n)):
        return "flip x -> -x"  # as the graph search names it
    src = np.argmax(np.abs(P), axis=1)  # (P x)_i = sign_i x_src[i]
    sign = P[np.arange(n), src]
    parts, done, simple = [], set(), True
    for i in range(n):
        if i in done:
            continue
        j = src[i]
        if j == i:
            done.add(i)
            if sign[i] < 0:
                parts.append(f"flip x{i + 1} -> -x{i + 1}")
        elif src[j] == i and sign[i] == sign[j]:
            done.update((i, j))
            a, b = sorted((i, j))
            minus = "-" if sign[i] < 0 else ""
            parts.append(f"swap x{a + 1} <-> {minus}x{b + 1}")
        else:
            simple = False
            break
    if simple:
        return ", ".join(parts)
    names = [f"x{i + 1}" for i in range(n)]
    image = [f"{'-' if sign[i] < 0 else ''}x{src[i] + 1}" for i in range(n)]
    return f"({', '.join(names)}) -> ({', '.join(image)})"


_PERMUTATIONS = ("auto", "pairs", "graph", "signed")

#: ``permutations="auto"`` checks pairs up to this many coordinates, searches the graph above.
PAIRS_MAX_N = 16


def find_discrete_symmetries(
    sde,
    points,
    *,
    times=None,
    tol: float = 1e-8,
    args=None,
    permutations: str = "auto",
    weights=None,
):
    """The coordinate permutations and sign flips that leave the model invariant.

    P is kept when, over all sample states and times,
    ``|f(P x) - P f(x)| / (|f(P x)| + |f(x)|)`` and
    ``|D(P x) - P D(x) P^T| / (|D(P x)| + |D(x)|)`` are at most ``tol`` (norms over the whole
    sample). Such a P maps most likely paths to most likely paths with the same action (mirror
    paths; see the module docstring): the path from ``P x0`` to ``P x1`` is ``P x*(t)``.

    Which P are tried (``permutations``):

    - ``"pairs"``: every signed permutation matrix other than the identity (2^n n! - 1) for
      n <= 4, and for larger n the swaps of two coordinates, the single sign flips and the
      flip of all coordinates; every one that holds is returned.
    - ``"graph"``: the permutations of units that preserve the network's weighted graph, by
      colour refinement and individualisation (``_automorphisms``; up to n = 1024 and more).
      The graph is that of ``weights`` (edges W, colours b, tau, the rows of B, and D), of an
      ``nn.models.noisy_rnn`` model's own weights, or for any other model that of its
      Jacobian and of f and D at the states ``c (1, ..., 1)`` (which every permutation
      fixes). Returned are *generators* of the group (every symmetry is a product of them,
      ``nn.find_paths`` closes them under composition), each verified on f and D as above,
      with ``.cycles``; and the sign flips x -> -x of each group of coupled units (each
      connected component of the graph; all units at once when there is one, or more than
      64), each verified the same way (an odd nonlinearity without bias: tanh networks).
    - ``"signed"``: the signed permutations ``(P x)_sigma(i) = e_i x_i`` that preserve the
      network's weights (``W[sigma(i), sigma(j)] = e_i e_j W[i, j]``, ``b_sigma(i) = e_i b_i``,
      the rows of B likewise, tau and D), as automorphisms of the graph's double cover (2n
      vertices, ``_permutations.signed_weight_graph``: about 4x the time of ``"graph"``).
      They are symmetries when the nonlinearity is odd (tanh): e.g. a ring of units whose
      coupling changes sign once around it has the twisted rotation, which no permutation
      or flip alone gives. Returned are generators of the whole signed group (the
      permutations and flips among them), each verified as above; one that takes the sample
      out of the model's domain is dropped (with a warning when it also moves units: its
      products with others might hold). Needs the weights (``weights=`` or a ``noisy_rnn``
      model).
    - ``"auto"`` (default): ``"graph"`` when ``weights`` is given or n > 16, else ``"pairs"``.

    Args:
        sde: the model.
        points: (m, n) sample states (the region you care about; P x must stay in the model's
            domain).
        times: sample times (default ``DEFAULT_TIMES``).
        tol: relative mismatch below which P counts as a symmetry (and relative tolerance
            within which two weights count as equal in the graph).
        args: PyTree passed to drift and diffusion.
        permutations: ``"auto"``, ``"pairs"``, ``"graph"`` or ``"signed"`` (above).
        weights: the network's weights for ``"graph"``: W (n, n), or a tuple (W, b),
            (W, b, tau) or (W, b, tau, B) (b, tau a number or (n,), B (n, m)); None: those of
            a ``noisy_rnn`` model, else the model's Jacobian graph.

    Returns:
        A list of ``DiscreteSymmetry`` (``.matrix``, ``.name``, ``.residual``, ``.cycles``),
        fewest moved coordinates first; empty when there is none. A generator of the weight
        graph that fails the check on f and D is dropped with a warning (the weights do not
        describe the model), as is a search cut short by its node budget.
    """
    points, times, tol = check_sample(sde, points, times, tol, args, default_times=DEFAULT_TIMES)
    permutations = check_choice(permutations, "permutations", _PERMUTATIONS)
    n = points.shape[1]
    if permutations == "auto":
        permutations = "graph" if weights is not None or n > PAIRS_MAX_N else "pairs"
    if permutations == "graph":
        return _graph_symmetries(sde, points, times, tol, args, weights)
    if permutations == "signed":
        return _signed_symmetries(sde, points, times, tol, args, weights)
    Ps = _signed_permutations(n)
    if not Ps:
        return []
    mirrored = np.concatenate([points @ P.T for P in Ps])
    check_model_at(sde, times, mirrored, args, what="mirrored points P x")
    tt, xx = grid(times, points)
    m = np.asarray(perm_mismatch(sde, tt, xx, jnp.asarray(np.array(Ps)), args, False))
    found = [
        DiscreteSymmetry(P, describe_permutation(P), float(r))
        for P, r in zip(Ps, _relative(m), strict=True)
        if r <= tol
    ]
    return _sorted(found)


def _relative(m: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_f = np.where(m[:, 1] > 0, m[:, 0] / m[:, 1], 0.0)
        rel_D = np.where(m[:, 3] > 0, m[:, 2] / m[:, 3], 0.0)
    return np.maximum(rel_f, rel_D)


def _sorted(found):
    """Fewest coordinates changed first (diagonal entries of P other than +1), then by name."""

    def changed(s):
        return int(np.sum((s.permutation != np.arange(len(s.permutation))) | (s.signs < 0)))

    return sorted(found, key=lambda s: (changed(s), s.name))


def _graph_symmetries(sde, points, times, tol, args, weights):
    """The verified generators of the automorphism group of the model's weighted graph."""
    n = points.shape[1]
    if weights is not None:
        graph, coupled = weight_graph(sde, parse_weights(weights, n), n, tol, args)
    elif (own := weights_of(sde, args)) is not None:
        graph, coupled = weight_graph(sde, parse_weights(own, n), n, tol, args)
    else:
        graph, coupled = model_graph(sde, n, tol, args, float(times[0]))
    flips = _verified_flips(sde, points, times, tol, args, flip_candidates(coupled))
    gens, complete = automorphism_generators(graph)
    if not complete:
        _warn_incomplete(graph)
    if not gens:
        return _sorted(flips)
    srcs = np.stack([np.argsort(g) for g in gens])  # unit i -> g[i]: (P x)_g[i] = x_i
    found = _verified(sde, points, times, tol, args, srcs, np.ones(srcs.shape), "graph")
    return _sorted(found + flips)


def _signed_symmetries(sde, points, times, tol, args, weights):
    """The verified generators of the group of signed permutations of the network's weights
    (automorphisms of the double cover, ``_permutations.signed_weight_graph``)."""
    n = points.shape[1]
    own = weights_of(sde, args) if weights is None else weights
    if own is None:
        raise ValueError(
            "permutations='signed' needs the network's weights: pass weights=W or (W, b, tau, "
            "B), or use an nn.models.noisy_rnn model (its own weights); for a model without "
            "weights use permutations='graph'"
        )
    graph = signed_weight_graph(sde, parse_weights(own, n), n, tol, args)
    gens, complete = automorphism_generators(graph)
    if not complete:
        _warn_incomplete(graph)
    pairs = [p for p in (unsign(g, n) for g in gens) if p is not None]
    # One whose sign changes take the sample out of the model's domain is not a symmetry
    # (as for the flips of the graph mode), not an error. Dropping one that also moves units
    # may lose products of it that hold: said.
    inside = [_inside(sde, times, points[:, s] * g, args) for s, g in pairs]
    lost = [
        s for (s, _), ok in zip(pairs, inside, strict=True) if not ok and np.any(s != np.arange(n))
    ]
    if lost:
        warnings.warn(
            f"find_discrete_symmetries: {len(lost)} signed permutation(s) of the weights that "
            "also move units take the sample out of the model's domain and were dropped; the "
            "symmetries returned hold, but may not generate every one that does",
            stacklevel=3,
        )
    pairs = [p for p, ok in zip(pairs, inside, strict=True) if ok]
    if not pairs:
        return []
    srcs, signs = (np.stack(a) for a in zip(*pairs, strict=True))
    return _sorted(_verified(sde, points, times, tol, args, srcs, signs, "signed"))


def _inside(sde, times, points, args) -> bool:
    try:
        check_model_at(sde, times, points, args, what="mirrored points P x")
    except ValueError:
        return False
    return True


def _warn_incomplete(graph):
    warnings.warn(
        f"find_discrete_symmetries: the automorphism search stopped after {graph.nodes} "
        "refinement nodes (a very regular graph): the symmetries returned hold, but the "
        "group may have more generators",
        stacklevel=4,
    )


def _verified(sde, points, times, tol, args, srcs, signs, mode):
    """``DiscreteSymmetry`` of each candidate ``(P x)_k = signs_k x_src[k]`` under which f and
    D are equivariant on the sample; the others dropped with a warning (the weights, or the
    Jacobian graph, are more symmetric than the model)."""
    check_model_at(
        sde,
        times,
        np.concatenate([points[:, s] * g for s, g in zip(srcs, signs, strict=True)]),
        args,
        what="mirrored points P x",
    )
    tt, xx = grid(times, points)
    m = perm_mismatch(sde, tt, xx, jnp.asarray(srcs), args, True, jnp.asarray(signs))
    found, failed = [], []
    for src, sg, r in zip(srcs, signs, _relative(np.asarray(m)), strict=True):
        (found if r <= tol else failed).append(
            DiscreteSymmetry(None, describe_signed(src, sg), float(r), permutation=src, signs=sg)
        )
    if failed:
        why = (
            "the weights do not describe the model, or its nonlinearity is not odd "
            "(phi(-x) = -phi(x), as tanh)"
            if mode == "signed"
            else "the weights do not describe the model (or, without weights, its Jacobians "
            "at the states c (1, ..., 1) are more symmetric than the model)"
        )
        warnings.warn(
            f"find_discrete_symmetries: {len(failed)} automorphism(s) of the graph are not "
            f"symmetries of the drift and diffusion (relative mismatch up to "
            f"{max(s.residual for s in failed):.2g} > tol = {tol:g}) and were dropped: {why}",
            stacklevel=4,
        )
    return found


def _verified_flips(sde, points, times, tol, args, candidates):
    """The sign flips among ``candidates`` (k, n) under which f and D are equivariant; a flip
    that takes the sample out of the model's domain (f or D not finite there) is not one (the
    permutations, which the caller asked for, keep the error that says so)."""
    n = points.shape[1]
    inside = [s for s in candidates if _inside(sde, times, points * s, args)]
    if not inside:
        return []
    candidates = np.asarray(inside)
    tt, xx = grid(times, points)
    ident = jnp.broadcast_to(jnp.arange(n), candidates.shape)
    m = perm_mismatch(sde, tt, xx, ident, args, True, jnp.asarray(candidates))
    return [
        DiscreteSymmetry(None, describe_flip(s), float(r), permutation=np.arange(n), signs=s)
        for s, r in zip(candidates, _relative(np.asarray(m)), strict=True)
        if r <= tol
    ]
