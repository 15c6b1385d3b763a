"""Parameter sweeps (issue 12, item 4): configuration, Dask vs serial, failures, table, CLI.

One tiny sweep (the double well, K = 51, two noise levels, two end-point pairs, one task that
raises and one that cannot converge in max_steps = 1) is solved once serially and once on a
2-worker local Dask cluster (module fixtures): two compiles in all.
"""

import math
import sys

import numpy as np
import pytest

pytest.importorskip("distributed", reason="the sweep extra: pip install -e '.[dev]'")
pd = pytest.importorskip("pandas")

import noisynoether as nn  # noqa: E402
from noisynoether.cli import main  # noqa: E402
from noisynoether.sweeps import load_config, write_parquet  # noqa: E402

CONFIG = {
    "D": [0.05, 0.1],
    "T": 4.0,
    "num_points": 51,
    "solver": {"method": "newton"},
    "models": [
        {"name": "double-well", "endpoints": [[-1.0, 1.0], [-1.0, 0.5]]},
        # the drift overflows on the initial path: most_likely_path raises ValueError
        {"name": "double-well", "D": 0.05, "endpoints": [[-1.0, 1e200]]},
        # one Newton step is not enough: a row with converged = False
        {"name": "double-well", "D": 0.05, "solver": {"max_steps": 1}},
    ],
}

TOML = """
D = [0.05, 0.1]
T = 4.0
num_points = 51

[solver]
method = "newton"

[[models]]
name = "double-well"
endpoints = [[-1.0, 1.0], [-1.0, 0.5]]

[[models]]
name = "double-well"
D = 0.05
endpoints = [[-1.0, 1e200]]

[[models]]
name = "double-well"
D = 0.05
solver = { max_steps = 1 }
"""

RAISING, STUCK = 4, 5  # the rows of the two failing problems


@pytest.fixture(scope="module")
def problems():
    return nn.sweep_problems(CONFIG)


@pytest.fixture(scope="module")
def serial(problems):
    return nn.sweep(problems, scheduler="serial")


@pytest.fixture(scope="module")
def on_dask(problems, serial):  # after the serial run: the threads reuse its compiled code
    seen = []
    table = nn.sweep(problems, workers=2, progress=seen.append)
    return table, seen


def test_config_expands_models_noise_levels_durations_and_end_points(problems):
    got = [(p.D_value, p.T, p.x0, p.x1, p.num_points, p.endpoints) for p in problems]
    assert got == [
        (0.05, 4.0, (-1.0,), (1.0,), 51, "given 0"),
        (0.05, 4.0, (-1.0,), (0.5,), 51, "given 1"),
        (0.1, 4.0, (-1.0,), (1.0,), 51, "given 0"),
        (0.1, 4.0, (-1.0,), (0.5,), 51, "given 1"),
        (0.05, 4.0, (-1.0,), (1e200,), 51, "given 0"),
        (0.05, 4.0, (-1.0,), (1.0,), 51, "default"),  # the registry's end points
    ]
    assert problems[STUCK].solver_dict == {"method": "newton", "max_steps": 1}


def test_toml_file_gives_the_same_problems(tmp_path, problems):
    path = tmp_path / "tiny.toml"
    path.write_text(TOML)
    assert load_config(path) == CONFIG
    assert nn.sweep_problems(path) == problems


def test_dask_rows_equal_serial_rows_in_problem_order(serial, on_dask, problems):
    table, seen = on_dask
    assert len(table) == len(serial) == len(problems) == len(seen)
    assert list(table.index) == list(range(len(problems)))
    cols = [c for c in table.columns if c != "wall_time"]
    pd.testing.assert_frame_equal(table[cols], serial[cols], check_exact=False, rtol=0, atol=1e-12)
    assert list(table["x1"].map(tuple)) == [p.x1 for p in problems]
    assert np.all(table.wall_time > 0)


def test_a_running_cluster_by_address_or_client(problems, serial):
    import distributed

    cols = [c for c in serial.columns if c != "wall_time"]
    with distributed.LocalCluster(
        n_workers=1, processes=False, dashboard_address=":0", silence_logs=40
    ) as cluster:
        by_address = nn.sweep(problems[:3], scheduler=cluster.scheduler_address)
        with distributed.Client(cluster) as client:
            by_client = nn.sweep(problems[3:], scheduler=client)
            assert client.status == "running"  # a client the caller gave is left open
    table = pd.concat([by_address, by_client], ignore_index=True)
    table.index.name = "problem"
    pd.testing.assert_frame_equal(table[cols], serial[cols], check_exact=False, rtol=0, atol=1e-12)


def test_failing_tasks_are_reported_and_the_others_complete(on_dask):
    table, _ = on_dask
    bad = table.loc[RAISING]
    assert bad.status == "RAISED" and not bad.converged
    assert bad.error.startswith("ValueError") and "non-finite" in bad.error
    assert "most_likely_path" in bad.traceback and math.isnan(bad.action)
    assert pd.isna(bad.iterations)
    stuck = table.loc[STUCK]
    assert stuck.status == "MAX_STEPS_REACHED" and not stuck.converged
    assert stuck.iterations == 1 and "max_steps" in stuck.message and stuck.error == ""
    ok = table.drop(index=[RAISING, STUCK])
    assert (ok.status == "SUCCESSFUL").all() and ok.converged.all()
    assert (ok.grad_norm < 1e-8).all()


def test_rows_obey_the_noise_scaling_of_the_action(on_dask):
    # For D = d I the action is (1/4d) |xdot - f|^2 integrated: the minimiser does not depend
    # on d, and S* and E scale as 1/d (Eqs. 8, 10). Rows 0, 1 (d = 0.05) against 2, 3 (0.1).
    table, _ = on_dask
    d = table.D.to_numpy()
    for i, j in ((0, 2), (1, 3)):
        np.testing.assert_allclose(table.action[i] * d[i], table.action[j] * d[j], rtol=1e-9)
        np.testing.assert_allclose(
            table.energy_mean[i] * d[i], table.energy_mean[j] * d[j], rtol=1e-6, atol=1e-12
        )
    direct = nn.most_likely_path(nn.models.double_well(0.1), -1.0, 0.5, 0.0, 4.0, num_points=51)
    assert abs(table.action[3] - direct.action) <= 1e-12 * direct.action


def test_parquet_round_trip(tmp_path, on_dask):
    table, _ = on_dask
    path = write_parquet(table, tmp_path / "sweep.parquet")
    back = pd.read_parquet(path)
    assert list(back.columns) == list(table.columns) and len(back) == len(table)
    np.testing.assert_array_equal(back.action.to_numpy(), table.action.to_numpy())
    assert back.status.tolist() == table.status.tolist()
    assert [list(x) for x in back.x0] == [list(x) for x in table.x0]


def test_stable_fixed_point_pairs():
    # The double well's stable states are -1 and +1 (f = x - x^3): both ordered pairs.
    cfg = {
        "models": [
            {
                "name": "double-well",
                "T": 2.0,
                "num_points": 51,
                "endpoints": {"fixed_points": "stable", "lower": [-2.0], "upper": [2.0]},
            }
        ]
    }
    problems = nn.sweep_problems(cfg)
    assert [p.endpoints for p in problems] == ["stable 0 -> 1", "stable 1 -> 0"]
    ends = sorted((p.x0[0], p.x1[0]) for p in problems)
    np.testing.assert_allclose(ends, [(-1.0, 1.0), (1.0, -1.0)], atol=1e-10)


@pytest.mark.parametrize(
    "change, exc, words",
    [
        ({"Tee": 1.0}, ValueError, ["Tee = 1.0", "unknown key"]),
        ({"T": [1.0, -2.0]}, ValueError, ["T[1] = -2.0", "> 0"]),
        ({"num_points": 2}, ValueError, ["num_points = 2", ">= 3"]),
        ({"D": "big"}, ValueError, ["D = 'big'", "noise level"]),
        ({"D": [-0.1]}, ValueError, ["D = -0.1", "positive definite"]),
        ({"solver": {"method": "lbfgs"}}, ValueError, ["solver.method = 'lbfgs'", "newton"]),
        ({"solver": {"max_steps": 0}}, ValueError, ["solver", "max_steps"]),
        ({"models": [{"name": "quartic"}]}, ValueError, ["models[0].name = 'quartic'"]),
        ({"models": [{"name": "ou", "params": {"B": 1}}]}, TypeError, ["models[0].params.B"]),
        ({"models": [{"name": "ou", "endpoints": [[1.0]]}]}, ValueError, ["endpoints[0]"]),
        ({"models": [{"name": "ring", "D": 0.1}]}, ValueError, ["models[0]", "D = 0.1"]),
        ({"models": []}, TypeError, ["models = []"]),
    ],
)
def test_config_errors_name_the_key_and_value(change, exc, words):
    cfg = {"models": [{"name": "double-well"}], **change}
    with pytest.raises(exc) as info:
        nn.sweep_problems(cfg)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_bad_arguments_and_missing_packages(problems, monkeypatch):
    with pytest.raises(ValueError, match="workers"):
        nn.sweep(problems, scheduler="tcp://127.0.0.1:1", workers=2)
    with pytest.raises(ValueError, match="'thread'"):
        nn.sweep(problems, scheduler="thread")
    with pytest.raises(TypeError, match="SweepProblem"):
        nn.sweep([1, 2])
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install noisynoether\[sweep\]"):
        nn.sweep(problems, scheduler="serial")


def test_cli_writes_the_table_and_reports_failures(tmp_path, serial, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(TOML)
    out = tmp_path / "out"
    assert main(["sweep", str(config), "--out", str(out), "--scheduler", "serial"]) == 1
    table = pd.read_parquet(out / "tiny.parquet")
    cols = [c for c in table.columns if c != "wall_time"]
    pd.testing.assert_frame_equal(table[cols], serial[cols], check_exact=False, rtol=0, atol=1e-12)
    assert (out / "tiny.toml").read_text() == TOML
    text = capsys.readouterr().out
    assert "RAISED" in text and "problems [4] raised" in text and "not converged" in text
    config.write_text(TOML.replace("T = 4.0", "T = -4.0"))
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(config), "--out", str(out)])
    assert info.value.code == 2
    assert "T = -4.0" in capsys.readouterr().err
