"""Shared test set-up: float64 on, seeded keys, and a zoo of problems with known answers."""

import jax
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)


@pytest.fixture
def rng():
    return np.random.default_rng(20241126)


def loglog_slope(hs, errs):
    """Least-squares slope of log(err) against log(h)."""
    return float(np.polyfit(np.log(hs), np.log(errs), 1)[0])


# The slowest files first (measured with --durations=0): `make test` runs the suite in two
# processes, a file staying in one (pytest-xdist --dist loadfile, in collection order), so
# starting the long files first keeps one process from finishing a long file alone at the end.
# Only the order changes; each test is independent of it.
SLOW_FILES_FIRST = (
    "test_energy_paths.py",
    "test_refinement_and_multistart.py",
    "test_cases_and_cli.py",
    "test_readme.py",
    "test_scores.py",
    "test_solver_behaviour.py",
    "test_solver_objects.py",
    "test_linear_closed_form.py",
    "test_infinite_time.py",
    "test_minima_not_saddles.py",
    "test_charges.py",
    "test_symmetry_aware.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
