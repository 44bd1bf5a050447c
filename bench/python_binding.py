#!/usr/bin/env python3
"""The Python module's own work per learning step (issue 21): at most 1 % of the step at N = 250.

  PYTHONPATH=build/python python3 bench/python_binding.py [--size 250] [--steps 20] [--reps 3] [--json OUT]

The job: the default circuit at N cells (80 % E, 20 % I), the default task and EG, every weight
recorded at every step, training.activity_trials = 0 (every step a typical one). eisim.train
runs it in this process with a callback that keeps (step, loss, accuracy), as a live plot
would, and without one. The binding's own work is timed inside the process around each piece
of it (binding_seconds of the summary: the callback and the signal check after every step, the
GIL's taking and giving back included); the step is the median of the learning loop's own
step times (step_seconds). Each of --reps trainings is its own file; medians over them. Prints
the Markdown section of BENCHMARKS.md.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=250)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    import eisim

    n_e = a.size * 4 // 5
    cfg = eisim.Config.default()
    cfg.update({"populations.E.size": n_e, "populations.I.size": a.size - n_e, "training.steps": a.steps,
                "training.activity_trials": 0})
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, make_cb in (("callback", lambda seen: (lambda s, l, acc: seen.append((s, l, acc)))), ("none", lambda seen: None)):
            per_step, binding, walls = [], [], []
            for r in range(a.reps):
                seen = []
                t0 = time.perf_counter()
                s = eisim.train(cfg, os.path.join(tmp, f"{label}{r}.h5"), callback=make_cb(seen))
                walls.append(time.perf_counter() - t0)
                per_step.append(statistics.median(s["step_seconds"]))
                binding.append(s["binding_seconds"] / (a.steps + 1))  # a callback per state, a check per step
            rows[label] = dict(step=statistics.median(per_step), binding=statistics.median(binding), wall=statistics.median(walls))
    cb = rows["callback"]
    fraction = cb["binding"] / cb["step"]
    out = [
        "## Python binding (`bench/python_binding.py`)",
        "",
        f"eisim.train at N = {a.size} (default circuit and task, EG, every weight recorded), {a.steps} steps, "
        f"median of {a.reps} trainings in one process; the binding's own work timed inside it.",
        "",
        "| callback | median learning step | binding's work per step | share of the step | whole train() |",
        "|---|---|---|---|---|",
    ]
    for label in ("callback", "none"):
        r = rows[label]
        out.append(f"| {'keeps (step, loss, accuracy)' if label == 'callback' else 'none'} | {r['step'] * 1e3:.2f} ms | "
                   f"{r['binding'] * 1e6:.1f} µs | {100 * r['binding'] / r['step']:.3f} % | {r['wall']:.2f} s |")
    out += ["", f"Goal: at most 1 % of the step: {'met' if fraction <= 0.01 else 'NOT met'} ({100 * fraction:.3f} %).", ""]
    print("\n".join(out))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(dict(size=a.size, steps=a.steps, reps=a.reps, rows=rows, fraction=fraction), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
