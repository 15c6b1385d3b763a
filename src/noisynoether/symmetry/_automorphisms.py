"""Generators of the automorphism group of a weighted directed graph (units that can be exchanged).

A permutation sigma of the units of a network ``xdot = -x / tau + W phi(x) + b`` (or of any
model whose coupling is summarised by an edge-weight matrix) leaves the model invariant when it
preserves the vertex colours (b_i, tau_i, D_ii) and the edge weights,
``W[sigma(i), sigma(j)] = W[i, j]``. The group of such sigma is found by individualisation and
refinement, the scheme of nauty and bliss, written here without their pruning by invariants:

- *colour refinement* (1-dimensional Weisfeiler-Leman) splits the units until every unit of a
  colour sees the same multiset of (edge weight, colour) over its out- and in-neighbours: an
  equitable partition (multisets hashed, ``O(n^2)`` a round on a dense W);
- *individualisation*: give one unit of the first smallest non-singleton cell its own colour,
  refine again, until every unit has its own colour (a leaf: an ordering of the units);
- the first leaf is the reference; at each level of its path, from the deepest up, every other
  unit w of the target cell not already in the orbit of the chosen unit (under the generators
  found so far) is individualised instead and the subtree searched depth-first for a leaf whose
  map from the reference leaf preserves colours and weights. Each one found is a generator, and
  together they generate the whole group (a strong generating set, as in Schreier-Sims).

Weights are compared after clustering their values with a relative tolerance, so that rounding
noise does not break a symmetry. The search is exponential only on highly regular graphs
(strongly regular designs); a node budget stops it there and the caller says so.
"""

from __future__ import annotations

import numpy as np

#: Most refinement nodes one search visits before it stops (the result is then partial).
MAX_NODES = 2000

#: A graph whose pairs other than the most common label are at most this fraction of all is
#: refined from those pairs only (``Graph._sums``).
SPARSE = 0.1


def labels(values: np.ndarray, tol: float) -> np.ndarray:
    """Integer labels of an array's values, equal for values within ``tol`` of a neighbour.

    Sorted values start a new label where the gap to the previous one exceeds ``tol`` times
    the largest magnitude: invariant under any permutation of the entries.
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    if flat.size == 0:
        return flat.astype(np.int64).reshape(np.shape(values))
    scale = max(float(np.max(np.abs(flat))), 1e-300)
    order = np.argsort(flat, kind="stable")
    s = flat[order]
    new = np.concatenate([[0], (np.diff(s) > tol * scale).astype(np.int64)])
    out = np.empty(flat.size, dtype=np.int64)
    out[order] = np.cumsum(new)
    return out.reshape(np.shape(values))


def combine(*arrays: np.ndarray) -> np.ndarray:
    """One integer label per position for tuples of integer labels (lexicographic rank)."""
    out = np.zeros(np.shape(arrays[0]), dtype=np.int64).ravel()
    for a in arrays:
        a = np.asarray(a, dtype=np.int64).ravel()
        key = out * (int(a.max()) + 1) + a if a.size else out
        out = np.unique(key, return_inverse=True)[1].ravel().astype(np.int64)
    return out.reshape(np.shape(arrays[0]))


class Graph:
    """A vertex-coloured graph with an integer label on every ordered pair (dense, n x n)."""

    def __init__(self, colours: np.ndarray, edges: np.ndarray, seed: int = 0):
        self.n = len(colours)
        self.colours = _rank(np.asarray(colours, dtype=np.int64))
        self.edges = np.asarray(edges, dtype=np.int64)
        rng = np.random.default_rng(seed)
        # random 64-bit codes of the edge labels and of the colours (multiset hashing)
        codes = rng.integers(0, 2**63, size=int(self.edges.max()) + 1, dtype=np.uint64)
        self._colour_code = rng.integers(0, 2**63, size=self.n, dtype=np.uint64)
        self.nodes = 0
        # A sparse graph (most pairs carry one background label, the zero weight) is refined
        # from its other pairs only: O(edges) a round instead of O(n^2). A ring of n units
        # needs ~n rounds after one unit is individualised (one more unit told apart each
        # round): n = 1024, signed (2048 vertices), 96 s dense (measured).
        background = int(np.argmax(np.bincount(self.edges.ravel())))
        rows, cols = np.nonzero(self.edges != background)
        self._sparse = rows.size <= SPARSE * self.n**2
        if self._sparse:
            self._bg_code = codes[background]
            self._rows, self._cols = rows, cols
            self._codes = codes[self.edges[rows, cols]]
        else:
            self._edge_code = codes[self.edges]

    def refine(self, colours: np.ndarray) -> tuple[np.ndarray, tuple]:
        """The coarsest equitable refinement of ``colours`` and its trace (cell counts).

        A round gives each unit the signature (colour, multiset of (edge label, colour) over
        its out-neighbours, the same over its in-neighbours) and the new colours are the ranks
        of the signatures. A multiset is hashed as the wrapping sum of a 64-bit mix of each
        element's codes: ``O(n^2)`` a round and invariant under relabelling (a collision
        could only merge two cells, making the refinement weaker, never a wrong symmetry:
        every candidate is checked exactly).
        """
        n = self.n
        trace = []
        k = int(colours.max()) + 1
        while True:
            out, inn = self._sums(self._colour_code[colours])
            sig = np.stack([colours.astype(np.uint64), out, inn], axis=1)
            _, new = np.unique(sig, axis=0, return_inverse=True)
            new = new.ravel().astype(np.int64)
            k_new = int(new.max()) + 1
            trace.append(tuple(np.bincount(new)))
            colours = new
            if k_new == k or k_new == n:
                return colours, tuple(trace)
            k = k_new

    def _sums(self, cc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per unit i, the hashed multisets sum_j mix(code(i, j) + cc_j) (out) and
        sum_j mix(code(j, i) + cc_j) (in), wrapping uint64. Sparse: every pair counted as
        background, then corrected on the other pairs (the same sums)."""
        if not self._sparse:
            out = _mix(self._edge_code + cc[None, :]).sum(axis=1, dtype=np.uint64)
            inn = _mix(self._edge_code.T + cc[None, :]).sum(axis=1, dtype=np.uint64)
            return out, inn
        base = _mix(self._bg_code + cc)
        total = base.sum(dtype=np.uint64)
        r, c = self._rows, self._cols
        out = np.full(self.n, total, dtype=np.uint64)
        inn = np.full(self.n, total, dtype=np.uint64)
        np.add.at(out, r, _mix(self._codes + cc[c]) - base[c])
        np.add.at(inn, c, _mix(self._codes + cc[r]) - base[r])
        return out, inn

    def is_automorphism(self, perm: np.ndarray) -> bool:
        """True when ``i -> perm[i]`` preserves colours and every edge label."""
        return bool(
            np.array_equal(self.colours[perm], self.colours)
            and np.array_equal(self.edges[np.ix_(perm, perm)], self.edges)
        )


def _mix(x: np.ndarray) -> np.ndarray:
    """The 64-bit finaliser of MurmurHash3 (wrapping uint64 arithmetic)."""
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def _rank(c: np.ndarray) -> np.ndarray:
    return np.unique(c, return_inverse=True)[1].ravel().astype(np.int64)


def _individualise(colours: np.ndarray, v: int) -> np.ndarray:
    """Give v its own colour, just before the rest of its cell (an invariant rule)."""
    c = 2 * colours + 1
    c[v] -= 1
    return _rank(c)


def _individualise_all(colours: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Every unit of ``cell`` its own colour, in the cell's order (a twin cell, below)."""
    for v in cell[:-1]:
        colours = _individualise(colours, int(v))
    return colours


def _all_twins(graph, cell: np.ndarray) -> bool:
    """Whether every unit of ``cell`` is a twin of its first: i and j are twins when their
    colours, their rows and columns off {i, j}, their diagonal labels and the labels of
    (i, j) and (j, i) are equal; then the transposition (i j) is an automorphism, and being
    twins is an equivalence (so the cell's transpositions generate its whole symmetric
    group). ``O(len(cell) n)``."""
    E, c = graph.edges, graph.colours
    i = int(cell[0])
    for j in cell[1:]:
        j = int(j)
        keep = np.ones(graph.n, dtype=bool)
        keep[[i, j]] = False
        if not (
            c[i] == c[j]
            and E[i, i] == E[j, j]
            and E[i, j] == E[j, i]
            and np.array_equal(E[i, keep], E[j, keep])
            and np.array_equal(E[keep, i], E[keep, j])
        ):
            return False
    return True


def _target(colours: np.ndarray) -> np.ndarray | None:
    """The units of the first smallest non-singleton cell, or None at a leaf."""
    counts = np.bincount(colours)
    big = np.flatnonzero(counts > 1)
    if big.size == 0:
        return None
    cell = big[np.argmin(counts[big])]
    return np.flatnonzero(colours == cell)


class _Orbits:
    """Union-find of the units under the generators found so far."""

    def __init__(self, n: int):
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return int(i)

    def add(self, perm: np.ndarray) -> None:
        for i, j in enumerate(perm):
            a, b = self.find(i), self.find(int(j))
            if a != b:
                self.parent[max(a, b)] = min(a, b)


def automorphism_generators(graph: Graph, max_nodes: int = MAX_NODES):
    """Generators of the automorphism group as permutation arrays ``perm`` (unit i -> perm[i]).

    Returns ``(generators, complete)``; ``complete`` is False when the node budget ran out
    (the generators found are automorphisms, the group may be larger).
    """
    graph.nodes = 0
    colours, trace = graph.refine(graph.colours)
    orbits = _Orbits(graph.n)
    gens: list[np.ndarray] = []
    # (colours, target cell, chosen unit, trace, twin cell?) along the first path. A cell of
    # mutual twins (identical units: n of them all-to-all is S_n) is resolved in one level:
    # its adjacent transpositions are generators, and all its units are individualised at
    # once (one refinement instead of one per unit: S_n at n = 1024 took ~100 s).
    path = []
    while (cell := _target(colours)) is not None:
        twin = len(cell) > 2 and _all_twins(graph, cell)
        if twin:
            for a, b in zip(cell[:-1], cell[1:], strict=True):
                swap = np.arange(graph.n)
                swap[[a, b]] = [b, a]
                gens.append(swap)
                orbits.add(swap)
        v = int(cell[0])
        nxt, t = graph.refine(
            _individualise_all(colours, cell) if twin else _individualise(colours, v)
        )
        path.append((colours, cell, v, t, twin))
        colours = nxt
    leaf0 = colours
    for level in range(len(path) - 1, -1, -1):
        colours_l, cell, v, _, _ = path[level]
        for w in cell[1:]:
            if orbits.find(int(w)) == orbits.find(v):
                continue
            found = _search(graph, path, level, int(w), leaf0, max_nodes)
            if isinstance(found, str):
                return gens, False
            if found is not None:
                gens.append(found)
                orbits.add(found)
    return gens, True


def _search(graph, path, level, w, leaf0, max_nodes):
    """Depth-first search for an automorphism fixing the first ``level`` chosen units and
    mapping the chosen unit of ``level`` to w: None if there is none, "budget" if cut short.

    At every node whose refinement matches the first path's, the permutation that maps each
    cell of the first path onto the cell of the same colour here, fixing the units the two
    have in common, is tried before going deeper: for symmetric groups (identical units,
    all-to-all couplings) and block permutations it is already an automorphism, which saves
    descending to a leaf.
    """
    stack = [(path[level][0], w, level)]
    while stack:
        c, u, lev = stack.pop()
        graph.nodes += 1
        if graph.nodes > max_nodes:
            return "budget"
        if path[lev][4]:  # a twin level: its image is a twin cell, individualised as a whole
            target = _target(c)
            if target is None or len(target) != len(path[lev][1]):
                continue
            nxt, t = graph.refine(_individualise_all(c, target))
        else:
            nxt, t = graph.refine(_individualise(c, u))
        if t != path[lev][3]:
            continue  # not the same refinement as on the first path: no automorphism here
        reference = path[lev + 1][0] if lev + 1 < len(path) else leaf0
        perm = _cell_map(reference, nxt)
        if graph.is_automorphism(perm):
            return perm
        cell = _target(nxt)
        if cell is None or lev + 1 >= len(path):
            continue
        if path[lev + 1][4]:  # one branch: the whole cell
            stack.append((nxt, -1, lev + 1))
            continue
        for u2 in cell[::-1]:
            stack.append((nxt, int(u2), lev + 1))
    return None


def _cell_map(reference: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Unit -> unit mapping each reference cell onto the cell of the same colour in ``colours``,
    fixing the units in both and pairing the others in increasing order (a leaf: the map of
    the two orderings)."""
    n = len(colours)
    perm = np.arange(n)
    moved = reference != colours
    if not moved.any():
        return perm
    src = np.flatnonzero(moved)
    dst = np.flatnonzero(moved)
    # units leaving colour k in the reference go to the units entering colour k here
    src = src[np.argsort(reference[src], kind="stable")]
    dst = dst[np.argsort(colours[dst], kind="stable")]
    perm[src] = dst
    return perm
