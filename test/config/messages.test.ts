import { describe, expect, it } from "vitest";
import { ConfigError, describeProblem, type ConfigProblem } from "../../src/config/errors";
import { printable, shownValue } from "../../src/config/printable";
import { SecretValue } from "../../src/config/secret";
import { closest, editDistance } from "../../src/config/suggest";
import { validateLab } from "../../src/config/validate";

const linuxGuest = { os: "linux", name: "g1", baseImage: "/images/base.qcow2" };
const windowsGuest = { os: "windows", name: "w1", baseImage: "/images/win.qcow2", virtioWinIso: "/iso/virtio-win.iso" };

function problems(raw: Record<string, unknown>): ConfigProblem[] {
  try {
    validateLab("t", raw);
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
  throw new Error("expected the config to be refused");
}

const keys = (raw: Record<string, unknown>) => problems(raw).map((p) => p.key).sort();

describe("every problem of a stack at once, rules across settings included", () => {
  it("a Windows stack with a bad MTU, a bad vcpus, no ISO and a kernel reports all four", () => {
    const { virtioWinIso: _, ...noIso } = windowsGuest;
    expect(keys({ guest: { ...noIso, vcpus: 0, kernel: "/boot/vmlinuz" }, network: { mtu: 70000 } })).toEqual([
      "offload-lab:guest.kernel",
      "offload-lab:guest.vcpus",
      "offload-lab:guest.virtioWinIso",
      "offload-lab:network.mtu",
    ]);
  });

  it("a required value missing does not stop the rules that do not read it", () => {
    const { baseImage: _, ...noBase } = linuxGuest;
    expect(keys({ guest: { ...noBase, access: "ssh" }, host: { connection: "ssh", address: "kvm1" } })).toEqual([
      "offload-lab:guest.baseImage",
      "offload-lab:guest.ssh.address",
      "offload-lab:guestSshPrivateKey",
      "offload-lab:hostSshPrivateKey",
    ]);
  });

  it("a refused value is not judged by a rule on its default", () => {
    // firmware "uefii" is refused; judging tpm against the default bios would add a false problem.
    expect(keys({ guest: { ...windowsGuest, firmware: "uefii", tpm: true } })).toEqual(["offload-lab:guest.firmware"]);
    // os refused: whether kernel or gso suit the guest cannot be told.
    expect(keys({ guest: { ...linuxGuest, os: "windwos", kernel: "/boot/vmlinuz" }, matrix: { senders: ["gso"], payloads: [1472] } }))
      .toEqual(["offload-lab:guest.os"]);
    // The MTU refused: the sender's payload limit is not judged on the default 1500.
    expect(keys({ guest: linuxGuest, network: { mtu: "9000" }, matrix: { senders: ["gso"], payloads: [8972] } }))
      .toEqual(["offload-lab:network.mtu"]);
  });

  it("a refused connection leaves the SSH key rule out, a map given as text too", () => {
    expect(keys({ guest: linuxGuest, host: { connection: "shh", address: "kvm1" } })).toEqual(["offload-lab:host.connection"]);
    expect(keys({ guest: "w1", host: { connection: "ssh", address: "kvm1" } })).toEqual(["offload-lab:guest", "offload-lab:hostSshPrivateKey"]);
  });
});

describe("what went wrong, when it can be told", () => {
  it.each([
    [{ network: { mtu: "1500" } }, "offload-lab:network.mtu", "the quotes make it text: write 1500 without quotes"],
    [{ matrix: { payloads: ["1472"] } }, "offload-lab:matrix.payloads.0", "the quotes make it text: write 1472 without quotes"],
    [{ capture: { frames: "false" } }, "offload-lab:capture.frames", "the quotes make it text: write false without quotes"],
    [{ benchmark: { runId: 2 } }, "offload-lab:benchmark.runId", 'YAML reads it as a number: write it in quotes, "2"'],
    [{ hostOffloads: { tap: { "rx-gro": true } } }, "offload-lab:hostOffloads.tap.rx-gro", 'YAML reads it as a boolean: write "on" in quotes'],
    [{ network: { mode: "dedicted" } }, "offload-lab:network.mode", "did you mean dedicated?"],
    [{ host: { connection: "SSH", address: "kvm1" }, hostSshPrivateKey: new SecretValue("k") }, "offload-lab:host.connection", "did you mean ssh?"],
    [{ network: { mdoe: "adopt" } }, "offload-lab:network.mdoe", "did you mean network.mode?"],
    [{ gueest: {} }, "offload-lab:gueest", "did you mean guest?"],
    [{ network: { vcpus: 4 } }, "offload-lab:network.vcpus", "did you mean guest.vcpus?"],
    [{ "network.mtu": 9000 }, "offload-lab:network.mtu", "a key holds no dots: write offload-lab:network as a map with mtu inside (pulumi config set --path 'offload-lab:network.mtu' VALUE does that)"],
    [{ guestOffloads: { ethtool: { "tx-udp-segmentaiton": "on" } } }, "offload-lab:guestOffloads.ethtool.tx-udp-segmentaiton", "did you mean tx-udp-segmentation?"],
  ])("%j", (override, key, hint) => {
    const p = problems({ guest: linuxGuest, ...override });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ key, hint });
  });

  it("says nothing it cannot tell", () => {
    expect(problems({ guest: linuxGuest, network: { mtu: "fast" } })[0]!.hint).toBeUndefined();
    expect(problems({ guest: linuxGuest, network: { zzzzzz: 1 } })[0]!.hint).toBeUndefined();
    expect(problems({ guest: linuxGuest, network: { mode: "bridged" } })[0]!.hint).toBeUndefined();
  });

  it("a map given as something else, or missing, names what it holds", () => {
    expect(problems({ guest: linuxGuest, network: 5 })[0]).toMatchObject({ key: "offload-lab:network", allowed: "must be a map of settings (mode, name, bridge, cidr, mtu, …)" });
    expect(problems({ guest: linuxGuest, hostOffloads: { tap: "on" } })[0]!.allowed).toBe("must be a map of names to on or off, such as {tx-scatter-gather: on}");
    expect(problems({})[0]).toMatchObject({ key: "offload-lab:guest", allowed: "is required: a map with at least os, name, baseImage" });
  });
});

describe("the printed line", () => {
  it("ends with the hint", () => {
    expect(describeProblem({ key: "offload-lab:network.mtu", value: "1500", allowed: "must be a whole number from 68 to 65535", hint: "the quotes make it text: write 1500 without quotes" }))
      .toBe('offload-lab:network.mtu: must be a whole number from 68 to 65535 (given: "1500"); the quotes make it text: write 1500 without quotes');
  });

  it("never carries a control character from a key or a value, and cuts a long value short", () => {
    const line = describeProblem({ key: "offload-lab:guest.\u001b[2Jx", value: `a\u009b31m\u202eb${"z".repeat(500)}`, allowed: "must be…" });
    expect(line).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(line).toContain("guest.\\u001b[2Jx");
    expect(line).toContain("a\\u009b31m\\u202eb");
    expect(line).toMatch(/… \(\d+ characters\)\)$/);
  });
});

describe("printable", () => {
  it("escapes C0 but tab and newline, DEL, C1, bidi and zero-width characters; keeps text", () => {
    expect(printable("a\u0000b\u0007c\u001bd\u007fe\u0085f\u200bg\u2066h\ufeffi")).toBe("a\\u0000b\\u0007c\\u001bd\\u007fe\\u0085f\\u200bg\\u2066h\\ufeffi");
    expect(printable("line one\n\tline two: Grüße, 中文, −5 %")).toBe("line one\n\tline two: Grüße, 中文, −5 %");
  });

  it("shows nothing as nothing, a value as JSON, and YAML's infinities and NaN as themselves, not null", () => {
    expect(shownValue(undefined)).toBe("nothing");
    expect(shownValue({ a: [1, "x"] })).toBe('{"a":[1,"x"]}');
    expect(shownValue(Infinity)).toBe("Infinity");
    expect(shownValue(NaN)).toBe("NaN");
    expect(shownValue([-Infinity])).toBe('["-Infinity"]');
  });
});

describe("edit distance", () => {
  it("counts a swap of neighbours as one edit, and ignores case", () => {
    expect(editDistance("mtu", "mut")).toBe(1);
    expect(editDistance("tx-udp-segmentaiton", "tx-udp-segmentation")).toBe(1);
    expect(editDistance("MTU", "mtu")).toBe(0);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("offers only names within reach, nearest first, ties together", () => {
    expect(closest("mdoe", ["mode", "mtu", "name"])).toEqual(["mode"]);
    expect(closest("xyz", ["mode", "mtu"])).toEqual([]);
    expect(closest("linux-uso-of", ["linux-uso-off", "linux-uso-on", "mtu1500-uso-off"])).toEqual(["linux-uso-off", "linux-uso-on"]);
  });
});
