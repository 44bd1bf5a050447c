#!/usr/bin/env bash
# Which learning rule? The virtual experiment of docs/identify.md end to end: a sweep of 480 E/I
# rate circuits (examples/sweeps/identify_rules.toml: 4 credit rules x 3 geometries x 2 tasks x 20
# seeds, 100 cells, node perturbation with 4 samples per step) and one of 240 spiking circuits
# (examples/sweeps/identify_rules_spiking.toml: e-prop and surrogate BPTT x 3 geometries x 2 tasks x
# 20 seeds, 50 LIF/ALIF cells), their observables (the rate arm's also under measurement realism),
# and the classifiers. Results: OUT/results.md (the table in examples/README.md) and
# OUT/identify_curves.png. 29 minutes on 2 otherwise idle cores (examples/README.md: sweeps 7.5,
# tables 9.7, classifications 11.4); every step is skipped when its output exists, so a stopped
# study continues where it was.
#   bash examples/identify_rules.sh [OUT]            (default OUT: identify-rules)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
eisim=${EISIM:-$root/build/eisim}
out=${1:-identify-rules}
jobs=${JOBS:-2}
mkdir -p "$out/tables" "$out/results"
[ -x "$eisim" ] || { echo "no eisim at $eisim: build it first (bash scripts/build.sh) or set EISIM" >&2; exit 2; }

echo "== sweeps ($(date +%T))"
"$eisim" sweep run "$here/sweeps/identify_rules.toml" --out "$out/sweep" --jobs "$jobs" --quiet
"$eisim" sweep run "$here/sweeps/identify_rules_spiking.toml" --out "$out/sweep_spiking" --jobs "$jobs" --quiet

# Observables: full observation (with the geometry test), then the degraded measurements (rate arm).
observe() { # name, options...
    local name=$1; shift
    local sweep=$out/sweep
    case $name in spiking_*) sweep=$out/sweep_spiking;; esac
    [ -f "$out/tables/$name.h5" ] || "$eisim" observe "$sweep" --out "$out/tables/$name.h5" --quiet "$@" > "$out/tables/$name.log"
}
echo "== observe ($(date +%T))"
export -f observe; export eisim out
# One queue for both cores, the two tables with the geometry test (the longest) first.
printf '%s\n' "full" "spiking_full" "noise_0.1 --noise 0.1 --no-geometry-test" "noise_0.5 --noise 0.5 --no-geometry-test" \
    "noise_2 --noise 2 --no-geometry-test" "units_0.3 --observe-neurons 0.3 --no-geometry-test" \
    "units_0.1 --observe-neurons 0.1 --no-geometry-test" "units_0.01 --observe-neurons 0.01 --no-geometry-test" \
    "synapses_0.3 --observe-synapses 0.3 --no-geometry-test" "synapses_0.1 --observe-synapses 0.1 --no-geometry-test" \
    "synapses_0.01 --observe-synapses 0.01 --no-geometry-test" |
    xargs -P "$jobs" -L 1 bash -c 'observe "$@"' _

identify() { # result name, table, options...
    local name=$1 table=$2; shift 2
    [ -f "$out/results/$name.json" ] || "$eisim" identify "$out/tables/$table.h5" --json "$out/results/$name.json" "$@" \
        > "$out/results/$name.log" 2>&1 || { echo "identify $name failed:" >&2; cat "$out/results/$name.log" >&2; return 1; }
}
echo "== identify ($(date +%T))"
# One queue for both cores, the longest first. Full observation, both classifiers, 5 seed splits (a
# quarter of the seeds held out) and leave one task out: from the changes since the first snapshot,
# and from the raw trajectories (Nayebi et al.'s features); the baseline sees only the loss and
# accuracy curves. Then per observable class, and the curves under measurement realism: random
# forest, changes.
jobs_list=(
    "full_seed full --label credit --label geometry --hold-out seed --changes --quick --figures $out/figures"
    "full_seed_joint full --label joint --hold-out seed --changes --quick --classifiers rf --figures $out/figures"
    "full_seed_raw full --label credit --label geometry --hold-out seed --quick --figures $out/figures"
    "full_task full --label credit --label geometry --hold-out task --changes --quick --figures $out/figures"
    "performance full --label credit --label geometry --hold-out seed --features performance --quick")
rf="--label credit --label geometry --hold-out seed --classifiers rf --changes --quick"
for cls in weights activations activity_change; do jobs_list+=("class_$cls full --features $cls --splits 5 $rf"); done
# The spiking arm (e-prop against surrogate BPTT): the same classifications at full observation.
jobs_list+=(
    "spiking_full_seed spiking_full --label credit --label geometry --hold-out seed --changes --quick --figures $out/figures_spiking"
    "spiking_full_seed_joint spiking_full --label joint --hold-out seed --changes --quick --classifiers rf --figures $out/figures_spiking"
    "spiking_full_seed_raw spiking_full --label credit --label geometry --hold-out seed --quick --figures $out/figures_spiking"
    "spiking_full_task spiking_full --label credit --label geometry --hold-out task --changes --quick --figures $out/figures_spiking"
    "spiking_performance spiking_full --label credit --label geometry --hold-out seed --features performance --quick")
for cls in weights activations activity_change; do jobs_list+=("spiking_class_$cls spiking_full --features $cls --splits 5 $rf"); done
for t in noise_0.1 noise_0.5 noise_2 units_0.3 units_0.1 units_0.01 synapses_0.3 synapses_0.1 synapses_0.01; do
    for cls in weights activations activity_change; do
        case $t-$cls in synapses_*-activ*) continue;; esac # synapse sampling degrades the weights only
        jobs_list+=("${t}__$cls $t --features $cls --splits 3 $rf")
    done
done
for k in 11 6 3; do
    for cls in weights activations activity_change; do jobs_list+=("time_${k}__$cls full --features $cls --time-points $k --splits 3 $rf"); done
done
export -f identify
printf '%s\n' "${jobs_list[@]}" | xargs -P "$jobs" -L 1 bash -c 'identify "$@"' _

echo "== report ($(date +%T))"
"${EISIM_PYTHON:-/usr/bin/python3}" "$here/identify_report.py" "$out"
echo "== done ($(date +%T)): $out/results.md, $out/identify_curves.png"
