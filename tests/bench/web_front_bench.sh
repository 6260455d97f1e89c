#!/usr/bin/env bash
# The web front under held connections (issue 19): scrape latency median
# and p99 with 0, 100 and 1,000 connections held open on purpose, and the
# daemon's threads and RSS, plain HTTP and TLS (web_front_bench.cc).
#
#   sudo tests/bench/web_front_bench.sh [OUT.md]  (default /tmp/web_front_bench.md)
#   Environment: BUILD (default build/release), SCRAPES (200).
set -euo pipefail
out=${1:-/tmp/web_front_bench.md}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build/release}
bench=$build/tests/bench/web_front_bench
# shellcheck source=tests/bench/stamp.sh
. "$root/tests/bench/stamp.sh"
die() { echo "web_front_bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root"
[ -x "$bench" ] ||
  die "missing $bench (cmake --preset release && cmake --build build/release -j2)"
exec {lockfd}>/run/lock/ctcollect-core-bench.lock
flock -n "$lockfd" || die "another benchmark is running"
{
  echo "### Web front under held connections ($(bench_stamp))"
  echo
  "$bench" "${SCRAPES:-200}"
} | tee "$out"
