#!/usr/bin/env bash
# The test suite, in two tiers.
#   bash scripts/test.sh         the first tier: install what is missing, build everything
#                                (Release), run every Catch2, Python and end-to-end test through
#                                CTest, the slow scientific checks included (about 9 minutes on 2
#                                cores from a fresh clone).
#   bash scripts/test.sh --full  the first tier, then the suite again under AddressSanitizer and
#                                UndefinedBehaviorSanitizer (build-asan/, a Debug build: NDEBUG is
#                                not defined there, so every EISIM_ASSERT and Eigen's index checks
#                                run), less the tests labelled slow (tagged [slow]: learning runs of
#                                many steps, the SIGKILL and SIGTERM end-to-end runs, finite
#                                differences over every synapse, the default-problem runs), which ran
#                                in the first tier and would take minutes each under the sanitizers.
#                                A second build of everything: about 10 minutes more. CI runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
for a in "$@"; do
  case "$a" in
    --full) full=1 ;;
    *) echo "scripts/test.sh: unknown argument '$a' (the only one is --full: the sanitizer pass too)" >&2; exit 2 ;;
  esac
done
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
if [ "$full" = 1 ]; then
  echo "== the suite again under AddressSanitizer and UndefinedBehaviorSanitizer =="
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DEISIM_SANITIZE=ON -DEISIM_NATIVE="${EISIM_NATIVE:-ON}" >/dev/null
  cmake --build build-asan -j "$jobs"
  elapsed "the sanitizer build done"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$jobs" -LE slow | tee ctest.log)
  elapsed "the sanitizer pass done"
  slowest "the sanitizer pass" build-asan/ctest.log
else
  echo "== the second tier, the suite under ASan/UBSan with every EISIM_ASSERT on: bash scripts/test.sh --full =="
fi
