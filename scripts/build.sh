#!/usr/bin/env bash
# Configures and builds eisim (Release) in build/; extra arguments are make targets.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" ${1:+--target "$@"}
