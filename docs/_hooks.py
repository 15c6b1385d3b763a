"""MkDocs hooks of the documentation site (mkdocs.yml `hooks:`); not a page (`exclude_docs`).

Three things happen at build time, so that nothing here is written twice:

- **API reference.** One page per group of `noisynoether.__all__` (grouped by the subpackage
  that defines each name: solvers, symmetry, transitions, ...), each name rendered from its
  docstring by mkdocstrings (`::: noisynoether.NAME`), plus an index table of every public name.
  A name added to `__all__` appears without editing the site; tests/test_docs.py checks that
  every name of `__all__` has its entry in the built HTML.
- **README sections.** A page line `<!-- include README.md:NAME -->` is replaced by the part of
  README.md between `<!-- --8<-- [start:NAME] -->` and `<!-- --8<-- [end:NAME] -->` (the
  tutorial and the case studies are written once, in the README). Links to `docs/X` become
  links to the page `X`. A missing section fails the build.
- **Case-study figures.** A page line `<!-- figure:CASE -->` shows `results/CASE/CASE.png`
  (written by `make reproduce`; `NN_RESULTS=folder` reads another folder) when it exists, and
  otherwise a note saying how to produce it: the build stays cheap (no solve) and no figure is
  committed.
"""

from __future__ import annotations

import os
import re
import types
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

#: Reference groups: a name goes to the group of the first rule its defining module matches,
#: else to the group named after the subpackage or top-level module defining it (leading "_"
#: dropped). GROUPS orders and titles the pages; a group not listed there gets its own page,
#: titled after it, at the end: no public name is ever left out.
RULES = (
    (r"^noisynoether\.solvers\._solver_", "solver_objects"),
    (r"^noisynoether\.solvers\._(status|solution|result)$", "results"),
    (r"^noisynoether\._?(sampling|conditioning)", "sampling"),
)
GROUPS = {
    "sde": "The model (SDE)",
    "solvers": "Path solvers",
    "solver_objects": "Solver objects (solver=)",
    "results": "Results and status",
    "charges": "Action and charges",
    "fixed_points": "Fixed points",
    "transitions": "Transitions and rates",
    "symmetry": "Symmetries",
    "sampling": "Sampling",
    "models": "Built-in models",
    "plotting": "Plotting",
}
CASES = ("fig1a", "fig1b", "fig1c", "fig2")
_INCLUDE = re.compile(r"^<!-- include (?P<file>[\w./-]+):(?P<name>[\w-]+) -->$", re.M)
_FIGURE = re.compile(r"^<!-- figure:(?P<case>[\w-]+) -->$", re.M)
_DOCS_LINK = re.compile(r"\]\((?:\./)?docs/")


def _group_of(obj) -> str:
    module = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    for pattern, group in RULES:
        if re.match(pattern, module or ""):
            return group
    parts = (module or "").split(".")
    if len(parts) < 2 or parts[0] != "noisynoether":
        return "other"
    return parts[1].lstrip("_")


def reference_groups() -> dict[str, list[str]]:
    """{group key: public names}, every name of `noisynoether.__all__` exactly once."""
    import noisynoether as nn

    groups: dict[str, list[str]] = {key: [] for key in GROUPS}
    for name in nn.__all__:
        groups.setdefault(_group_of(getattr(nn, name)), []).append(name)
    return {key: names for key, names in groups.items() if names}


def _title(key: str) -> str:
    return GROUPS.get(key, key.replace("_", " ").capitalize())


def _summary(obj) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0].replace("|", "\\|") if doc else ""


def _group_page(key: str, names: list[str]) -> str:
    lines = [f"# {_title(key)}", ""]
    for name in names:
        lines += [f"::: noisynoether.{name}", ""]
        if name == "models":  # a module: its functions, not its submodules
            lines[-1:] = ["    options:", "      show_submodules: false", ""]
    return "\n".join(lines)


def _index_page(groups: dict[str, list[str]]) -> str:
    import noisynoether as nn

    lines = [
        "# API reference",
        "",
        "Every public name of `noisynoether` (its `__all__`), generated from the docstrings.",
        "Import the package as `import noisynoether as nn`; everything else is private.",
        "",
    ]
    for key, names in groups.items():
        lines += [f"## {_title(key)}", "", "| name | summary |", "|---|---|"]
        for name in names:
            summary = _summary(getattr(nn, name))
            lines.append(f"| [`{name}`][noisynoether.{name}] | {summary} |")
        lines.append("")
    return "\n".join(lines)


def on_config(config, **kwargs):
    """Expand the nav's "API reference" entry into the index and one page per group."""
    groups = reference_groups()
    pages = [{"Index": "reference/index.md"}]
    pages += [{_title(key): f"reference/{key}.md"} for key in groups]
    nav = config["nav"] or []
    for i, item in enumerate(nav):
        if isinstance(item, dict) and "API reference" in item:
            nav[i] = {"API reference": pages}
            break
    else:
        raise PluginError("mkdocs.yml: the nav has no 'API reference' entry to expand")
    config["nav"] = nav
    return config


def _results_dir(config) -> Path:
    root = Path(config["config_file_path"]).parent
    return (root / os.environ.get("NN_RESULTS", "results")).resolve()


def on_files(files, config, **kwargs):
    groups = reference_groups()
    files.append(File.generated(config, "reference/index.md", content=_index_page(groups)))
    for key, names in groups.items():
        files.append(File.generated(config, f"reference/{key}.md", content=_group_page(key, names)))
    results = _results_dir(config)
    for case in CASES:
        png = results / case / f"{case}.png"
        if png.is_file():
            files.append(File.generated(config, f"figures/{case}.png", abs_src_path=str(png)))
    return files


def _include(match: re.Match, root: Path) -> str:
    path, name = root / match["file"], match["name"]
    if not path.is_file():
        raise PluginError(f"include: {path} does not exist")
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- --8<-- [start:{name}] -->", f"<!-- --8<-- [end:{name}] -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise PluginError(f"include: {match['file']} has no section {start} ... {end}")
    return _DOCS_LINK.sub("](", text[i + len(start) : j].strip("\n"))


def _figure(match: re.Match, files, config) -> str:
    case = match["case"]
    if files.get_file_from_path(f"figures/{case}.png") is not None:
        return f"![{case}](figures/{case}.png)"
    where = _results_dir(config) / case / f"{case}.png"
    return (
        f'!!! note "Figure not built"\n    `{where.name}` is written by `make reproduce` (or\n'
        f"    `noisynoether reproduce {case}`) into `results/{case}/`; run it, then `make docs`."
    )


def on_page_markdown(markdown, page, config, files, **kwargs):
    root = Path(config["config_file_path"]).parent
    markdown = _INCLUDE.sub(lambda m: _include(m, root), markdown)
    return _FIGURE.sub(lambda m: _figure(m, files, config), markdown)
