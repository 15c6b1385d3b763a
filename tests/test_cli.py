"""The command line: arguments and the output folder are checked before any computation, an
earlier run is never overwritten silently, and the model registry the subcommands share."""

import argparse

import jax.numpy as jnp
import numpy as np
import pytest

from noisynoether.cli import build_parser, main
from noisynoether.cli._args import output_folder
from noisynoether.models._registry import MODELS, autonomous_models


@pytest.fixture
def no_computation(monkeypatch):
    """Any case study or fixed-energy solve started by the CLI fails the test."""
    from noisynoether import transitions
    from noisynoether.cases import CASES

    def forbidden(*a, **k):
        raise AssertionError("the CLI started computing before checking its arguments")

    for module in CASES.values():
        monkeypatch.setattr(module, "run", forbidden)
    monkeypatch.setattr(transitions, "duration_vs_energy", forbidden)


@pytest.mark.parametrize(
    "argv, option",
    [
        (["energy", "ou", "--energies", "nan"], "--energies"),
        (["energy", "ou", "--energies", "1", "inf"], "--energies"),
        (["energy", "ou", "--energies", "one"], "--energies"),
        (["energy", "ou", "--num-points", "0"], "--num-points"),
        (["energy", "ou", "--num-points", "2.5"], "--num-points"),
        (["energy", "ring"], "MODEL"),  # time-dependent: no fixed energy
        (["symmetries", "ou", "--tol", "-1"], "--tol"),
        (["symmetries", "ou", "--tol", "0"], "--tol"),
        (["symmetries", "ou", "--points", "1"], "--points"),
        (["symmetries", "lorenz"], "MODEL"),
        (["reproduce", "fig9"], "case"),
    ],
)
def test_bad_arguments_are_one_usage_line_naming_the_option(argv, option, capsys, no_computation):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and "Traceback" not in err, err


@pytest.mark.parametrize("command", [["reproduce", "fig1b"], ["energy", "double-well"]])
def test_out_pointing_at_a_file_fails_before_any_computation(
    command, tmp_path, capsys, no_computation
):
    a_file = tmp_path / "taken"
    a_file.write_text("not a folder")
    for out in (a_file, a_file / "below"):
        with pytest.raises(SystemExit) as exc:
            main([*command, "--out", str(out)])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "argument --out" in err and str(a_file) in err, err
    assert a_file.read_text() == "not a folder"


def test_an_earlier_run_is_kept_unless_force(tmp_path, capsys):
    def args(force=False):
        return argparse.Namespace(out=tmp_path / "res", force=force)

    names = ["fig1b"]
    first = output_folder(args(), names)
    assert first == tmp_path / "res" and first.is_dir()
    (first / "fig1b").mkdir()
    (first / "fig1b" / "summary.json").write_text("{}")
    assert output_folder(args(), ["fig1a"]) == first  # nothing of fig1a there yet
    second = output_folder(args(), names)
    assert second == first / "run-2" and second.is_dir()
    assert "run-2" in capsys.readouterr().err  # said, not silent
    (second / "fig1b").mkdir()
    assert output_folder(args(), names) == first / "run-3"
    assert output_folder(args(force=True), names) == first
    assert (first / "fig1b" / "summary.json").read_text() == "{}"  # choosing writes nothing


def test_the_registry_serves_every_subcommand_with_consistent_models():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    model_choices = {
        name: next(a.choices for a in p._actions if a.dest == "model")
        for name, p in sub.choices.items()
        if name in ("symmetries", "energy")
    }
    assert list(model_choices["symmetries"]) == list(MODELS)
    assert list(model_choices["energy"]) == list(autonomous_models())
    for name, m in MODELS.items():
        sde = m.factory()
        ts = m.times(9)
        assert ts.shape == (9,) and np.all(np.diff(ts) > 0), name
        assert ts[0] == pytest.approx(m.t0) and ts[-1] == pytest.approx(m.t1), name
        x0 = jnp.asarray(m.x0)
        assert len(m.x1) == x0.size == sde.f(ts[0], x0).shape[0], name
        # the autonomous flag against the drift itself, at two times and two states
        same = [
            bool(np.allclose(sde.f(ts[0], x, None), sde.f(ts[-1], x, None)))
            for x in (x0, jnp.asarray(m.x1))
        ]
        assert all(same) == m.autonomous, name
        assert m.description and m.name == name
