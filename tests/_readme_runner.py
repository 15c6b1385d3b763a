"""Run README code blocks one after another in this process, each on its own.

Usage: ``python _readme_runner.py BLOCKS.json RESULTS.json``. BLOCKS.json is a list of
``{"line", "code"}``; each block is executed with ``exec`` in a fresh ``__main__`` namespace
(so it sees no name of another block and must import what it uses), with a fresh temporary
working directory, its stdout and stderr captured; figures are closed after it. RESULTS.json
gets ``{line: {"ok", "stdout", "stderr", "seconds"}}`` (stderr ends with the traceback of a
failure; seconds is the block's wall time, to find the block that makes the suite slow).
Used by ``test_readme.py``.
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import time
import traceback


def run(blocks):
    results = {}
    for block in blocks:
        out, err = io.StringIO(), io.StringIO()
        ok = True
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as cwd:
            here = os.getcwd()
            os.chdir(cwd)
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = compile(block["code"], f"README.md:{block['line']}", "exec")
                    exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
            except BaseException:  # noqa: BLE001 (a block's failure, whatever it is, is reported)
                ok = False
                err.write(traceback.format_exc())
            finally:
                os.chdir(here)
                if "matplotlib.pyplot" in sys.modules:
                    sys.modules["matplotlib.pyplot"].close("all")
        results[block["line"]] = {
            "ok": ok,
            "stdout": out.getvalue(),
            "stderr": err.getvalue(),
            "seconds": time.perf_counter() - start,
        }
    return results


if __name__ == "__main__":
    todo, dest = sys.argv[1], sys.argv[2]
    with open(todo, encoding="utf-8") as f:
        blocks = json.load(f)
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(run(blocks), f)
