#!/usr/bin/env bash
# The main job: install what is missing, build, then train the default network twice from the
# same seed, under exponentiated gradient (EG) and under euclidean gradient descent (GD), analyse
# both runs (report JSON and figures) and print which geometries are consistent with each run's
# weight changes, with the dual change standardised pooled and per postsynaptic neuron.
# Everything lands in out/. Last, the Python module goes into the virtual environment .venv/
# (docs/python.md): `. .venv/bin/activate`, then `import eisim`.
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
for geometry in eg euclidean; do
  echo
  echo "== analysing out/$geometry.h5 =="
  build/eisim analyze out/$geometry.h5 --json out/$geometry.json --figures out/figures-$geometry |
    tee out/$geometry.analysis.txt
done
echo
echo "== geometries consistent with each run's weight changes (all synapses of each projection) =="
for geometry in eg euclidean; do
  sed -n "s/^summary: /trained with $geometry, /p" out/$geometry.analysis.txt
done
echo
echo "== installing the Python module into .venv (docs/python.md) =="
# Debian's python3, whose numpy and h5py the environment sees (--system-site-packages); offline.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
"$python" -m venv --system-site-packages .venv
.venv/bin/python -m pip install --no-build-isolation --no-index --no-cache-dir -q --root-user-action=ignore .
.venv/bin/python -c 'import eisim; print("installed eisim", eisim.__version__, "into .venv: . .venv/bin/activate, then import eisim")'
