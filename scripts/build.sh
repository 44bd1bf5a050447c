#!/usr/bin/env bash
# Configures and builds eisim (Release) in build/; extra arguments are make targets.
set -euo pipefail
cd "$(dirname "$0")/.."
# EISIM_NATIVE=OFF in the environment: a portable build, for clusters of mixed CPUs (README, "Speed").
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DEISIM_NATIVE="${EISIM_NATIVE:-ON}" >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" ${1:+--target "$@"}
