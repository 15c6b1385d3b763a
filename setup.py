"""Build the one optional C extension; everything else is in pyproject.toml.

``noisynoether.solvers._blocktri`` is the CPU kernel of the block-tridiagonal Cholesky solve,
handed to XLA as an FFI target so that the Newton solver never leaves ``jit``. It needs only a
C compiler and the Python headers (no JAX headers). It is optional: where it cannot be built,
the package installs without it and the solver falls back to LAPACK through a host callback
(same results, slower per step); ``noisynoether.native_available()`` tells which.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "noisynoether.solvers._blocktri",
            sources=["src/noisynoether/solvers/_blocktri.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
