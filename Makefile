# Two commands on a fresh machine:  make reproduce   and   make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
OUT    ?= results

.PHONY: reproduce test venv dev bench lint docs clean

# One pip run per target, into the venv itself: first the build requirements (read from
# pyproject.toml's [build-system]), then the package without build isolation, so that the C++
# kernel is compiled against the very jaxlib it runs with (an isolated build environment would
# install a second jax and jaxlib: ~15 s). The dev target installs the package and its extras
# in one go (it does not build the package first without them). Fresh clone, 2 cores: ~60 s for
# .[dev], was ~100 s. (pip still precompiles the bytecode: with --no-compile and
# PYTHONDONTWRITEBYTECODE=1, as on this project's machines, every Python process of the suite
# compiled jax and scipy from source again, +3.5 s an import: the suite got slower.)
PIP := $(PY) -m pip install --quiet
define install
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PIP) $$($(PY) -c "import tomllib; print(' '.join(r.replace(' ', '') for r in tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires']))")
	$(PIP) --no-build-isolation -e "$(1)"
endef
SOURCES := pyproject.toml setup.py src/noisynoether/solvers/_blocktri.cc

$(VENV)/.installed: $(SOURCES)
	$(call install,.)
	touch $@

# .[dev] contains the package: a dev install counts as the plain one too.
$(VENV)/.dev-installed: $(SOURCES)
	$(call install,.[dev])
	touch $(VENV)/.installed $@

venv: $(VENV)/.installed

dev: $(VENV)/.dev-installed

reproduce: $(VENV)/.installed
	$(VENV)/bin/noisynoether reproduce all --out $(OUT) --force

# The suite runs in TEST_WORKERS processes (pytest-xdist; a test file stays in one process, so
# its models compile once), sharing a JAX compilation cache that lives for this run only (a
# function compiled by one test process, or a README example, is loaded by the others).
# pytest exits 5 when it collects no test: that is a failure of the suite, said plainly.
# Compile time is most of the suite's time: the library compiles its own solvers with XLA's
# classic CPU emitters (src/noisynoether/_jit.py, about 2x faster to compile); the suite's
# other compiles (JAX's eager operations on new shapes, thousands of them) get the same
# through XLA_FLAGS, where this jaxlib knows the flag (an unknown XLA flag aborts the process).
# The suite also compiles with LLVM's backend at -O0 (XLA's graph optimisations still run, so
# the program is the same, to rounding): its problems are small, so compiling is most of each
# test and running it little. Measured on 2 cores, same code: suite 278 s -> 200 s, CPU
# 520 s -> 366 s; the Monte Carlo tests (runtime-bound) got ~3 s slower each. Users' solves,
# `make reproduce` and the benchmarks keep XLA's default optimisation.
TEST_WORKERS ?= 2
FAST_COMPILE := --xla_cpu_use_fusion_emitters=false --xla_backend_optimization_level=0
test: $(VENV)/.dev-installed
	cache=$$(mktemp -d); \
	if $(PY) -c "import jax; jax.jit(lambda x: x, compiler_options={'xla_cpu_use_fusion_emitters': False})(1.0)" 2>/dev/null; \
	then export XLA_FLAGS="$(FAST_COMPILE) $$XLA_FLAGS"; fi; \
	JAX_COMPILATION_CACHE_DIR=$$cache JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 \
	JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0 \
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15; rc=$$?; rm -rf $$cache; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_solvers.py --out $(OUT)/benchmarks

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check src tests benchmarks setup.py
	$(VENV)/bin/ruff format --check src tests benchmarks setup.py

# The documentation site (mkdocs.yml, docs/) into site/, warnings as errors: a broken docstring
# or cross-reference fails the build. Figures of the case studies come from $(OUT)/ when
# `make reproduce` has written them (see docs/_hooks.py).
docs: $(VENV)/.dev-installed
	NO_MKDOCS_2_WARNING=1 NN_RESULTS=$(OUT) $(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) $(OUT) site .pytest_cache
