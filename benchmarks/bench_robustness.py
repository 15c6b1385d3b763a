"""Robustness zoo (issue 11, item 8): each problem from the default start with default options.

For each problem of ``_zoo.PROBLEMS`` (symmetric saddles, long horizons, steep sigmoids, state-,
time-dependent and correlated D, rate networks): the noisynoether entry point
(``most_likely_path(sde, x0, x1, 0, T, num_points=K)``, ``path_with_energy(..., energy=0)``,
``quasipotential``, ``barrier`` or ``find_paths``) with nothing else passed; whether it reports
convergence to a minimum (``converged``, ``status``, ``min_eigenvalue``, ``zero_modes``); its S*
against an independent reference (closed form, Eq. 13 quadrature, or a same-grid scipy
multistart: ``_zoo.py`` says which for each); iterations; time of a second call (the first
compiles; find_paths: one call, compilation included).
Baselines in the same run, on the same objective from the same straight start: scipy
L-BFGS-B (exact JAX gradient) and trust-constr (exact gradient and Hessian-vector products),
each capped in iterations and seconds. For the E = 0 rows the objective is the discrete
geometric action W (E = 0, regularisation 1e-12) of ``path_with_energy`` on K = 401 nodes.

    .venv/bin/python benchmarks/bench_robustness.py [--quick] [--only NAME ...]
    .venv/bin/python benchmarks/bench_robustness.py --references   # the same-grid references

Prints a table and writes results/bench_robustness.json (results/quick_bench_robustness.json
with --quick).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import scipy
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _references import (  # noqa: E402
    compiled,
    fixed_objective,
    geometric_objective,
    reference_multistart,
)
from _zoo import PROBLEMS  # noqa: E402
from bench_large_n import timed  # noqa: E402  (first call compiles, then best of `repeat`)

import noisynoether as nn  # noqa: E402


def scipy_baseline(method, fun, hessp, z0, maxiter, time_cap):
    """One scipy run from z0, stopped at maxiter or time_cap seconds: S, iterations, time."""
    start, count = time.perf_counter(), [0]

    def callback(*a):
        count[0] += 1
        if time.perf_counter() - start > time_cap:
            if method == "trust-constr":
                return True
            raise StopIteration

    kw = {"jac": True, "callback": callback}
    if method == "L-BFGS-B":
        kw["options"] = {"maxiter": maxiter, "maxfun": 10 * maxiter, "ftol": 1e-15, "gtol": 1e-9}
    else:
        kw.update(hessp=hessp, options={"maxiter": maxiter, "gtol": 1e-9, "xtol": 1e-14})
    res = minimize(fun, z0, method=method, **kw)
    wall = time.perf_counter() - start
    return {
        "S": float(res.fun),
        "iterations": int(getattr(res, "nit", count[0])),
        "time_s": wall,
        "success": bool(res.success),
        "capped": wall > time_cap,
        "grad_inf": float(np.max(np.abs(res.grad if method == "trust-constr" else res.jac))),
    }


# ---- the noisynoether call of each kind ------------------------------------------------------
def solve_nn(p, sde, x0, x1):
    if p.kind == "fixed":
        return nn.most_likely_path(sde, x0, x1, 0.0, p.T, num_points=p.K)
    if p.kind == "energy0":
        return nn.path_with_energy(sde, x0, x1, energy=0.0)
    if p.kind == "quasipotential":
        return nn.quasipotential(sde, x0, x1)
    if p.kind == "find_paths":
        return nn.find_paths(sde, x0, x1, 0.0, p.T, num_points=p.K)
    return nn.barrier(sde, x0, x1)


def summarise_nn(p, res):
    """S*, converged, status, min eigenvalue, zero modes, iterations of one result."""
    if p.kind == "barrier":
        paths = [q for r in res.routes for q in (r.uphill, r.downhill)]
        S, main = float(res.barrier), None
    elif p.kind == "quasipotential":
        paths = [q for q in res.paths if q is not None]
        S, main = float(res), (paths[0] if paths else None)
    elif p.kind == "find_paths":
        main = res.global_minimum if res.paths else None
        paths, S = list(res.paths), (float(main.action) if main else None)
        res = main if main else res
    else:
        paths, S, main = [res], float(res.action), res
    status = getattr(res, "status", getattr(main, "status", None))
    return {
        "S": S,
        "converged": bool(getattr(res, "converged", False)),
        "status": getattr(status, "name", str(status)),
        "message": str(getattr(res, "message", getattr(main, "message", "")))[:300],
        "min_eigenvalue": getattr(main, "min_eigenvalue", None),
        "zero_modes": getattr(main, "zero_modes", None),
        "iterations": int(sum(getattr(q, "iterations", 0) or 0 for q in paths)),
        "action_error": getattr(res, "action_error", getattr(main, "action_error", None)),
    }


def rel_err(S, ref):
    if ref is None or S is None or not np.isfinite(S):
        return None
    return abs(S - ref) / abs(ref) if ref != 0 else abs(S - ref)


def run_problem(p, args):
    sde, x0, x1 = p.build()
    t = time.perf_counter()
    ref, how = p.reference()
    ref_s = time.perf_counter() - t
    row = {"name": p.name, "group": p.group, "kind": p.kind, "T": p.T, "K": p.K, "n": len(x0)}
    row.update(reference=ref, reference_how=how, reference_s=ref_s, tol=p.tolerance)
    try:
        if p.kind == "find_paths":  # many solves: one call, its compilation included
            t = time.perf_counter()
            res = solve_nn(p, sde, x0, x1)
            compile_s, best = None, time.perf_counter() - t
        else:
            res, compile_s, best = timed(lambda: solve_nn(p, sde, x0, x1), 1)
        nn_row = summarise_nn(p, res)
        nn_row.update(time_s=best, compile_s=compile_s)
    except Exception as e:  # noqa: BLE001  (a crash is a result of the benchmark)
        nn_row = {
            "S": None,
            "converged": False,
            "status": "RAISED",
            "time_s": None,
            "message": f"{type(e).__name__}: {e}"[:300],
            "iterations": None,
        }
    nn_row["rel_err"] = rel_err(nn_row["S"], ref)
    row["nn"] = nn_row
    ok = nn_row["rel_err"] is not None and nn_row["rel_err"] <= p.tolerance
    zm = nn_row.get("zero_modes")
    row["verdict"] = (
        "RAISED"
        if nn_row["status"] == "RAISED"
        else "no reference"
        if ref is None
        else ("ok" if nn_row["converged"] else "ok, says unconverged")
        if ok
        else ("WRONG, says converged" if nn_row["converged"] else "wrong, says unconverged")
    )
    lam = nn_row.get("min_eigenvalue")
    if row["verdict"] == "WRONG, says converged" and lam is not None and lam > 0:
        if nn_row["S"] > ref:
            row["verdict"] = "a local minimum, not the global one"
    if p.expect_zero_modes and zm is not None and zm != p.expect_zero_modes:
        row["verdict"] += f"; zero_modes {zm} != {p.expect_zero_modes}"
    if nn_row["converged"] and lam is not None and lam < 0 and not zm:
        row["verdict"] += "; converged with a negative Hessian eigenvalue"
    if p.kind in ("fixed", "energy0") and not args.no_baselines:
        obj, z0, _ = (
            fixed_objective(sde, x0, x1, p.T, p.K)
            if p.kind == "fixed"
            else geometric_objective(sde, x0, x1, 401)
        )
        fun, hessp = compiled(obj, z0)
        for m in ("L-BFGS-B", "trust-constr"):
            b = scipy_baseline(m, fun, hessp, z0, args.maxiter[m], args.time_cap)
            b["rel_err"] = rel_err(b["S"], ref)
            row[m] = b
    return row


def meta():
    try:
        commit = subprocess.run(
            ["git", "log", "-1", "--format=%h %cI"], capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--short", "src"], capture_output=True, text=True, check=False
        ).stdout.split("\n")
    except OSError:
        commit, dirty = "", []
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit,
        "uncommitted_src_files": [d for d in dirty if d.strip()],
        "machine": platform.platform(),
        "cpu_count": __import__("os").cpu_count(),
        "jax": jax.__version__,
        "scipy": scipy.__version__,
        "native_kernel": nn.native_available(),
    }


def _f(x, fmt=".6g"):
    return "-" if x is None else format(x, fmt)


def print_table(rows):
    head = (
        f"{'problem':<34} {'reference':>11} {'nn S*':>11} {'rel.err':>8} {'conv/min':>9} "
        f"{'its':>5} {'time s':>7} {'L-BFGS-B S*':>11} {'s':>5} {'trust-constr':>12} {'s':>5}"
        "  verdict"
    )
    print(head)
    for r in rows:
        nr = r["nn"]
        cm = "yes" if nr["converged"] else "no"
        if nr.get("min_eigenvalue") is not None:
            cm += "/" + ("+" if nr["min_eigenvalue"] > 0 else "-")
        if nr.get("zero_modes"):
            cm += f" z{nr['zero_modes']}"
        bl = []
        for m in ("L-BFGS-B", "trust-constr"):
            b = r.get(m)
            bl.append(
                f"{_f(b['S'], '.6g'):>11} {_f(b['time_s'], '.1f'):>5}"
                if b
                else f"{'-':>11} {'-':>5}"
            )
        print(
            f"{r['name']:<34} {_f(r['reference']):>11} {_f(nr['S']):>11} "
            f"{_f(nr['rel_err'], '.1e'):>8} {cm:>9} {_f(nr['iterations'], 'd'):>5} "
            f"{_f(nr['time_s'], '.3f'):>7} {bl[0]} {bl[1]:>18}  {r['verdict']}"
        )


def markdown_table(rows):
    """The table as Markdown (``--render results/bench_robustness.json``), for the docs."""
    out = [
        "| problem | reference | S* | rel. error | converged / min | iters | time (s) "
        "| L-BFGS-B S* (s) | trust-constr S* (s) | verdict |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        nr = r["nn"]
        lam, zm = nr.get("min_eigenvalue"), nr.get("zero_modes")
        cm = ("yes" if nr["converged"] else f"no ({nr['status']})") + (
            "" if lam is None else f", lambda_min {lam:.1e}"
        )
        cm += f", {zm} zero mode(s)" if zm else ""
        base = [
            f"{r[m]['S']:.6g} ({r[m]['time_s']:.1f})" if r.get(m) else "-"
            for m in ("L-BFGS-B", "trust-constr")
        ]
        out.append(
            f"| {r['name']} | {_f(r['reference'], '.10g')} | {_f(nr['S'], '.10g')} "
            f"| {_f(nr['rel_err'], '.1e')} | {cm} | {_f(nr['iterations'], 'd')} "
            f"| {_f(nr['time_s'], '.3f')} | {base[0]} | {base[1]} | {r['verdict']} |"
        )
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the quick subset (~1-2 min)")
    ap.add_argument("--only", nargs="+", help="problem names to run")
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--time-cap", type=float, default=None, help="seconds per scipy baseline")
    ap.add_argument(
        "--references",
        action="store_true",
        help="recompute the same-grid references (slow) and print them",
    )
    ap.add_argument("--out", default="results", type=Path)
    ap.add_argument("--label", default="", help="a note stored in the JSON (e.g. the code state)")
    ap.add_argument("--render", type=Path, help="print a saved JSON's table as Markdown; no run")
    args = ap.parse_args()
    if args.render:
        data = json.loads(args.render.read_text())
        print(json.dumps(data["meta"], indent=1))
        print(markdown_table(data["rows"]))
        return
    probs = [p for p in PROBLEMS if (not args.quick or p.quick)]
    if args.only:
        probs = [p for p in PROBLEMS if p.name in args.only]
    if args.references:
        for p in probs:
            if p.kind == "fixed" and p.ref_how.startswith("same grid"):
                print(p.name, reference_multistart(p), flush=True)
        return
    args.time_cap = args.time_cap or (2.0 if args.quick else 3.0)
    args.maxiter = {"L-BFGS-B": 20000, "trust-constr": 300}
    rows = []
    t0 = time.perf_counter()
    for p in probs:
        t = time.perf_counter()
        rows.append(run_problem(p, args))
        r = rows[-1]["nn"]
        print(
            f"[{time.perf_counter() - t:6.1f} s] {p.name}: S = {_f(r['S'], '.10g')} "
            f"(ref {_f(rows[-1]['reference'], '.10g')}), {r['status']}, "
            f"{rows[-1]['verdict']}",
            flush=True,
        )
    total = time.perf_counter() - t0
    print(
        f"\nRobustness zoo, default start and options, {len(rows)} problems, {total:.0f} s; "
        f"baselines capped at {args.time_cap:g} s each. conv/min: converged / sign of the "
        "smallest Hessian eigenvalue (zN: N zero modes)."
    )
    print_table(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / ("quick_bench_robustness.json" if args.quick else "bench_robustness.json")
    data = {
        "meta": {
            **meta(),
            "quick": args.quick,
            "label": args.label,
            "total_s": total,
            "baseline_time_cap_s": args.time_cap,
        },
        "rows": rows,
    }
    path.write_text(json.dumps(data, indent=2, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
