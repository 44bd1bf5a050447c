#!/usr/bin/env bash
# Before and after: the default problem's learning step (eisim_bench learn, the built-in defaults,
# every weight recorded) from an earlier commit and from this tree, built the way the README builds
# (Release, portable: scripts/build.sh), run in alternating pairs so that both see the same load.
# Prints a Markdown section for BENCHMARKS.md (bench/run.py keeps it when it rewrites the file).
#   bash bench/ab.sh BASE_COMMIT [PAIRS] [STEPS]
# With EISIM_AB_INSTRUCTIONS=1 (and valgrind installed) it also counts the instructions of one
# learning step of each build under callgrind, one thread: (count of a 3-step run − count of a
# 1-step run) / 2. Counts do not depend on the machine's load, so they settle what noisy timings
# cannot; they take about 40 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bash bench/ab.sh BASE_COMMIT [PAIRS] [STEPS]}
pairs=${2:-4}
steps=${3:-4}
bash scripts/install-deps.sh
work=$(mktemp -d)
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git worktree add -q --detach "$work/base" "$base"
jobs=$(nproc 2>/dev/null || echo 2)
for tree in "$work/base" .; do # build-ab/: the user's build/ keeps its own settings
  cmake -S "$tree" -B "$tree/build-ab" -DCMAKE_BUILD_TYPE=Release -DEISIM_BUILD_TESTS=OFF >/dev/null
  cmake --build "$tree/build-ab" -j "$jobs" --target eisim_bench >/dev/null
done
python=/usr/bin/python3
command -v "$python" >/dev/null || python=python3
"$python" - "$work" "$pairs" "$steps" "$(git rev-parse --short "$base")" "$(git rev-parse --short HEAD)" <<'PY'
import json, statistics, subprocess, sys
work, pairs, steps, base_rev, head_rev = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
exe = {"before": f"{work}/base/build-ab/eisim_bench", "after": "./build-ab/eisim_bench"}
runs = {"before": [], "after": []}
for k in range(pairs):
    for v in (("before", "after") if k % 2 == 0 else ("after", "before")):  # alternate the order too
        out = subprocess.run([exe[v], "learn", "--set", f"training.steps={steps}", "--out", f"{work}/{v}.h5"],
                             check=True, capture_output=True, text=True).stdout
        runs[v].append(json.loads(out.strip().splitlines()[-1]))
med = {v: statistics.median(r["step_median_s"] for r in runs[v]) for v in runs}
ratios = [a["step_median_s"] / b["step_median_s"] for a, b in zip(runs["after"], runs["before"])]
rss = {v: statistics.median(r["peak_rss_mb"] for r in runs[v]) for v in runs}
same = all(a["initial_loss"] == b["initial_loss"] for a, b in zip(runs["after"], runs["before"]))
print("## Before and after circuits as data\n")
print(f"The default problem (N = 1000, B = 16, 500 steps of 1 ms, euler, every weight recorded), `eisim_bench learn "
      f"--set training.steps={steps}`, built as the README builds (Release, portable) from {base_rev} (before) and "
      f"{head_rev} (after), {pairs} alternating pairs (`bash bench/ab.sh {base_rev}`). Seconds per learning step, "
      f"each run's median:\n")
print("| | " + " | ".join(f"pair {k + 1}" for k in range(pairs)) + " | median | peak RSS (MB) |")
print("|---|" + "---|" * (pairs + 2))
for v in ("before", "after"):
    print(f"| {v} | " + " | ".join(f"{r['step_median_s']:.3f}" for r in runs[v]) + f" | {med[v]:.3f} | {rss[v]:.0f} |")
print(f"\nafter / before, per pair: {', '.join(f'{x:.3f}' for x in ratios)}; median {statistics.median(ratios):.3f}. "
      f"Initial losses {'equal' if same else 'DIFFER'} in every pair.")
PY
if [ "${EISIM_AB_INSTRUCTIONS:-0}" = 1 ] && command -v valgrind >/dev/null; then
  declare -A count
  for v in before after; do
    exe=./build-ab/eisim_bench
    [ $v = before ] && exe="$work/base/build-ab/eisim_bench"
    for s in 1 3; do
      OMP_NUM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file="$work/cg.$v.$s" "$exe" learn --threads 1 \
        --set training.steps=$s --out "$work/cg.$v.h5" >/dev/null 2>&1
      count[$v.$s]=$(sed -n 's/^summary: //p' "$work/cg.$v.$s")
    done
  done
  "$python" - "${count[before.1]}" "${count[before.3]}" "${count[after.1]}" "${count[after.3]}" <<'PY'
import sys
b1, b3, a1, a3 = map(int, sys.argv[1:])
b, a = (b3 - b1)/2, (a3 - a1)/2
print(f"\nInstructions per learning step (callgrind, one thread, (3-step run - 1-step run) / 2): before {b/1e9:.3f}e9, "
      f"after {a/1e9:.3f}e9, after / before {a/b:.4f}. Whole 1-step runs (set-up, one step, the final pass): "
      f"before {b1/1e9:.2f}e9, after {a1/1e9:.2f}e9, after / before {a1/b1:.4f}.")
PY
fi
