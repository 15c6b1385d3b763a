"""Adaptive time grids: equidistributed arc length, and Richardson estimates of the action error.

A uniform grid wastes nodes where the path waits at an attractor and has too few where it jumps
(the Fig. 1c network crosses its sigmoid ramps in ~0.01 time units). ``equidistribute`` places
nodes at equal steps of the arc length of the curve (t/T, x/Lx, f/Lf), so they gather where the
path moves fast or the drift along it changes fast. ``bisect`` halves every interval, which
keeps the grid's mapping: with a second-order rule the action error then falls by 4 and
(S_K - S_2K)/3 estimates the error of S_2K (Richardson).

For curves without time (``path_with_energy``): ``arclength``, ``tangents`` and
``redistribute`` (nodes on a cubic spline, equidistributing arclength, or arclength and time).
"""

from __future__ import annotations

import numpy as np
import scipy.interpolate


def _smooth(density: np.ndarray, passes: int) -> np.ndarray:
    """``passes`` passes of the [1/4, 1/2, 1/4] filter (end values repeated)."""
    for _ in range(passes):
        padded = np.concatenate([density[:1], density, density[-1:]])
        density = 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
    return density


def bisect(ts: np.ndarray) -> np.ndarray:
    """The grid with every interval halved (2K - 1 points)."""
    mid = 0.5 * (ts[:-1] + ts[1:])
    out = np.empty(2 * ts.size - 1)
    out[0::2], out[1::2] = ts, mid
    return out


def interpolate_path(ts_new, ts, xs) -> np.ndarray:
    """Linear interpolation of a (K, n) path onto a new grid."""
    return np.stack([np.interp(ts_new, ts, xs[:, i]) for i in range(xs.shape[1])], axis=1)


def equidistribute(ts, xs, fs, num_points: int, *, smoothing: int = 3, floor: float = 0.05):
    """A grid of ``num_points`` nodes at equal arc-length steps of (t/T, x/Lx, f/Lf).

    Args:
        ts: (K,) current grid; xs: (K, n) path on it; fs: (K-1, n) drift at interval midpoints.
        num_points: size of the new grid.
        smoothing: passes of a [1/4, 1/2, 1/4] filter over the node density (keeps neighbouring
            steps within a modest ratio).
        floor: the density never falls below ``floor`` times its mean (waiting stretches keep
            some nodes).
    """
    ts, xs, fs = np.asarray(ts), np.asarray(xs), np.asarray(fs)
    T = ts[-1] - ts[0]
    dt = np.diff(ts)
    Lx = max(float(np.max(np.ptp(xs, axis=0))), 1e-12)
    Lf = max(float(np.max(np.ptp(fs, axis=0))), 1e-12)
    dx = np.linalg.norm(np.diff(xs, axis=0), axis=1) / Lx
    f_nodes = np.concatenate([fs[:1], 0.5 * (fs[1:] + fs[:-1]), fs[-1:]], axis=0)
    df = np.linalg.norm(np.diff(f_nodes, axis=0), axis=1) / Lf
    arc = np.sqrt((dt / T) ** 2 + dx**2 + df**2)
    density = _smooth(arc / dt, smoothing)
    density = np.maximum(density, floor * np.sum(density * dt) / T)
    cum = np.concatenate([[0.0], np.cumsum(density * dt)])
    targets = np.linspace(0.0, cum[-1], num_points)
    new = np.interp(targets, cum, ts)
    new[0], new[-1] = ts[0], ts[-1]
    return new


def richardson_error(S_coarse: float, S_fine: float) -> float:
    """Estimated relative error of S_fine from a grid and its bisection (second order)."""
    return abs(S_coarse - S_fine) / 3.0 / max(abs(S_fine), 1e-300)


def arclength(xs) -> np.ndarray:
    """(K,) Euclidean arclength of the nodes of a (K, n) curve from its first node."""
    seg = np.linalg.norm(np.diff(xs, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


def tangents(xs) -> np.ndarray:
    """(K-2, n) unit tangents at the interior nodes (central differences)."""
    t = xs[2:] - xs[:-2]
    return t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-300)


def redistribute(xs, K: int, dts=None, time_weight: float = 0.0) -> np.ndarray:
    """K nodes on the cubic spline through xs (ends kept), equidistributing a monitor.

    The monitor is (1 - w) * (arclength fraction) + w * (time fraction), with the time of each
    segment ``dts`` (w = ``time_weight``): w = 0 gives equal arclength (the string method);
    w > 0 also puts nodes where the path is slow, near fixed points, where T(E) and the
    action are decided at small E.
    """
    s = arclength(xs)
    keep = np.concatenate([[True], np.diff(s) > 1e-14 * max(s[-1], 1e-300)])
    xs_k, s_k = xs[keep], s[keep]
    u_k = s_k / s_k[-1]
    if xs_k.shape[0] < 4:
        spline = scipy.interpolate.interp1d(u_k, xs_k, axis=0)
    else:
        spline = scipy.interpolate.CubicSpline(u_k, xs_k, axis=0)
    u = np.linspace(0.0, 1.0, K)
    if time_weight > 0 and dts is not None and np.all(np.isfinite(dts)) and np.sum(dts) > 0:
        seg = np.maximum(np.diff(s), 1e-300)
        # The monitor's density per unit arclength, smoothed so that a steep drift does not
        # make the equidistribution jitter from one pass to the next.
        rho = _smooth((1 - time_weight) / s[-1] + time_weight * (dts / seg) / np.sum(dts), 3)
        m = np.concatenate([[0.0], np.cumsum(rho * seg)])
        target = np.interp(u, m[keep] / m[-1], u_k)
        return _pin_ends(spline(target), xs)
    new = np.asarray(spline(u))
    # One more pass: the spline's arclength differs from the polyline's at O(h^2).
    s2 = arclength(new)
    return _pin_ends(spline(np.interp(u * s2[-1], s2, u)), xs)


def _pin_ends(new, xs) -> np.ndarray:
    new = np.asarray(new)
    new[0], new[-1] = xs[0], xs[-1]
    return new
