#!/usr/bin/env bash
# Installs what is missing, builds, and runs ctcollectd in the foreground
# against this machine's kernel, serving http://127.0.0.1:10034/.
# Extra arguments go to ctcollectd, e.g. --netns NAME.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build build/dev -j"$(nproc)" --target ctcollectd
exec ./build/dev/daemon/ctcollectd --web.listen-address=127.0.0.1:10034 "$@"
