#!/usr/bin/env bash
# Runs every libFuzzer target (clang, the `fuzz` preset: ASan + UBSan +
# libFuzzer) for SECONDS each, or for RUNS executions each, starting from
# its seed corpus, and prints one line per target: executions, executions
# per second, wall seconds, new corpus entries, findings (crashes, leaks,
# timeouts, out-of-memory). Findings are kept in
# /tmp/ctcollect-fuzz-findings/; each becomes a regression test under
# tests/regress/.
#   tests/fuzz/run.sh SECONDS [TARGET...]
#   tests/fuzz/run.sh --runs RUNS [TARGET...]     # e.g. --runs 10000000
# FUZZ_ARGS adds libFuzzer flags to every target (e.g.
# FUZZ_ARGS=-max_total_time=3000 caps a --runs campaign per target);
# tests/fuzz/TARGET.flags, where present, holds that target's own flags.
# FUZZ_NO_BUILD=1 skips the build (for runs in parallel on one build).
# FUZZ_KEEP=DIR keeps each target's corpus in DIR/TARGET and starts from
# it, so a campaign can go on in several runs (the `new` column then counts
# the kept corpus); without it each run starts from the seeds alone.
#
# ASan runs with malloc_context_size=0 and max_malloc_fill_size=0 unless
# ASAN_OPTIONS says otherwise: on the allocation-heavy targets (yaml-cpp's
# config parser most) filling every new block cost a third of the
# executions and recording every allocation's stack a tenth of the time
# (tests/bench/RESULTS.md). Detection is the same; a finding's report then
# lacks the allocation stack, which its replay under the asan preset
# (tests/regress/) shows in full.
set -euo pipefail
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0:max_malloc_fill_size=0}
usage="usage: tests/fuzz/run.sh SECONDS|--runs RUNS [TARGET...]"
limit=(-max_total_time="${1:?$usage}")
if [[ $1 == --runs ]]; then
  limit=(-runs="${2:?$usage}")
  shift
fi
shift
cd "$(dirname "$0")/../.."
targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in tests/fuzz/*_fuzz.cc; do t=$(basename "$f" _fuzz.cc); targets+=("$t"); done
fi
if [[ -z ${FUZZ_NO_BUILD:-} ]]; then
  cmake --preset fuzz >/dev/null
  cmake --build build/fuzz -j"$(nproc)" --target "${targets[@]/%/_fuzz}" >/dev/null
fi
read -r -a extra <<<"${FUZZ_ARGS:-}"
findings=/tmp/ctcollect-fuzz-findings
mkdir -p "$findings"
printf '%-18s %12s %10s %8s %8s %s\n' target executions exec/s seconds new findings
status=0
for t in "${targets[@]}"; do
  if [[ -n ${FUZZ_KEEP:-} ]]; then
    work=$FUZZ_KEEP/$t
    mkdir -p "$work"
  else
    work=$(mktemp -d)
  fi
  seeds=tests/fuzz/corpus/$t
  log=$(mktemp)
  own=()
  if [[ -f tests/fuzz/$t.flags ]]; then
    read -r -a own < <(grep -v '^#' "tests/fuzz/$t.flags")
  fi
  start=$SECONDS
  set +e
  "build/fuzz/tests/fuzz/${t}_fuzz" "${limit[@]}" "${extra[@]}" "${own[@]}" -print_final_stats=1 \
    -artifact_prefix="$findings/${t}-" -rss_limit_mb=2048 "$work" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  new=$(find "$work" -type f | wc -l)
  # crash-, leak-, timeout- and oom- artifacts; a slow-unit- one (a unit
  # over 10 s) is no finding, and appears when the fuzzer was paused.
  found=$(find "$findings" -maxdepth 1 -name "${t}-*" ! -name "${t}-slow-unit-*" | wc -l)
  printf '%-18s %12s %10s %8s %8s %s\n' "$t" "${runs:-?}" "${rate:-?}" \
    "$((SECONDS - start))" "$new" "$found"
  if ((rc != 0)); then
    status=1
    tail -30 "$log" >&2
  fi
  [[ -n ${FUZZ_KEEP:-} ]] || rm -rf "$work"
  rm -f "$log"
done
exit "$status"
