import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { importIperf3, type ImportOptions } from "../../src/results/importIperf3";

// Recorded by test/fixtures/iperf3/record.sh from real iperf3 3.12 runs in network namespaces.
const FIXTURES = path.join(__dirname, "..", "fixtures", "iperf3");
const MANUAL = path.join(FIXTURES, "manual");
const f = (name: string) => path.join(FIXTURES, `${name}.json`);
const read = (files: string[]) => files.map((file) => ({ file, text: fs.readFileSync(file, "utf8") }));
const importFiles = (files: string[], opts: ImportOptions) => importIperf3(read(files), opts);
const manualFiles = () => fs.readdirSync(MANUAL).filter((n) => n.endsWith(".json")).sort().map((n) => path.join(MANUAL, n));

interface Received { bits_per_second: number; jitter_ms: number; lost_packets: number; packets: number; lost_percent: number }
const received = (file: string): Received => (JSON.parse(fs.readFileSync(file, "utf8")) as { end: { sum_received: Received } }).end.sum_received;

describe("a folder of manual runs (good, failed, reverse and TCP) imports with nothing lost", () => {
  const outcome = importFiles(manualFiles(), { mtu: 9000, variant: "mtu9000-uso-on-manual", uso: true });
  const byFile = new Map(outcome.imported.map((i) => [path.basename(i.file, ".json"), i.cell]));

  it("gives every file a cell or a refusal", () => {
    expect(outcome.imported.length + outcome.refused.length).toBe(manualFiles().length);
    expect(outcome.refused.map((r) => [path.basename(r.file), r.reason])).toEqual([
      ["tcp.json", "a TCP test, not UDP (run iperf3 with -u)"],
      ["udp-1472B-reverse.json", "a reverse run (-R): the server sent and this end received; the lab measures the client's sending (run without -R)"],
    ]);
    expect(outcome.imported.map((i) => [path.basename(i.file, ".json"), i.cell.status, i.cell.payloadBytes, i.cell.id])).toEqual([
      ["udp-1472B", "ok", 1472, "udp-1472B-plain-mtu9000-uso-on-manual-r1"],
      ["udp-65507B", "ok", 65507, "udp-65507B-plain-mtu9000-uso-on-manual-r1"],
      ["udp-8972B-busy", "failed", null, "udp-payload-unknown-plain-mtu9000-uso-on-manual-r1"],
      ["udp-8972B-interrupted", "failed", 8972, "udp-8972B-plain-mtu9000-uso-on-manual-r1"],
      ["udp-8972B-refused", "failed", null, "udp-payload-unknown-plain-mtu9000-uso-on-manual-r2"],
      ["udp-8972B", "ok", 8972, "udp-8972B-plain-mtu9000-uso-on-manual-r2"],
    ]);
  });

  it("keeps iperf3's own error text on failed cells", () => {
    expect(byFile.get("udp-8972B-busy")!.error).toBe("the server is busy running a test. try again later");
    expect(byFile.get("udp-8972B-refused")!.error).toBe("unable to connect to server: Connection refused");
    expect(byFile.get("udp-8972B-interrupted")!.error).toBe("interrupt - the client has terminated");
    for (const name of ["udp-8972B-busy", "udp-8972B-refused", "udp-8972B-interrupted"]) {
      expect(byFile.get(name)!.throughputBps, name).toBeNull();
    }
  });

  it("reads throughput, jitter and loss from end.sum_received", () => {
    for (const name of ["udp-1472B", "udp-8972B", "udp-65507B"]) {
      const r = received(path.join(MANUAL, `${name}.json`));
      const cell = byFile.get(name)!;
      expect(cell, name).toMatchObject({
        throughputBps: r.bits_per_second, jitterMs: r.jitter_ms, lostPackets: r.lost_packets, packets: r.packets, lossPercent: r.lost_percent,
      });
    }
  });

  it("takes MTU, variant and sender, and marks a plain sender's USO as not exercised", () => {
    const ok = outcome.imported.map((i) => i.cell).filter((c) => c.status === "ok");
    expect(ok.map((c) => [c.payloadBytes, c.mtu, c.bitrate, c.fragmented, c.sender])).toEqual([
      [1472, 9000, "200M", false, "plain"],
      [65507, 9000, "500M", true, "plain"],
      [8972, 9000, "500M", false, "plain"],
    ]);
    expect(ok[0]!.evidence).toEqual({ usoRequested: true, udpOffloadDelta: null, usoEngaged: "not-exercised" });
  });
});

describe("iperf3 3.22 --gsro runs (the guest image's client, recorded by record.sh)", () => {
  const { imported } = importFiles([f("udp-1472B-mtu1500-gsro"), f("udp-1473B-mtu1500-gsro-oversize"), f("udp-1472B-mtu1500-iperf3.22")], { variant: "mtu1500-uso-on", uso: true });
  const [gso, oversize, plain] = imported.map((i) => i.cell);

  it("import with sender gso, in the id too; a 3.22 run without --gsro stays plain", () => {
    expect([gso!.sender, oversize!.sender, plain!.sender]).toEqual(["gso", "gso", "plain"]);
    expect(gso!.id).toBe("udp-1472B-gso-mtu1500-uso-on-r1");
    expect(plain!.id).toBe("udp-1472B-plain-mtu1500-uso-on-r1");
    // No capture beside a manual run: a segmenting sender's USO is unverified, not "no".
    expect(gso!.evidence.usoEngaged).toBe("unverified");
    expect(plain!.evidence.usoEngaged).toBe("not-exercised");
  });

  it("read throughput from end.sum_received and loss and jitter from the receiving server's own report", () => {
    const doc = JSON.parse(fs.readFileSync(f("udp-1472B-mtu1500-gsro"), "utf8")) as {
      end: { sum_received: Received }; server_output_json: { end: { sum_received: Received } };
    };
    const server = doc.server_output_json.end.sum_received;
    expect(gso).toMatchObject({
      status: "ok", payloadBytes: 1472, throughputBps: doc.end.sum_received.bits_per_second, packets: doc.end.sum_received.packets,
      lostPackets: server.lost_packets, lossPercent: server.lost_percent, jitterMs: server.jitter_ms,
    });
  });

  it("keep a --gsro run above MTU − 28, which sent nothing, as invalid with the reason", () => {
    expect(oversize!.status).toBe("invalid");
    expect(oversize!.error).toMatch(/^no datagram was received \(0 packets, .*with --gsro, datagrams of 1473 B above the path MTU - 28 are never sent/);
  });
});

describe("importIperf3, one file at a time", () => {
  it("fills in --payload only where the file does not say", () => {
    const { imported } = importFiles([path.join(MANUAL, "udp-8972B-refused.json"), path.join(MANUAL, "udp-1472B.json")], { payload: 8972, mtu: 9000 });
    expect(imported.map((i) => [i.cell.payloadBytes, i.cell.id])).toEqual([[8972, "udp-8972B-plain-imported-mtu9000-r1"], [1472, "udp-1472B-plain-imported-mtu9000-r1"]]);
  });

  it("with --mtu, marks a payload above MTU − 28 fragmented", () => {
    const { imported, mtuMissing } = importFiles([f("udp-65507B-mtu1500-fragmented")], { mtu: 1500 });
    expect(imported[0]!.cell).toMatchObject({ mtu: 1500, fragmented: true, status: "ok" });
    expect(mtuMissing).toEqual([]);
  });

  it("without --mtu, names every run whose payload is above 1500 − 28 instead of taking it as fragmented", () => {
    const { mtuMissing } = importFiles([f("udp-1472B-mtu1500"), f("udp-65507B-mtu1500-fragmented"), f("udp-8972B-mtu9000")], {});
    expect(mtuMissing).toEqual([
      { file: f("udp-65507B-mtu1500-fragmented"), payloadBytes: 65507 },
      { file: f("udp-8972B-mtu9000"), payloadBytes: 8972 },
    ]);
  });
  it("keeps a stalled run as invalid and a run whose server died as failed", () => {
    const { imported } = importFiles([f("udp-1472B-mtu1500-stalled"), f("interrupted")], {});
    expect(imported.map((i) => i.cell.status)).toEqual(["invalid", "failed"]);
    expect(imported[1]!.cell.error).toBe("control socket has closed unexpectedly");
  });

  it("refuses a file that is not iperf3 -J output, naming it, and goes on", () => {
    const { imported, refused } = importIperf3(
      [{ file: "notes.json", text: "iperf3 -c host -u" }, { file: "other.json", text: '{"a": 1}' }, ...read([f("udp-512B-mtu1500")])],
      {},
    );
    expect(refused.map((r) => r.file)).toEqual(["notes.json", "other.json"]);
    expect(refused[0]!.reason).toMatch(/^not iperf3 -J output: not JSON/);
    expect(refused[1]!.reason).toBe("not iperf3 -J output: no `start` and no `error`");
    expect(imported.map((i) => i.cell.id)).toEqual(["udp-512B-plain-imported-mtu1500-r1"]);
  });
});

describe("the factors an import is given", () => {
  it("become the variant's name when none is given, so imports made apart never share one by default", () => {
    const name = (opts: ImportOptions) => importFiles([f("udp-1472B-mtu1500")], opts);
    expect(name({ os: "linux", mtu: 9000, uso: true }).variant).toBe("imported-linux-mtu9000-uso-on");
    expect(name({ uso: false }).variant).toBe("imported-mtu1500-uso-off");
    expect(name({}).variant).toBe("imported-mtu1500");
    expect(name({ os: "windows", uso: true, variant: "mine" }).variant).toBe("mine");
  });
  it("are written as data beside the cells, and USO requested follows --uso, not the name", () => {
    const on = importFiles([f("udp-1472B-mtu1500")], { os: "linux", uso: true, variant: "x-uso-off" });
    expect(on.factors).toEqual({ os: "linux", mtu: 1500, uso: true, arms: false, host: null });
    expect(on.imported[0]!.cell.evidence.usoRequested).toBe(true);
    expect(importFiles([f("udp-1472B-mtu1500")], { variant: "y-uso-on" }).imported[0]!.cell.evidence.usoRequested).toBe(false);
  });
});

describe("every run counted once", () => {
  it("refuses a file given twice, and a copy under another name, naming the first", () => {
    const text = fs.readFileSync(f("udp-1472B-mtu1500"), "utf8");
    const { imported, refused } = importIperf3([
      { file: "a.json", text }, { file: "a.json", text }, { file: "copy/b.json", text },
    ], {});
    expect(imported).toHaveLength(1);
    expect(refused).toEqual([
      { file: "a.json", reason: "given more than once: a run is counted once" },
      { file: "copy/b.json", reason: "the same content as a.json: a run is counted once" },
    ]);
  });
  it("records each cell's source by content digest, for the report to count it once", () => {
    const text = fs.readFileSync(f("udp-1472B-mtu1500"), "utf8");
    const [cell] = importIperf3([{ file: "a.json", text }], {}).imported;
    expect(cell!.cell.source).toEqual({ file: "a.json", sha256: createHash("sha256").update(text).digest("hex") });
  });
});

describe("numbers no run can have produced (a recorded run, edited)", () => {
  // JSON.stringify writes no number beyond 1.8e308: a sentinel is written, then replaced in the text.
  const SENTINEL = 987654321.125;
  const edit = (change: (doc: Record<string, any>) => void, sentinelText?: string): string => {
    const doc = JSON.parse(fs.readFileSync(f("udp-1472B-mtu1500"), "utf8")) as Record<string, any>;
    change(doc);
    const text = JSON.stringify(doc);
    return sentinelText === undefined ? text : text.replace(String(SENTINEL), sentinelText);
  };
  const importOne = (text: string) => importIperf3([{ file: "edited.json", text }], {});
  it.each([
    ["a rate of 1.8e308 bit/s (beyond a double)", (d: Record<string, any>) => { d.end.sum_received.bits_per_second = SENTINEL; }, "1.8e308", /end\.sum_received\.bits_per_second is beyond the largest number a double holds/],
    ["a rate of 1e15 bit/s", (d: Record<string, any>) => { d.end.sum_received.bits_per_second = 1e15; }, undefined, /receiver rate 1e\+?15 bit\/s is above 1e\+?12 bit\/s/],
    ["a rate of −5 bit/s", (d: Record<string, any>) => { d.end.sum_received.bits_per_second = -5; }, undefined, /receiver rate -5 bit\/s is not a rate/],
    ["1e23 packets in 2 s", (d: Record<string, any>) => { d.end.sum_received.packets = 1e23; }, undefined, /1e\+?23 packets in 2 s would need more than 1e\+?12 bit\/s/],
    ["a loss of 140 %", (d: Record<string, any>) => { d.server_output_json.end.sum_received.lost_percent = 140; }, undefined, /loss 140 % is outside 0–100 %/],
  ])("make %s a failed cell with the reason and no numbers", (_what, change, sentinelText, reason) => {
    const { imported, refused } = importOne(edit(change, sentinelText));
    expect(refused).toEqual([]);
    const cell = imported[0]!.cell;
    expect(cell.status).toBe("failed");
    expect(cell.error).toMatch(/^impossible numbers in the file: /);
    expect(cell.error).toMatch(reason);
    expect([cell.throughputBps, cell.packets, cell.lossPercent]).toEqual([null, null, null]);
  });
  it("refuses a payload of 1e20 B: it names no cell", () => {
    const { imported, refused } = importOne(edit((d) => { d.start.test_start.blksize = 1e20; }));
    expect(imported).toEqual([]);
    expect(refused[0]!.reason).toMatch(/^impossible numbers: payload 1e\+?20 B is outside 16–65507 B/);
  });
  it("keeps the recorded run itself as it was", () => {
    expect(importOne(fs.readFileSync(f("udp-1472B-mtu1500"), "utf8")).imported[0]!.cell.status).toBe("ok");
  });
});
