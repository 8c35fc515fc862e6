#!/usr/bin/env bash
# Builds the small Debian guest the lab tests boot: debian-guest.qcow2 (a bare ext4 root
# filesystem, so `root=/dev/vda` works), vmlinuz and initrd.img for direct kernel boot with
#   root=/dev/vda rw console=ttyS0 net.ifnames=0
# Debian 13 (trixie) with its 6.12 kernel, plus the packages packages.txt pins from sid
# (iperf3 3.22 for --gsro). versions.txt lists every installed package and version.
#
# usage: build.sh [OUTDIR]
#   Outputs are cached in $OFFLOAD_LAB_IMAGE_CACHE/<hash>/ (default
#   /var/cache/offload-lab/guest-image), keyed by this script, packages.txt, the mirror, the
#   suites and the guest network mode; OUTDIR (optional) receives a copy.
#   stdout: one JSON line {dir, baseImage, kernel, initrd, cacheHit, seconds, hash}.
#   stderr: progress.
# env:
#   OFFLOAD_LAB_IMAGE_CACHE   cache root
#   OFFLOAD_LAB_DEBIAN_MIRROR mirror URI (default: the one this machine's apt uses)
#   OFFLOAD_LAB_GUEST_NET     dhcp (default: systemd-networkd DHCPv4, MTU from DHCP and from
#                             virtio host_mtu) | static (10.77.0.10/24 via 10.77.0.1, mtu 9000)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUITE=trixie
# Only the packages packages.txt names as `sid NAME=VERSION` come from here.
PIN_SUITE=sid
CACHE_ROOT="${OFFLOAD_LAB_IMAGE_CACHE:-/var/cache/offload-lab/guest-image}"
GUEST_NET="${OFFLOAD_LAB_GUEST_NET:-dhcp}"
OUTDIR="${1:-}"
START=$(date +%s.%N)

log() { printf 'guest-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
elapsed() { awk -v s="$START" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

case "$GUEST_NET" in dhcp|static) ;; *) die "OFFLOAD_LAB_GUEST_NET must be dhcp or static, not '$GUEST_NET'" ;; esac

# The first deb URI serving this machine's own suite in apt's sources: the only archive
# reachable from CI. The same archive serves trixie and sid.
# shellcheck disable=SC1091 # the build host's own release file, read where it runs
HOST_SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
apt_mirror() {
  local f suite="$HOST_SUITE"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk -v suite="$suite" '
      $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                    if ($(i+1) == suite) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk -v suite="$suite" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uri != "") { print uri; found = 1 }
                         types = ""; suites = ""; uri = "" }
      /^[ \t]*$/ { flush(); if (found) exit; next }
      /^Types:/  { sub(/^Types:[ \t]*/, ""); types = $0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^URIs:/   { sub(/^URIs:[ \t]*/, ""); split($0, u, /[ \t]+/); uri = u[1] }
      END { if (!found) flush() }' "$f"
  done
}
MIRROR="${OFFLOAD_LAB_DEBIAN_MIRROR:-$(apt_mirror | head -n1)}"
[[ -n "$MIRROR" ]] || die "no deb source for '$HOST_SUITE' in /etc/apt/sources.list{,.d}; set OFFLOAD_LAB_DEBIAN_MIRROR"

# packages.txt: NAME (from $SUITE) or `sid NAME=VERSION` (from $PIN_SUITE, exact version).
mapfile -t PACKAGES < <(sed -e 's/#.*//' "$HERE/packages.txt" | awk 'NF == 1 { print $1 }')
mapfile -t PINNED < <(sed -e 's/#.*//' "$HERE/packages.txt" | awk -v s="$PIN_SUITE" 'NF == 2 && $1 == s { print $2 }')
bad=$(sed -e 's/#.*//' "$HERE/packages.txt" | awk -v s="$PIN_SUITE" 'NF > 2 || (NF == 2 && ($1 != s || $2 !~ /^[a-z0-9.+-]+=[A-Za-z0-9.+~:-]+$/))')
[[ -z "$bad" ]] || die "packages.txt: '$bad' is neither NAME nor '$PIN_SUITE NAME=VERSION'"
HASH=$( { sha256sum "$HERE/build.sh" "$HERE/packages.txt" | cut -d' ' -f1
          printf '%s\n' "$MIRROR" "$SUITE" "$PIN_SUITE" "$GUEST_NET"; } | sha256sum | cut -c1-16)
CACHE="$CACHE_ROOT/$HASH"

result() {
  local dir="$1" hit="$2"
  if [[ -n "$OUTDIR" ]]; then
    mkdir -p -- "$OUTDIR"
    cp --reflink=auto -- "$dir/debian-guest.qcow2" "$dir/vmlinuz" "$dir/initrd.img" \
      "$dir/versions.txt" "$dir/manifest.json" "$OUTDIR/"
    dir="$(cd -- "$OUTDIR" && pwd)"
  fi
  local secs; secs=$(elapsed)
  if [[ "$hit" == true ]]; then log "cache hit $HASH: ready in ${secs}s ($dir)"
  else log "cache miss $HASH: built in ${secs}s ($dir)"; fi
  jq -nc --arg dir "$dir" --argjson hit "$hit" --argjson secs "$secs" --arg hash "$HASH" \
    '{dir: $dir, baseImage: "\($dir)/debian-guest.qcow2", kernel: "\($dir)/vmlinuz", initrd: "\($dir)/initrd.img", cacheHit: $hit, seconds: $secs, hash: $hash}'
}

mkdir -p "$CACHE_ROOT"
# One builder per hash; a second caller waits and then finds the finished cache entry.
exec 9>"$CACHE_ROOT/.lock-$HASH"
flock 9
if [[ -f "$CACHE/complete" ]]; then result "$CACHE" true; exit 0; fi

[[ $EUID -eq 0 ]] || die "building needs root (debootstrap, chroot)"
for tool in debootstrap mkfs.ext4 qemu-img chroot jq; do
  command -v "$tool" >/dev/null || die "$tool not installed"
done

log "building $HASH: debian $SUITE from $MIRROR, pinned from $PIN_SUITE: ${PINNED[*]}, network $GUEST_NET"

WORK="$(mktemp -d "$CACHE_ROOT/.build-$HASH.XXXXXX")"
ROOT="$WORK/rootfs"
cleanup() {
  # A failed chroot step can leave debootstrap's mounts behind; never delete through them.
  local m
  for m in proc sys dev/pts dev; do mountpoint -q "$ROOT/$m" 2>/dev/null && umount -l "$ROOT/$m"; done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

DEBS="$CACHE_ROOT/debs"
mkdir -p "$DEBS"
include=$(IFS=,; echo "${PACKAGES[*]}")
log "debootstrap --variant=minbase ($(elapsed)s)"
debootstrap --variant=minbase --components=main --cache-dir="$DEBS" \
  --include="$include" "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }

log "configuring the guest ($(elapsed)s)"
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

# The pinned packages, by apt inside the guest: $PIN_SUITE at priority 1, so only what is named
# with its exact version comes from there and every dependency trixie can satisfy stays trixie's.
# sid's Release has a short Valid-Until that these machines' clocks read as expired.
if (( ${#PINNED[@]} )); then
  log "installing ${PINNED[*]} from $PIN_SUITE ($(elapsed)s)"
  cat >"$ROOT/etc/apt/sources.list.d/offload-lab-pin.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $PIN_SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  printf 'Package: *\nPin: release n=%s\nPin-Priority: 1\n' "$PIN_SUITE" >"$ROOT/etc/apt/preferences.d/offload-lab-pin"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  mount -t proc proc "$ROOT/proc"
  # shellcheck disable=SC2016 # ${Package} is dpkg-query's format field, not the shell's
  in_root dpkg-query -W -f '${Package}\t${Version}\n' | LC_ALL=C sort >"$WORK/before.tsv"
  apt_opts=(-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -o Dpkg::Use-Pty=false)
  { in_root apt-get "${apt_opts[@]}" update && in_root apt-get "${apt_opts[@]}" install -y "${PINNED[@]}"; } \
    >"$WORK/pinned.log" 2>&1 || { tail -n 30 "$WORK/pinned.log" >&2; die "installing ${PINNED[*]} failed"; }
  # shellcheck disable=SC2016 # ${Package} is dpkg-query's format field, not the shell's
  in_root dpkg-query -W -f '${Package}\t${Version}\n' | LC_ALL=C sort >"$WORK/after.tsv"
  umount "$ROOT/proc"
  # Anything trixie had installed whose version changed came from sid: refuse the mixed image.
  upgraded=$(LC_ALL=C join -t $'\t' "$WORK/before.tsv" "$WORK/after.tsv" | awk -F'\t' '$2 != $3 { print $1 " " $2 " -> " $3 }')
  [[ -z "$upgraded" ]] || die "pinning ${PINNED[*]} would upgrade trixie packages: $upgraded"
  for pin in "${PINNED[@]}"; do
    grep -qxF "${pin%%=*}"$'\t'"${pin#*=}" "$WORK/after.tsv" || die "$pin is not what got installed"
  done
  rm -f "$ROOT/etc/apt/sources.list.d/offload-lab-pin.sources" "$ROOT/etc/apt/preferences.d/offload-lab-pin"
  : >"$ROOT/etc/resolv.conf"
fi

echo offload-guest >"$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 offload-guest\n' >"$ROOT/etc/hosts"
# No fsck pass: the overlay is fresh each run and fsck costs seconds under TCG.
echo '/dev/vda / ext4 rw,noatime 0 0' >"$ROOT/etc/fstab"
in_root passwd -d root >/dev/null
# systemd generates a transient machine id at each boot, so clones do not share one.
: >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"

# Password-less root shell on the serial console.
mkdir -p "$ROOT/etc/systemd/system/serial-getty@ttyS0.service.d"
cat >"$ROOT/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM
EOF

# eth0 (net.ifnames=0). The lab's network hands the guest's MAC 10.77.0.10 by a DHCP host
# entry; the MTU also arrives as virtio host_mtu from <interface><mtu size='9000'/>.
if [[ "$GUEST_NET" == dhcp ]]; then
  cat >"$ROOT/etc/systemd/network/20-eth0.network" <<'EOF'
[Match]
Name=eth0

[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no

[DHCPv4]
# libvirt's dnsmasq host entries match the MAC; a DUID client id would depend on machine-id.
ClientIdentifier=mac
UseMTU=yes
EOF
else
  cat >"$ROOT/etc/systemd/network/20-eth0.network" <<'EOF'
[Match]
Name=eth0

[Link]
MTUBytes=9000

[Network]
Address=10.77.0.10/24
Gateway=10.77.0.1
LinkLocalAddressing=no
IPv6AcceptRA=no
EOF
fi
in_root systemctl enable systemd-networkd.service >/dev/null 2>&1

# Debian starts qemu-ga from a udev rule and binds it to the port's device unit, which udev
# announces tens of seconds into a TCG boot (and never, without its tag). Dependencies cannot
# be removed by a drop-in, so a unit of the same name in /etc replaces Debian's: it starts at
# the very beginning of boot and retries until the port exists.
cat >"$ROOT/etc/systemd/system/qemu-guest-agent.service" <<'EOF'
[Unit]
Description=QEMU Guest Agent (offload-lab: early, no udev dependency)
DefaultDependencies=no
Conflicts=shutdown.target
Before=shutdown.target
StartLimitIntervalSec=0

[Service]
ExecStart=/usr/local/sbin/offload-lab-qemu-ga
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
EOF
# The port's character device exists as soon as virtio_console (loaded by the initramfs) has
# probed it; udev's /dev/virtio-ports link comes tens of seconds later under TCG.
cat >"$ROOT/usr/local/sbin/offload-lab-qemu-ga" <<'EOF'
#!/bin/sh
for port in /sys/class/virtio-ports/*; do
  if [ "$(cat "$port/name" 2>/dev/null)" = org.qemu.guest_agent.0 ]; then
    exec /usr/sbin/qemu-ga --method=virtio-serial --path="/dev/${port##*/}"
  fi
done
echo "no virtio port named org.qemu.guest_agent.0 yet" >&2
exit 1
EOF
chmod 0755 "$ROOT/usr/local/sbin/offload-lab-qemu-ga"
mkdir -p "$ROOT/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/qemu-guest-agent.service \
  "$ROOT/etc/systemd/system/multi-user.target.wants/qemu-guest-agent.service"

# SSH for guest.access ssh, with no password logins and no lab's key in this shared image: a
# lab's guest gets root's key at boot as the systemd credential ssh.authorized_keys.root, which
# its domain carries in an SMBIOS OEM string (type 11, io.systemd.credential:…), PID 1 imports
# and systemd-tmpfiles-setup writes to /root/.ssh/authorized_keys (tmpfiles.d/provision.conf,
# systemd >= 252). Clones must not share a host key: the image has none, and sshd makes its
# ed25519 key on its first start (one type only: an RSA key takes seconds under TCG).
grep -q '^f^ /root/.ssh/authorized_keys .* ssh.authorized_keys.root$' "$ROOT/usr/lib/tmpfiles.d/provision.conf" \
  || die "systemd's tmpfiles.d/provision.conf does not provision root's authorized_keys from the credential ssh.authorized_keys.root"
rm -f "$ROOT"/etc/ssh/ssh_host_*
cat >"$ROOT/etc/ssh/sshd_config.d/offload-lab.conf" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
EOF
mkdir -p "$ROOT/etc/systemd/system/ssh.service.d"
cat >"$ROOT/etc/systemd/system/ssh.service.d/offload-lab-host-key.conf" <<'EOF'
[Service]
ExecStartPre=
ExecStartPre=/bin/sh -c 'test -s /etc/ssh/ssh_host_ed25519_key || exec /usr/bin/ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key'
ExecStartPre=/usr/sbin/sshd -t
EOF
in_root systemctl enable ssh.service >/dev/null 2>&1
[[ $(in_root systemctl is-enabled ssh.service) == enabled ]] || die "ssh.service is not enabled"

# Fast boot: nothing periodic, nothing waiting for the network to be "online", no persistent
# journal, none of the pseudo filesystems and early services a test guest never uses.
mkdir -p "$ROOT/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$ROOT/etc/systemd/journald.conf.d/volatile.conf"
for unit in systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
            dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
            logrotate.timer man-db.timer systemd-tmpfiles-clean.timer getty@tty1.service \
            systemd-timesyncd.service iperf3.service systemd-journal-flush.service getty-static.service \
            systemd-update-utmp.service systemd-update-utmp-runlevel.service \
            systemd-random-seed.service systemd-pstore.service systemd-binfmt.service \
            systemd-firstboot.service systemd-machine-id-commit.service kmod-static-nodes.service \
            dev-hugepages.mount dev-mqueue.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
            sys-kernel-config.mount sys-fs-fuse-connections.mount modprobe@configfs.service \
            modprobe@fuse.service modprobe@drm.service modprobe@efi_pstore.service \
            modprobe@dm_mod.service modprobe@loop.service; do
  ln -sf /dev/null "$ROOT/etc/systemd/system/$unit"
done
ln -sf /lib/systemd/system/multi-user.target "$ROOT/etc/systemd/system/default.target"

# virtio_blk and ext4 must be in the initramfs to reach root=/dev/vda; list them so the
# image does not depend on what initramfs-tools guesses from the build host.
cat >>"$ROOT/etc/initramfs-tools/modules" <<'EOF'
virtio_pci
virtio_blk
virtio_net
virtio_console
ext4
crc32c_generic
EOF
sed -i -e 's/^MODULES=.*/MODULES=list/' -e 's/^COMPRESS=.*/COMPRESS=zstd/' "$ROOT/etc/initramfs-tools/initramfs.conf"
KVER=$(basename "$(ls -d "$ROOT"/lib/modules/*)")
in_root update-initramfs -u -k "$KVER" >"$WORK/initramfs.log" 2>&1 \
  || { cat "$WORK/initramfs.log" >&2; die "update-initramfs failed"; }
in_root lsinitramfs "/boot/initrd.img-$KVER" >"$WORK/initramfs.list"
for mod in virtio_blk ext4; do
  if ! grep -q "/$mod.ko" "$ROOT/lib/modules/$KVER/modules.builtin" "$WORK/initramfs.list"; then
    die "$mod is neither built into $KVER nor in its initramfs"
  fi
done

# Small image: no package lists, archives, docs, man pages or foreign locales.
in_root apt-get clean
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/log/*.log \
       "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* \
       "$ROOT"/var/cache/man/* "$ROOT"/tmp/*
find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +

log "making the disk image ($(elapsed)s)"
OUT="$WORK/out"
mkdir -p "$OUT"
cp "$ROOT/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
cp "$ROOT/boot/initrd.img-$KVER" "$OUT/initrd.img"
used_mib=$(du -sm --one-file-system "$ROOT" | cut -f1)
size_mib=$(( (used_mib * 5 / 4 + 256 + 63) / 64 * 64 ))
(( size_mib < 1024 )) || die "root filesystem needs ${size_mib} MiB, over the 1 GiB budget"
mkfs.ext4 -q -F -L offload-guest -d "$ROOT" "$WORK/root.raw" "${size_mib}M" >&2
qemu-img convert -c -f raw -O qcow2 "$WORK/root.raw" "$OUT/debian-guest.qcow2"
# shellcheck disable=SC2016 # ${Package} is dpkg-query's format field, not the shell's
in_root dpkg-query -W -f '${Package}\t${Version}\n' | LC_ALL=C sort >"$OUT/versions.txt"
version_of() { awk -F'\t' -v p="$1" '$1 == p { print $2 }' "$OUT/versions.txt"; }
jq -n --arg hash "$HASH" --arg suite "$SUITE" --arg pinSuite "$PIN_SUITE" --arg mirror "$MIRROR" \
  --arg kernel "$KVER" --arg network "$GUEST_NET" --argjson rawMiB "$size_mib" --argjson usedMiB "$used_mib" \
  --arg linuxImage "$(version_of "linux-image-$KVER")" --arg iperf3 "$(version_of iperf3)" \
  --arg libiperf0 "$(version_of libiperf0)" --arg qemuGuestAgent "$(version_of qemu-guest-agent)" \
  --arg libc6 "$(version_of libc6)" --arg ethtool "$(version_of ethtool)" --arg iproute2 "$(version_of iproute2)" \
  --arg systemd "$(version_of systemd)" --arg opensshServer "$(version_of openssh-server)" \
  '{hash: $hash, suite: $suite, pinSuite: $pinSuite, mirror: $mirror, kernel: $kernel, network: $network,
    rawMiB: $rawMiB, usedMiB: $usedMiB,
    versions: {"linux-image": $linuxImage, iperf3: $iperf3, libiperf0: $libiperf0,
               "qemu-guest-agent": $qemuGuestAgent, libc6: $libc6, ethtool: $ethtool, iproute2: $iproute2,
               systemd: $systemd, "openssh-server": $opensshServer}}' \
  >"$OUT/manifest.json"
: >"$OUT/complete"
rm -rf "$CACHE"
mv "$OUT" "$CACHE"

# Keep the four newest entries; skip any whose build lock another caller holds.
{ ls -1dt "$CACHE_ROOT"/*/complete 2>/dev/null || true; } | tail -n +5 | while read -r done_file; do
  old="$(dirname "$done_file")"
  [[ "$old" != "$CACHE" ]] || continue
  ( flock -n 8 && rm -rf "$old" ) 8>"$CACHE_ROOT/.lock-$(basename "$old")" || true
done
result "$CACHE" false
