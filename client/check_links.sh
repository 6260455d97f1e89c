#!/usr/bin/env bash
# The client talks to a UNIX socket: it must not drag the daemon's libraries
# (TLS, systemd, cttimeout) onto every box that only runs `ctcollect -s`.
set -euo pipefail
bin=$1
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "$bin needs: $(echo $needed)"
bad=$(echo "$needed" | grep -E '^(libssl|libcrypto|libsystemd|libnetfilter_cttimeout)\.' || true)
if [ -n "$bad" ]; then
  echo "FAIL: the client links $(echo $bad)" >&2
  exit 1
fi
