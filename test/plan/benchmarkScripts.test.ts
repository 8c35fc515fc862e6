import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LabConfig } from "../../src/config/model";
import { listStacks, loadStack } from "../../src/config/stackFile";
import { benchmarkStep } from "../../src/plan/benchmark/benchmarkStep";
import { planCells } from "../../src/plan/benchmark/cells";
import { guestCellScript, iperf3ClientArgs } from "../../src/plan/benchmark/guestCell";
import { iperf3ServerStep } from "../../src/plan/benchmark/iperf3Server";
import type { Transport } from "../../src/plan/transport/transport";
import { ps } from "../../src/plan/quote";
import { parseBenchmarkOutput } from "../../src/results/benchmark";
import { expectGolden } from "../support/golden";

const ROOT = path.join(__dirname, "..", "..");
const goldenTransport: Transport = { description: "golden stand-in", functionDefinition: "guest_exec() { sh -s; }" };
const HOSTILE = `it's "q" \`id\` $(touch /tmp/ol-pwned) $HOME ; rm -rf x\nline2 <a>&`;

describe("golden scripts per stack", () => {
  for (const stack of listStacks(ROOT)) {
    it(stack, () => {
      const cfg = loadStack(ROOT, stack);
      const server = iperf3ServerStep(cfg);
      const bench = benchmarkStep(cfg, goldenTransport);
      const cells = planCells(cfg);
      const cell = cells[0]!;
      const ext = cfg.guest.os === "windows" ? "ps1" : "sh";
      // One cell script per sender: the senders differ in the client's arguments.
      for (const sender of cfg.matrix.senders) {
        const first = cells.find((c) => c.sender === sender)!;
        expectGolden(`benchmark/${stack}/cell.${first.id}.${ext}`, guestCellScript(cfg, first));
      }
      expectGolden(`benchmark/${stack}/iperf3-server.create.sh`, server.create);
      expectGolden(`benchmark/${stack}/iperf3-server.delete.sh`, server.delete!);
      expectGolden(`benchmark/${stack}/benchmark.create.sh`, bench.create);
      expect(bench.dependsOn).toEqual(["iperf3-server", "guest-offloads", "host-offloads", "guest-network"]);
      expect(bench.triggers).toContain(cfg.benchmark.runId);
      expect(server.component).toBe("Iperf3Server");
      expect(bench.component).toBe("Benchmark");
    });
  }
});

describe("triggers", () => {
  const cfg = loadStack(ROOT, "mtu9000-uso-on");
  it("re-run the benchmark for a new runId or matrix, and not the server", () => {
    const base = benchmarkStep(cfg, goldenTransport).triggers;
    const rerun = benchmarkStep({ ...cfg, benchmark: { runId: "2" } }, goldenTransport).triggers;
    const matrix = benchmarkStep({ ...cfg, matrix: { ...cfg.matrix, repetitions: 5 } }, goldenTransport).triggers;
    expect(rerun).not.toEqual(base);
    expect(matrix).not.toEqual(base);
    expect(iperf3ServerStep({ ...cfg, benchmark: { runId: "2" } }).triggers).toEqual(iperf3ServerStep(cfg).triggers);
  });
});

describe("hostile values", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ol-bench-"));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const linux = loadStack(ROOT, "linux-uso-on");

  it("the Linux cell script hands iperf3 every argument exactly as configured", () => {
    // A `timeout` stand-in on PATH prints the argv it was given, one argument per NUL.
    const bin = path.join(tmp, "bin");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "timeout"), "#!/bin/sh\nprintf '%s\\0' \"$@\"\n", { mode: 0o755 });
    const cfg: LabConfig = { ...linux, guest: { ...linux.guest, iperf3Path: HOSTILE } };
    const cell = planCells(cfg)[0]!;
    const out = execFileSync("sh", ["-s"], {
      input: guestCellScript(cfg, cell),
      encoding: "utf8",
      cwd: tmp,
      env: { PATH: `${bin}:/usr/bin:/bin` },
    });
    expect(out.split("\0").slice(0, -1)).toEqual(["-k", "5", String(cell.durationSeconds + 30), HOSTILE, ...iperf3ClientArgs(cfg, cell)]);
    expect(fs.existsSync("/tmp/ol-pwned")).toBe(false);
  });

  it("the Windows cell script carries the iperf3 path as one PowerShell literal", () => {
    const win = loadStack(ROOT, "mtu9000-uso-on");
    const path1 = `C:\\it's ‘x’\\iperf3.exe`;
    const script = guestCellScript({ ...win, guest: { ...win.guest, iperf3Path: path1 } }, planCells(win)[0]!);
    expect(script).toContain(`$start.FileName = ${ps(path1)}\n`);
    expect(ps(path1)).toBe(`'C:\\it''s ‘‘x’’\\iperf3.exe'`);
  });

  it("stops the guest's sender through the transport when the host's deadline ends a cell", () => {
    const stops = path.join(tmp, "stops.txt");
    const transport: Transport = {
      description: "deadline stand-in",
      functionDefinition: `guest_exec() { cat >/dev/null; echo 4242 >"$OL_GUEST_PID_FILE"; return 124; }
guest_stop() { printf '%s %s\\n' "$1" "$(cat "$1")" >>${JSON.stringify(stops)}; }`,
    };
    const cfg: LabConfig = { ...linux, guest: { ...linux.guest, tapName: "ol-none0" }, matrix: { ...linux.matrix, payloads: [1000], senders: ["plain"], repetitions: 2 } };
    const result = execFileSync("bash", ["-s"], { input: benchmarkStep(cfg, transport).create, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    expect(result.trim().split("\n").map((l) => JSON.parse(l).exitCode)).toEqual([124, 124]);
    const lines = fs.readFileSync(stops, "utf8").trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const [i, line] of lines.entries()) expect(line).toMatch(new RegExp(`/${planCells(cfg)[i]!.id}\\.pid 4242$`));
  });

  it("the benchmark loop survives a hostile transport and tap name, and reports the guest's bytes exactly", () => {
    const guestSays = `${HOSTILE}\n\u00e9\u4e2d`;
    const transport: Transport = {
      description: `evil\ntransport $(touch /tmp/ol-pwned)`,
      functionDefinition: `guest_exec() { cat >/dev/null; base64 -d <<<'${Buffer.from(guestSays).toString("base64")}'; echo "it's stderr" >&2; return 3; }`,
    };
    const cfg: LabConfig = {
      ...linux,
      guest: { ...linux.guest, tapName: `t'$(touch /tmp/ol-pwned)` },
      iperf3: { ...linux.iperf3, port: 5399 },
      matrix: { ...linux.matrix, payloads: [1000], senders: ["plain"], repetitions: 2 },
    };
    const result = execFileSync("bash", ["-s"], { input: benchmarkStep(cfg, transport).create, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    const lines = result.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(Buffer.from(lines[0].stdout, "base64").toString("utf8")).toBe(guestSays);
    expect(Buffer.from(lines[0].stderr, "base64").toString("utf8")).toBe("it's stderr\n");
    expect(lines[0].exitCode).toBe(3);
    expect(lines[0].capture.note).toMatch(/^no interface t.*on the host$/);
    const cells = parseBenchmarkOutput(result, cfg);
    expect(cells.map((c) => c.status)).toEqual(["failed", "failed"]);
    expect(cells[0]!.error).toMatch(/guest exit code 3: it's stderr/);
    expect(fs.existsSync("/tmp/ol-pwned")).toBe(false);
  });
});
