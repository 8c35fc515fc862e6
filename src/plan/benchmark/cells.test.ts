import { describe, expect, it } from "vitest";
import { PROJECT as ROOT } from "../../../test/support/stacks";
import { loadStack } from "../../config/stackFile";
import { validateLab } from "../../config/validate";
import { cellId } from "../../results/cell";
import { importIperf3 } from "../../results/importIperf3";
import { planCells, sendersFor, skippedSenders } from "./cells";
import { iperf3ClientArgs } from "./guestCell";

const windowsGuest = {
  os: "windows",
  name: "w",
  baseImage: "/var/lib/libvirt/images/w.qcow2",
  virtioWinIso: "/usr/share/virtio-win/virtio-win.iso",
};

describe("planCells", () => {
  it("follows the seed procedure by default: MTU − 28 and 65507, 1G, 10 s", () => {
    const cfg = validateLab("t", { network: { mtu: 9000 }, guest: windowsGuest, guestOffloads: { uso: { ipv4: true } } });
    const cells = planCells(cfg);
    expect(cells.map((c) => c.id)).toEqual([
      "udp-8972B-plain-mtu9000-uso-on-r1",
      "udp-8972B-plain-mtu9000-uso-on-r2",
      "udp-8972B-plain-mtu9000-uso-on-r3",
      "udp-65507B-plain-mtu9000-uso-on-r1",
      "udp-65507B-plain-mtu9000-uso-on-r2",
      "udp-65507B-plain-mtu9000-uso-on-r3",
    ]);
    expect(cells.every((c) => c.bitrate === "1G" && c.durationSeconds === 10 && c.usoRequested && c.mtu === 9000)).toBe(true);
    expect(cells.map((c) => c.fragmented)).toEqual([false, false, false, true, true, true]);
  });

  it("puts the bitrate into the id only when several are listed", () => {
    const cfg = validateLab("t", { guest: windowsGuest, matrix: { payloads: [1472], repetitions: 1, bitrates: ["100M", "1G"] } });
    expect(planCells(cfg).map((c) => c.id)).toEqual(["udp-1472B-plain-b100M-mtu1500-uso-default-r1", "udp-1472B-plain-b1G-mtu1500-uso-default-r1"]);
    expect(planCells(cfg).every((c) => !c.usoRequested)).toBe(true);
  });

  it("fragments by the guest's MTU, one byte past MTU − 28", () => {
    const cfg = validateLab("t", { guest: windowsGuest, guestOffloads: { mtu: 4000 }, matrix: { payloads: [3972, 3973], repetitions: 1 } });
    expect(planCells(cfg).map((c) => [c.payloadBytes, c.fragmented])).toEqual([[3972, false], [3973, true]]);
  });

  it("shuffles deterministically: same seed same order, another seed another order, same cells", () => {
    const matrix = { payloads: [1000, 2000, 3000, 4000], repetitions: 3, order: "shuffled" };
    const a = planCells(validateLab("t", { guest: windowsGuest, matrix: { ...matrix, shuffleSeed: 7 } }));
    const again = planCells(validateLab("t", { guest: windowsGuest, matrix: { ...matrix, shuffleSeed: 7 } }));
    const b = planCells(validateLab("t", { guest: windowsGuest, matrix: { ...matrix, shuffleSeed: 8 } }));
    const listed = planCells(validateLab("t", { guest: windowsGuest, matrix: { ...matrix, order: "listed" } }));
    expect(again.map((c) => c.id)).toEqual(a.map((c) => c.id));
    expect(b.map((c) => c.id)).not.toEqual(a.map((c) => c.id));
    expect(a.map((c) => c.id)).not.toEqual(listed.map((c) => c.id));
    expect([...a.map((c) => c.id)].sort()).toEqual([...listed.map((c) => c.id)].sort());
  });

  it("plans payloads × senders, the sender in the id and in the cell, --gsro only for gso", () => {
    const cfg = loadStack(ROOT, "linux-uso-on");
    const cells = planCells(cfg);
    expect(cells.map((c) => [c.id, c.sender])).toEqual([
      ["udp-1472B-plain-mtu1500-uso-on-r1", "plain"],
      ["udp-1472B-plain-mtu1500-uso-on-r2", "plain"],
      ["udp-1472B-gso-mtu1500-uso-on-r1", "gso"],
      ["udp-1472B-gso-mtu1500-uso-on-r2", "gso"],
    ]);
    expect(iperf3ClientArgs(cfg, cells[0]!)).not.toContain("--gsro");
    expect(iperf3ClientArgs(cfg, cells[2]!)).toContain("--gsro");
  });

  it("plans every stack's matrix with unique ids", () => {
    for (const stack of ["linux-uso-off", "linux-uso-on", "mtu1500-uso-off", "mtu1500-uso-on", "mtu9000-uso-off", "mtu9000-uso-on"]) {
      const cfg = loadStack(ROOT, stack);
      const ids = planCells(cfg).map((c) => c.id);
      const perPayload = cfg.matrix.payloads.map((p) => sendersFor(p, cfg).length).reduce((a, b) => a + b, 0);
      expect(new Set(ids).size, stack).toBe(perPayload * cfg.matrix.repetitions * cfg.matrix.bitrates.length);
      expect(ids.every((id) => id.includes(cfg.variant)), stack).toBe(true);
    }
  });
});

describe("senders per payload (issue 18 item 5)", () => {
  it("plans plain for every payload and a segmenting sender only up to MTU − 28, and says what it left out", () => {
    for (const [stack, mtu] of [["mtu1500-uso-on", 1500], ["mtu9000-uso-off", 9000]] as const) {
      const cfg = loadStack(ROOT, stack);
      expect(cfg.matrix.senders).toEqual(["plain", "uso"]);
      expect(sendersFor(mtu - 28, cfg)).toEqual(["plain", "uso"]);
      expect(sendersFor(mtu - 27, cfg)).toEqual(["plain"]);
      expect(sendersFor(65507, cfg)).toEqual(["plain"]);
      const cells = planCells(cfg);
      expect(cells.filter((c) => c.sender === "uso").map((c) => c.payloadBytes)).toEqual([mtu - 28, mtu - 28, mtu - 28]);
      expect(cells.filter((c) => c.sender === "plain").map((c) => c.payloadBytes)).toEqual([mtu - 28, mtu - 28, mtu - 28, 65507, 65507, 65507]);
      expect(cells.filter((c) => c.sender === "uso").every((c) => !c.fragmented)).toBe(true);
      expect(skippedSenders(cfg)).toEqual([{ payloadBytes: 65507, sender: "uso", reason: `above MTU − 28 = ${mtu - 28}: IP-fragmented, nothing to segment` }]);
    }
    const linux = loadStack(ROOT, "linux-uso-on");
    const wide = { ...linux, matrix: { ...linux.matrix, payloads: [1472, 8972] } };
    expect(planCells(wide).filter((c) => c.payloadBytes === 8972).map((c) => c.sender)).toEqual(["plain", "plain"]);
    expect(skippedSenders(wide)).toEqual([{ payloadBytes: 8972, sender: "gso", reason: "above MTU − 28 = 1472: IP-fragmented, nothing to segment" }]);
  });
});

describe("cellId", () => {
  it("is the one id format of planned cells and imported runs", () => {
    expect(cellId("mtu9000-uso-on", 8972, "gso", null, 2)).toBe("udp-8972B-gso-mtu9000-uso-on-r2");
    expect(cellId("mtu1500-uso-default", 1472, "plain", "100M", 1)).toBe("udp-1472B-plain-b100M-mtu1500-uso-default-r1");
    expect(cellId("imported", null, "plain", null, 3)).toBe("udp-payload-unknown-plain-imported-r3");
    const cfg = validateLab("t", { guest: windowsGuest, matrix: { payloads: [1472], repetitions: 1 } });
    const [planned] = planCells(cfg);
    expect(planned!.id).toBe(cellId(cfg.variant, 1472, "plain", null, 1));
    // An imported run of the same payload and sender gets the id the matrix would give it.
    const run = JSON.stringify({ start: { version: "iperf 3.12", test_start: { protocol: "UDP", blksize: 1472, duration: 10, reverse: 0 } }, error: "x" });
    const [imported] = importIperf3([{ file: "a.json", text: run }], { variant: cfg.variant }).imported;
    expect(imported!.cell.id).toBe(planned!.id);
  });
});

describe("planCells with in-lab arms (matrix.usoArms)", () => {
  const linuxGuest = { os: "linux", name: "g", baseImage: "/b.qcow2", linuxInterface: "eth0" };
  const arms = (matrix: Record<string, unknown>) =>
    validateLab("t", { network: { mtu: 9000 }, guest: linuxGuest, matrix: { payloads: [8972, 65507], senders: ["plain", "gso"], repetitions: 2, usoArms: true, ...matrix } });

  it("runs each repetition as a pair, off right before on, the pairs going round the rows", () => {
    const cells = planCells(arms({}));
    expect(cells.map((c) => c.id)).toEqual([
      "udp-8972B-plain-mtu9000-uso-arms-r1-off", "udp-8972B-plain-mtu9000-uso-arms-r1-on",
      "udp-8972B-gso-mtu9000-uso-arms-r1-off", "udp-8972B-gso-mtu9000-uso-arms-r1-on",
      "udp-65507B-plain-mtu9000-uso-arms-r1-off", "udp-65507B-plain-mtu9000-uso-arms-r1-on",
      "udp-8972B-plain-mtu9000-uso-arms-r2-off", "udp-8972B-plain-mtu9000-uso-arms-r2-on",
      "udp-8972B-gso-mtu9000-uso-arms-r2-off", "udp-8972B-gso-mtu9000-uso-arms-r2-on",
      "udp-65507B-plain-mtu9000-uso-arms-r2-off", "udp-65507B-plain-mtu9000-uso-arms-r2-on",
    ]);
    expect(cells.map((c) => [c.arm, c.pair, c.usoRequested])).toEqual(
      [1, 1, 1, 2, 2, 2].flatMap((pair) => [["off", pair, false], ["on", pair, true]]),
    );
  });

  it("shuffled, shuffles the pairs and keeps each off-then-on", () => {
    const cells = planCells(arms({ order: "shuffled", shuffleSeed: 7, repetitions: 3 }));
    expect(cells).toHaveLength(18);
    for (let i = 0; i < cells.length; i += 2) {
      const [off, on] = [cells[i]!, cells[i + 1]!];
      expect([off.arm, on.arm]).toEqual(["off", "on"]);
      expect(on.id).toBe(off.id.replace(/-off$/, "-on"));
    }
    expect(cells.map((c) => c.id)).not.toEqual(planCells(arms({ repetitions: 3 })).map((c) => c.id));
  });

  it("without arms, cells carry neither arm nor pair", () => {
    const cells = planCells(validateLab("t", { guest: linuxGuest, guestOffloads: { uso: { ipv4: true } } }));
    expect(cells.every((c) => c.arm === undefined && c.pair === undefined && c.usoRequested)).toBe(true);
  });
});
