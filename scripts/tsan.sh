#!/usr/bin/env bash
# Builds the tsan preset (ThreadSanitizer) and runs the tests that exercise
# the daemon's threads: the unit tests (counter shards read while written,
# the flow tracker, the control protocol and server, the HTTP server and its
# front) and the integration tests where many clients meet a storm (and a
# thousand held connections, plain and TLS), where the control socket
# serves both protocols (ControlSocket.*, many clients at once among
# them), and where a watched namespace is deleted and comes back (the
# collector's supervisor swaps watchers under readers). It prints the list of
# tests it selected first, so a pattern that matches nothing shows. The
# daemon under test is the tsan build too, and stops at its first report
# (halt_on_error), which fails the test.
# Usage: sudo scripts/tsan.sh   (results: tests/bench/RESULTS.md, "TSan")
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset tsan >/dev/null
cmake --build build/tsan -j"$(nproc)"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
select='CounterShard|FlowTracker|TopTalkers|ControlProtocol|ControlServer|ControlSocket|HttpServer|HttpFront|WebFront|Concurrency|DaemonHttp|WebConfig\.Tls|Service\.Notifies|Faults\.DeletedNamespace|WorkerPool|Discovery'
ctest --test-dir build/tsan -N -R "$select"
ctest --test-dir build/tsan -j1 --timeout 600 --output-on-failure -R "$select"
