import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../src/config/model";
import { validateLab, type RawSettings } from "../../src/config/validate";
import { guestCheckStep } from "../../src/plan/guest-check/step";
import { guestOffloadsStep } from "../../src/plan/guest-offloads/step";
import { hostOffloadsStep } from "../../src/plan/host-offloads/step";
import { parseEthtoolFeatures } from "../../src/plan/offload/ethtoolFeatures";
import { sh } from "../../src/plan/quote";
import type { Step } from "../../src/plan/step";
import { guestStepCommand, netnsTransport } from "../../src/plan/transport";
import { canUseNamespaces, Namespace } from "../../src/sandbox/netns";

// Real `ethtool -K` / `-k` on veth devices and a bridge inside network namespaces: the
// host script on a stand-in tap and bridge, the Linux guest script through the netns
// transport. veth has `[fixed]` features (rx-gro-hw, large-receive-offload) to refuse.

const ns = canUseNamespaces();
const tools = spawnSync("ethtool", ["--version"]).status === 0;
const skip = !ns.ok || !tools;
if (skip) console.warn(`skipping ethtool lab tests: ${ns.ok ? "ethtool is not installed" : ns.reason}`);

const hex = () => randomBytes(2).toString("hex");

describe.skipIf(skip)("host offloads on a veth 'tap' and a bridge", () => {
  let host: Namespace;
  let stateDir: string;
  const tap = `oltap${hex()}`;
  const peer = `olpeer${hex()}`;
  const bridge = `olbr${hex()}`;

  beforeAll(() => {
    host = new Namespace("olh");
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ol-state-"));
    host.exec(["ip", "link", "add", tap, "type", "veth", "peer", "name", peer]);
    host.exec(["ip", "link", "add", bridge, "type", "bridge"]);
    host.exec(["ip", "link", "set", tap, "master", bridge]);
    for (const d of [tap, peer, bridge]) host.exec(["ip", "link", "set", d, "up"]);
  });
  afterAll(() => {
    host?.remove();
    if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  });

  const config = (hostOffloads: RawSettings): LabConfig =>
    validateLab("t", {
      network: { mode: "dedicated", bridge, cidr: "10.77.0.0/24" },
      guest: { os: "linux", name: "g", baseImage: "/g.qcow2", tapName: tap },
      hostOffloads,
    });
  const hostBash = (script: string) => spawnSync("ip", ["netns", "exec", host.name, "bash", "-c", script], { encoding: "utf8" });
  // The step as planned, keeping its state in this test's folder instead of /var/lib/offload-lab/state.
  const step = (cfg: LabConfig) => hostOffloadsStep(cfg, { guestDomain: { name: "guest-domain" } as Step });
  const inStateDir = (script: string) => script.replace(/^STATE_DIR=.*$/m, `STATE_DIR=${sh(stateDir)}`);
  const hostOffloadsCreate = (cfg: LabConfig) => inStateDir(step(cfg).create);
  const hostOffloadsDelete = (cfg: LabConfig) => inStateDir(step(cfg).delete!);
  const savedStateFile = (device: string) => path.join(stateDir, `ethtool-k.${device}`);
  const feature = (dev: string, name: string) => parseEthtoolFeatures(host.exec(["ethtool", "-k", dev])).get(name);

  it("sets features on the tap and the bridge, reads them back, and restores them on delete", () => {
    expect(feature(tap, "tx-udp-segmentation")?.active).toBe(true);
    expect(feature(tap, "rx-gro-list")?.active).toBe(false);
    expect(feature(bridge, "tx-udp-segmentation")?.active).toBe(true);
    const cfg = config({
      tap: { "tx-udp-segmentation": "off", "rx-gro-list": "on", "rx-gro": "on" },
      bridge: { "tx-udp-segmentation": "off" },
    });

    const created = hostBash(hostOffloadsCreate(cfg));
    expect(created.stderr).toBe("");
    expect(created.status).toBe(0);
    const readBack = step(cfg).parse(created.stdout);
    expect(readBack.devices.map((d) => [d.role, d.device, d.features.map((f) => `${f.feature}=${f.actual}`)])).toEqual([
      ["tap", tap, ["tx-udp-segmentation=off", "rx-gro-list=on", "rx-gro=on"]],
      ["bridge", bridge, ["tx-udp-segmentation=off"]],
    ]);
    expect(feature(tap, "tx-udp-segmentation")?.active).toBe(false);
    expect(feature(tap, "generic-receive-offload")?.active).toBe(true);
    expect(feature(bridge, "tx-udp-segmentation")?.active).toBe(false);

    // A re-run keeps the state saved before the lab, not the lab's own.
    expect(hostBash(hostOffloadsCreate(cfg)).status).toBe(0);
    expect(parseEthtoolFeatures(fs.readFileSync(savedStateFile(tap), "utf8")).get("tx-udp-segmentation")?.active).toBe(true);

    const deleted = hostBash(hostOffloadsDelete(cfg));
    expect(deleted.stderr).toBe("");
    expect(deleted.status).toBe(0);
    expect(feature(tap, "tx-udp-segmentation")?.active).toBe(true);
    expect(feature(tap, "rx-gro-list")?.active).toBe(false);
    expect(feature(tap, "generic-receive-offload")?.active).toBe(false);
    expect(feature(bridge, "tx-udp-segmentation")?.active).toBe(true);
    expect(fs.readdirSync(stateDir)).toEqual([]);
    // Deleting again, with nothing saved, succeeds.
    expect(hostBash(hostOffloadsDelete(cfg)).status).toBe(0);
  });

  it("survives Pulumi's replacement order: new create, then the old delete", () => {
    const before = config({ tap: { "tx-udp-segmentation": "off", "rx-gro-list": "on" } });
    const after = config({ tap: { "rx-gro": "on" } });
    expect(hostBash(hostOffloadsCreate(before)).status).toBe(0);
    expect(hostBash(hostOffloadsCreate(after)).status).toBe(0);
    const oldDelete = hostBash(hostOffloadsDelete(before));
    expect(oldDelete.status).toBe(0);
    expect(oldDelete.stderr).toContain("set again by a newer host-offloads");
    expect(feature(tap, "generic-receive-offload")?.active).toBe(true);
    expect(feature(tap, "tx-udp-segmentation")?.active).toBe(false);
    // The last delete restores everything either create changed.
    expect(hostBash(hostOffloadsDelete(after)).status).toBe(0);
    expect(feature(tap, "generic-receive-offload")?.active).toBe(false);
    expect(feature(tap, "tx-udp-segmentation")?.active).toBe(true);
    expect(feature(tap, "rx-gro-list")?.active).toBe(false);
    expect(fs.readdirSync(stateDir)).toEqual([]);
  });

  it("fails on a [fixed] feature with the read-back message, and still prints the evidence", () => {
    const cfg = config({ tap: { "rx-gro-hw": "on", "tx-udp-segmentation": "off" } });
    const r = hostBash(hostOffloadsCreate(cfg));
    expect(r.status).toBe(1);
    const message = `offload settings did not take: tap ${tap}: rx-gro-hw requested on, actual off [fixed]`;
    expect(r.stderr).toBe(`${message}\n`);
    // The script decided; the parser only shapes what it printed, and never throws for it.
    const readBack = step(cfg).parse(r.stdout);
    expect(readBack.devices[0]!.features).toEqual([
      { feature: "rx-gro-hw", requested: "on", actual: "off [fixed]" },
      { feature: "tx-udp-segmentation", requested: "off", actual: "off" },
    ]);
    expect(readBack.setErrors).toContain(`${tap} rx-gro-hw on`);
    expect(hostBash(hostOffloadsDelete(cfg)).status).toBe(0);
    expect(feature(tap, "tx-udp-segmentation")?.active).toBe(true);
  });

  it("names a feature the kernel kept off because another one is off", () => {
    const cfg = config({ tap: { "tx-checksum-ip-generic": "off", "tx-udp-segmentation": "on" } });
    const r = hostBash(hostOffloadsCreate(cfg));
    const message = `offload settings did not take: tap ${tap}: tx-udp-segmentation requested on, actual off [requested on]`;
    expect(r.stderr).toBe(`${message}\n`);
    expect(r.status).toBe(1);
    expect(step(cfg).parse(r.stdout).devices[0]!.features.map((f) => `${f.feature}=${f.actual}`))
      .toEqual(["tx-checksum-ip-generic=off", "tx-udp-segmentation=off [requested on]"]);
    expect(hostBash(hostOffloadsDelete(cfg)).status).toBe(0);
    expect(feature(tap, "tx-checksum-ip-generic")?.active).toBe(true);
    expect(feature(tap, "tx-udp-segmentation")?.active).toBe(true);
  });

  it("stops with exit 2 naming the tap when it does not exist, and delete then succeeds", () => {
    const cfg = validateLab("t", {
      network: { mode: "dedicated", bridge, cidr: "10.77.0.0/24" },
      guest: { os: "linux", name: "g", baseImage: "/g.qcow2", tapName: "olgone0" },
      hostOffloads: { tap: { "tx-udp-segmentation": "off" } },
    });
    const r = hostBash(hostOffloadsCreate(cfg));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no device olgone0 on the host: the guest's tap");
    expect(hostBash(hostOffloadsDelete(cfg)).status).toBe(0);
  });
});

describe.skipIf(skip)("Linux guest offloads through the netns transport", () => {
  let guest: Namespace;

  beforeAll(() => {
    guest = new Namespace("olg");
    guest.exec(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"]);
    for (const d of ["eth0", "peer0"]) guest.exec(["ip", "link", "set", d, "up"]);
  });
  afterAll(() => guest?.remove());

  const config = (guestOffloads: RawSettings): LabConfig =>
    validateLab("t", {
      network: { mtu: 9000 },
      guest: { os: "linux", name: "g", baseImage: "/g.qcow2", linuxInterface: "eth0", iperf3Path: "iperf3" },
      guestOffloads,
    });
  const after = { guestDomain: { name: "guest-domain" } as Step, guestCheck: { name: "guest-check" } as Step };
  const offloads = (cfg: LabConfig) => guestOffloadsStep(cfg, netnsTransport(guest.name), after);
  const check = (cfg: LabConfig) => guestCheckStep(cfg, netnsTransport(guest.name), after);
  /** The step's own host command: the transport and the guest script as the engine runs them. */
  const run = (step: Step, env: NodeJS.ProcessEnv = process.env) => spawnSync("bash", ["-c", step.create], { encoding: "utf8", env });

  it("applies the profile with ethtool -K and ip link, and the read-back matches", () => {
    const cfg = config({ uso: { ipv4: false, ipv6: false }, lso: { ipv4: false }, checksum: { udpv4: "rxtx" }, ethtool: { "rx-gro-list": "on" } });
    const step = offloads(cfg);
    const r = run(step);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const readBack = step.parse(r.stdout);
    if (readBack.os !== "linux") throw new Error("a Linux read-back was expected");
    expect(readBack.interface).toBe("eth0");
    expect(readBack.mtu).toEqual({ requested: 9000, actual: 9000 });
    expect(readBack.features.map((f) => `${f.feature}=${f.actual}`)).toEqual([
      "tx-checksum-ip-generic=on", "rx-checksum=on", "tx-tcp-segmentation=off", "tx-udp-segmentation=off", "rx-gro-list=on",
    ]);
    expect(guest.exec(["cat", "/sys/class/net/eth0/mtu"]).trim()).toBe("9000");
  });

  it("fails on RSC, [fixed] off on veth, with the read-back message, and still prints what it read", () => {
    const cfg = config({ rsc: { ipv4: true }, mtu: 1500 });
    const step = offloads(cfg);
    const r = run(step);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("offload settings did not take: guest eth0: rx-gro-hw requested on, actual off [fixed]\n");
    const readBack = step.parse(r.stdout);
    expect(readBack.os === "linux" && readBack.mtu.actual).toBe(1500);
    expect(readBack.os === "linux" && readBack.features).toEqual([{ feature: "rx-gro-hw", requested: "on", actual: "off [fixed]" }]);
  });

  it("fails naming the MTU the interface would not take", () => {
    // Above veth's maximum of 65535, which the schema would refuse first: bypassed here.
    const base = config({});
    const step = offloads({ ...base, offloads: { ...base.offloads, mtu: 70000 } });
    const r = run(step);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("offload settings did not take: guest eth0: mtu requested 70000, actual 1500\n");
    const readBack = step.parse(r.stdout);
    expect(readBack.os === "linux" && readBack.setErrors).toMatch(/^eth0 mtu 70000: /);
    expect(readBack.os === "linux" && readBack.mtu).toEqual({ requested: 70000, actual: 1500 });
  });

  it("says the device does not offer USO when tx-udp-segmentation reads back off [fixed]", () => {
    // veth offers USO, so `ethtool -k` is real ethtool with that one line as virtio-net without
    // host_uso prints it; `ethtool -K` is the real one.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "ol-nouso-"));
    try {
      const real = spawnSync("sh", ["-c", "command -v ethtool"], { encoding: "utf8" }).stdout.trim();
      fs.writeFileSync(path.join(bin, "ethtool"), [
        "#!/bin/sh",
        `if [ "$1" = -k ]; then ${real} "$@" | sed 's/^tx-udp-segmentation: .*/tx-udp-segmentation: off [fixed]/'; else exec ${real} "$@"; fi`,
        "",
      ].join("\n"), { mode: 0o755 });
      const cfg = config({ uso: { ipv4: true }, mtu: 1500 });
      const step = offloads(cfg);
      const r = run(step, { ...process.env, PATH: `${bin}:${process.env.PATH}` });
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(
        "offload settings did not take: guest eth0: tx-udp-segmentation requested on, actual off [fixed]; " +
          "the virtio-net device does not offer USO (QEMU's host_uso is off, or QEMU is older than 8.2): set guest.virtioNetFeatures host_uso on\n",
      );
      const readBack = step.parse(r.stdout);
      expect(readBack.os === "linux" && readBack.features).toEqual([{ feature: "tx-udp-segmentation", requested: "on", actual: "off [fixed]" }]);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  const busybox = spawnSync("busybox", ["--help"]).status === 0;
  it.skipIf(!busybox)("runs under busybox sh, sed, awk and tr as well", () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "ol-busybox-"));
    try {
      const bb = fs.realpathSync(spawnSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).stdout.trim());
      for (const tool of ["sh", "sed", "awk", "tr", "cat", "head", "uname"]) fs.symlinkSync(bb, path.join(bin, tool));
      const cfg = config({ uso: { ipv4: true }, rsc: { ipv4: true } });
      const env = { ...process.env, PATH: `${bin}:/usr/sbin:/sbin:/usr/bin:/bin` };
      const inBusybox = (script: string) =>
        spawnSync("bash", ["-c", guestStepCommand(netnsTransport(guest.name), script)], { encoding: "utf8", env });
      expect(inBusybox('for t in sh sed awk tr; do readlink -f "$(command -v $t)"; done').stdout).toBe(`${bb}\n`.repeat(4));
      const step = offloads(cfg);
      const r = run(step, env);
      expect(r.stderr).toBe("offload settings did not take: guest eth0: rx-gro-hw requested on, actual off [fixed]\n");
      const readBack = step.parse(r.stdout);
      expect(readBack.os === "linux" && readBack.features.map((f) => `${f.feature}=${f.actual}`)).toEqual(["tx-udp-segmentation=on", "rx-gro-hw=off [fixed]"]);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });

  it("guest-check finds the tools, iperf3 and the interface", () => {
    const step = check(config({}));
    const r = run(step);
    expect(r.status).toBe(0);
    const readBack = step.parse(r.stdout);
    expect(readBack).toMatchObject({ ok: true, missing: [], interface: "eth0", iperf3Path: "iperf3" });
    expect(readBack.iperf3Version).toMatch(/^iperf 3\./);
  });

  it("guest-check names everything missing at once", () => {
    const cfg = validateLab("t", {
      guest: { os: "linux", name: "g", baseImage: "/g.qcow2", linuxInterface: "eth9", iperf3Path: "/opt/none/iperf3" },
    });
    const step = check(cfg);
    const r = run(step);
    expect(r.status).toBe(1);
    const readBack = step.parse(r.stdout);
    expect(readBack.missing).toEqual([
      "iperf3 at /opt/none/iperf3 (guest.iperf3Path)",
      "no interface eth9 in the guest (guest.linuxInterface)",
    ]);
    expect(r.stderr).toBe(`guest-check: the guest image lacks: ${readBack.missing.join("; ")}\n`);
  });
});
