"""``noisynoether rnn``: the worked RNN example (issue 12 item 7).

Trains a small rate network on a two-choice decision task (``cases.rnn_decision``, seeded),
then analyses it as a noisy system (``cases.rnn_analysis.run``): fixed points from the states
of simulated trials, the most likely changes of mind between the two choice attractors at
several durations and in infinite time, their energies, which charges hold and which leak,
and an escape-rate table. Writes into ``--out``: the figure (``plotting.rnn``), ``rnn.json``
(every number), ``rnn.md`` (the tables) and ``rnn_network.npz`` (the trained weights, readable
by ``nn.models.noisy_rnn_from_npz``; the readout is in the JSON).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ._args import int_at_least, output_folder
from ._report import _jsonable

FILES = ["rnn.png", "rnn.pdf", "rnn.json", "rnn.md", "rnn_network.npz"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``rnn`` subcommand to an argparse subparsers object; return its parser."""
    p = subparsers.add_parser(
        "rnn",
        help="train a rate network on a decision task and analyse its changes of mind: fixed "
        "points, most likely transitions, energies, charges, escape rates",
        description="Train a 16-unit rate network on a two-choice decision task (seeded, a few "
        "seconds), find its fixed points from the states of simulated trials, solve the most "
        "likely transitions between its two choice attractors at several durations and in "
        "infinite time, check which Noether charges hold, and tabulate escape rates. Writes the "
        "figure, rnn.json, rnn.md and the trained weights into --out. An earlier run's files in "
        "--out are kept (the new ones go to OUT/run-2/) unless --force.",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results/rnn"),
        help="output folder (default: results/rnn/)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a small run: 200 training steps, two durations, 101 path nodes, no "
        "cross-checks (barrier, quasipotential, find_symmetries) and no Monte Carlo",
    )
    p.add_argument("--seed", type=int_at_least(0), default=0, help="training seed (default 0)")
    p.add_argument("--force", action="store_true", help="overwrite an earlier run's files")
    p.set_defaults(_run=run, _parser=p)
    return p


def summary(data) -> dict:
    """The JSON-ready numbers of a run (no path arrays)."""
    fps = [
        dict(
            kind=fp.kind,
            unstable_dim=fp.unstable_dim,
            residual=fp.residual,
            readout=float(data["network"]["w_out"] @ np.tanh(fp.x)),
            x=fp.x,
        )
        for fp in data["fixed_points"]
    ]
    charges = {
        k: {
            g: {f: c[f] for f in ("leakage", "relative_leakage", "source", "residual", "holds")}
            for g, c in v.items()
        }
        for k, v in data["charges"].items()
    }
    net = data["network"]
    return _jsonable(
        dict(
            config=data["config"],
            training=dict(
                final_loss=float(net["losses"][-1]),
                accuracy=net["accuracy"],
                seconds=net["seconds"],
                w_out=net["w_out"],
            ),
            fixed_points=fps,
            paths=data["summary"],
            barrier=data["barrier"],
            mirror=data["mirror"],
            find_paths=data["find_paths"],
            checks=data["checks"],
            charges=charges,
            escape=data["escape"],
        )
    )


def markdown(s: dict) -> str:
    """The tables of ``rnn.md``."""
    lines = [
        "# A trained decision network: changes of mind",
        "",
        f"Training: final loss {s['training']['final_loss']:.4f}, accuracy "
        f"{s['training']['accuracy']:.3f}. Noise D = {s['config']['D']:g}.",
        "",
        "| fixed point | kind | unstable dim | readout | abs f max |",
        "|---|---|---:|---:|---:|",
    ]
    for i, fp in enumerate(s["fixed_points"]):
        lines.append(
            f"| {i} | {fp['kind']} | {fp['unstable_dim']} | {fp['readout']:+.3f} | "
            f"{fp['residual']:.1e} |"
        )
    lines += ["", "| path | S* | E (mean) | E spread | converged |", "|---|---:|---:|---:|---|"]
    for r in s["paths"]:
        lines.append(
            f"| {r['label']} | {r['action']:.6g} | {r['energy']['mean']:.4g} | "
            f"{r['energy']['spread']:.2g} | {'yes' if r['converged'] else 'NO'} |"
        )
    lines += [
        "",
        f"S*(inf) A -> B (E = 0, via the saddle): {s['barrier']:.6g}; mirror check "
        f"S*(A -> B) = {s['mirror']['action_AB']:.10g}, S*(B -> A) = "
        f"{s['mirror']['action_BA']:.10g} (f(x) + f(-x) max {s['mirror']['odd_defect']:.1e})",
    ]
    for k, v in s["checks"].items():
        lines.append(f"- {k}: {v}")
    lines += [
        "",
        "| path | charge | holds | leakage | relative | source max | balance residual |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for path, gens in s["charges"].items():
        for g, c in gens.items():
            lines.append(
                f"| {path} | {g} | {'yes' if c['holds'] else 'leaks'} | "
                f"{c['leakage']:+.3e} | {c['relative_leakage']:.2e} | {c['source']:.2e} "
                f"| {c['residual']:.1e} |"
            )
    e = s["escape"]
    lines += [
        "",
        f"Escape A -> B. nn.escape_rate: {e['escape_rate']}. D S*(inf) = "
        f"{e['quasipotential_barrier']:.5g}.",
        "",
        "| D | S*(inf) | exp(-S*) | Monte Carlo rate | escapes / paths | rate / exp(-S*) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in e["rows"]:
        mc = "" if r["mc_rate"] is None else f"{r['mc_rate']:.3e}"
        cnt = "" if r["mc_rate"] is None else f"{r['mc_escapes']} / {r['mc_paths']}"
        pre = "" if r["mc_rate"] is None else f"{r['mc_rate'] / r['arrhenius']:.3g}"
        lines.append(
            f"| {r['D']:.4g} | {r['barrier']:.4g} | {r['arrhenius']:.3e} | {mc} | {cnt} | {pre} |"
        )
    return "\n".join(lines) + "\n"


def run(args) -> int:
    """Execute ``noisynoether rnn``; 0, or 1 when a path did not converge."""
    import matplotlib

    matplotlib.use("Agg")
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..cases import rnn_analysis
    from ..models._rnn_io import NPZ_KEYS  # noqa: F401  (the file's keys: W, b, tau, B)
    from ..plotting.rnn import plot_rnn
    from ._console import console

    out = output_folder(args, FILES)
    con = console(132)
    t = time.perf_counter()
    with Progress(
        TextColumn("  rnn"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=con,
    ) as bar:
        task = bar.add_task("starting", total=rnn_analysis.num_steps(args.quick))

        def report(line):
            bar.update(task, advance=1, description=line.split("] ", 1)[-1][:70])
            if not con.is_terminal:
                con.print(f"  {line}", highlight=False, markup=False)

        data = rnn_analysis.run(quick=args.quick, progress=report, seed=args.seed)
    s = summary(data)
    figs = plot_rnn(data, out)
    (out / "rnn.json").write_text(json.dumps(s, indent=1))
    (out / "rnn.md").write_text(markdown(s))
    net = data["network"]
    np.savez(
        out / "rnn_network.npz", W=net["W"], b=np.zeros(len(net["W"])), tau=1.0, B=net["B"][:, None]
    )
    con.print(markdown(s), markup=False, highlight=False)
    con.print(
        f"done in {time.perf_counter() - t:.0f} s; wrote "
        f"{', '.join(str(p) for p in [*figs, out / 'rnn.json', out / 'rnn.md'])}"
    )
    return 0 if all(r["converged"] for r in s["paths"]) else 1
