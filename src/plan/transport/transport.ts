/**
 * How a guest script reaches the guest. A transport is bash that defines the function
 * `guest_exec`: it reads one guest script (sh for Linux, PowerShell for Windows) on stdin,
 * runs it in the guest, prints the guest's stdout on stdout and stderr on stderr, and
 * returns the guest's exit code. Host-side scripts (a guest step, the benchmark loop) call it.
 * With OL_GUEST_PID_FILE set, guest_exec writes there what `guest_stop PIDFILE` needs to end
 * the guest's process after the host gave up on it.
 */
export interface Transport {
  /** e.g. `qemu-guest-agent via virsh`, `ssh root@10.77.0.10`. */
  readonly description: string;
  /** Bash text defining `guest_exec`. */
  readonly functionDefinition: string;
}
