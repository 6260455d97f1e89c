#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests, fuzz
# corpus replays and the integration tests against the real kernel (they
# make their own network namespaces; without root they skip and say why,
# and with CI=true in the environment they fail and say why instead),
# first in the dev build, then again under AddressSanitizer and
# UndefinedBehaviorSanitizer (the asan preset). In between, clang checks the
# lock annotations (-Wthread-safety, the threadsafety preset; compile only).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
jobs=$(nproc)
cmake --preset dev >/dev/null
cmake --build build/dev -j"$jobs"
ctest --preset dev -j1 --timeout 600
cmake --preset threadsafety >/dev/null
cmake --build build/threadsafety -j"$jobs"
cmake --preset asan >/dev/null
cmake --build build/asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --preset asan -j1 --timeout 600
