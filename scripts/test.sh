#!/usr/bin/env bash
# The test suite: install what is missing, build everything, run every Catch2 test through CTest;
# then the suite again under AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/, a Debug
# build: NDEBUG is not defined there, so every EISIM_ASSERT and Eigen's index checks run), less
# the tests labelled slow (tagged [slow]: learning runs of many steps, the SIGKILL and SIGTERM
# end-to-end runs, finite differences over every synapse, the default-problem runs), which run in
# the first pass and would take minutes each under the sanitizers.
# EISIM_SANITIZERS=0 skips the second pass.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
start=$SECONDS
elapsed() { echo "== $1 ($((SECONDS - start)) s since the packages) =="; }
# The ten slowest tests of a ctest log (its "N/M Test #k: name .... Passed  T sec" lines).
slowest() {
  echo "== the ten slowest tests of $1 (s) =="
  { grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: ' "$2" || true; } | awk '{t = $(NF - 1); sub(/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: /, ""); sub(/ \.\.\.+.*$/, ""); printf "%8.1f  %s\n", t, $0}' |
    sort -rn | sed -n 1,10p # sed reads it all: no SIGPIPE under pipefail
}
bash scripts/build.sh
elapsed "built"
(cd build && ctest --output-on-failure -j "$jobs" | tee ctest.log)
elapsed "the Release pass done"
slowest "the Release pass" build/ctest.log
if [ "${EISIM_SANITIZERS:-1}" != 0 ]; then
  echo "== the suite again under AddressSanitizer and UndefinedBehaviorSanitizer =="
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DEISIM_SANITIZE=ON -DEISIM_NATIVE="${EISIM_NATIVE:-ON}" >/dev/null
  cmake --build build-asan -j "$jobs"
  elapsed "the sanitizer build done"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$jobs" -LE slow | tee ctest.log)
  elapsed "the sanitizer pass done"
  slowest "the sanitizer pass" build-asan/ctest.log
fi
