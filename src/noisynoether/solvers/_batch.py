"""most_likely_paths: a batch of fixed-time problems of one shape, solved in one compiled call.

Per member, exactly the loop of ``most_likely_path`` (``_fixed_time.solve``, ``_lm.py``,
Eq. 8): the cheap damped-Newton loop; where it hands off (``_lm.HANDOFF``: negative
curvature, or creeping), the full loop (negative-curvature steps, energy re-timing) from
there. Both are compiled over the whole batch (``_batched``): on the CPU the members run one
after another inside one XLA program (``lax.map``: each loop stops when its member converges,
and only the branches taken run), elsewhere vectorised (``vmap``). The full loop is a second
call, over the same batch with a mask, made only when some member handed off. Large batches
run in equal chunks of at most ``CHUNK`` members, so that the certificates of one chunk (for
Newton: the lowest Hessian eigenvalues by compiled shift-invert Lanczos, ``_lanczos.py``, on a
thread of its own: a compiled call releases the GIL, LAPACK's banded eigen-solver does not)
are computed while the compiled loops run the next; on the CPU the chunks' loops themselves
run on one thread per core. Then each member goes through the rest of the
one-path solve from its state (``solve(first=...)``, chunk by chunk on the main thread while
the compiled loops run the later chunks): the certificate's verdict (LAPACK's
banded eigenvalues where Lanczos did not accept its values or the solver is the host
callback; the full eigenpairs where a negative or zero eigenvalue needs them), escapes from a
saddle the loop missed (as one path), the charges
(computed in the compiled call) and the message. Last, the model is checked on every
solution path at once. So ``batch[i]`` is what ``most_likely_path`` returns for problem i
(the tests check S* and the path to 1e-9; they agree to rounding).

Longer than ~300 lines because ``most_likely_paths`` documents and checks a batched API
and drives two compiled loops plus the host-side certificates; the inputs and the result
class are already in ``_batch_inputs.py`` and ``_batch_result.py``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import os

import jax
import jax.numpy as jnp
import numpy as np

from .. import _lagrangian
from .._checks import check_bool, check_choice, check_memory, check_sde, make_time_grid
from .._jit import jit
from . import (
    _assemble,
    _coarse_to_fine,
    _detour,
    _lanczos,
    _lm,
    _memory,
    _native,
    _zero_modes,
)
from ._batch_inputs import (
    _batch_size,
    _certify,
    _check_args,
    _check_paths,
    _end_times,
    _initial_paths,
    _states,
    _take,
)
from ._batch_result import PathBatch
from ._fixed_time import compiled, grid_solver, solve
from ._most_likely_path import _linear_solver, _resolve
from ._result import ConvergenceError
from ._solver_newton import Newton, NewtonCG

__all__ = ["most_likely_paths"]


#: How the members are laid out in the compiled call: ``"map"`` (one after another inside
#: one XLA program, ``lax.map``: each member's loop stops when it converges and its branches
#: run only when taken; fastest on the CPU) or ``"vmap"`` (vectorised: every member runs until
#: the last stops and both sides of each branch run; for accelerators).
LAYOUTS = ("auto", "map", "vmap")


@functools.lru_cache(maxsize=64)
def _batched(sde, method: str, linear_solver: str, max_cg: int, batched_args: bool, layout):
    """Two jitted calls over the whole batch: the cheap loop, and the full loop where needed.

    Returns ``(fns, cheap, full)``. ``cheap(ts (B, K), x (B, M, n), xa (B, n), xb (B, n),
    args, rtol, max_steps, lam0)`` and ``full(ts, x, xa, xb, args, rtol, max_steps (B,),
    lam0 (B,), mask (B,))`` return ``(final LMState, counters, charges (p, E), |f| at the
    K - 1 midpoints of the final path (for the detour's check))``, batched;
    ``full`` runs only the members where ``mask`` is True (the others come back unchanged), so
    it is compiled once per batch size, and only when some member hands off. Per member this
    is the loop of ``_fixed_time.solve``: the cheap run; where it stops with HANDOFF, the full
    run from there with damping ``max(lam, 1e-12)`` and the steps left (at least 1).
    """
    fns = compiled(sde, method, linear_solver, max_cg)

    def finish(st, ts, xa, xb, args):
        counts = dict(zip(_COUNTERS, _counters(st), strict=True))
        xs = _assemble.full_path(st.x, xa, xb)
        norms = jnp.linalg.norm(fns["drift_mid"](*_lagrangian.midpoints(ts, xs), args), axis=1)
        return st, counts, fns["charges"](ts, xs, args), norms

    def cheap_one(ts, x, xa, xb, args, rtol, max_steps, lam0, mask):
        return finish(fns["run"](ts, x, xa, xb, args, rtol, max_steps, lam0), ts, xa, xb, args)

    def full_one(ts, x, xa, xb, args, rtol, max_steps, lam0, mask):
        def go(x):
            st = fns["run_full"](ts, x, xa, xb, args, rtol, max_steps, lam0)
            return finish(st, ts, xa, xb, args)

        def skip(x):  # same structure, nothing run (lax.map runs only the branch taken)
            st = jax.eval_shape(go, x)
            return jax.tree_util.tree_map(lambda a: jnp.zeros(a.shape, a.dtype), st)

        return jax.lax.cond(mask, go, skip, x)

    def batched(one, per_member):
        """``one`` over the batch; ``per_member``: which of (rtol, max_steps, lam0, mask) vary."""

        def run(ts, x, xa, xb, args, *rest):
            if layout == "vmap":
                axes = (0, 0, 0, 0, 0 if batched_args else None, *per_member)
                return jax.vmap(one, in_axes=axes)(ts, x, xa, xb, args, *rest)
            varying = tuple(r for r, a in zip(rest, per_member, strict=True) if a == 0)

            def member(z):
                ts_i, x_i, a_i, b_i, args_i, var = z
                it = iter(var)
                vals = [next(it) if a == 0 else r for r, a in zip(rest, per_member, strict=True)]
                return one(ts_i, x_i, a_i, b_i, args_i if batched_args else args, *vals)

            # Strictly one after another: vectorised chunks (batch_size=8, 32) measured 4-10x
            # slower on the CPU (both sides of every branch, each chunk as slow as its worst).
            return jax.lax.map(member, (ts, x, xa, xb, args if batched_args else None, varying))

        return jit(run)

    cheap = batched(cheap_one, (None, None, None, None))
    full = batched(full_one, (None, 0, 0, 0))
    return fns, cheap, full


_COUNTERS = ("iterations", "rejected", "work", "nc", "moves")


def _counters(st):
    return st.steps, st.rejected, st.work, st.nc_steps, st.moves


def _expand(mask, a):
    """``mask`` (B,) shaped to broadcast against ``a`` (B, ...)."""
    return mask.reshape(mask.shape + (1,) * (np.ndim(a) - 1))


def _banded_eigen(st, ts, x_int, xa, xb, args, *, known=None):
    """The certificate's eigenvalues (``_fixed_time.solve``'s ``eigen``).

    ``known``: (state, its host eigenvalues or the compiled certificate's values) computed
    beforehand (threads, while the compiled loops run the next chunk), used when ``st`` is
    that state. Where a negative or zero eigenvalue needs the eigenvectors (an escape, the
    zero-mode report) and they are not there, or the values are not finite, the one-path
    routine gives them (``_zero_modes.certificate``, which is the one path's certificate):
    those members are treated exactly as one path.
    """
    use = known is not None and st is known[0] and known[1] is not None
    B, C = (np.asarray(a) for a in st.aux)
    return _zero_modes.certificate(B, C, values=known[1] if use else None)


@functools.cache
def _certifier():
    """Jitted lowest eigenvalues (w (b, k), scale (b,), ok (b,)) of a chunk's Hessians, one
    member after another (``_lanczos``: the compiled kernel's Lanczos)."""
    return jit(lambda B, C: jax.lax.map(lambda bc: _lanczos.lowest_eigenvalues(*bc), (B, C)))


def _certificates(real, blocks, future, status):
    """{member: (lowest eigenvalues, eigenvectors or None, scale)} of one chunk's converged
    members (``real``: their indices in the batch; ``status``: the chunk's), from the
    compiled certificates; the host (``_zero_modes.lowest_eigenpairs`` with
    ``vectors=False``) where the compiled one did not accept its values, failed, or was not
    run (``future`` None)."""
    Bb, Cb = (np.asarray(a) for a in blocks)
    ok = np.zeros(len(Bb), dtype=bool)  # a failed call: the host routine decides
    if future is not None:
        with contextlib.suppress(Exception):
            w, scale, ok = (np.asarray(a) for a in future.result())
    known = {}
    for j, i in enumerate(real):
        if status[j] != _lm.CONVERGED:
            continue
        if ok[j]:
            known[int(i)] = (w[j], None, float(scale[j]))
        else:
            known[int(i)] = _zero_modes.lowest_eigenpairs(Bb[j], Cb[j], vectors=False)
    return known


#: Members per compiled call (the batch is cut into equal chunks of at most this many).
CHUNK = 128


def _chunks(B: int):
    """Index arrays of equal length covering 0..B-1 (the last padded with its first index)."""
    count = -(-B // CHUNK)
    size = -(-B // count)
    out = []
    for c in range(count):
        idx = np.arange(c * size, min((c + 1) * size, B))
        out.append(np.concatenate([idx, np.full(size - idx.size, idx[0])]))
    return out


def _loops(cheap, full, inputs, idx):
    """The cheap loop, then the full loop where handed off, for members ``idx`` (NumPy out)."""
    ts, x, x0, x1, args, batched_args, solver = inputs
    args = _take(args, idx) if batched_args else args
    ts_j, x0_j, x1_j = jnp.asarray(ts[idx]), jnp.asarray(x0[idx]), jnp.asarray(x1[idx])
    with _native.kernel_errors():
        out = cheap(
            ts_j, jnp.asarray(x[idx]), x0_j, x1_j, args,
            solver.rtol, solver.max_steps, float(solver.damping), True,
        )  # fmt: skip
        st, counts, charges, norms = jax.tree_util.tree_map(np.asarray, out)
        handed = st.status == _lm.HANDOFF
        counts["handoffs"] = handed.astype(int)
        if handed.any():  # the full loop from there, as _fixed_time.solve does
            out = full(
                ts_j, jnp.asarray(st.x), x0_j, x1_j, args, solver.rtol,
                np.maximum(solver.max_steps - st.steps, 1), np.maximum(st.lam, 1e-12), handed,
            )  # fmt: skip
            st2, counts2, charges2, norms2 = jax.tree_util.tree_map(np.asarray, out)
            st, charges, norms = jax.tree_util.tree_map(
                lambda a, b: np.where(_expand(handed, a), b, a),
                (st, charges, norms),
                (st2, charges2, norms2),
            )
            for k in _COUNTERS:
                counts[k] = counts[k] + np.where(handed, counts2[k], 0)
    return st, counts, charges, norms


def most_likely_paths(
    sde,
    x0,
    x1,
    t0,
    t1,
    *,
    num_points: int = 1001,
    args=None,
    batched_args: bool = False,
    initial=None,
    method: str = "auto",
    solver: Newton | NewtonCG | None = None,
    max_memory: float | None = None,
    throw: bool = False,
    layout: str = "auto",
    **options,
) -> PathBatch:
    """Most likely paths of a batch of B problems of one shape, solved in one compiled call.

    Problem i is ``most_likely_path(sde, x0[i], x1[i], t0, t1[i], num_points=num_points,
    args=args_i)``: the minimiser of the discrete action (Eq. 8) from x0[i] at t0 to x1[i]
    at t1[i]. The damped Newton loop runs for every member inside one compiled call (one
    after another on the CPU, vectorised elsewhere: ``layout``), the members that need the
    full loop (negative curvature, re-timing) finish together in a second one, and each
    member is then certified (lowest Hessian eigenvalues, zero modes) as one path. Same
    answers as B calls of ``most_likely_path`` (S* and path to rounding), without their
    per-call overhead and with a cheaper certificate (docs/benchmarks.md).

    Args:
        sde: the model (``noisynoether.SDE``).
        x0, x1: (B, n) start and end states; either may be one (n,) state shared by all.
        t0: the start time (shared).
        t1: the end time, a number, or (B,) one per problem (then each has its own grid).
        num_points: K, points of each uniform grid.
        args: PyTree passed to drift and diffusion; shared by all problems, unless
            ``batched_args=True``: then every leaf has a leading axis of length B and problem
            i gets ``tree_map(lambda a: a[i], args)``.
        initial: (B, K, n) or (K, n) initial paths (endpoints replaced); default straight lines.
        method, solver, options: as ``most_likely_path`` (``rtol=``, ``max_steps=``,
            ``damping=``, ``linear_solver=``, ...), the same for every problem.
            ``linear_solver="lapack"`` makes one host callback per member and step (slow);
            ``"auto"`` is the compiled kernel on the CPU and block cyclic reduction elsewhere.
        max_memory: refuse (ValueError) a batch whose estimated memory exceeds this many bytes
            (default 4 GiB): one path's work (B paths' with ``layout="vmap"``) and every
            member's outputs; split a larger batch into several calls.
        layout: ``"auto"`` (``"map"`` on the CPU, else ``"vmap"``), ``"map"`` (the members
            one after another inside the compiled call: each stops when it converges) or
            ``"vmap"`` (vectorised: all run until the last stops, both sides of each branch
            run; for accelerators). Same results.
        throw: raise ``ConvergenceError`` (with the batch summary) when a member does not
            converge; by default such members have ``converged=False`` and say why.

    Returns:
        A ``PathBatch``: ``.action`` (B,), ``.xs`` (B, K, n), ``.ts`` (B, K),
        ``.converged`` (B,), ``.status``, ``.iterations`` (B,), ``len()``, iteration, and
        ``batch[i]`` the i-th ``PathResult`` (with its charges); ``print(batch)`` summarises.
        Adaptive refinement (``accuracy=``) changes K per problem and is not batched: call
        ``most_likely_path`` for it.
    """
    check_sde(sde)
    x0, x1 = _states(x0, "x0"), _states(x1, "x1")
    if x0.shape[-1] != x1.shape[-1]:
        raise ValueError(
            f"x0 and x1 must have the same state dimension n; got shapes {x0.shape} and {x1.shape}"
        )
    t0, t1 = _end_times(t0, t1)
    B = _batch_size(x0, x1, t1, args, batched_args)
    n = x0.shape[-1]
    x0, x1 = np.broadcast_to(x0, (B, n)).copy(), np.broadcast_to(x1, (B, n)).copy()
    make_time_grid(t0, float(np.max(t1)), num_points, None)  # num_points checked
    K = int(num_points)
    ts = np.linspace(t0, np.broadcast_to(t1, (B,)), K, axis=1)
    args = _check_args(args, batched_args, B)
    if "accuracy" in options:
        raise TypeError(
            "most_likely_paths has no accuracy=: adaptive refinement picks K per problem, and "
            "a batch shares one K; call most_likely_path(..., accuracy=) per problem, or give "
            "num_points"
        )
    solver = _resolve(solver, method, options, n)
    if solver.damping is None:
        solver = solver.replace(damping=1e-5 if initial is None else 1e-8)
    check_choice(layout, "layout", LAYOUTS)
    if layout == "auto":
        layout = "map" if jax.default_backend() == "cpu" else "vmap"
    # One member's work at a time ("map") or all at once ("vmap"); and the outputs: the
    # final Hessian blocks (Newton), the path, gradient, charges and |f| of every member.
    work = _memory.solver_bytes(K, n, solver.name) * (B if layout == "vmap" else 1)
    blocks = 2 * n * n if solver.name == "newton" else 0  # Newton-CG keeps no Hessian blocks
    check_memory(
        work + 8.0 * B * K * (blocks + 6 * n + 1),
        max_memory,
        what=f"most_likely_paths with B = {B} problems of {K} points in dimension n = {n}",
        fix="split the batch into several calls, or use fewer num_points",
    )
    check_bool(throw, "throw")
    xs = _initial_paths(initial, ts, x0, x1)
    _check_paths(sde, ts, xs, args, batched_args, "the initial path")
    if isinstance(solver, Newton) and solver.linear_solver == "auto":
        linear_solver = _linear_solver(solver, K, n) if jax.default_backend() == "cpu" else "cyclic"
    else:
        linear_solver = _linear_solver(solver, K, n)
    max_cg = solver.max_cg if isinstance(solver, NewtonCG) else 2000
    fns, cheap, full = _batched(sde, solver.name, linear_solver, int(max_cg), batched_args, layout)
    inputs = (ts, xs[:, 1:-1], x0, x1, args, batched_args, solver)
    # In chunks, so that the certificate's eigenvalues of one chunk (a compiled call on a
    # thread: it releases the GIL) are computed while the compiled loops run the next.
    # The compiled certificate on the CPU with the kernel (its Lanczos recurrence and
    # eigenvalue count); else LAPACK below (on a GPU not measured: kept as before). Only for
    # n <= LANCZOS_MAX_N: a network's lowest eigenvalues cluster (the lowest temporal mode
    # times n directions, ~1 % apart), and 16 Lanczos steps do not resolve them (n = 64: none
    # accepted, every member then went to the host anyway).
    certify = None
    if (
        solver.name == "newton"
        and solver.check_minimum
        and linear_solver == "native"
        and jax.default_backend() == "cpu"
        and n <= _zero_modes.LANCZOS_MAX_N
    ):
        certify = _certifier()
    # On the CPU the chunks' compiled loops also run side by side, one thread per core (XLA
    # runs each of these small programs on one core and releases the GIL meanwhile).
    chunks = _chunks(B)
    workers = min(len(chunks), os.cpu_count() or 1) if jax.default_backend() == "cpu" else 1
    results = [None] * B

    def grid(i):  # made only for a member that needs another solve (a retry, a detour)
        args_i = _take(args, i) if batched_args else args
        return grid_solver(fns, sde, x0[i], x1[i], args_i, solver, linear_solver)

    def finish(real, part, future):
        """The rest of the one-path solve for one chunk's members, from their final states."""
        st_c, counts_c, charges_c, _ = part
        known = {}
        if solver.name == "newton" and solver.check_minimum:
            known = _certificates(real, st_c.aux, future, st_c.status)
        # Member j's state and charges: the leaves flattened once (a tree_map per member
        # costs ~14 us, 2000 of them a batch).
        (st_leaves, st_def), (ch_leaves, ch_def) = (
            jax.tree_util.tree_flatten(a) for a in (st_c, charges_c)
        )
        for j, i in enumerate(real):
            args_i = _take(args, i) if batched_args else args
            state = st_def.unflatten([a[j] for a in st_leaves])
            eigen = None
            if solver.name == "newton":
                eigen = functools.partial(_banded_eigen, known=(state, known.get(int(i))))
            res = solve(
                fns, sde, ts[i], xs[i], x0[i], x1[i], args_i, solver, linear_solver,
                first=(state, {k: v[j] for k, v in counts_c.items()}), eigen=eigen,
                charges=ch_def.unflatten([a[j] for a in ch_leaves]),
            )  # fmt: skip
            # As most_likely_path does, alone: a member that crept is retried coarse to fine.
            if _coarse_to_fine.would_retry(res, solver):
                res = _coarse_to_fine.retry(grid(i), res, ts[i], xs[i])
            results[i] = res

    # Each chunk's host work (certificate verdicts, messages) is done while the compiled loops
    # run the later chunks: the previous chunk's, once the next one has come back.
    parts, previous = [], None
    with (
        concurrent.futures.ThreadPoolExecutor(workers) as loops,
        concurrent.futures.ThreadPoolExecutor(1) as certs,
    ):
        running = [loops.submit(_loops, cheap, full, inputs, idx) for idx in chunks]
        for idx, future in zip(chunks, running, strict=True):
            st_c, counts_c, charges_c, norms_c = future.result()
            real = idx[: np.unique(idx).size]  # a padded chunk repeats its first member
            cert = None
            if certify is not None:  # the whole (padded) chunk: one compiled shape
                cert = certs.submit(certify, *st_c.aux)
            part = _take((st_c, counts_c, charges_c, norms_c), slice(0, real.size))
            parts.append(part)
            if previous is not None:
                finish(*previous)
            previous = (real, part, cert)
        finish(*previous)
    st, counts, charges, norms = jax.tree_util.tree_map(lambda *a: np.concatenate(a), *parts)
    if initial is None:
        # One from the straight start through an unstable node is tried around it too; the
        # check for every member at once (its drift evaluations batched), the same answer.
        check = [i for i in range(B) if results[i].converged]
        paths = [
            (np.asarray(ts[i]), np.asarray(results[i].xs), _take(args, i) if batched_args else None)
            for i in check
        ]
        # |f| along each answer from the compiled call, where the answer is its final state
        # (not moved by an escape or a retry since): no further drift evaluations for those.
        along = [norms[i] if np.array_equal(results[i].xs[1:-1], st.x[i]) else None for i in check]
        found = _detour.unstable_nodes_on_batch(sde, paths, args, batched_args, norms=along)
        for i, node in zip(check, found, strict=True):
            if node is None:
                continue
            args_i = _take(args, i) if batched_args else args
            results[i] = _detour.around_unstable_nodes(
                _coarse_to_fine.start_solver(grid(i), solver), results[i], ts[i],
                x0[i], x1[i], sde=sde, args=args_i, found=node,
            )  # fmt: skip
    results = _certify(sde, results, args, batched_args)
    batch = PathBatch(
        tuple(results),
        dict(
            method=solver.name,
            linear_solver=linear_solver if solver.name == "newton" else None,
            handoffs=int(np.sum(counts["handoffs"])),
            layout=layout,
        ),
    )
    if throw and not batch.converged.all():
        raise ConvergenceError(batch.message)
    return batch
