#!/usr/bin/env python3
"""Executes a notebook as Jupyter would (nbconvert's ExecutePreprocessor, a python3 kernel) in a
working directory of its own, and writes the executed copy there; a cell that raises fails it.

  run_notebook.py NOTEBOOK.ipynb WORK_DIR

Exit 0 when every cell ran, 1 when one raised, 77 when nbconvert or ipykernel is missing.
"""
import os
import shutil
import sys


def main():
    src, work = sys.argv[1], sys.argv[2]
    try:
        import ipykernel  # noqa: F401
        import nbformat
        from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor
    except ImportError as e:
        print(f"skipped: {e} (apt-get install python3-nbconvert python3-ipykernel)")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    nb = nbformat.read(src, as_version=4)
    ep = ExecutePreprocessor(timeout=600, kernel_name="python3")
    out = os.path.join(work, os.path.basename(src))
    try:
        ep.preprocess(nb, {"metadata": {"path": work}})
    except CellExecutionError as e:
        print(f"FAIL: {src}: {e}")
        return 1
    finally:
        nbformat.write(nb, out)
    n = sum(1 for c in nb.cells if c.cell_type == "code")
    print(f"ok: {n} code cells of {src} ran; executed copy in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
