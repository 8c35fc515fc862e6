#!/usr/bin/env bash
# All set-up on a fresh Debian 12 machine: system packages (as root), then the npm lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the lab needs on a KVM host and what the tests run for real.
PACKAGES=(
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system libvirt-clients
  qemu-system-x86 qemu-utils dnsmasq-base
  iperf3 ethtool iproute2 tshark
  debootstrap openssh-server openssh-client
  chromium procps kmod libxml2-utils iputils-ping busybox
)

installed() { dpkg-query -W -f='${Status}\n' "${PACKAGES[@]}" 2>/dev/null | grep -c '^install ok installed$'; }
if [ "$(installed)" = "${#PACKAGES[@]}" ]; then
  echo "setup: Debian packages already installed" >&2
elif [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${PACKAGES[@]}"
else
  echo "setup: not root, system packages not installed (${PACKAGES[*]})" >&2
fi

npm ci --no-audit --no-fund
