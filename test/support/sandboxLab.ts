import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "vitest";
import type { Libvirtd } from "../../src/sandbox/libvirtd";

/** What the sandbox stacks (stacks/Pulumi.sandbox-*.yaml) make on the sandbox host. */
export const SANDBOX_DOMAIN = "sandbox-lab";

/** The guest's overlay as seen from this machine: the sandbox's /var/lib/libvirt/images is its own folder. */
export function sandboxOverlay(lv: Libvirtd): string {
  return path.join(lv.dir, "lib", "images", "sandbox-lab-overlay.qcow2");
}

/** Nothing of a sandbox stack is left on its host: domain, network, overlay, tap, bridge, iperf3. */
export function expectSandboxLabGone(lv: Libvirtd): void {
  expect(lv.virsh(["list", "--all", "--name"]).trim()).toBe("");
  expect(lv.virsh(["net-list", "--all", "--name"])).not.toContain("offload-lab");
  expect(fs.existsSync(sandboxOverlay(lv))).toBe(false);
  expect(() => lv.exec(["ip", "link", "show", "tap0"])).toThrow();
  expect(() => lv.exec(["ip", "link", "show", "olbr0"])).toThrow();
  // Only the sandbox's own: other labs on this machine run iperf3 in their namespaces.
  const iperf3 = 'for p in $(pgrep -x iperf3); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo $p; done; true';
  expect(lv.exec(["bash", "-c", iperf3]).trim()).toBe("");
}

/** Times each phase of a test file, for the line it prints at the end. */
export class PhaseTimes {
  private readonly seconds: [string, number][] = [];

  async timed<T>(what: string, f: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try {
      return await f();
    } finally {
      this.seconds.push([what, (Date.now() - start) / 1000]);
    }
  }

  toString(): string {
    return this.seconds.map(([w, s]) => `${w} ${s.toFixed(1)} s`).join(", ");
  }
}
