import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { SecretValue } from "../../src/config/secret";
import { listStacks, loadStack } from "../../src/config/stackFile";
import { validateLab, type RawSettings } from "../../src/config/validate";
import { offloadSteps } from "../../src/plan/offload/steps";
import { transportFor } from "../../src/plan/transport";
import { expectGolden } from "../support/golden";

// The guest steps' parts (guest-check, netkvm-install, guest-offloads: goldens, hostile
// strings, JSON encoding, triggers, SSH secrets) moved beside them under src/plan/.

const PROJECT = path.join(__dirname, "..", "..");

describe("host-offloads of every stack (golden files)", () => {
  for (const stack of listStacks(PROJECT)) {
    it(stack, () => {
      const cfg = loadStack(PROJECT, stack);
      const step = offloadSteps(cfg, transportFor(cfg)).find((s) => s.name === "host-offloads")!;
      expectGolden(`offload/${stack}/${step.name}.${step.language}`, step.create);
      expectGolden(`offload/${stack}/${step.name}.delete.sh`, step.delete!);
    });
  }
});

const WINDOWS: RawSettings = {
  guest: { os: "windows", name: "w", baseImage: "/w.qcow2", virtioWinIso: "/v.iso" },
};
const LINUX: RawSettings = { guest: { os: "linux", name: "l", baseImage: "/l.qcow2" } };

describe("host-offloads triggers", () => {
  const triggers = (raw: RawSettings) => {
    const cfg = validateLab("t", raw);
    return Object.fromEntries(offloadSteps(cfg, transportFor(cfg)).map((s) => [s.name, s.triggers]));
  };

  it("do not change when a guest offload or the MTU changes", () => {
    const base = triggers({ ...WINDOWS, guestOffloads: { uso: { ipv4: false } } });
    for (const changed of [
      { ...WINDOWS, guestOffloads: { uso: { ipv4: true } } },
      { ...WINDOWS, guestOffloads: { uso: { ipv4: false }, mtu: 9000 } },
      { ...WINDOWS, guestOffloads: { uso: { ipv4: false }, checksum: { udpv4: "tx" } } },
    ]) {
      expect(triggers(changed)["host-offloads"]).toEqual(base["host-offloads"]);
    }
  });

  it("change when a host offload changes", () => {
    const base = triggers(LINUX);
    const t = triggers({ ...LINUX, hostOffloads: { tap: { "tx-udp-segmentation": "off" } } });
    expect(t["host-offloads"]).not.toEqual(base["host-offloads"]);
  });

  it("host-offloads gets no guest secret", () => {
    const cfg = validateLab("t", {
      guest: { ...(LINUX.guest as Record<string, unknown>), access: "ssh" },
      network: { mode: "dedicated", cidr: "10.77.0.0/24" },
      guestSshPrivateKey: new SecretValue("offload-lab:guestSshPrivateKey"),
    });
    expect(offloadSteps(cfg, transportFor(cfg)).find((s) => s.runsOn === "host")!.secretEnv).toBeUndefined();
  });
});
