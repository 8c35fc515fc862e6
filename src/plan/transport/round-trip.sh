# shellcheck shell=bash
# ol_round_trip EXPECTED: runs the round-trip script read on stdin through guest_exec and
# fails the step unless the guest printed exactly EXPECTED. The script itself travels on the
# program's stdin (the Windows loader and `sh -s` both read it there, to its end), so its line
# coming back proves at once that the transport delivers stdin, closes it, and returns stdout.
# Everything after depends on that, and qemu-ga's delivery of guest-exec input-data on Windows
# has never run here (docs/windows-guest.md). OL_TRANSPORT names the transport for the message.
ol_round_trip() {
  local expected=$1 got rc=0 err
  err=$(mktemp)
  got=$(guest_exec 2>"$err") || rc=$?
  got=${got%$'\r'}
  if [[ $rc -ne 0 || $got != "$expected" ]]; then
    printf 'offload-lab: the first guest step could not run a one-line script through %s (exit %s, printed %q; stderr: %s)\n' \
      "$OL_TRANSPORT" "$rc" "$got" "$(tr '\n' ' ' <"$err")" >&2
    printf '%s\n' "offload-lab: the transport must deliver the script on the program's stdin, close it, and return its stdout. With guest.access agent: the QEMU guest agent must run in the guest (Windows: Get-Service QEMU-GA; install guest-agent\\qemu-ga-x86_64.msi from the virtio-win ISO, with vioserial) and pass guest-exec input-data to the program's stdin; if it does not, use guest.access ssh (docs/windows-guest.md). With ssh: the key, user and address must log in." >&2
    rm -f -- "$err"
    exit 1
  fi
  rm -f -- "$err"
}
