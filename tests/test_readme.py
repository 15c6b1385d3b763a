"""Every ```python block of README.md runs on its own (issue 10: the README's examples run).

Each block runs in a fresh namespace (so a block must include its imports), its working
directory a fresh temporary folder (nothing is written into the repository), matplotlib's Agg
backend. All blocks run one after another in one Python subprocess (``_readme_runner.py``),
not one process each: a block still sees no name another block defined, but the interpreter,
JAX and noisynoether are imported once instead of once a block (about 2 s of CPU each), and
the suite's other test process keeps the second core busy. A block too slow for the suite is
made cheaper in the README itself (fewer points, fewer samples), not skipped.

Opting a block out: the line

    <!-- test_readme: no-run REASON -->

directly before its fence, REASON saying what it needs that a test machine does not have (a GPU,
a results folder, ...). A marker without a reason fails. No block uses it today. Blocks of other
languages (```bash) are not run.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
NO_RUN = re.compile(r"^<!-- test_readme: no-run(?P<reason>.*)-->\s*$")


def readme_blocks(text: str) -> list[dict]:
    """The ```python blocks of a Markdown text: line (1-based, of the fence), code, no_run and
    section (the heading above the block)."""
    lines = text.splitlines()
    blocks, i, section = [], 0, ""
    while i < len(lines):
        if lines[i].startswith("#"):
            section = lines[i].lstrip("#").strip()
        elif lines[i].startswith("```"):  # any fence: its lines are code, not headings
            start = i
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                i += 1
            if i == len(lines):
                raise ValueError(f"README.md:{start + 1}: code block is never closed")
            if not re.match(r"^```(python|py)\b", lines[start]):
                i += 1
                continue
            marker = NO_RUN.match(lines[start - 1]) if start else None
            blocks.append(
                {
                    "line": start + 1,
                    "code": "\n".join(lines[start + 1 : i]) + "\n",
                    "no_run": marker["reason"].strip() if marker else None,
                    "section": section,
                }
            )
        i += 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


RUNNER = Path(__file__).resolve().with_name("_readme_runner.py")


def run_blocks(blocks: list[dict], workdir: Path) -> dict[int, dict]:
    """{README line: {ok, stdout, stderr}}: the blocks run in one subprocess, each in a fresh
    namespace and its own folder under ``workdir`` (``_readme_runner.py``)."""
    todo = workdir / "blocks.json"
    todo.write_text(json.dumps([{"line": b["line"], "code": b["code"]} for b in blocks]))
    out = workdir / "results.json"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(RUNNER), str(todo), str(out)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert proc.returncode == 0 and out.exists(), f"the runner failed:\n{proc.stderr[-3000:]}"
    return {int(k): v for k, v in json.loads(out.read_text()).items()}


def test_the_readme_has_its_examples():
    # The extraction itself: a change of fence style must not silently leave nothing to run.
    assert len(BLOCKS) >= 5
    assert all(
        "import noisynoether" in b["code"] or "from noisynoether" in b["code"] for b in BLOCKS
    )
    text = "\n".join(
        ["# x", "```python", "a = 1", "```", "<!-- test_readme: no-run needs a GPU -->"]
    )
    text += "\n```python\nb = 2\n```\n```bash\n# not a heading\nmake\n```\n```python\nc = 3\n```\n"
    parsed = readme_blocks(text)
    assert [(b["line"], b["code"], b["no_run"], b["section"]) for b in parsed] == [
        (2, "a = 1\n", None, "x"),
        (6, "b = 2\n", "needs a GPU", "x"),
        (13, "c = 3\n", None, "x"),
    ]
    assert any(b["section"] == "Your own model" for b in BLOCKS)


@pytest.fixture(scope="module")
def block_runs(tmp_path_factory):
    """{README line: outcome} of every block to run."""
    return run_blocks([b for b in BLOCKS if b["no_run"] is None], tmp_path_factory.mktemp("readme"))


@pytest.mark.parametrize("block", BLOCKS, ids=[f"README.md:{b['line']}" for b in BLOCKS])
def test_readme_block_runs_on_its_own(block, block_runs):
    if block["no_run"] is not None:
        assert block["no_run"], f"README.md:{block['line']}: a no-run marker needs a reason"
        pytest.skip(f"README.md:{block['line']} marked no-run: {block['no_run']}")
    run = block_runs[block["line"]]
    assert run["ok"], (
        f"README.md:{block['line']}: the block failed when run on its own:\n{run['stderr'][-3000:]}"
    )
    if block["section"] == "Your own model":
        # It prints the error a drift written with NumPy gets: the message must say what to do.
        assert "jax.numpy" in run["stdout"], run["stdout"][-3000:]
