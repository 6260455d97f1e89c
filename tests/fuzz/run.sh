#!/usr/bin/env bash
# Runs every libFuzzer target (clang, the `fuzz` preset: ASan + UBSan +
# libFuzzer) for SECONDS each, starting from its seed corpus, and prints
# one line per target: executions, executions per second, new corpus
# entries, findings. Crashes are kept in /tmp/ctcollect-fuzz-findings/;
# each becomes a regression test under tests/regress/.
#   tests/fuzz/run.sh SECONDS [TARGET...]
set -euo pipefail
secs=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
cd "$(dirname "$0")/../.."
cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j"$(nproc)" >/dev/null
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in tests/fuzz/*_fuzz.cc; do t=$(basename "$f" _fuzz.cc); targets+=("$t"); done
fi
findings=/tmp/ctcollect-fuzz-findings
mkdir -p "$findings"
printf '%-18s %12s %10s %8s %s\n' target executions exec/s new findings
status=0
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  seeds=tests/fuzz/corpus/$t
  log=$work/log
  set +e
  "build/fuzz/tests/fuzz/${t}_fuzz" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$findings/${t}-" -rss_limit_mb=2048 "$work" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  new=$(find "$work" -type f | wc -l)
  found=$(ls "$findings" | grep -c "^${t}-" || true)
  printf '%-18s %12s %10s %8s %s\n' "$t" "${runs:-?}" "${rate:-?}" "$new" "$found"
  if ((rc != 0)); then
    status=1
    tail -30 "$log" >&2
  fi
  rm -rf "$work"
done
exit "$status"
