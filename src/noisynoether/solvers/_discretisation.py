"""A free warning for a grid too coarse for its horizon (issue 11, item 6).

For an autonomous model the minimiser conserves the energy E (Eq. 10); on the discrete grid E
varies along the path by O(dt^2), as the action's discretisation error does. The indicator

    T * std(E) / |S*|

(the action a constant-E error of size std(E) would make over the horizon, relative to S*)
costs nothing once the path is solved. Measured against exact or refined values it bounds the
relative error of S* with a margin of 7-80x and scales like it (double well, D = 0.05, T = 30
and 200; Fig. 1c at T = 1 and 10; K from 65 to 1601):

    double well T = 200, K = 401:  indicator 0.20, true error 1.0e-2
    double well T = 200, K = 1601: indicator 0.014, true error 6.5e-4
    Fig. 1c T = 10, K = 257:       indicator 0.19, true error 2.6e-2

Above ``THRESHOLD`` a converged solve without ``accuracy=`` warns (``DiscretisationWarning``)
and says what to do; ``stats["discretisation_indicator"]`` always has the value (None for a
time-dependent model, where E is not conserved, or where S* is ~0).
"""

from __future__ import annotations

import warnings
import weakref

import numpy as np

from .._checks._model import at_two_times
from ._result import DiscretisationWarning, replace_result

__all__ = ["THRESHOLD", "check"]

#: Indicator above which a warning is issued (true errors there were ~0.1-1 %).
THRESHOLD = 0.05

#: States of the path at which autonomy is probed (a fixed count: one compile per model).
_PROBES = 8


#: Models already probed (without args): autonomy is the model's, not the path's.
_KNOWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _autonomous(sde, xs, args) -> bool:
    if args is None:
        try:
            if sde in _KNOWN:
                return _KNOWN[sde]
            _KNOWN[sde] = answer = _probe(sde, xs, args)
            return answer
        except TypeError:  # a model that cannot be weakly referenced or hashed: probe
            pass
    return _probe(sde, xs, args)


def _probe(sde, xs, args) -> bool:
    pts = xs[np.linspace(0, len(xs) - 1, _PROBES).round().astype(int)]
    f0, f1, d0, d1 = at_two_times(sde, pts, args, context="the solution path")
    return np.allclose(f0, f1, rtol=1e-12, atol=1e-14) and np.allclose(
        d0, d1, rtol=1e-12, atol=1e-14
    )


def check(sde, res, args):
    """The result with ``stats["discretisation_indicator"]``; warns above THRESHOLD."""
    if not res.converged or res.action_error is not None:
        return res
    T = float(res.ts[-1] - res.ts[0])
    value = None
    if abs(res.action) > 1e-8 and _autonomous(sde, np.asarray(res.xs), args):
        value = T * float(np.std(res.energy)) / abs(res.action)
        if value > THRESHOLD:
            warnings.warn(
                DiscretisationWarning(
                    f"the energy E (Eq. 10), constant along the exact minimiser of this "
                    f"autonomous model, varies along the path (std {np.std(res.energy):.2e} over "
                    f"T = {T:g}): the grid of {res.ts.size} points may be too coarse for the "
                    f"horizon; the relative error of S* = {res.action:.6g} is likely below "
                    f"T std(E) / |S*| = {value:.2g} (measured: 7-80x below). Pass accuracy= for an "
                    "error estimate and an adaptive grid, or use more num_points."
                ),
                stacklevel=3,
            )
    return replace_result(res, stats={**res.stats, "discretisation_indicator": value})
