#!/usr/bin/env python3
"""Before and after for the identification study's two commands, side by side in one run.

`eisim run` of one of the study's rate circuits (examples/perceptual_decision.toml with the study's
keys: 100 cells, 100 learning steps, 21 snapshots), `eisim observe` of eight such runs (four
credit rules x two seeds, the ΔCDF test included, as the study's full table) and `eisim run` of a
large network (the default problem at N = 4000, 2 steps of 100 ms), from two eisim
programs in alternating pairs, so that both see the same load. Each child's wall, user and system
seconds, minor page faults and peak RSS come from wait4. The run files observed are made by the
`after` program; both programs' tables must be equal (h5diff, when installed).

    git worktree add /tmp/base BASE && (cd /tmp/base && bash scripts/build.sh eisim)
    /usr/bin/python3 bench/observe_ab.py --before /tmp/base/build/eisim --after build/eisim [--pairs 5]

Prints a Markdown section for BENCHMARKS.md.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "examples", "perceptual_decision.toml")
STUDY_KEYS = ["training.steps=100", "training.record_every=5", "training.activity_trials=1",
              "plasticity.geometry=euclidean", "plasticity.perturbation_samples=4",
              "plasticity.perturbation_sigma=0.05"]
CREDITS = ["exact", "feedback_alignment", "rflo", "node_perturbation"]
# A large network (the default problem at N = 4000): its state matrices (N x B doubles, 512 KB)
# are above glibc's initial mmap threshold.
LARGE_KEYS = ["populations.E.size=3200", "populations.I.size=800", "training.steps=2", "task.duration_ms=100"]


def timed(cmd):
    """Runs cmd; returns wall, user, sys seconds, minor faults and peak RSS (MB) of the child."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    err = p.stderr.read().decode()
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {err}")
    return {"wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime, "faults": ru.ru_minflt, "rss": ru.ru_maxrss/1024}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the earlier eisim")
    ap.add_argument("--after", required=True, help="this tree's eisim")
    ap.add_argument("--pairs", type=int, default=5)
    a = ap.parse_args()
    exe = {"before": os.path.abspath(a.before), "after": os.path.abspath(a.after)}
    work = tempfile.mkdtemp(prefix="eisim-observe-ab-")
    try:
        runs = []
        for credit in CREDITS:
            for seed in (1, 2):
                out = os.path.join(work, f"{credit}_{seed}.h5")
                subprocess.run([exe["after"], "run", CONFIG, "--quiet", "--out", out, "--set", f"plasticity.credit={credit}",
                                "--set", f"training.seed={seed}"] + [x for k in STUDY_KEYS for x in ("--set", k)],
                               check=True, stdout=subprocess.DEVNULL)
                runs.append(out)
        got = {(job, v): [] for job in ("run", "observe", "large") for v in exe}
        for k in range(a.pairs):
            for v in (("before", "after") if k % 2 == 0 else ("after", "before")):
                got["run", v].append(timed([exe[v], "run", CONFIG, "--quiet", "--overwrite", "--out", os.path.join(work, f"run_{v}.h5")] +
                                           [x for key in STUDY_KEYS for x in ("--set", key)]))
                got["large", v].append(timed([exe[v], "run", "--quiet", "--overwrite", "--out", os.path.join(work, f"large_{v}.h5")] +
                                             [x for key in LARGE_KEYS for x in ("--set", key)]))
                table = os.path.join(work, f"table_{v}.h5")
                got["observe", v].append(timed([exe[v], "observe", *runs, "--quiet", "--overwrite", "--out", table]))
        same = "not compared (no h5diff)"
        if shutil.which("h5diff"):
            d = subprocess.run(["h5diff", os.path.join(work, "table_before.h5"), os.path.join(work, "table_after.h5")],
                               capture_output=True, text=True)
            same = "equal (h5diff)" if d.returncode == 0 else "DIFFERENT (h5diff)"
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def med(job, v, key):
        return statistics.median(r[key] for r in got[job, v])

    print(f"`/usr/bin/python3 bench/observe_ab.py --before {a.before} --after {a.after} --pairs {a.pairs}` on "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average (1 min) when the pairs ended "
          f"{os.getloadavg()[0]:.2f}. Medians over {a.pairs} alternating pairs:\n")
    print("| command | program | wall (s) | user (s) | system (s) | minor faults | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|")
    for job, what in (("run", "`eisim run`, one study circuit (100 steps)"), ("observe", "`eisim observe`, 8 runs (ΔCDF test included)"),
                      ("large", "`eisim run`, the default problem at N = 4000 (2 steps of 100 ms)")):
        for v in exe:
            print(f"| {what} | {v} | {med(job, v, 'wall'):.3f} | {med(job, v, 'user'):.3f} | {med(job, v, 'sys'):.3f} | "
                  f"{med(job, v, 'faults'):.0f} | {med(job, v, 'rss'):.0f} |")
    for job in ("run", "observe", "large"):
        ratios = [b["wall"]/f["wall"] for b, f in zip(got[job, "before"], got[job, "after"])]
        print(f"\n{job}: before / after wall time per pair {', '.join(f'{x:.2f}' for x in ratios)}; median "
              f"{statistics.median(ratios):.2f}.", end="")
    print(f"\n\nThe two programs' tables: {same}.")


if __name__ == "__main__":
    main()
