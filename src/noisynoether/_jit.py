"""``jit``: ``jax.jit`` with the XLA options this library compiles its solvers with.

Compile time dominates a first solve (about 1-3 s for a damped-Newton loop, against
milliseconds to run it). On the CPU, XLA's newer MLIR fusion emitters make that compile about
twice as slow as its classic emitters for these programs (measured with jaxlib 0.10.2: the
Fig. 1c Newton loop at K = 201 in 1.4 s of CPU instead of 2.9 s; the test suite about 30 %
faster), while the compiled code runs as fast at K <= 1000 and at most ~15 % slower at
K = 10 000 (docs/benchmarks.md). So the library's own jitted functions are compiled with
``xla_cpu_use_fusion_emitters = False``, per function (``jax.jit(compiler_options=...)``):
a user's own JAX code and global ``XLA_FLAGS`` are left alone.

The option is probed once, at the first compile (which is when the backend exists anyway): a
jaxlib that does not know it, or a backend other than the CPU, gets plain ``jax.jit``.
``NOISYNOETHER_FAST_COMPILE=0`` in the environment switches it off.

``jit(fn, runtime_bound=True)`` marks a function that runs far longer than it compiles (the
Euler-Maruyama kernel of ``simulate``: thousands of steps over thousands of paths). It is
compiled at XLA's default LLVM optimisation level (3) even where ``XLA_FLAGS`` lowers it for
everything else, as the test suite does to compile faster (``--xla_backend_optimization_level=0``
made the Fig. 1c density simulation of 10 000 paths 2.1 s -> 6.1 s). Where the option is not
lowered this is what XLA does anyway.
"""

from __future__ import annotations

import os

import jax

__all__ = ["jit", "compiler_options"]

_CPU_OPTIONS = {"xla_cpu_use_fusion_emitters": False}
#: Added for ``runtime_bound`` functions: XLA's default LLVM optimisation level.
_RUNTIME_OPTIONS = {"xla_backend_optimization_level": 3}
_probed: dict | None = None


def compiler_options() -> dict:
    """The options the library's functions are compiled with here (probed once)."""
    global _probed
    if _probed is None:
        options = {}
        if os.environ.get("NOISYNOETHER_FAST_COMPILE", "1") != "0":
            try:
                if jax.default_backend() == "cpu":
                    jax.jit(lambda x: x + 1, compiler_options=_CPU_OPTIONS)(0.0)
                    options = dict(_CPU_OPTIONS)
            except Exception:  # an unknown option in this jaxlib: compile as JAX does
                options = {}
        _probed = options
    return _probed


class _Lazy:
    """A ``jax.jit`` built at its first use, when the compile options can be probed.

    Called inside another trace (a library function jitted within a library loop, or within a
    user's ``jax.jit``/``vmap``), it is the plain ``jax.jit``: JAX accepts compile options on
    top-level calls only, and the outer compile decides them anyway.
    """

    def __init__(self, fn, kwargs, runtime_bound=False):
        self._fn, self._kwargs, self._jitted, self._plain = fn, kwargs, None, None
        self._runtime_bound = runtime_bound
        self.__wrapped__ = fn
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)

    def _get(self):
        if self._jitted is None:
            options = compiler_options()
            if options and self._runtime_bound:
                options = {**options, **_RUNTIME_OPTIONS}
            kwargs = dict(self._kwargs)
            if options:
                kwargs["compiler_options"] = {**options, **kwargs.get("compiler_options", {})}
            self._plain = jax.jit(self._fn, **self._kwargs)
            self._jitted = jax.jit(self._fn, **kwargs) if options else self._plain
        return self._jitted

    def __call__(self, *args, **kwargs):
        jitted = self._get()
        if jitted is not self._plain and _traced(args, kwargs):
            return self._plain(*args, **kwargs)
        return jitted(*args, **kwargs)

    def __getattr__(self, name):  # lower, trace, eval_shape, clear_cache, ...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._get(), name)


def _traced(args, kwargs) -> bool:
    """Whether this call happens inside a trace (an argument is a tracer, or JAX is tracing)."""
    if any(isinstance(a, jax.core.Tracer) for a in jax.tree_util.tree_leaves((args, kwargs))):
        return True
    try:  # a trace whose tracers reach the function through a closure only
        from jax._src import core

        return not core.trace_state_clean()
    except Exception:  # a JAX without this (private) check: the arguments decided
        return False


def jit(fn=None, /, *, runtime_bound: bool = False, **kwargs):
    """``jax.jit(fn, **kwargs)`` with the library's compile options; usable as a decorator,
    also through ``functools.partial(jit, static_argnums=...)``. ``runtime_bound``: compile at
    XLA's default optimisation level whatever ``XLA_FLAGS`` says (see the module's note)."""
    if fn is None:
        return lambda f: _Lazy(f, kwargs, runtime_bound)
    return _Lazy(fn, kwargs, runtime_bound)
