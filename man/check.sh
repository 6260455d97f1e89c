#!/usr/bin/env bash
# The man pages: groff has nothing to warn about, and every flag the
# programs' --help / -h print is in the page. Usage: check.sh CTCOLLECTD CTCOLLECT
set -euo pipefail
dir=$(dirname "$0")
status=0
for page in "$dir"/ctcollectd.8 "$dir"/ctcollect.8; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null || true)
  if [ -n "$warnings" ]; then
    echo "$page: $warnings" >&2
    status=1
  fi
done
text() { LC_ALL=C.UTF-8 MANWIDTH=200 man -E UTF-8 -l "$1" 2>/dev/null | col -b; }
daemon_page=$(text "$dir/ctcollectd.8")
for flag in $("$1" --help | grep -oE -- '--[a-z][a-z.-]+' | sort -u); do
  grep -qF -- "$flag" <<<"$daemon_page" || { echo "ctcollectd.8 lacks $flag" >&2; status=1; }
done
client_page=$(text "$dir/ctcollect.8")
for flag in $("$2" -h | grep -oE -- '(^| )-[a-zA-Z]\b|--[a-z][a-z.-]+' | tr -d ' ' | sort -u); do
  grep -qE -- "(^|[^a-zA-Z-])$flag\b" <<<"$client_page" || { echo "ctcollect.8 lacks $flag" >&2; status=1; }
done
for sub in top stats policies helpers advise; do
  grep -qw "$sub" <<<"$client_page" || { echo "ctcollect.8 lacks $sub" >&2; status=1; }
done
exit "$status"
