#!/usr/bin/env bash
# The benchmark suite: builds eisim and eisim_bench in build-bench/ (Release, -march=native: tuned
# for this machine as its user would build it, as PyTorch's BLAS is), then runs bench/run.py, which
# writes BENCHMARKS.md. Arguments go to run.py (--quick, --smoke, --out FILE, --threads N).
# EISIM_BENCH_BUILD=<folder> benchmarks an existing build instead (e.g. build/, the portable one).
# The PyTorch peer needs Debian's python3-torch (apt-get install python3-torch); without it the
# suite runs and reports eisim alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build=${EISIM_BENCH_BUILD:-build-bench}
if [ -z "${EISIM_BENCH_BUILD:-}" ]; then
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DEISIM_NATIVE=ON -DEISIM_BUILD_TESTS=OFF >/dev/null
  cmake --build build-bench -j "$(nproc 2>/dev/null || echo 2)" --target eisim eisim_bench >/dev/null
fi
# The interpreter with numpy and h5py (and torch, if any has it): Debian's, not another python3 first on PATH.
python=""
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null && "$p" -c "import numpy, h5py, torch" 2>/dev/null; then python=$p; break; fi
done
if [ -z "$python" ]; then
  for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null && "$p" -c "import numpy, h5py" 2>/dev/null; then python=$p; break; fi
  done
fi
[ -n "$python" ] || { echo "bench: no python3 with numpy and h5py (bash scripts/install-deps.sh installs them)" >&2; exit 2; }
exec "$python" bench/run.py --build "$build" --python "$python" "$@"
