# What a benchmark run measured: the commit (with -dirty when the work tree
# has changes), the build's type and the date, as one line for the head of
# every result a benchmark script prints. Sourced by every script here;
# the caller sets root (the repository) and build (the build directory).
# shellcheck shell=bash disable=SC2154  # the caller sets root and build
bench_stamp() {
  local commit type
  commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
  [ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ] &&
    commit+=-dirty
  type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null)
  echo "commit $commit, build $(basename "$build") (${type:-unknown type}), $(date -u +%Y-%m-%dT%H:%MZ), $(uname -r), $(nproc) CPUs"
}
