"""Writing a case study's summary.json and report.md (the command line's; not part of the core)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def table_rows(data: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-path table (shared by report.md and the terminal)."""
    names = data.get("charges_discussed", [])
    charge_cols = [c for c in names if c != "E"]
    head = [
        "path",
        "S*",
        "E mean",
        "E spread",
        *[f"{c} mean" for c in charge_cols],
        *[f"{c} spread" for c in charge_cols],
        "converged",
        "iters",
        "|grad|",
        "K",
    ]
    rows = []
    for r in data["summary"]:
        ch = r["charges"]
        rows.append(
            [
                r["label"],
                f"{r['action']:.10g}",
                f"{r['energy']['mean']:.6g}",
                f"{r['energy']['spread']:.1e}",
                *[f"{ch[c]['mean']:.6g}" for c in charge_cols],
                *[f"{ch[c]['spread']:.1e}" for c in charge_cols],
                "yes" if r["converged"] else "NO",
                str(r["iterations"]),
                "-" if r["grad_norm"] is None else f"{r['grad_norm']:.1e}",
                str(r["grid"]["K"]),
            ]
        )
    return head, rows


def write_case(data: dict, out_dir, figure_paths) -> dict:
    """Write summary.json and report.md for one case into out_dir/<name>/; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "case": data["name"],
        "title": data["title"],
        "paths": data["summary"],
        "figures": [str(p) for p in figure_paths],
    }
    for key in ("checks", "notes"):
        if key in data:
            summary[key] = data[key]
    js = out / "summary.json"
    js.write_text(json.dumps(_jsonable(summary), indent=2))
    head, rows = table_rows(data)
    lines = [f"# {data['title']}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "Spread = max - min along the path (a conserved charge has spread ~ 0).", ""]
    for r in data["summary"]:
        if "exact" in r:
            ex = r["exact"]
            lines.append(
                f"- {r['label']}: closed form S* = {ex['action']:.10g} (relative error "
                f"{ex['action_rel_error']:.1e}), E = {ex['E']:.6g}, L12 = {ex['L12']:.6g}, "
                f"max path error {ex['path_max_error']:.1e}"
            )
        lines.append(f"- {r['label']}: {r['message']}")
    lines += ["", "Figures: " + ", ".join(Path(p).name for p in figure_paths), ""]
    md = out / "report.md"
    md.write_text("\n".join(lines))
    return {"summary": js, "report": md}
