#!/usr/bin/env python3
"""The held-out set's share of a learning run's time (README, "Tasks"; sim/heldout.hpp).

Each decision-task example as documented, run whole by `eisim run` with its held-out set (the
default: 512 trials, measured every 8 * 512 / batch steps rounded up to a snapshot, and at the
final state) and without it (training.heldout_trials = 0), in alternating pairs (A B, B A, ...) so
that both see the same load. Prints a Markdown table: the median wall time of each and the median
over the pairs of their ratio.

    /usr/bin/python3 bench/heldout.py [--eisim build/eisim] [--pairs 3]
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = ["perceptual_decision", "context_integration", "working_memory", "spiking_decision"]


def wall(eisim, example, out, heldout):
    args = [eisim, "run", "-q", os.path.join(ROOT, "examples", example + ".toml"), "--out", out, "--overwrite"]
    if not heldout:
        args += ["--set", "training.heldout_trials=0"]
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eisim", default=os.path.join(ROOT, "build", "eisim"))
    ap.add_argument("--pairs", type=int, default=3)
    a = ap.parse_args()
    print("| example | steps | held-out measurements | without (s) | with (s) | ratio (median of pairs) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "run.h5")
        for ex in EXAMPLES:
            times = {True: [], False: []}
            for k in range(a.pairs):
                for heldout in ((False, True) if k % 2 == 0 else (True, False)):
                    times[heldout].append(wall(a.eisim, ex, out, heldout))
            import h5py  # Debian's python3-h5py
            with h5py.File(out, "r") as f:  # the last run written: with or without, the same steps
                steps = int(f["trajectory/step"][-1, 0])
            with tempfile.TemporaryDirectory() as w2:  # one more with, for the count of measurements
                o2 = os.path.join(w2, "h.h5")
                wall(a.eisim, ex, o2, True)
                with h5py.File(o2, "r") as f:
                    import numpy as np
                    n = int(np.isfinite(f["trajectory/heldout_accuracy"][:]).sum())
            ratios = [w / wo for w, wo in zip(times[True], times[False])]
            print("| %s | %d | %d | %.2f | %.2f | %.3f |" % (ex, steps, n, statistics.median(times[False]),
                                                           statistics.median(times[True]), statistics.median(ratios)))


if __name__ == "__main__":
    main()
