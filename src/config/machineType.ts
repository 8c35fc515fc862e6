/**
 * Whether a QEMU machine type keeps virtio-net USO, judged from its name alone.
 *
 * Upstream QEMU turns host_uso, guest_uso4 and guest_uso6 off on machine types 8.1 and older
 * (hw_compat_8_1 in hw/core/machine.c); RHEL's qemu-kvm turns USO off on pc-q35-rhel9.6.0 and
 * older RHEL machine types (RHEL-80313). An alias (q35, pc) or another family says nothing by
 * its name: the guest-domain step resolves and judges it on the host, with the same thresholds
 * (src/plan/guest-domain/machine-lib.sh).
 */
export interface MachineUsoVerdict {
  /** true: keeps USO; false: turns it off; null: the name alone cannot tell. */
  readonly keepsUso: boolean | null;
  readonly why: string;
}

const UPSTREAM = /^pc-(?:q35|i440fx)-(\d+)\.(\d+)(?:\.\d+)?$/;
const RHEL = /^pc-(?:q35|i440fx)-rhel(\d+)\.(\d+)\.(\d+)$/;

const atLeast = (have: readonly number[], want: readonly number[]): boolean => {
  for (let i = 0; i < want.length; i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
};

export const UPSTREAM_USO_SINCE = [8, 2] as const;
export const RHEL_USO_SINCE = [10, 0, 0] as const;

export function machineUsoVerdict(name: string): MachineUsoVerdict {
  const up = UPSTREAM.exec(name);
  if (up !== null) {
    const keeps = atLeast([Number(up[1]), Number(up[2])], UPSTREAM_USO_SINCE);
    return { keepsUso: keeps, why: keeps ? "upstream machine types from 8.2 keep USO" : "upstream QEMU machine types 8.1 and older set host_uso, guest_uso4 and guest_uso6 off (hw_compat_8_1); use pc-q35-8.2 or newer" };
  }
  const rhel = RHEL.exec(name);
  if (rhel !== null) {
    const keeps = atLeast([Number(rhel[1]), Number(rhel[2]), Number(rhel[3])], RHEL_USO_SINCE);
    return { keepsUso: keeps, why: keeps ? "RHEL machine types from rhel10.0.0 keep USO" : "RHEL-80313 turned USO off on pc-q35-rhel9.6.0 and older RHEL machine types; use pc-q35-rhel10.0.0 or newer" };
  }
  return { keepsUso: null, why: `${name} is an alias or another family: the host resolves it` };
}
