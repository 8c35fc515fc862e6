import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { SecretValue } from "../../config/secret";
import { validateLab, type RawSettings } from "../../config/validate";
import { expectGolden } from "../../../test/support/golden";
import { boundList, boundValue, shellcheck } from "../../../test/support/shellcheck";
import { everyStack, PROJECT } from "../../../test/support/stacks";
import type { Step } from "../step";
import { hostOffloadsStep } from "./step";

const guestDomain = { name: "guest-domain" } as Step;
const LINUX: RawSettings = { guest: { os: "linux", name: "l", baseImage: "/l.qcow2" } };
const step = (raw: RawSettings) => hostOffloadsStep(validateLab("t", raw), { guestDomain });

describe("the host-offloads step", () => {
  for (const cfg of everyStack()) {
    it(`${cfg.stack}: create and delete match their golden files and are shellcheck-clean`, () => {
      const s = hostOffloadsStep(cfg, { guestDomain });
      expectGolden(`host-offloads/${cfg.stack}/create.sh`, s.create);
      expectGolden(`host-offloads/${cfg.stack}/delete.sh`, s.delete!);
      expect(shellcheck(s.create, "bash")).toEqual([]);
      expect(shellcheck(s.delete!, "bash")).toEqual([]);
    });
  }

  it("runs on the host after guest-domain, in the offload profile, without the guest's secrets", () => {
    const s = step({
      ...LINUX,
      guest: { ...(LINUX.guest as object), access: "ssh" },
      network: { mode: "dedicated", cidr: "10.77.0.0/24" },
      guestSshPrivateKey: new SecretValue("offload-lab:guestSshPrivateKey"),
    });
    expect([s.name, s.component, s.runsOn]).toEqual(["host-offloads", "OffloadProfile", "host"]);
    expect(s.dependsOn).toHaveLength(1);
    expect(s.dependsOn[0]).toBe(guestDomain);
    expect(s.secretEnv).toBeUndefined();
  });

  it("binds each device and each of its features as bash arrays, the tap before the bridge", () => {
    const s = step({ ...LINUX, hostOffloads: { bridge: { "rx-gro": "off" }, tap: { "tx-udp-segmentation": "off", "rx-checksum": "on" } } });
    expect(boundList(s.create, "DEVICES")).toEqual(["tap0", "virbr0"]);
    expect(boundList(s.create, "ROLES")).toEqual(["tap", "bridge"]);
    expect(boundList(s.create, "FEATURE_DEVICE")).toEqual(["0", "0", "1"]);
    expect(boundList(s.create, "FEATURES")).toEqual(["tx-udp-segmentation", "rx-checksum", "rx-gro"]);
    // ethtool -k prints a feature a legacy flag covers alone under the legacy name.
    expect(boundList(s.create, "FEATURE_PRINTED")).toEqual(["tx-udp-segmentation", "rx-checksumming", "generic-receive-offload"]);
    expect(boundList(s.create, "FEATURE_WANT")).toEqual(["off", "on", "off"]);
    expect(boundList(s.delete!, "DEVICES")).toEqual(["tap0", "virbr0"]);
    expect(boundList(s.delete!, "OWNERS")).toEqual(boundList(s.create, "OWNERS"));
    expect(s.effect).toEqual({
      changes: "sets tap tap0 (tx-udp-segmentation off, rx-checksum on) and bridge virbr0 (rx-gro off) with ethtool -K, saving each device's features first in /var/lib/offload-lab/state",
      undo: "restores the saved features of tap tap0 and bridge virbr0",
    });
  });

  it("binds no device when hostOffloads is empty, and says it changes nothing", () => {
    const s = step(LINUX);
    expect(boundList(s.create, "DEVICES")).toEqual([]);
    expect(boundList(s.create, "FEATURES")).toEqual([]);
    expect(s.effect).toEqual({ changes: "nothing: hostOffloads asks nothing of the tap or the bridge", undo: "nothing to put back" });
  });

  it("gives a device a new owner only when its request changes", () => {
    const owners = (raw: RawSettings) => boundList(step(raw).create, "OWNERS");
    const a = owners({ ...LINUX, hostOffloads: { tap: { "tx-udp-segmentation": "off" } } });
    expect(owners({ ...LINUX, hostOffloads: { tap: { "tx-udp-segmentation": "off" } }, guestOffloads: { mtu: 9000 } })).toEqual(a);
    expect(owners({ ...LINUX, hostOffloads: { tap: { "tx-udp-segmentation": "on" } } })).not.toEqual(a);
  });

  it("binds hostile device names and the state folder as exactly themselves", () => {
    const cfg = validateLab("t", { ...LINUX, hostOffloads: { tap: { "rx-gro": "on" }, bridge: { "rx-gro": "on" } } });
    const hostile = "t$(touch /tmp/pwned)';`id`\n$DEVICES \\:é";
    const s = hostOffloadsStep({ ...cfg, guest: { ...cfg.guest, tapName: hostile }, network: { ...cfg.network, bridge: `${hostile}2` } }, { guestDomain });
    for (const script of [s.create, s.delete!]) {
      expect(boundList(script, "DEVICES")).toEqual([hostile, `${hostile}2`]);
      expect(boundValue(script, "STATE_DIR")).toBe("/var/lib/offload-lab/state");
      expect(shellcheck(script, "bash")).toEqual([]);
    }
  });

  it("changes its triggers only when a host offload changes, not with the key order", () => {
    const base = step(LINUX).triggers;
    expect(step({ ...LINUX, guestOffloads: { uso: { ipv4: true, ipv6: true }, mtu: 9000 } }).triggers).toEqual(base);
    expect(step({ ...LINUX, hostOffloads: { tap: { "tx-udp-segmentation": "off" } } }).triggers).not.toEqual(base);
    expect(step({ ...LINUX, hostOffloads: { tap: { "rx-gro": "on", "tx-udp-segmentation": "off" } } }).triggers)
      .toEqual(step({ ...LINUX, hostOffloads: { tap: { "tx-udp-segmentation": "off", "rx-gro": "on" } } }).triggers);
  });

  it("reads the output recorded from a real run", () => {
    const recorded = fs.readFileSync(path.join(PROJECT, "test", "fixtures", "stdout", "sandbox-uso-on", "host-offloads.out"), "utf8");
    expect(hostOffloadsStep(everyStack().find((c) => c.stack === "sandbox-uso-on")!, { guestDomain }).parse(recorded))
      .toEqual({ devices: [], setErrors: "" });
  });

  it("shapes requested vs actual without judging: a feature that did not take is the script's failure, not the parser's", () => {
    const s = step({ ...LINUX, hostOffloads: { tap: { "rx-gro-hw": "on", "tx-udp-segmentation": "off" } } });
    const ethtoolK = "Features for tap0:\nrx-gro-hw: off [fixed]\ntx-udp-segmentation: off\n";
    const stdout = JSON.stringify({ devices: [{ role: "tap", device: "tap0", ethtoolK }], setErrors: "tap0 rx-gro-hw on: Could not change any device features" });
    expect(s.parse(stdout)).toEqual({
      devices: [{
        role: "tap", device: "tap0", ethtoolK,
        features: [
          { feature: "rx-gro-hw", requested: "on", actual: "off [fixed]" },
          { feature: "tx-udp-segmentation", requested: "off", actual: "off" },
        ],
      }],
      setErrors: "tap0 rx-gro-hw on: Could not change any device features",
    });
  });

  it("names the step and the field when its stdout is not its JSON", () => {
    const s = step(LINUX);
    expect(() => s.parse("ethtool: command not found\n")).toThrow(/step host-offloads printed no JSON document/);
    expect(() => s.parse('{"devices":[{"role":"tap","device":"tap0"}],"setErrors":""}')).toThrow(/step host-offloads printed unexpected JSON \(devices\.0\.ethtoolK:/);
  });
});
