"""Permutation symmetries of a network: the graph of its weights, its automorphisms, checked.

``find_discrete_symmetries(permutations="graph")``. The units of a network
``tau xdot = -x + W phi(x) + b + B u(t)`` with diffusion D can be exchanged by a permutation
sigma when sigma preserves W (``W[sigma(i), sigma(j)] = W[i, j]``), b, tau, the rows of B
and D: then ``f(P x) = P f(x)`` and ``D(P x) = P D(x) P^T`` with ``(P x)_sigma(i) = x_i``.
The graph is built from the weights (``weights=``, or those of an ``nn.models.noisy_rnn``
model), or, for any other model, from what every permutation must preserve: the Jacobian
``J_f`` (edges), f and D at the permutation-invariant states ``c (1, ..., 1)`` (colours). Its
automorphisms (``_automorphisms``) are candidates; each generator is kept only if the drift
and diffusion are equivariant under it at the sample, to ``tol``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._jit import jit
from ._automorphisms import Graph, combine, labels

#: The invariant states c (1, ..., 1) at which a model without weights is probed.
PROBE_LEVELS = (0.0, 0.5, -1.0)


def weights_of(sde, args):
    """(W, b, tau, B) of an ``nn.models.noisy_rnn`` model (from args or its drift), else None."""
    for w in (args, getattr(sde.drift, "weights", None)):
        if all(hasattr(w, a) for a in ("W", "b", "tau")):
            return w.W, w.b, w.tau, getattr(w, "B", None)
    return None


def parse_weights(weights, n: int):
    """(W (n, n), b, tau, B) from ``weights=``: W, (W,), (W, b), (W, b, tau) or (W, b, tau, B)."""
    parts = list(weights) if isinstance(weights, tuple | list) else [weights]
    if not 1 <= len(parts) <= 4:
        raise ValueError(
            "weights must be W, or a tuple (W, b), (W, b, tau) or (W, b, tau, B); got a "
            f"sequence of {len(parts)}"
        )
    out = []
    for name, part, shapes in zip(
        ("W", "b", "tau", "B"), parts, [((n, n),), ((), (n,)), ((), (n,)), None], strict=False
    ):
        if part is None:
            out.append(None)
            continue
        arr = np.asarray(part, dtype=np.float64)
        ok = arr.ndim == 2 and arr.shape[0] == n if shapes is None else arr.shape in shapes
        if not ok or not np.all(np.isfinite(arr)):
            accepted = " or ".join(str(s) for s in shapes) if shapes else f"({n}, m)"
            raise ValueError(
                f"weights: {name} must be finite with shape {accepted} for n = {n} units; got "
                f"shape {arr.shape}"
            )
        out.append(arr)
    return tuple(out + [None] * (4 - len(out)))


def weight_graph(sde, weights, n: int, tol: float, args):
    """(graph, coupled): the graph of a network (edges W and off-diagonal D; colours b, tau,
    the rows of B, diag D), and which units are coupled (W or D nonzero, either direction)."""
    W = weights[0]
    D = np.asarray(sde.D_matrix(0.0, jnp.zeros(n), args, n))
    return _network_graph(weights, D, n, tol, signed=False), _coupled([W, D], tol)


def signed_weight_graph(sde, weights, n: int, tol: float, args):
    """The graph of a network's signed permutations: its double cover, 2n vertices.

    A signed permutation maps unit i to unit sigma(i) with sign e_i,
    ``(P x)_sigma(i) = e_i x_i``. For an odd nonlinearity (tanh: phi(-x) = -phi(x)) it is a
    symmetry of ``tau xdot = -x + W phi(x) + b + B u(t)`` with diffusion D when
    ``W[sigma(i), sigma(j)] = e_i e_j W[i, j]``, ``b_sigma(i) = e_i b_i``,
    ``B[sigma(i)] = e_i B[i]``, ``D[sigma(i), sigma(j)] = e_i e_j D[i, j]`` and tau is preserved.
    Vertex (i, s), s = +-1 (index i for +, n + i for -), stands for s x_i: the edge from
    (i, s) to (j, t) carries s t W[i, j] (and s t D[i, j] off the diagonal), the colour of
    (i, s) is (s b_i, s B[i], tau_i, D_ii), and each pair (i, +), (i, -) is joined by an edge
    of its own label. An automorphism then maps pairs onto pairs, (i, +) to (sigma(i), e_i):
    the automorphisms of the cover are exactly the signed permutations above (``unsign``).
    The global flip x -> -x (an odd network without bias) is one of them."""
    D = np.asarray(sde.D_matrix(0.0, jnp.zeros(n), args, n))
    return _network_graph(weights, D, n, tol, signed=True)


def _network_graph(weights, D, n: int, tol: float, *, signed: bool) -> Graph:
    """``weight_graph``'s graph (n vertices), or with ``signed`` its double cover (2n: the
    vertices (i, -) with the signed values, and the pair edges)."""
    W, b, tau, B = weights
    copies = 2 if signed else 1
    sign = np.repeat([1.0, -1.0][:copies], n)
    outer = sign[:, None] * sign[None, :]

    def vertex(v, signed_value):  # a per-unit value on every vertex, times s where signed
        v = np.tile(np.broadcast_to(v, (n,)), copies)
        return labels(sign * v if signed_value else v, tol)

    colours = [np.zeros(copies * n, dtype=np.int64)]
    if b is not None:
        colours.append(vertex(b, True))
    if tau is not None:
        colours.append(vertex(tau, False))
    if B is not None:
        colours += [vertex(col, True) for col in B.T]
    colours.append(vertex(np.diag(D), False))
    off = np.tile(D - np.diag(np.diag(D)), (copies, copies)) * outer
    edges = [labels(np.tile(W, (copies, copies)) * outer, tol)]
    if signed:
        pair = np.zeros((2 * n, 2 * n), dtype=np.int64)
        pair[np.arange(n), n + np.arange(n)] = pair[n + np.arange(n), np.arange(n)] = 1
        edges += [labels(off * (1 - pair), tol), pair]
    else:
        edges.append(labels(off, tol))
    return Graph(combine(*colours), combine(*edges))


def unsign(perm: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(src, signs) with ``(P x)_k = signs_k x_src[k]`` of an automorphism of the double cover
    (``signed_weight_graph``; vertex i -> perm[i]), or None if it does not map pairs onto
    pairs (it always does: the pair edges have their own label)."""
    perm = np.asarray(perm)
    up, down = perm[:n], perm[n:]
    sigma, e = up % n, np.where(up < n, 1.0, -1.0)
    if not np.array_equal(down % n, sigma) or not np.array_equal(down < n, up >= n):
        return None
    src = np.empty(n, dtype=np.int64)
    src[sigma] = np.arange(n)
    return src, e[src]


def _coupled(mats, tol: float) -> np.ndarray:
    """(n, n) bool: entries of any of ``mats`` above tol times its largest, symmetrised."""
    out = np.zeros(mats[0].shape, dtype=bool)
    for M in mats:
        M = np.abs(np.asarray(M, dtype=np.float64))
        out |= M > tol * max(float(np.max(M)), 1e-300)
    return out | out.T


def model_graph(sde, n: int, tol: float, args, t0: float):
    """(graph, coupled) of any model: J_f, f and D at the invariant states c (1, ..., 1)."""
    colours, edges, mats = [], [], []
    for c in PROBE_LEVELS:
        x = jnp.full(n, c)
        f = np.asarray(sde.f(t0, x, args))
        J = np.asarray(jax.jacfwd(lambda y: sde.f(t0, y, args))(x))
        D = np.asarray(sde.D_matrix(t0, x, args, n))
        if not (np.all(np.isfinite(f)) and np.all(np.isfinite(J)) and np.all(np.isfinite(D))):
            raise ValueError(
                f"permutations='graph' probes the model at the states c (1, ..., 1), c in "
                f"{PROBE_LEVELS}, and f, J_f or D is not finite at c = {c}: pass the network's "
                "weights= (W, b) instead"
            )
        colours += [labels(f, tol), labels(np.diag(D), tol)]
        edges += [labels(J, tol), labels(D - np.diag(np.diag(D)), tol)]
        mats += [J - np.diag(np.diag(J)), D]
    return Graph(combine(*colours), combine(*edges)), _coupled(mats, tol)


#: Above this many coupled groups of units, only the flip of all of them is tried.
MAX_FLIPS = 64


def flip_candidates(coupled: np.ndarray) -> np.ndarray:
    """(k, n) sign vectors: x -> -x on each group of coupled units (connected component), or
    on all units when there is one group or more than MAX_FLIPS. For a network with an odd
    nonlinearity and no bias, input or state-dependent noise, every such flip is a symmetry
    (tanh(-x) = -tanh(x)); a flip that mixes a group's signs would have to negate couplings."""
    from scipy.sparse.csgraph import connected_components

    count, label = connected_components(coupled, directed=False)
    if count == 1 or count > MAX_FLIPS:
        return -np.ones((1, len(label)))
    return np.where(label[None, :] == np.arange(count)[:, None], -1.0, 1.0)


def describe_flip(signs: np.ndarray, show: int = 8) -> str:
    """``"flip x -> -x"`` (all units) or ``"flip x1, x4, x7 -> -"`` (the first ``show``)."""
    units = np.flatnonzero(signs < 0)
    if len(units) == len(signs):
        return "flip x -> -x"
    text = ", ".join(f"x{i + 1}" for i in units[:show])
    if len(units) > show:
        text += f", ... ({len(units)} units)"
    return f"flip {text} -> -"


@functools.partial(jit, static_argnums=(0, 5))
def perm_mismatch(sde, tt, xx, ops, args, by_index=True, signs=None):
    """Per candidate: |f(Px) - P f(x)|, |f(Px)| + |f(x)|, the same for D, over all (t, x).

    ``ops`` (k, n) index maps ``(P x)_i = signs_i x_src[i]`` (``by_index``: networks, no
    n x n products; ``signs`` (k, n), default all +1) or (k, n, n) signed permutation
    matrices P.
    """
    n = xx.shape[-1]

    def fD(t, x):
        return sde.f(t, x, args), sde.D_matrix(t, x, args, n)

    f, D = jax.vmap(fD)(tt, xx)

    if signs is None:
        signs = jnp.ones(ops.shape[:2], xx.dtype)

    def one(op_sg):
        op, sg = op_sg
        if by_index:
            Px, Pf = xx[:, op] * sg, f[:, op] * sg
            PDP = D[:, op][:, :, op] * (sg[:, None] * sg[None, :])
        else:
            Px, Pf, PDP = xx @ op.T, f @ op.T, jnp.einsum("ij,mjk,lk->mil", op, D, op)
        fP, DP = jax.vmap(fD)(tt, Px)
        return jnp.stack(
            [
                jnp.sqrt(jnp.sum((fP - Pf) ** 2)),
                jnp.sqrt(jnp.sum(fP**2)) + jnp.sqrt(jnp.sum(f**2)),
                jnp.sqrt(jnp.sum((DP - PDP) ** 2)),
                jnp.sqrt(jnp.sum(DP**2)) + jnp.sqrt(jnp.sum(D**2)),
            ]
        )

    return jax.lax.map(one, (ops, signs))


def cycles_of(src: np.ndarray) -> list[tuple[int, ...]]:
    """The cycles (length >= 2) of the unit map ``j -> i`` where ``src[i] = j`` (0-based)."""
    sigma = np.empty_like(src)
    sigma[src] = np.arange(len(src))
    seen = np.zeros(len(src), dtype=bool)
    out = []
    for j in range(len(src)):
        if seen[j] or sigma[j] == j:
            continue
        cyc, k = [], j
        while not seen[k]:
            seen[k] = True
            cyc.append(int(k))
            k = int(sigma[k])
        out.append(tuple(cyc))
    return out


def describe_signed(src: np.ndarray, signs: np.ndarray) -> str:
    """The name of ``(P x)_k = signs_k x_src[k]``: its cycles (``describe_cycles``), then the
    units whose values change sign (``describe_flip``): ``"permutation (x1 x2 x3), then flip
    x1 -> -"`` moves the value of x1 to x2, x2 to x3 and x3 to x1, then negates x1."""
    moved, flipped = np.any(src != np.arange(len(src))), np.any(signs < 0)
    if moved and flipped:
        return f"{describe_cycles(cycles_of(src))}, then {describe_flip(signs)}"
    return describe_flip(signs) if flipped else describe_cycles(cycles_of(src))


def describe_cycles(cycles, show: int = 8) -> str:
    """``"permutation (x1 x5)(x2 x6 x9)"``, the first ``show`` cycles then a count; a single
    transposition is ``"swap x1 <-> x5"`` as in the pair search."""
    if len(cycles) == 1 and len(cycles[0]) == 2:
        a, b = sorted(cycles[0])
        return f"swap x{a + 1} <-> x{b + 1}"
    text = "".join("(" + " ".join(f"x{i + 1}" for i in c) + ")" for c in cycles[:show])
    if len(cycles) > show:
        moved = sum(len(c) for c in cycles)
        text += f"... ({len(cycles)} cycles, {moved} units moved)"
    return f"permutation {text}"
