"""The documentation site builds with warnings as errors and documents every public name.

`make docs` runs `mkdocs build --strict` (mkdocs.yml; the reference pages are generated from
`noisynoether.__all__` by docs/_hooks.py). CI runs only `make test`, so the same strict build
runs here. The docs packages are in the `dev` extras (pinned), so they are installed wherever
`make test` runs; these tests skip only where they are not installed.
"""

import base64
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

for _module in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python", "material"):
    pytest.importorskip(
        _module, reason="the docs packages are not installed: pip install -e '.[dev]'"
    )

import noisynoether as nn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
#: A 1x1 PNG standing for a figure that `make reproduce` would have written.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _build(config: Path, site: Path, results: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NN_RESULTS": str(results)}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built from the repository into a temporary folder, with one figure present."""
    tmp = tmp_path_factory.mktemp("docs")
    (tmp / "results" / "fig1b").mkdir(parents=True)
    (tmp / "results" / "fig1b" / "fig1b.png").write_bytes(TINY_PNG)
    proc = _build(ROOT / "mkdocs.yml", tmp / "site", tmp / "results")
    return proc, tmp / "site"


def test_the_strict_build_succeeds(site):
    proc, out = site
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert (out / "index.html").is_file()


def test_every_public_name_has_its_entry_in_the_reference(site):
    proc, out = site
    assert proc.returncode == 0, proc.stderr
    pages = list((out / "reference").rglob("index.html"))
    html = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    index = (out / "reference" / "index.html").read_text(encoding="utf-8")
    missing = [name for name in nn.__all__ if f'id="noisynoether.{name}"' not in html]
    assert not missing, f"public names without a reference entry: {missing}"
    unlisted = [name for name in nn.__all__ if f'#noisynoether.{name}"' not in index]
    assert not unlisted, f"public names missing from the reference index: {unlisted}"
    # Each documented name carries its docstring's summary line, not just a heading.
    summary = nn.most_likely_path.__doc__.strip().splitlines()[0]
    assert summary.split(":")[0].replace("``", "") in re.sub(r"<[^>]+>", "", html)


def test_readme_sections_and_figures_are_on_their_pages(site):
    proc, out = site
    assert proc.returncode == 0, proc.stderr
    tutorial = (out / "tutorial" / "index.html").read_text(encoding="utf-8")
    assert "Your own model" in tutorial and "most_likely_path" in tutorial
    cases = (out / "case-studies" / "index.html").read_text(encoding="utf-8")
    assert "Fig. 1b" in cases
    assert 'src="../figures/fig1b.png"' in cases and (out / "figures" / "fig1b.png").is_file()
    # Figures that were not produced get a note saying how to produce them, not a broken image.
    assert "figures/fig1a.png" not in cases and "noisynoether reproduce fig1a" in cases


def test_a_broken_docstring_reference_fails_the_build(tmp_path):
    """The strict gate works: the same configuration, one docstring with a dangling reference."""
    shutil.copy(ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copytree(
        ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("*.so", "__pycache__")
    )
    models = tmp_path / "src" / "noisynoether" / "models" / "__init__.py"
    text = models.read_text(encoding="utf-8")
    assert text.startswith('"""'), "the test expects models/__init__.py to open with a docstring"
    models.write_text('"""See [nothing][noisynoether.not_a_public_name]. ' + text[3:])
    proc = _build(tmp_path / "mkdocs.yml", tmp_path / "site", tmp_path / "results")
    assert proc.returncode != 0
    assert "noisynoether.not_a_public_name" in proc.stdout + proc.stderr
