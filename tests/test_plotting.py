"""Plot helpers: ``nn.plot_path`` for every result type, the curve figures, lazy matplotlib."""

import subprocess
import sys
import types

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import noisynoether as nn  # noqa: E402
from noisynoether.plotting import plot_action_duration, plot_energy_duration  # noqa: E402

OU = nn.models.ornstein_uhlenbeck(-np.eye(2), 1.0)
DW = nn.models.double_well(0.05)


@pytest.fixture(scope="module")
def ou_path():
    """One small fixed-time solve shared by the tests (compiling is most of their cost)."""
    return nn.most_likely_path(OU, [-2.0, 2.0], [2.0, 1.0], 0.0, 1.0, num_points=41)


def _energy_along(res):
    """The per-interval energy, whatever the result's generation (the protocol's ``energy``)."""
    e = np.asarray(res.energy)
    return np.asarray(res.energy_along) if e.ndim == 0 else e


def _lines(ax):
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_path_draws_a_path_result_over_the_drift_with_its_charges(ou_path):
    res = ou_path
    fig = nn.plot_path(res, sde=OU)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    ax_path, ax_e, ax_p = fig.axes
    (path,) = _lines(ax_path)
    np.testing.assert_array_equal(path.get_xdata(), res.xs[:, 0])
    np.testing.assert_array_equal(path.get_ydata(), res.xs[:, 1])
    assert ax_path.collections, "the drift's streamlines are drawn"
    markers = {ln.get_label(): ln for ln in ax_path.get_lines() if len(ln.get_xdata()) == 1}
    np.testing.assert_array_equal(
        [markers["start"].get_xdata()[0], markers["start"].get_ydata()[0]], res.xs[0]
    )
    np.testing.assert_array_equal(
        [markers["end"].get_xdata()[0], markers["end"].get_ydata()[0]], res.xs[-1]
    )
    (e_line,) = _lines(ax_e)
    np.testing.assert_allclose(e_line.get_xdata(), 0.5 * (res.ts[1:] + res.ts[:-1]))
    np.testing.assert_array_equal(e_line.get_ydata(), res.energy)
    p1, p2 = _lines(ax_p)
    np.testing.assert_array_equal(p1.get_ydata(), res.momentum[:, 0])
    np.testing.assert_array_equal(p2.get_ydata(), res.momentum[:, 1])


def test_plot_path_coords_choose_the_plane_and_ax_draws_into_a_given_axes(ou_path):
    res = ou_path
    fig, ax = plt.subplots()
    assert nn.plot_path(res, coords=(1, 0), ax=ax, sde=OU, field="quiver") is fig
    assert len(fig.axes) == 1  # with ax=, no charges unless axes are given for them
    (path,) = _lines(ax)
    np.testing.assert_array_equal(path.get_xdata(), res.xs[:, 1])
    fig2, (a, b, c) = plt.subplots(1, 3)
    nn.plot_path(res, ax=a, charges=(b, c))
    np.testing.assert_array_equal(_lines(b)[0].get_ydata(), res.energy)
    nn.plot_path(res, ax=a, charges=False, color="C0")  # a second path on the same axes
    assert len(_lines(a)) == 2
    labels = [t.get_text() for t in a.get_legend().get_texts()]
    assert labels.count("start") == 1 and labels.count("end") == 1


def test_plot_path_draws_an_energy_path_result_and_a_shoot_result():
    res = nn.path_with_energy(DW, [-1.0], [1.0], 0.5, num_points=41)
    fig = nn.plot_path(res, sde=DW)
    ax_path, ax_e, _ = fig.axes
    (path,) = _lines(ax_path)  # 1-D: x against t
    np.testing.assert_array_equal(path.get_xdata(), res.ts)
    np.testing.assert_array_equal(path.get_ydata(), res.xs[:, 0])
    E = _energy_along(res)
    assert E.shape == (40,)
    np.testing.assert_array_equal(_lines(ax_e)[0].get_ydata(), E)
    assert np.max(np.abs(E - 0.5)) < 0.05  # the path's energy is the one asked for

    shot = nn.shoot(OU, [1.0, 0.0], [0.3, -0.2], 0.0, 1.0, num_points=21)
    fig = nn.plot_path(shot, sde=OU)
    ax_path, ax_e, ax_p = fig.axes
    np.testing.assert_array_equal(_lines(ax_path)[0].get_xdata(), shot.xs[:, 0])
    E = _lines(ax_e)[0].get_ydata()
    # H = p.D p + p.f at (x0, p0), with D = 1 and f = -x: 0.13 - 0.3; conserved along the flow
    # (per interval by the midpoint rule: to O(dt^2), dt = 0.05).
    assert np.max(np.abs(E - (-0.17))) < 1e-3
    assert len(_lines(ax_p)) == 2


def test_plot_path_rejects_bad_options(ou_path):
    res = ou_path
    with pytest.raises(ValueError, match="coords"):
        nn.plot_path(res, coords=(0, 0))
    with pytest.raises(ValueError, match="coords"):
        nn.plot_path(res, coords=(0, 2))
    with pytest.raises(ValueError, match="field"):
        nn.plot_path(res, sde=OU, field="contour")
    with pytest.raises(ValueError, match="grid"):
        nn.plot_path(res, sde=OU, grid=1)
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="charges"):
        nn.plot_path(res, ax=ax, charges=True)
    with pytest.raises(TypeError, match="charges"):
        nn.plot_path(res, charges=(ax,))


def _tick_labels(axis):
    return [axis.get_major_formatter()(v) for v in axis.get_majorticklocs()]


def test_curve_figures_keep_every_point_inside_and_label_ticks_plainly():
    curve = types.SimpleNamespace(
        durations=np.array([1.0, 2.0, 5.0, 10.0, 20.0]),
        actions=np.array([7.88, 5.73, 5.02, 5.0005, 5.002]),
        energies=np.array([4.63, 0.91, 0.023, -7e-5, -2e-4]),
        dS_dT=-np.array([4.63, 0.91, 0.023, -7e-5, -2e-4]),
    )
    fig = plot_action_duration(curve)
    ax_s, ax_e = fig.axes
    for ax, y in ((ax_s, curve.actions), (ax_e, curve.energies)):
        lo, hi = ax.get_ylim()
        assert lo < y.min() and y.max() < hi, (ax.get_ylabel(), (lo, hi))
    assert "10" in _tick_labels(ax_s.xaxis) and "2" in _tick_labels(ax_s.xaxis)
    assert not any("times" in s for s in _tick_labels(ax_e.yaxis))

    ecurve = types.SimpleNamespace(
        energies=np.array([3.0, 1.0, 0.1, 0.0]),
        durations=np.array([2.4, 3.9, 7.6, np.inf]),
        actions=np.array([9.1, 6.6, 5.2, 5.0]),
    )
    fig = plot_energy_duration(ecurve)
    ax_t, ax_s = fig.axes
    assert ax_t.get_xscale() == "log"
    labels = _tick_labels(ax_t.yaxis)
    assert "5" in labels and not any("times" in s for s in labels)  # not "5x10^0"
    lo, hi = ax_t.get_ylim()
    assert lo < 2.4 and 7.6 < hi
    (dashed,) = [ln for ln in ax_s.get_lines() if ln.get_linestyle() == "--"]
    assert dashed.get_ydata()[0] == 5.0  # E = 0: T = inf, drawn as S's level


def test_import_noisynoether_does_not_import_matplotlib():
    code = (
        "import noisynoether, sys; "
        "print('matplotlib' in sys.modules, callable(noisynoether.plot_path))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "True"]
