# shellcheck shell=bash
# The guest's machine type, chosen on the KVM host: the newest q35 type that keeps virtio-net
# USO. Upstream QEMU turns host_uso/guest_uso4/guest_uso6 off on machine types 8.1 and older
# (hw_compat_8_1); RHEL's qemu-kvm turns USO off on pc-q35-rhel9.6.0 and older (RHEL-80313).
# The same thresholds as src/config/machineType.ts, which judges a name before any host is
# reached; these judge what the host really has, aliases resolved.
#
# ol_machines_from_help: `qemu-system-x86_64 -machine help` on stdin, names on stdout, one a line.
# ol_machines_from_capabilities FILE: the x86_64 machine names of `virsh capabilities` XML.
# ol_machine_uso NAME: prints keeps, off or unknown (an alias or another family).
# ol_newest_uso_q35: names on stdin; prints the newest q35 type that keeps USO, or nothing.

# shellcheck disable=SC2317 # a library: the tests call what the step does not
ol_machines_from_help() {
  # The first line is "Supported machines are:"; then "NAME  description".
  awk 'NR > 1 && NF > 0 { print $1 }'
}

# shellcheck disable=SC2317
ol_machines_from_capabilities() {
  xmlstarlet sel -t -m "/capabilities/guest[arch/@name='x86_64']/arch//machine" -v . -n "$1" | sort -u
}

# ol_version_at_least HAVE WANT: whether dotted version HAVE >= WANT.
# shellcheck disable=SC2317
ol_version_at_least() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | sed -n 1p)" = "$2" ]
}

# shellcheck disable=SC2317
ol_machine_uso() {
  local name=$1 version
  case $name in
    pc-q35-rhel[0-9]*.[0-9]*.[0-9]* | pc-i440fx-rhel[0-9]*.[0-9]*.[0-9]*)
      version=${name##*-rhel}
      if ol_version_at_least "$version" 10.0.0; then echo keeps; else echo off; fi
      ;;
    pc-q35-[0-9]*.[0-9]* | pc-i440fx-[0-9]*.[0-9]*)
      version=${name##*-}
      if ol_version_at_least "$version" 8.2; then echo keeps; else echo off; fi
      ;;
    *) echo unknown ;;
  esac
}

# shellcheck disable=SC2317
ol_newest_uso_q35() {
  local name
  while IFS= read -r name; do
    if [[ $name == pc-q35-* ]] && [ "$(ol_machine_uso "$name")" = keeps ]; then
      # The version first, so sort -V orders the types; RHEL's (rhel10.0.0) and upstream's
      # (10.0) never share a host.
      printf '%s %s\n' "${name#pc-q35-}" "$name"
    fi
  done | sort -V | sed -n '$p' | cut -d ' ' -f 2
}
