#!/usr/bin/env bash
# The man pages: groff has nothing to warn about; every flag of the flag
# tables in the source (ctcollectd's collector/config/options.cc, the
# client's client/client_options.cc) is in the program's --help / -h, in its
# page and, for ctcollectd, in the README; and every flag --help prints is in
# the page. A --help that prints nothing, or a table that yields no flags,
# fails. Usage: check.sh CTCOLLECTD CTCOLLECT
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$dir")
status=0
fail() { echo "$*" >&2; status=1; }
for page in "$dir"/ctcollectd.8 "$dir"/ctcollect.8; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null || true)
  [ -z "$warnings" ] || fail "$page: $warnings"
done
text() { LC_ALL=C.UTF-8 MANWIDTH=200 man -E UTF-8 -l "$1" 2>/dev/null | col -b; }
# has TEXT FLAG: FLAG appears in TEXT as a whole flag (not as a prefix of a
# longer one: --netlink.buffer-size is not --netlink.buffer).
has() { grep -qE -- "(^|[^a-zA-Z.-])$2([^a-zA-Z.-]|\$)" <<<"$1"; }

# ctcollectd: the parser's table, {"--flag", ...} entries of kFlags.
daemon_help=$("$1" --help)
[ -n "$daemon_help" ] || fail "ctcollectd --help printed nothing"
daemon_page=$(text "$dir/ctcollectd.8")
readme=$(cat "$root/README.md")
mapfile -t daemon_flags < <(grep -oE '^ *\{"--[a-z][a-z.-]+"' "$root/collector/config/options.cc" |
  grep -oE -- '--[a-z][a-z.-]+' | sort -u)
((${#daemon_flags[@]} >= 20)) || fail "found only ${#daemon_flags[@]} flags in options.cc's table"
for flag in "${daemon_flags[@]}" --help --version; do
  has "$daemon_help" "$flag" || fail "ctcollectd --help lacks $flag"
  has "$daemon_page" "$flag" || fail "ctcollectd.8 lacks $flag"
  has "$readme" "$flag" || fail "README.md lacks $flag"
done
for flag in $(grep -oE -- '--[a-z][a-z.-]+' <<<"$daemon_help" | sort -u); do
  has "$daemon_page" "$flag" || fail "ctcollectd.8 lacks $flag (from --help)"
done

# ctcollect: the words its parser compares arguments with (f == "-s", ...).
client_help=$("$2" -h)
[ -n "$client_help" ] || fail "ctcollect -h printed nothing"
client_page=$(text "$dir/ctcollect.8")
mapfile -t client_flags < <(grep -oE 'f == "[^"]+"|rfind\("--[a-z.-]+"' "$root/client/client_options.cc" |
  grep -oE '"[^"]+"' | tr -d '"' | sort -u)
((${#client_flags[@]} >= 20)) || fail "found only ${#client_flags[@]} flags in client_options.cc"
for flag in "${client_flags[@]}"; do
  case $flag in --help | --version | -y) continue ;; esac  # aliases of -h, -v, --yes
  has "$client_help" "$flag" || fail "ctcollect -h lacks $flag"
  has "$client_page" "$flag" || fail "ctcollect.8 lacks $flag"
done
for flag in $(grep -oE -- '(^| )-[a-zA-Z]\b|--[a-z][a-z.-]+' <<<"$client_help" | tr -d ' ' | sort -u); do
  has "$client_page" "$flag" || fail "ctcollect.8 lacks $flag (from -h)"
done
exit "$status"
