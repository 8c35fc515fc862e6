import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { everyStack, PROJECT } from "../../test/support/stacks";
import { labFingerprint, type LabEvidence } from "./fingerprint";
import { parseDomainOutput } from "./guest-domain/output";
import { parseHostReadiness } from "./host-readiness/output";
import { parseIperf3Server } from "./iperf3-server/output";
import type { NetkvmInstallReadBack } from "./netkvm-install/output";
import { planLab } from "./lab";

// The fingerprint from the steps' read-backs of a real run of sandbox-uso-on (on the sandbox
// host with firewalld: test/engine/firewallLab.test.ts, the newest recording of every step).
const RECORDED = path.join(PROJECT, "test", "fixtures", "stdout", "sandbox-firewalld");
const recorded = (step: string) => fs.readFileSync(path.join(RECORDED, `${step}.out`), "utf8");
const cfg = everyStack().find((c) => c.stack === "sandbox-uso-on")!;
const plan = planLab(cfg);

function evidence(over: Partial<LabEvidence> = {}): LabEvidence {
  return {
    host: parseHostReadiness(recorded("host-readiness")),
    domain: parseDomainOutput(recorded("guest-domain")),
    netkvmInstall: null,
    guestOffloads: plan.guestOffloads.parse(recorded("guest-offloads")),
    hostOffloads: plan.hostOffloads.parse(recorded("host-offloads")),
    server: parseIperf3Server(recorded("iperf3-server")),
    guestIperf3: "iperf 3.22",
    ...over,
  };
}

describe("the lab's fingerprint", () => {
  it("records the machine type the guest runs (the host's choice, an alias resolved), not the configured name", () => {
    const domain = { ...parseDomainOutput(recorded("guest-domain")), machineType: "pc-q35-10.0", machineTypeFrom: "host" as const };
    const chosen = labFingerprint(cfg, evidence({ domain }));
    expect(chosen.machineType).toBe("pc-q35-10.0");
    // The recorded run named q35, which libvirt resolved to this QEMU's newest q35 type.
    expect(labFingerprint(cfg, evidence()).machineType).toBe("pc-q35-10.0");
    const other = { ...parseDomainOutput(recorded("guest-domain")), machineType: "pc-q35-9.2" };
    expect(labFingerprint(cfg, evidence({ domain: other })).digest).not.toBe(chosen.digest);
  });

  it("records the virtio-win version netkvm-install installed; null when the lab did not install NetKVM", () => {
    expect(labFingerprint(cfg, evidence()).virtioWinVersion).toBeNull();
    const installed: NetkvmInstallReadBack = {
      inf: "E:\\NetKVM\\w11\\amd64\\netkvm.inf", infDriverVersion: "100.100.104.27100", isoLabel: "virtio-win-0.1.271", virtioWinVersion: "0.1.271",
      windows: "Microsoft Windows 11 Pro (build 26100)", pnputilExitCode: 0, rebootRequired: false, pnputilOutput: "", adapter: "Ethernet",
      driverVersion: "100.100.104.27100", driverDate: "5-14-2025",
    };
    expect(labFingerprint(cfg, evidence({ netkvmInstall: installed })).virtioWinVersion).toBe("0.1.271");
  });
});
