#!/usr/bin/env bash
# The main job: install what is missing, build, then train the default network twice from the
# same seed, under exponentiated gradient (EG) and under euclidean gradient descent (GD), and
# summarise each run. Run files land in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh eisim
mkdir -p out
for geometry in eg euclidean; do
  echo
  echo "== training the default network under geometry '$geometry' =="
  build/eisim run --set plasticity.geometry=$geometry --out out/$geometry.h5 --overwrite
done
