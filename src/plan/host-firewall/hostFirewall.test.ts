import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { validateLab } from "../../config/validate";
import { expectGolden } from "../../../test/support/golden";
import { boundList, boundValue, shellcheck } from "../../../test/support/shellcheck";
import { everyStack } from "../../../test/support/stacks";
import { sh } from "../quote";
import type { Step } from "../step";
import { firewallStateFile, hostFirewallStep } from "./step";

const network = { name: "network" } as Step;
const linux = {
  libvirt: { domainType: "qemu" },
  network: { mode: "dedicated", name: "lab", bridge: "labbr0", cidr: "10.77.0.0/24" },
  guest: { os: "linux", name: "g1", baseImage: "/images/base.qcow2", kernel: "/images/vmlinuz", machineType: "q35" },
};

describe("the host-firewall step", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack}: create and delete match their golden files and are shellcheck-clean`, () => {
      const step = hostFirewallStep(cfg, { network });
      expectGolden(`host-firewall/${cfg.stack}/create.sh`, step.create);
      expectGolden(`host-firewall/${cfg.stack}/delete.sh`, step.delete!);
      expect(shellcheck(step.create, "bash")).toEqual([]);
      expect(shellcheck(step.delete!, "bash")).toEqual([]);
    });
  }

  it("runs on the host after the network, and opens the iperf3 port over TCP and UDP (the uso receiver's port too)", () => {
    const cfg = validateLab("t", { ...linux, iperf3: { port: 5201 } });
    const step = hostFirewallStep(cfg, { network });
    expect([step.name, step.component, step.runsOn, step.dependsOn]).toEqual(["host-firewall", "LabHost", "host", [network]]);
    expect(boundList(step.create, "PORTS")).toEqual(["5201/tcp", "5201/udp"]);
    expect(boundValue(step.create, "SETTING")).toBe("open");
    expect(step.effect.changes).toMatch(/opens 5201\/tcp, 5201\/udp in the firewalld zone of bridge labbr0, at runtime only/);
    expect(step.effect.undo).toBe("removes exactly the runtime ports it opened");
  });

  it("with host.firewall leave changes nothing and has nothing to undo", () => {
    const step = hostFirewallStep(validateLab("t", { ...linux, host: { connection: "local", firewall: "leave" } }), { network });
    expect(boundValue(step.create, "SETTING")).toBe("leave");
    expect(step.effect.changes).toMatch(/^nothing \(host\.firewall: leave\)/);
    expect(step.effect.undo).toBeUndefined();
    expect(step.triggers).not.toEqual(hostFirewallStep(validateLab("t", linux), { network }).triggers);
  });

  it("binds a hostile bridge name as exactly itself", () => {
    const cfg = validateLab("t", linux);
    const hostile = "br$(touch /tmp/pwned)';`id`\n$PORTS";
    const step = hostFirewallStep({ ...cfg, network: { ...cfg.network, bridge: hostile } }, { network });
    for (const script of [step.create, step.delete!]) {
      expect(boundValue(script, "BRIDGE")).toBe(hostile);
      expect(shellcheck(script, "bash")).toEqual([]);
    }
  });

  it("names the step when its stdout is not its JSON", () => {
    const step = hostFirewallStep(validateLab("t", linux), { network });
    expect(() => step.parse("offload-lab: firewalld is not running\n")).toThrow(/step host-firewall printed no JSON document/);
    expect(() => step.parse('{"firewalld":true,"setting":"open","zone":"libvirt","ports":[{"port":"1/tcp","state":"opened"}]}'))
      .toThrow(/step host-firewall printed unexpected JSON \(ports\.0\.state:/);
  });
});

/**
 * The scripts against a firewall-cmd stand-in that keeps runtime ports per zone in files and
 * logs its arguments one per line: what reaches firewall-cmd from a zone name firewalld
 * reports (which the scripts pass back to it) and from the stack's ports. The real firewalld
 * is exercised by test/engine/firewallLab.test.ts.
 */
describe("host-firewall's scripts with a hostile zone name from firewall-cmd", () => {
  const zone = "z$(touch pwned)';`id` x";
  let dir: string;
  const fake = (d: string) => `#!/usr/bin/env bash
set -u
printf '%s\\n' "$@" '--' >>${sh(d)}/argv
case "$1" in
  --state) echo running ;;
  --get-zone-of-interface=*) cat ${sh(d)}/zone ;;
  --zone=*)
    z=\${1#--zone=}; f=${sh(d)}/ports.$(printf %s "$z" | md5sum | cut -c1-8)
    touch "$f"
    case "$2" in
      --query-port=*) grep -qxF -- "\${2#--query-port=}" "$f" ;;
      --add-port=*) echo "\${2#--add-port=}" >>"$f"; echo success ;;
      --remove-port=*) grep -vxF -- "\${2#--remove-port=}" "$f" >"$f.new"; mv "$f.new" "$f"; echo success ;;
      --list-services) echo ;;
    esac ;;
  --info-zone=*) printf '%s\\n' "  target: default" ;;
  *) exit 2 ;;
esac
`;
  const run = (script: string) => {
    const text = script.replace(/^STATE=.*$/m, `STATE=${sh(path.join(dir, "state", "added"))}`);
    return spawnSync("bash", ["-c", text], { cwd: dir, encoding: "utf8", env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` } });
  };
  const ports = (d: string) => fs.readdirSync(d).filter((f) => f.startsWith("ports.") && !f.endsWith(".new"))
    .flatMap((f) => fs.readFileSync(path.join(d, f), "utf8").split("\n").filter(Boolean));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-fw-"));
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(path.join(dir, "bin", "firewall-cmd"), fake(dir), { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "zone"), `${zone}\n`);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("opens both ports in that zone, records them, and delete removes exactly them", () => {
    const step = hostFirewallStep(validateLab("t", linux), { network });
    const created = run(step.create);
    expect(created.stderr).toBe("");
    expect(created.status).toBe(0);
    expect(step.parse(created.stdout)).toEqual({
      firewalld: true, setting: "open", zone,
      ports: [{ port: "12345/tcp", state: "added" }, { port: "12345/udp", state: "added" }],
    });
    expect(fs.readFileSync(path.join(dir, "argv"), "utf8")).toContain(`--zone=${zone}\n--add-port=12345/udp\n--\n`);
    expect(ports(dir)).toEqual(["12345/tcp", "12345/udp"]);
    // A second create (a failed up run again) keeps what the first added as the lab's.
    expect(step.parse(run(step.create).stdout).ports.map((p) => p.state)).toEqual(["added", "added"]);
    const deleted = run(step.delete!);
    expect(deleted.status).toBe(0);
    expect(ports(dir)).toEqual([]);
    expect(fs.existsSync(path.join(dir, "state", "added"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "pwned"))).toBe(false);
  });

  it("leaves a port the zone already accepts to whoever opened it", () => {
    const step = hostFirewallStep(validateLab("t", linux), { network });
    run(step.create.replace(/^PORTS=.*$/m, "PORTS=(12345/tcp)"));
    fs.rmSync(path.join(dir, "state"), { recursive: true });
    expect(step.parse(run(step.create).stdout).ports).toEqual([{ port: "12345/tcp", state: "already-open" }, { port: "12345/udp", state: "added" }]);
    run(step.delete!);
    expect(ports(dir)).toEqual(["12345/tcp"]);
  });

  it("with leave opens nothing and says which ports the zone rejects, naming host.firewall", () => {
    const step = hostFirewallStep(validateLab("t", { ...linux, host: { connection: "local", firewall: "leave" } }), { network });
    const created = run(step.create);
    expect(created.status).toBe(0);
    expect(step.parse(created.stdout).ports.map((p) => p.state)).toEqual(["closed", "closed"]);
    expect(created.stderr).toContain("host.firewall is leave: firewalld zone");
    expect(created.stderr).toContain("rejects 12345/tcp 12345/udp from the guest");
    expect(ports(dir)).toEqual([]);
    expect(run(step.delete!).status).toBe(0);
  });

  it("does nothing where firewalld does not run", () => {
    fs.writeFileSync(path.join(dir, "bin", "firewall-cmd"), "#!/bin/sh\necho 'not running'\nexit 252\n", { mode: 0o755 });
    const step = hostFirewallStep(validateLab("t", linux), { network });
    const created = run(step.create);
    expect(step.parse(created.stdout)).toEqual({ firewalld: false, setting: "open", zone: null, ports: [] });
    expect(created.stderr).toContain("firewalld is not running on the KVM host: nothing to open");
  });

  it("keeps the state file out of the shell's reach: one per port, under /run", () => {
    expect(firewallStateFile(validateLab("t", { ...linux, iperf3: { port: 5201 } }))).toBe("/run/offload-lab/firewall-5201.added");
  });
});
