import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { LabConfig } from "../../src/config/model";
import { loadStack } from "../../src/config/stackFile";

const ROOT = path.resolve(__dirname, "..", "..");

/** What makes a stack a sandbox stack: the host it reaches and the guest's name (its overlay and MAC follow). */
function withoutHostAndName(cfg: LabConfig): unknown {
  const { stack: _stack, host: _host, secrets: _secrets, guest, ...rest } = cfg;
  const { name: _name, overlayPath: _overlay, mac: _mac, ...sameGuest } = guest;
  return { ...rest, guest: sameGuest };
}

describe("the sandbox stacks are the Linux USO stacks on the sandbox host", () => {
  // The tests and the main job bring up sandbox-uso-*; what they prove holds for linux-uso-*
  // only while the two pairs ask for the same lab.
  it.each(["off", "on"])("sandbox-uso-%s differs from linux-uso-%s only in host and guest name", (uso) => {
    const sandbox = loadStack(ROOT, `sandbox-uso-${uso}`);
    expect(sandbox.host).toMatchObject({ connection: "ssh", address: "10.203.77.2", user: "root" });
    expect(withoutHostAndName(sandbox)).toEqual(withoutHostAndName(loadStack(ROOT, `linux-uso-${uso}`)));
  });
});

describe("sandbox-ssh is sandbox-uso-on reached over SSH, small", () => {
  it("differs from sandbox-uso-on only in guest access, its key, one repetition (and the MAC its name derives)", () => {
    const ssh = loadStack(ROOT, "sandbox-ssh");
    const agent = loadStack(ROOT, "sandbox-uso-on");
    expect(ssh.guest.access).toBe("ssh");
    expect(ssh.guest.ssh).toEqual({ user: "root", port: 22, address: "10.77.0.10", authorizedKey: undefined });
    expect(ssh.secrets.guestSshPrivateKey).toEqual({ key: "offload-lab:guestSshPrivateKey" });
    expect(ssh.matrix).toMatchObject({ payloads: [1472], senders: ["plain", "gso"], repetitions: 1 });
    const same = (c: LabConfig) => {
      const { stack: _s, secrets: _k, guest, matrix, ...rest } = c;
      const { access: _a, mac: _m, ...sameGuest } = guest;
      const { repetitions: _r, ...sameMatrix } = matrix;
      return { ...rest, guest: sameGuest, matrix: sameMatrix };
    };
    expect(same(ssh)).toEqual(same(agent));
  });
});
