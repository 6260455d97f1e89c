#!/usr/bin/env bash
# Installs the Debian 12 packages ctcollect builds and tests with.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git
  libmnl-dev libnetfilter-conntrack-dev libnetfilter-cttimeout-dev
  prometheus-cpp-dev libcivetweb-dev libyaml-cpp-dev libsystemd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  conntrack conntrackd nftables iproute2 prometheus curl procps tmux socat util-linux bc
  clang libclang-rt-14-dev iputils-ping python3
  ccache nfct iptables python3-pyftpdlib systemd libssl-dev openssl chromium
  man-db groff-base dpkg-dev bsdextrautils nlohmann-json3-dev
  containerd runc busybox-static
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm validate the Kubernetes manifests (tests/deploy). A node
# installed from elsewhere (NodeSource bundles npm) is used as it is: asking
# apt for Debian's npm beside it would conflict.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
