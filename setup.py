"""Build the one optional C++ extension; everything else is in pyproject.toml.

``noisynoether.solvers._blocktri`` is the CPU kernel of the block-tridiagonal Cholesky solve,
handed to XLA as an FFI target so that the Newton solver never leaves ``jit``. It is compiled
(C++17) against the FFI headers that jaxlib ships (``jax.ffi.include_dir()``: XLA's typed
binding checks the operands' number and dtypes), which is why jax is a build requirement in
pyproject.toml. It is optional: where it cannot be built (no C++ compiler, no headers), the
package installs without it and the solver falls back to LAPACK through a host callback (same
results, slower per step); ``noisynoether.native_available()`` tells which.
"""

import os
import sys

from setuptools import Extension, setup


def _ffi_include_dir():
    """The directory holding xla/ffi/api/ffi.h (from jaxlib), or None where it is missing."""
    candidates = []
    try:
        import jax

        candidates.append(jax.ffi.include_dir())
    except Exception:  # jax missing or older than jax.ffi: look in jaxlib directly
        pass
    try:
        import jaxlib

        candidates.append(os.path.join(os.path.dirname(jaxlib.__file__), "include"))
    except Exception:
        pass
    for d in candidates:
        if os.path.isfile(os.path.join(d, "xla", "ffi", "api", "ffi.h")):
            return d
    return None


include = _ffi_include_dir()
ext_modules = []
if include is None:
    print(
        "noisynoether: XLA's FFI headers (jax.ffi.include_dir()) were not found in the build "
        "environment; installing without the compiled kernel (the solvers use LAPACK through "
        "a host callback instead)",
        file=sys.stderr,
    )
else:
    ext_modules.append(
        Extension(
            "noisynoether.solvers._blocktri",
            sources=["src/noisynoether/solvers/_blocktri.cc"],
            include_dirs=[include],
            language="c++",
            extra_compile_args=["-std=c++17", "-O3", "-fvisibility=hidden"],
            optional=True,
        )
    )

setup(ext_modules=ext_modules)
