# shellcheck shell=bash
# guest_exec for tests only: the network namespace OL_NETNS stands in for a Linux guest.
: "${OL_NETNS:?}"
guest_exec() {
  ip netns exec "$OL_NETNS" sh -s
}
# guest_stop PIDFILE: the "guest" runs in the host's process group, which the deadline ended.
guest_stop() {
  return 0
}
