import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../config/model";
import { validateLab } from "../../config/validate";
import { expectGolden } from "../../../test/support/golden";
import { boundValue, shellcheck } from "../../../test/support/shellcheck";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import type { Step } from "../step";
import { dedicatedNetworkXml } from "./networkXml";
import { networkStep } from "./step";

const hostReadiness = { name: "host-readiness" } as Step;
const linuxBase = {
  libvirt: { domainType: "qemu" },
  network: { mode: "dedicated", name: "lab", bridge: "labbr0", cidr: "10.77.0.0/24", mtu: 9000 },
  guest: { os: "linux", name: "g1", baseImage: "/images/base.qcow2", kernel: "/images/vmlinuz", machineType: "q35" },
};
const hasTool = (t: string) => spawnSync("sh", ["-c", `command -v ${t}`]).status === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-network-plan-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function xmlFile(xml: string): string {
  const file = path.join(tmp, `n-${Math.random().toString(16).slice(2)}.xml`);
  fs.writeFileSync(file, xml);
  return file;
}

describe("the network step", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack} (${cfg.network.mode}): create, delete and XML match their golden files and are shellcheck-clean`, () => {
      const step = networkStep(cfg, { hostReadiness });
      expectGolden(`network/${cfg.stack}/create.sh`, step.create);
      expectGolden(`network/${cfg.stack}/delete.sh`, step.delete!);
      for (const doc of step.documents ?? []) expectGolden(`network/${cfg.stack}/${doc.file}`, doc.content);
      expect(shellcheck(step.create, "bash")).toEqual([]);
      expect(shellcheck(step.delete!, "bash")).toEqual([]);
    });
  }

  it("waits for host-readiness, on the host, and belongs to LabNetwork", () => {
    const step = networkStep(validateLab("t", linuxBase), { hostReadiness });
    expect([step.name, step.component, step.runsOn]).toEqual(["network", "LabNetwork", "host"]);
    expect(step.dependsOn).toEqual([hostReadiness]);
    expect(step.dependsOn[0]).toBe(hostReadiness);
  });

  it("writes the dedicated network's XML where its create reads it; adopt mode has none", () => {
    const dedicated = networkStep(validateLab("t", linuxBase), { hostReadiness });
    expect(dedicated.documents?.map((d) => d.file)).toEqual(["network.xml"]);
    expect(dedicated.create).toContain(`cat >"$WORK/network.xml" <<'OFFLOAD_LAB_DOCUMENT_END'\n${dedicated.documents![0]!.content}`);
    const adopt = networkStep(validateLab("t", { ...linuxBase, network: { mode: "adopt", mtu: 9000 } }), { hostReadiness });
    expect(adopt.documents).toBeUndefined();
    expect(adopt.effect.undo).toBe("gives network default its original definition and active state back, restarting it (its running guests are cut off again)");
  });

  it("edits an adopted network's XML with xmlstarlet only, never awk, sed or grep", () => {
    for (const cfg of everyStack().filter((c) => c.network.mode === "adopt")) {
      const step = networkStep(cfg, { hostReadiness });
      for (const script of [step.create, step.delete!]) {
        const xmlLines = script.split("\n").filter((l) => /\.xml|net-dumpxml/.test(l));
        expect(xmlLines.filter((l) => /\b(awk|sed|grep)\b/.test(l))).toEqual([]);
      }
    }
  });

  it("does not change when offloads, matrix, capture, iperf3 or NIC settings change", () => {
    const view = (cfg: LabConfig) => {
      const s = networkStep(cfg, { hostReadiness });
      return [s.triggers, s.create, s.delete];
    };
    const a = validateLab("t", linuxBase);
    const b = validateLab("t", {
      ...linuxBase,
      guest: { ...linuxBase.guest, virtioNetFeatures: { mrg_rxbuf: "off" } },
      guestOffloads: { uso: { ipv4: true, ipv6: false }, lso: { ipv4: false }, mtu: 1500, ethtool: { "rx-gro-list": "on" } },
      hostOffloads: { tap: { "tx-udp-segmentation": "off" }, bridge: { "rx-gro": "off" } },
      matrix: { payloads: [1472], repetitions: 9, durationSeconds: 3, bitrates: ["0"], order: "shuffled" },
      capture: { frames: false },
      iperf3: { port: 5201, binary: "/opt/iperf3" },
      benchmark: { runId: "again" },
    });
    expect(view(b)).toEqual(view(a));
    expect(networkStep(validateLab("t", { ...linuxBase, network: { ...linuxBase.network, mtu: 1500 } }), { hostReadiness }).triggers)
      .not.toEqual(networkStep(a, { hostReadiness }).triggers);
  });

  it("binds a hostile network name and URI as exactly themselves, in create and delete", () => {
    const cfg = validateLab("t", { ...linuxBase, network: { ...linuxBase.network, mode: "adopt" } });
    const hostile = "n$(touch /tmp/pwned)';`id`\n$NET \\:é";
    const step = networkStep({ ...cfg, network: { ...cfg.network, name: hostile }, libvirt: { ...cfg.libvirt, uri: hostile } }, { hostReadiness });
    for (const script of [step.create, step.delete!]) {
      expect(boundValue(script, "NET")).toBe(hostile);
      expect(boundValue(script, "URI")).toBe(hostile);
      expect(shellcheck(script, "bash")).toEqual([]);
    }
  });

  it.skipIf(!hasTool("xmllint"))("escapes a hostile network name in the dedicated XML, and it comes back exactly", () => {
    const cfg = validateLab("t", linuxBase);
    const hostile = `n'a"b<c>&d $(x) é`;
    const xml = dedicatedNetworkXml({ ...cfg, network: { ...cfg.network, name: hostile } });
    expect(execFileSync("xmllint", ["--xpath", "string(/network/name)", xmlFile(xml)], { encoding: "utf8" }).replace(/\n$/, "")).toBe(hostile);
  });

  it.skipIf(!hasTool("virt-xml-validate"))("builds dedicated network XML that passes virt-xml-validate, for every dedicated stack", () => {
    const dedicated = everyStack().filter((c) => c.network.mode === "dedicated");
    expect(dedicated.length).toBeGreaterThan(0);
    for (const cfg of dedicated) {
      const r = spawnSync("virt-xml-validate", [xmlFile(dedicatedNetworkXml(cfg)), "network"], { encoding: "utf8" });
      expect(`${r.stdout}${r.stderr}`.trim()).toMatch(/validates$/);
      expect(r.status).toBe(0);
    }
  });

  it("reads the output recorded from a real run", () => {
    const cfg = everyStack().find((c) => c.stack === "sandbox-uso-on")!;
    const recorded = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", "sandbox-uso-on", "network.out"), "utf8");
    expect(networkStep(cfg, { hostReadiness }).parse(recorded)).toEqual({ network: "offload-lab", mode: "dedicated", bridge: "olbr0", mtu: 1500 });
  });

  it("names the step and the field when its stdout is not its JSON", () => {
    const step = networkStep(validateLab("t", linuxBase), { hostReadiness });
    expect(() => step.parse("offload-lab: restarting network\n")).toThrow(/step network printed no JSON document/);
    expect(() => step.parse('{"network":"n","mode":"adopt","bridge":"b"}')).toThrow(/step network printed unexpected JSON \(mtu:/);
  });
});
