#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: unit tests and the
# integration tests against the real kernel (they make their own network
# namespaces; without root they skip and say why).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build build/dev -j"$(nproc)"
ctest --preset dev -j1 --timeout 600
