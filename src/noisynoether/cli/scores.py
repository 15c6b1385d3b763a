"""``noisynoether scores``: learned scores on the ring of Fig. 2, plain and rotation-equivariant.

Trains a plain score network and a rotation-equivariant one (``scores.train_ring_score``, the
same data, seed and budget) by denoising score matching, saves them (``.eqx`` + ``.json``) and
loads them back, solves the most likely reverse-SDE paths of Fig. 2 through the exact and the
two learned scores (``scores.compare_scores``), and writes the figure
(``plotting.scores.plot_scores``), a JSON of every number and a markdown table into ``--out``:
per model and end point S*, the distance to the exact path, L_12 at the start and its largest
drift along the path (``charge_balance``), and per model the rotation defect
(``symmetry_defect``) and the DSM loss on a fixed evaluation batch.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ._args import int_at_least, output_folder
from ._report import _jsonable

NAMES = ("exact", "plain", "equivariant")
FILES = [
    "scores.png",
    "scores.pdf",
    "scores.json",
    "scores.md",
    "score_plain.eqx",
    "score_plain.json",
    "score_equivariant.eqx",
    "score_equivariant.json",
]
FULL = {"steps": 10000, "num_points": 401, "width": 64, "depth": 3}
QUICK = {"steps": 1500, "num_points": 101, "width": 32, "depth": 2}


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``scores`` subcommand to an argparse subparsers object; return its parser."""
    p = subparsers.add_parser(
        "scores",
        help="train plain and rotation-equivariant score networks on the ring of Fig. 2 and "
        "compare their most likely paths and L_12 with the exact score's",
        description="Train two score networks by denoising score matching on samples of the "
        "blurred ring of Fig. 2 (a plain MLP and a rotation-equivariant one, same budget), save "
        "them, solve the most likely reverse-SDE paths to Fig. 2's end points through the exact "
        "and the learned scores, and write the figure, a JSON and a markdown table into --out. "
        "An earlier run's files in --out are kept (the new ones go to OUT/run-2/) unless --force.",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results/scores"),
        help="output folder (default: results/scores/)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"a small run: {QUICK['steps']} steps, a {QUICK['depth']}x{QUICK['width']} MLP, "
        f"{QUICK['num_points']} path nodes (default: {FULL['steps']} steps, "
        f"{FULL['depth']}x{FULL['width']}, {FULL['num_points']} nodes)",
    )
    p.add_argument(
        "--steps", type=int_at_least(1), default=None, help="training steps for each network"
    )
    p.add_argument("--seed", type=int_at_least(0), default=0, help="data/init/batch seed")
    p.add_argument("--force", action="store_true", help="overwrite an earlier run's files")
    p.set_defaults(_run=run, _parser=p)
    return p


def _train(kind, settings, seed, con):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .. import scores

    with Progress(
        TextColumn(f"  training {kind:<12}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps, loss {task.fields[loss]:.5f}"),
        TimeElapsedColumn(),
        console=con,
        disable=not con.is_terminal,
    ) as bar:
        task = bar.add_task(kind, total=settings["steps"], loss=float("nan"))

        def report(done, total, loss):
            bar.update(task, completed=done, total=total, loss=loss)

        res = scores.train_ring_score(
            kind,
            steps=settings["steps"],
            width=settings["width"],
            depth=settings["depth"],
            seed=seed,
            chunk=min(100, settings["steps"]),
            progress=report,
        )
    con.print(
        f"  {kind}: {res.steps} steps in {res.seconds:.1f} s, final loss {res.losses[-1]:.5f}",
        highlight=False,
    )
    return res


def _rows(comparison, losses):
    rows = []
    for name, entry in comparison["models"].items():
        for phi, p in zip(comparison["phis"], entry["paths"], strict=True):
            rows.append(
                dict(
                    model=name,
                    phi=phi,
                    action=p["action"],
                    action_difference=p["action_difference"],
                    distance_to_exact=p["distance_to_reference"],
                    L12_start=float(p["L12"][0]),
                    L12_max_drift=p["L12_max_drift"],
                    L12_leakage=p["L12_leakage"],
                    balance_residual=p["balance_residual"],
                    converged=p["converged"],
                    defect=entry["defect"],
                    dsm_loss=losses[name],
                )
            )
    return rows


def _markdown(rows, meta) -> str:
    head = (
        "| model | phi/pi | S* | S* - S*_exact | max path distance | L12(start) | "
        "max abs L12 drift | rotation defect | DSM loss | converged |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
    )
    body = "".join(
        f"| {r['model']} | {r['phi'] / np.pi:+.2f} | {r['action']:.6f} | "
        f"{r['action_difference']:+.2e} | {r['distance_to_exact']:.3e} | {r['L12_start']:+.6f} | "
        f"{r['L12_max_drift']:.2e} | {r['defect']:.2e} | {r['dsm_loss']:.5f} | "
        f"{'yes' if r['converged'] else 'NO'} |\n"
        for r in rows
    )
    return f"# Learned scores on the ring of Fig. 2\n\n{meta['description']}\n\n" + head + body


def _density(radius, sigma0, n=161, half=10.0):
    from ..models import ring_log_density

    g = np.linspace(-half, half, n)
    X, Y = np.meshgrid(g, g)
    p = np.exp(
        np.asarray(ring_log_density(np.stack([X, Y], -1), 0.0, radius=radius, sigma0=sigma0))
    )
    return {"x": g, "y": g, "p": p}


def run(args) -> int:
    """Execute ``noisynoether scores``; returns 0, or 1 when a path solve did not converge."""
    import jax
    import matplotlib

    matplotlib.use("Agg")  # files only; set before pyplot is imported by the figure

    from .. import models, scores
    from ..plotting.scores import plot_scores
    from ._console import console

    out = output_folder(args, FILES)
    con = console(120)
    settings = dict(QUICK if args.quick else FULL)
    if args.steps is not None:
        settings["steps"] = args.steps
    start = time.perf_counter()
    con.print(
        f"[bold]scores[/]: training a plain and an equivariant score network "
        f"({settings['depth']} x {settings['width']} MLP, {settings['steps']} steps each)"
    )
    trained, loaded, losses = {}, {}, {}
    for kind in ("plain", "equivariant"):
        trained[kind] = _train(kind, settings, args.seed, con)
        scores.save_score(
            out / f"score_{kind}", trained[kind].network, trained[kind].hyperparameters
        )
        loaded[kind], _ = scores.load_score(out / f"score_{kind}")
    hyper = trained["plain"].hyperparameters
    samples = scores.ring_samples(
        20000, jax.random.key(12345), radius=hyper["radius"], sigma0=hyper["sigma0"]
    )
    eval_key = jax.random.key(54321)
    losses["exact"] = scores.dsm_loss(models.ring_score, samples, eval_key, batch=20000)
    for kind in ("plain", "equivariant"):
        losses[kind] = scores.dsm_loss(loaded[kind], samples, eval_key, batch=20000)
    sdes = {
        "exact": models.ring_reverse_diffusion(hyper["radius"], hyper["sigma0"]),
        "plain": scores.learned_reverse_diffusion(loaded["plain"]),
        "equivariant": scores.learned_reverse_diffusion(loaded["equivariant"]),
    }
    con.print(f"  most likely paths on {settings['num_points']} times, 3 models x 4 end points")
    comparison = scores.compare_scores(
        sdes,
        reference="exact",
        num_points=settings["num_points"],
        radius=hyper["radius"],
        progress=lambda line: con.print(f"    {line}", highlight=False, markup=False),
    )
    rows = _rows(comparison, losses)
    description = (
        f"Score networks trained by denoising score matching on {hyper['num_samples']} samples "
        f"of the ring (R = {hyper['radius']}, sigma0 = {hyper['sigma0']}), {settings['steps']} "
        f"Adam steps of {hyper['batch_size']} each, a {settings['depth']} x {settings['width']} "
        f"SiLU MLP (seed {args.seed}). Paths from (0, 2R) at t = 10^1.5 to R(cos phi, sin phi) at "
        f"t = 10^-0.4 on {settings['num_points']} log-spaced times, in tau = 10^1.5 - t (L12 has "
        "the opposite sign to the paper's t-convention). L12 drift: max_k |Q_k - Q_0| of "
        "charge_balance's discrete charge; rotation defect: symmetry_defect of the generator "
        "[[0, -1], [1, 0]] on 200 states (|x| < 2R) at 8 times; DSM loss on one fixed batch of "
        "20000 (the exact score's is the floor)."
    )
    meta = {
        "description": description,
        "settings": settings,
        "seed": args.seed,
        "train_seconds": {k: trained[k].seconds for k in trained},
        "train_losses": {k: trained[k].losses for k in trained},
    }
    table = _markdown(rows, meta)
    con.print(table, highlight=False, markup=False)
    (out / "scores.md").write_text(table)
    data = {
        **comparison,
        "density": _density(hyper["radius"], hyper["sigma0"]),
        "radius": hyper["radius"],
        "title": f"Learned scores on the ring of Fig. 2 ({settings['steps']} DSM steps)",
    }
    plot_scores(data, out)
    (out / "scores.json").write_text(
        json.dumps(_jsonable({"rows": rows, **meta, "t": comparison["t"]}), indent=2)
    )
    con.print(
        f"wrote {out}/scores.png, .pdf, .json, .md and the networks "
        f"({time.perf_counter() - start:.1f} s)"
    )
    ok = all(r["converged"] for r in rows)
    if not ok:
        con.print("[yellow]warning[/]: a path did not converge (see the JSON)")
    return 0 if ok else 1
