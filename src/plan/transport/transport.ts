/**
 * How a guest script reaches the guest: a typed value that says what it needs. Its bash
 * defines the function `guest_exec`, which reads one guest script (sh for Linux, PowerShell
 * for Windows) on stdin, runs it in the guest, prints the guest's stdout on stdout and stderr
 * on stderr, and returns the guest's exit code; host-side scripts (a guest step, the
 * benchmark loop) call it. With OL_GUEST_PID_FILE set, guest_exec writes there what
 * `guest_stop PIDFILE` needs to end the guest's process after the host gave up on it.
 */
export interface Transport {
  readonly kind: "agent" | "ssh" | "netns";
  /** e.g. `qemu-guest-agent of win-uso-lab via virsh -c qemu:///system`, `ssh root@10.77.0.10:22`. */
  readonly description: string;
  /** Bash text defining `guest_exec` and `guest_stop`. */
  readonly functionDefinition: string;
  /**
   * Secrets the host side must have in its environment, variable → config key (the guest's
   * SSH key): every step that runs this transport gets them.
   */
  readonly secretEnv: Readonly<Record<string, string>>;
  /** Programs it runs on the KVM host, for host-readiness to check first. */
  readonly hostTools: readonly string[];
}
