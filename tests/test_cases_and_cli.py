"""The Fig. 1b case study against its closed form, the CLI's files and errors, and the models."""

import json
import math
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

import noisynoether as nn
from noisynoether.cases import fig1b


def test_fig1b_matches_the_closed_form_and_conserves_E_and_L12():
    data = fig1b.run(quick=True)
    for row, path in zip(data["summary"], data["paths"], strict=True):
        T = path["T"]
        t = path["ts"][:, None]
        x0, x1 = np.array([-2.0, 2.0]), np.array([2.0, 2.0])
        # REPRODUCTION.md's closed form, written out here independently of the package:
        exact = (x1 - x0 * np.exp(-T)) * np.sinh(t) / np.sinh(T) + x0 * np.exp(-t)
        assert np.max(np.abs(path["xs"] - exact)) < 2e-4 * (1 + T**2)
        assert row["converged"]
        assert row["energy"]["spread"] < 1e-9 and row["charges"]["L12"]["spread"] < 1e-9
        # E from the closed form at t = 0: xdot(0) and f = -x0, D = 1.
        xdot0 = (x1 - x0 * np.exp(-T)) / np.sinh(T) - x0
        E0 = 0.25 * xdot0 @ xdot0 - 0.25 * x0 @ x0
        assert row["energy"]["mean"] == pytest.approx(E0, rel=5e-3, abs=1e-7)
        p0 = 0.5 * (xdot0 + x0)
        assert row["charges"]["L12"]["mean"] == pytest.approx(
            x0[0] * p0[1] - x0[1] * p0[0], rel=5e-3, abs=1e-7
        )
    E = [r["energy"]["mean"] for r in data["summary"]]
    assert E[0] > 1.0 and abs(E[1]) < 1e-6  # fast path: high E; slow path: E near 0


def _finite_numbers(obj):
    if isinstance(obj, dict):
        return all(_finite_numbers(v) for v in obj.values())
    if isinstance(obj, list):
        return all(_finite_numbers(v) for v in obj)
    if isinstance(obj, float):
        return math.isfinite(obj)
    return True


PATH_KEYS = {
    "label",
    "action",
    "energy",
    "charges",
    "converged",
    "iterations",
    "grad_norm",
    "min_hessian_eigenvalue",
    "message",
    "grid",
}


def test_cli_reproduce_all_quick_writes_every_figure_and_report(tmp_path, capsys):
    # In-process (the compiled solvers are shared with the other tests; a subprocess run of
    # the console script is below).
    from noisynoether.cli import main

    out = tmp_path / "res"
    assert main(["reproduce", "all", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for case in ("fig1a", "fig1b", "fig1c", "fig2"):
        assert f"{case} [" in printed, case  # each case study reports its steps
        for suffix in (".png", ".pdf"):
            assert (out / case / f"{case}{suffix}").stat().st_size > 1000
        summary = json.loads((out / case / "summary.json").read_text())
        assert {"case", "title", "paths", "figures"} <= set(summary)
        assert summary["case"] == case and summary["paths"]
        for row in summary["paths"]:
            assert PATH_KEYS <= set(row), (case, set(row))
            assert row["converged"] is True, (case, row["label"], row["message"])
            assert math.isfinite(row["action"]) and {"mean", "spread"} <= set(row["energy"])
        assert _finite_numbers(summary["paths"]), case
        assert "| path |" in (out / case / "report.md").read_text()
    S = json.loads((out / "fig1b" / "summary.json").read_text())["paths"][0]["action"]
    assert S == pytest.approx(5.2521411419973, rel=1e-4)  # closed form, T = 1
    # Fig. 1a: the straight line of Eq. 19 with p = -1.6; Fig. 2: L12 conserved on each path.
    checks = json.loads((out / "fig1a" / "summary.json").read_text())["checks"]
    assert checks["p_exact"] == pytest.approx(-1.6) and checks["p_max_error"] < 1e-9
    fig2 = json.loads((out / "fig2" / "summary.json").read_text())["checks"]
    assert max(fig2["L12_relative_spread"].values()) < 1e-3
    # A second run keeps the first: it goes to OUT/run-2 (fig1b again: compiled already).
    assert main(["reproduce", "fig1b", "--quick", "--out", str(out)]) == 0
    again = json.loads((out / "run-2" / "fig1b" / "summary.json").read_text())
    assert again["paths"][0]["action"] == S
    assert (out / "run-2" / "fig1b" / "fig1b.png").stat().st_size > 1000
    assert "run-2" in capsys.readouterr().err


def test_cli_bad_argument_gives_one_clear_line():
    proc = subprocess.run(
        [sys.executable, "-m", "noisynoether", "reproduce", "fig9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "invalid choice: 'fig9'" in proc.stderr and "Traceback" not in proc.stderr


def test_multistable_drift_against_eq_20_written_out():
    x = np.array([1.7, 1.2])
    logistic = nn.models.multistable()
    s = lambda u: 1.0 / (1.0 + math.exp(-(u - 1.5) / 0.01))  # noqa: E731
    fx = 1.25 + 2.0 * s(x[0]) - 0.9 * s(x[1]) - x[0]
    fy = 1.25 + 2.0 * s(x[1]) - 0.9 * s(x[0]) - x[1]
    np.testing.assert_allclose(logistic.f(0.0, jnp.asarray(x)), [fx, fy], rtol=1e-13)
    assert float(logistic.D_raw(0.0, x)) == pytest.approx(0.16)
    # Eq. 20's tanh form with n is the logistic form with n doubled.
    tanh = nn.models.multistable(form="tanh", n=0.02)
    np.testing.assert_allclose(tanh.f(0.0, jnp.asarray(x)), [fx, fy], rtol=1e-12)
    with pytest.raises(ValueError, match="form must be"):
        nn.models.multistable(form="erf")


def test_double_well_and_drift_diffusion_models():
    dw = nn.models.double_well(0.05)
    np.testing.assert_allclose(dw.f(0.0, jnp.array([0.5])), [0.5 - 0.125])
    dd = nn.models.drift_diffusion(0.1, 2.0)
    assert float(dd.D_raw(0.0, jnp.array([0.0]))) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        nn.models.drift_diffusion(0.1, 0.0)
