#!/usr/bin/env bash
# All set-up on a fresh Debian 12 machine: system packages (as root), then the npm lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

# USO needs QEMU >= 8.2 (virtio-net host_uso/guest_uso4/guest_uso6) and libvirt >= 8.2
# (<qemu:override>); Debian 12 has QEMU 7.2, bookworm-backports QEMU 10.0 and libvirt 11.3.
BACKPORTS=(
  qemu-system-x86 qemu-utils
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system libvirt-clients
)
# What else the lab needs on a KVM host and what the tests run for real (firewalld and dbus-daemon:
# the sandbox host with RHEL's default firewall, test/engine/firewallLab.test.ts).
PACKAGES=(
  dnsmasq-base ovmf swtpm swtpm-tools
  iperf3 ethtool iproute2 tcpdump jq xmlstarlet python3-minimal
  debootstrap openssh-server openssh-client
  chromium procps kmod libxml2-utils iputils-ping busybox
  shellcheck firewalld dbus-daemon
)
SOURCES=/etc/apt/sources.list.d/bookworm-backports.sources

if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  cat >"$SOURCES" <<'SOURCES_END'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES_END
  apt-get update
  apt-get install -y --no-install-recommends -t bookworm-backports "${BACKPORTS[@]}"
  # firewalld is for the sandbox host's namespace only: a machine that did not run it before
  # must not start running it in its own namespace because setup installed it.
  firewalld_was=$(systemctl is-enabled firewalld 2>/dev/null || true)
  apt-get install -y --no-install-recommends "${PACKAGES[@]}"
  if [ -d /run/systemd/system ] && [ "$firewalld_was" != enabled ]; then
    systemctl disable --now firewalld || true
  fi
else
  echo "setup: not root, system packages not installed (${BACKPORTS[*]} from bookworm-backports; ${PACKAGES[*]})" >&2
fi

npm ci --no-audit --no-fund
