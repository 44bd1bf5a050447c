#!/usr/bin/env python3
"""The Python module installed as the README says, offline: into a virtual environment made with
--system-site-packages by `pip install --no-build-isolation .`, and into a folder by
`pip install --target DIR`. From outside the source tree each imports the installed copy, whose
__version__ is the CLI's, and trains a small circuit.

  install.py --source SOURCE_DIR --build BUILD_DIR --eisim BUILD/eisim --work DIR

Exit 0 when both work, 1 when one fails, 77 when venv or pip is missing.
"""
import argparse
import os
import shutil
import subprocess
import sys

CHECK = """
import eisim, os, sys
cfg = eisim.Config.default()
cfg.update({"populations.E.size": 16, "populations.I.size": 4, "training.steps": 2, "task.batch": 2, "task.duration_ms": 50.0})
eisim.train(cfg, "installed.h5", overwrite=True)
print(eisim.__version__, eisim.__file__, len(eisim.RunFile("installed.h5").steps))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--eisim", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    try:
        import ensurepip  # noqa: F401
        import venv  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e} (apt-get install python3-venv python3-pip)")
        return 77
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    env = dict(os.environ, EISIM_BUILD_DIR=os.path.abspath(a.build))
    env.pop("PYTHONPATH", None)
    version = subprocess.run([a.eisim, "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    pip = ["-m", "pip", "install", "--no-build-isolation", "--no-index", "--no-cache-dir", "-q", "--root-user-action=ignore"]
    failures = []

    def check(python, where, extra_env=None):
        p = subprocess.run([python, "-c", CHECK], cwd=a.work, capture_output=True, text=True, env=dict(env, **(extra_env or {})))
        words = p.stdout.split()
        ok = p.returncode == 0 and len(words) == 3 and words[0] == version and words[1].startswith(where) and words[2] == "3"
        print(("ok:   " if ok else "FAIL: ") + f"{python}: {p.stdout.strip()} {p.stderr.strip()[-2000:]}")
        if not ok:
            failures.append(python)

    venv_dir = os.path.join(a.work, "venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv_dir], check=True)
    py = os.path.join(venv_dir, "bin", "python")
    r = subprocess.run([py, *pip, a.source], env=env, cwd=a.work)
    if r.returncode != 0:
        failures.append("pip install into the venv")
    else:
        check(py, os.path.abspath(venv_dir))
    target = os.path.join(a.work, "target")
    r = subprocess.run([sys.executable, *pip, "--target", target, a.source], env=env, cwd=a.work)
    if r.returncode != 0:
        failures.append("pip install --target")
    else:
        check(sys.executable, target, {"PYTHONPATH": target})
    print("FAILED: " + ", ".join(failures) if failures else "ok: both installs work")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
