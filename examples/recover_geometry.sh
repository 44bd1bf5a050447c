#!/usr/bin/env bash
# Recovering the geometry of plasticity from eisim's own learning runs (pooled and per-neuron
# geometry tests).
#
# Trains the default network from the same seed under exponentiated gradient (EG), euclidean
# gradient descent (GD, the p-norm with p = 2) and the p-norm with p = 3, analyses each run with
# `eisim analyze`, and prints one row per run and plastic projection: the training geometry, then
# the best candidate and the consistent set with the dual change standardised pooled (the
# published statistic) and per postsynaptic neuron.
#
#   bash examples/recover_geometry.sh [eisim run options...]
#
# Extra arguments go to every `eisim run` (e.g. `--set training.steps=10` for a quicker look, or a
# config file). Files land in $EISIM_OUT (default out/recover_geometry): <run>.h5, <run>.json,
# <run>.analysis.txt (the full analyze table). The executable is $EISIM (default build/eisim;
# build it with `bash scripts/build.sh eisim`). Three default runs take about 5 minutes on one core.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=${EISIM:-build/eisim}
out=${EISIM_OUT:-out/recover_geometry}
if [ ! -x "$exe" ]; then
  echo "recover_geometry: no eisim at '$exe' (build it with: bash scripts/build.sh eisim)" >&2
  exit 2
fi
mkdir -p "$out"

# name | training geometry as printed | eisim run options
runs=(
  "eg|eg|--set plasticity.geometry=eg"
  "euclidean|GD (p=2)|--set plasticity.geometry=euclidean"
  "pnorm3|p=3|--set plasticity.geometry=pnorm --set plasticity.p=3"
)
for r in "${runs[@]}"; do
  IFS='|' read -r name label opts <<<"$r"
  echo "== training under $label, analysing $out/$name.h5 ==" >&2
  # shellcheck disable=SC2086  # $opts is a list of options
  "$exe" run -q $opts "$@" --out "$out/$name.h5" --overwrite >&2
  "$exe" analyze "$out/$name.h5" --json "$out/$name.json" >"$out/$name.analysis.txt"
done

# The table, from the `summary:` line that `eisim analyze` prints per projection:
#   summary: <proj>: pooled: <verdict>; per-neuron: <verdict>
echo
printf '%-10s %-10s | %-38s | %s\n' "trained" "projection" "pooled: best, consistent set" "per-neuron: best, consistent set"
for r in "${runs[@]}"; do
  IFS='|' read -r name label opts <<<"$r"
  awk -v run="$label" '
    /^summary: / {
      s = substr($0, 10)
      i = index(s, ": pooled: "); proj = substr(s, 1, i - 1); s = substr(s, i + 10)
      j = index(s, "; per-neuron: "); pooled = substr(s, 1, j - 1); per = substr(s, j + 14)
      printf "%-10s %-10s | %-38s | %s\n", run, proj, pooled, per
    }' "$out/$name.analysis.txt"
done
