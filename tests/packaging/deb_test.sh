#!/usr/bin/env bash
# The Debian package, built from this build tree, installed on this
# machine, run, and purged: the files are where they belong, the
# dependencies are computed, the daemon starts from its installed config,
# the unit verifies, and nothing is left after a purge. Needs root and
# dpkg; exits 77 (skipped) without them, or 1 (failed) when CI=true: a CI
# run must not turn green by skipping.
# Usage: deb_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
skip() {
  if [ "${CI:-}" = true ]; then echo "FAIL: CI=true and this test cannot run: $*" >&2; exit 1; fi
  echo "skip: $*"; exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v dpkg >/dev/null && command -v cpack >/dev/null || skip "no dpkg/cpack"
work=$(mktemp -d /tmp/ctcollect-deb.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  dpkg --purge ctcollect >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# A left-over of an earlier run of this test goes first.
dpkg -s ctcollect >/dev/null 2>&1 && dpkg --purge ctcollect >/dev/null
(cd "$build" && cpack -G DEB -B "$work" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack"; }
deb=$(ls "$work"/ctcollect_*.deb)
contents=$(dpkg-deb -c "$deb")
for f in ./usr/sbin/ctcollectd ./usr/sbin/ctcollect \
         ./usr/lib/systemd/system/ctcollectd.service \
         ./etc/ctcollectd/ctcollectd.conf \
         ./usr/share/man/man8/ctcollectd.8 ./usr/share/man/man8/ctcollect.8 \
         ./usr/share/ctcollect/dashboards/ctcollect.json \
         ./usr/share/ctcollect/dashboards/alerts.yml \
         ./usr/share/ctcollect/dashboards/rules.yml; do
  grep -qF " $f" <<<"$contents" || fail "$f missing from the package"
done
info=$(dpkg-deb -I "$deb")
for dep in libmnl0 libnetfilter-conntrack3 libcivetweb libyaml-cpp; do
  grep -q "Depends:.*$dep" <<<"$info" || fail "Depends lacks $dep: $info"
done
grep -q "/etc/ctcollectd/ctcollectd.conf" <<<"$(dpkg-deb -e "$deb" "$work/ctl" && cat "$work/ctl/conffiles")" ||
  fail "the config is not a conffile"

dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
/usr/sbin/ctcollectd --version | grep -q "^ctcollectd " || fail "ctcollectd --version"
/usr/sbin/ctcollect -h | grep -q "^Usage: ctcollect" || fail "ctcollect -h"
man -w ctcollectd >/dev/null || fail "man -w ctcollectd"
# The installed daemon starts from the installed config.
port=$((30000 + $$ % 20000))
/usr/sbin/ctcollectd --config=/etc/ctcollectd/ctcollectd.conf \
  --web.listen-address="127.0.0.1:$port" --control.socket="$work/ctl.sock" \
  >"$work/daemon.log" 2>&1 &
pid=$!
ready=0
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && { ready=1; break; }
  sleep 0.1
done
((ready)) || { cat "$work/daemon.log"; fail "the installed daemon did not become ready"; }
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
# The unit verifies against the installed binary. This machine does not
# boot systemd: only complaints about missing system units are tolerated.
verify=$(systemd-analyze verify /usr/lib/systemd/system/ctcollectd.service 2>&1 || true)
bad=$(grep -v -e "sysinit.target" -e "^$" <<<"$verify" || true)
[ -z "$bad" ] || fail "systemd-analyze verify: $bad"

dpkg --purge ctcollect >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "purge"; }
for f in /usr/sbin/ctcollectd /usr/sbin/ctcollect /etc/ctcollectd \
         /usr/lib/systemd/system/ctcollectd.service; do
  [ ! -e "$f" ] || fail "$f left after purge"
done
echo "deb_test: $(basename "$deb") built, installed, started, verified, purged"
