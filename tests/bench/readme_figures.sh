#!/usr/bin/env bash
# Every figure the README's Performance table quotes, measured in one run
# at one commit, into one file: the Google Benchmark rows (parse + apply of
# captured ctnetlink events, replication decode + apply, each beside its
# reference in the same binary), then compare.sh (storms, CPU per event,
# RSS and dumps beside conntrackd, conntrack -E and the minimal libmnl
# consumer), http_bench.sh (scrapes, /api/v1/flows), web_front_bench.sh
# (scrapes with 1,000 connections held open), sync_bench.sh (bulk
# send beside conntrackd -B) and big_table.sh (4M flows). Each part heads
# its table with the commit, build type and date (tests/bench/stamp.sh);
# run it on a clean tree, so that no part says -dirty.
#
#   sudo tests/bench/readme_figures.sh [OUT.md]   (default /tmp/readme_figures.md)
#   Environment: BUILD (default build/release); SKIP_BIG=1 leaves out the
#   4M-flow run (about 10 minutes of the 40).
set -euo pipefail
out=${1:-/tmp/readme_figures.md}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build/release}
export BUILD=$build
# shellcheck source=tests/bench/stamp.sh
. "$root/tests/bench/stamp.sh"
[ "$(id -u)" -eq 0 ] || { echo "readme_figures: needs root" >&2; exit 1; }
for b in "$build/tests/bench/ctcollect_bench" "$build/tests/bench/sync_bench" "$build/tests/bench/web_front_bench"; do
  [ -x "$b" ] || { echo "readme_figures: missing $b (cmake --preset release && cmake --build build/release -j2)" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/readme_figures.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
gbench() {  # BINARY FILTER: medians of 5 repetitions
  "$1" --benchmark_filter="$2" --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true --benchmark_min_time=0.5 2>&1 |
    grep -E '^(BM_|Run on|CPU Caches|Load Average)' | grep -v '_mean\|_stddev\|_cv'
}
{
  echo "## The README's figures ($(bench_stamp))"
  echo
  echo "### Google Benchmark: medians of 5 repetitions"
  echo
  echo '```'
  gbench "$build/tests/bench/ctcollect_bench" 'BM_ParseApplyCaptured|BM_ParseOnly|BM_EventStorm1M'
  gbench "$build/tests/bench/sync_bench" 'BM_DecodeApply'
  echo '```'
  echo
} | tee "$out"
run() {  # SCRIPT: its table, appended
  "$root/tests/bench/$1" "$tmp/$1.md" >"$tmp/$1.log" 2>&1 ||
    { tail -20 "$tmp/$1.log" >&2; echo "readme_figures: $1 failed" >&2; exit 1; }
  { cat "$tmp/$1.md"; echo; } | tee -a "$out"
}
run compare.sh
run http_bench.sh
run web_front_bench.sh
run sync_bench.sh
if [ -z "${SKIP_BIG:-}" ] && [ -x "$root/tests/bench/big_table.sh" ]; then run big_table.sh; fi
echo "readme_figures: wrote $out" >&2
