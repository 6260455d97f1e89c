#!/usr/bin/env bash
# The Kubernetes manifests (deploy/kubernetes/*.yaml): valid against the
# Kubernetes API schema and the rules validate.mjs adds, then
# `validate.mjs --self-test`: broken copies of them must be rejected.
# npm installs the pinned packages (package-lock.json) into
# BUILD_DIR/deploy-validate, next to a copy of validate.mjs, so the source
# tree stays clean; that install is reused while package.json and
# package-lock.json are unchanged. Without npm: exit 77 (skipped), or 1
# (failed) when CI=true: a CI run must not turn green by skipping
# (scripts/install-deps.sh installs nodejs and npm). A registry that cannot
# be reached fails the test and says so.
# Usage: validate_test.sh BUILD_DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd)
cache=$build/deploy-validate
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() {
  if [ "${CI:-}" = true ]; then fail "CI=true and this test cannot run: $*"; fi
  echo "skip: $*"; exit 77
}
command -v npm >/dev/null || skip "npm not found (scripts/install-deps.sh installs nodejs and npm)"
command -v node >/dev/null || skip "node not found (scripts/install-deps.sh installs nodejs and npm)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || skip "node $(node --version) is older than 18"

key=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ ! -d "$cache/node_modules" ] || [ "$(cat "$cache/.installed" 2>/dev/null)" != "$key" ]; then
  rm -rf "$cache"
  mkdir -p "$cache"
  cp "$here/package.json" "$here/package-lock.json" "$cache/"
  echo "npm ci into $cache ($(npm config get registry))"
  # --ignore-scripts: no package here needs an install script, and none
  # should run one on a CI machine. --prefer-offline: a second build tree
  # installs from npm's cache.
  if ! (cd "$cache" && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline) \
        >"$cache/npm-ci.log" 2>&1; then
    reason=$(grep -m1 -E 'npm (ERR!|error) (code|network|errno|request)' "$cache/npm-ci.log" || true)
    if grep -qE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET|socket hang up|network|E50[0-9]|E429|CERT|certificate' \
         "$cache/npm-ci.log"; then
      fail "npm ci could not fetch the pinned packages from the registry $(npm config get registry): ${reason:-see $cache/npm-ci.log}"
    fi
    tail -n 20 "$cache/npm-ci.log" >&2
    fail "npm ci failed (full log: $cache/npm-ci.log)"
  fi
  echo "$key" >"$cache/.installed"
else
  echo "npm packages: reusing $cache (package-lock.json unchanged)"
fi

# Next to node_modules, so that its imports resolve there.
cp "$here/validate.mjs" "$cache/validate.mjs"
node "$cache/validate.mjs" --root="$root"
node "$cache/validate.mjs" --root="$root" --self-test
