import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { expectGolden } from "../../../test/support/golden";
import { boundValue } from "../../../test/support/shellcheck";
import { PROJECT as ROOT } from "../../../test/support/stacks";
import { ConfigError } from "../../config/errors";
import type { LabConfig } from "../../config/model";
import { loadStack } from "../../config/stackFile";
import { validateLab } from "../../config/validate";
import { scriptFile } from "../script/files";
import { bashAssignments } from "../script/hostScript";
import type { Step } from "../step";
import { planCells } from "./cells";
import { guestCellScript } from "./guestCell";
import { benchmarkStep } from "./step";
import { usoReceiverCounts, usoRun } from "./usoSender";
import { USO_DATAGRAM_MAGIC, bitsPerSecond, usoSegmentsPerSend } from "./windowsCell";

const stack = loadStack(ROOT, "mtu9000-uso-on");
const cfg: LabConfig = { ...stack, matrix: { ...stack.matrix, senders: ["uso"], payloads: [8972] } };

describe("the Windows uso sender", () => {
  it("golden script: UDP_SEND_MSG_SIZE = payload, k datagrams per send within NetKVM's USO size", () => {
    const cell = planCells(cfg)[0]!;
    expect(cell.id).toBe("udp-8972B-uso-mtu9000-uso-on-r1");
    const script = guestCellScript(cfg, cell);
    expectGolden("benchmark/mtu9000-uso-on/cell.udp-8972B-uso-mtu9000-uso-on-r1.ps1", script);
    expect(script).toContain("$socket.SetSocketOption([System.Net.Sockets.SocketOptionLevel]::Udp, [System.Net.Sockets.SocketOptionName]2, $Size)");
    expect(script).toContain("  Size = 8972\n  Segments = 3\n");
    expect(usoSegmentsPerSend(8972)).toBe(3);
    expect(usoSegmentsPerSend(1472)).toBe(23);
    expect(bitsPerSecond("1G")).toBe(1e9);
    expect(bitsPerSecond("2.5M")).toBe(2.5e6);
    expect(bitsPerSecond("0")).toBe(0);
  });

  it("is refused on a Linux guest, without a payload it can send, or above NetKVM's USO size, with why", () => {
    const problems = (raw: Record<string, unknown>) => {
      try {
        validateLab("t", raw);
      } catch (e) {
        if (e instanceof ConfigError) return e.problems.map((p) => `${p.key}: ${p.allowed}`);
        throw e;
      }
      return [];
    };
    expect(problems({ guest: { os: "linux", name: "l", baseImage: "/l.qcow2" }, matrix: { senders: ["plain", "uso"] } })).toEqual([
      "offload-lab:matrix.senders.1: is for a Windows guest only (UDP_SEND_MSG_SIZE); a Linux guest takes plain or gso",
    ]);
    const win = { guest: { os: "windows", name: "w", baseImage: "/w.qcow2", virtioWinIso: "/v.iso" } };
    // Planned per payload: the default payloads (1472 and 65507) are fine, uso runs for 1472.
    expect(problems({ ...win, matrix: { senders: ["plain", "uso"] } })).toEqual([]);
    expect(problems({ ...win, matrix: { senders: ["uso"], payloads: [8972, 65507] } })[0])
      .toMatch(/^offload-lab:matrix.senders.0: needs at least one payload at most MTU − 28 = 1472 .*payloads given: 8972, 65507/);
    // 17152 B is the largest payload two segments of which fit NetKVM's 34304 B.
    const jumbo = { ...win, network: { mtu: 32000 } };
    expect(problems({ ...jumbo, matrix: { senders: ["uso"], payloads: [17152, 65507] } })).toEqual([]);
    expect(problems({ ...jumbo, matrix: { senders: ["uso"], payloads: [17153, 1472] } })).toEqual([
      "offload-lab:matrix.senders.0: needs every payload it runs for at most 17152 B: NetKVM's USO MaxOffLoadSize is 536 × 64 = 34304 B with at least 2 segments a send (NetKVM/Common/ndis56common.h); payloads above it: 17153 (list them without those, or lower the MTU)",
    ]);
    expect(usoSegmentsPerSend(17152)).toBe(2);
    expect(() => usoSegmentsPerSend(17153)).toThrow(/exceeds 17152 B: 2 segments would not fit NetKVM's 34304 B/);
  });

  it("paces with a high-resolution waitable timer, not Thread.Sleep, and reports its own CPU time", () => {
    const script = guestCellScript(cfg, planCells(cfg)[0]!);
    expect(script).not.toContain("Thread]::Sleep");
    expect(script).toContain("CreateWaitableTimerExW([IntPtr]::Zero, [IntPtr]::Zero, 2, 0x1F0003)");
    expect(script).toContain("while ($clock.Elapsed.TotalSeconds -lt $due) { }");
    expect(script).toContain("$cpuSeconds = ($self.TotalProcessorTime - $cpuStart).TotalSeconds");
  });
});

const python = spawnSync("python3", ["--version"]).status === 0;
const root = process.getuid?.() === 0;

describe.skipIf(!python)("the host's uso receiver (python3, loopback)", () => {
  // A stand-in for the Windows sender: the same datagram layout (sequence, magic, send time in
  // microseconds), k datagrams per send through Linux UDP_SEGMENT (the Linux twin of
  // UDP_SEND_MSG_SIZE: 103 at SOL_UDP), over loopback; one reordered pair, one foreign datagram.
  const SEND = `import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dest = ("127.0.0.1", int(sys.argv[1]))
size, k = 100, 2
s.setsockopt(socket.IPPROTO_UDP, 103, size)
def datagram(seq):
    return struct.pack(">Q", seq) + ${JSON.stringify(USO_DATAGRAM_MAGIC)}.encode() + struct.pack(">Q", int(time.monotonic() * 1e6)) + bytes(size - 24)
for first in (0, 2):
    s.sendto(b"".join(datagram(first + i) for i in range(k)), dest)
    time.sleep(0.002)
for seq in (5, 4):
    s.sendto(datagram(seq), dest)
s.sendto(b"not ours, iperf3 or anyone", dest)
`;

  /** The receiver exactly as the benchmark step binds it, run by the loop's own functions. */
  const receiverRun = (prefix = "") => {
    const stand = { name: "stand-in" } as Step;
    const step = benchmarkStep(cfg, { kind: "netns", description: "unused", functionDefinition: "guest_exec() { sh -s; }", secretEnv: {}, hostTools: [] }, {
      iperf3Server: stand, guestOffloads: stand, hostOffloads: stand, guestNetwork: stand,
    });
    const values = bashAssignments({ USO_RECEIVER_PY: boundValue(step.create, "USO_RECEIVER_PY"), USO_MAGIC: boundValue(step.create, "USO_MAGIC") });
    const script = `set -euo pipefail
WORK=$(mktemp -d); ADDR=127.0.0.1; PORT=$1
${prefix}
${values}
${scriptFile(__dirname, "uso-receiver-lib.sh").text}
uso_receiver_start c1
python3 -c "$2" "$PORT"
sleep 0.3
uso_receiver_stop
uso_receiver_json c1
rm -rf "$WORK"
`;
    const port = String(20000 + (process.pid % 20000));
    const out = execFileSync("bash", ["-c", script, "bash", port, SEND], { encoding: "utf8" });
    // What it printed is what the benchmark line's schema takes as `receiver`.
    return usoReceiverCounts.parse(JSON.parse(out.trim()));
  };

  it.skipIf(!root)("as root: counts the lab's datagrams, reordering and jitter, ignores foreign ones, and gets its whole buffer with SO_RCVBUFFORCE", () => {
    const counts = receiverRun();
    expect(counts).toMatchObject({ datagrams: 6, bytes: 6 * 100, maxSequence: 5, outOfOrder: 1, bufferOption: "SO_RCVBUFFORCE", requestedBufferBytes: 8 << 20 });
    // The kernel doubles what it was given (socket(7)); rmem_max does not cap SO_RCVBUFFORCE.
    expect(counts.bufferBytes).toBe(2 * (8 << 20));
    expect(counts.jitterMs).not.toBeNull();
    expect(counts.jitterMs!).toBeGreaterThanOrEqual(0);
    const sender = JSON.stringify({ sender: "uso", messageSize: 100, segmentsPerSend: 2, sends: 4, datagrams: 8, bytes: 800, seconds: 1, cpuSeconds: 0.25, pacing: "high-resolution-timer", error: null });
    const run = usoRun(sender, counts, 1);
    expect(run).toMatchObject({ error: null, throughputBps: 4800, senderBps: 6400, packets: 8, lostPackets: 2, lossPercent: 25, outOfOrder: 1, localCpuPercent: 25, jitterMs: counts.jitterMs });
  });

  const setpriv = spawnSync("sh", ["-c", "command -v setpriv"]).status === 0;
  it.skipIf(!root || !setpriv)("without the privilege: falls back to SO_RCVBUF, capped by net.core.rmem_max, and says so", () => {
    // python3 as nobody, through a wrapper found before the real one on PATH.
    const bin = execFileSync("mktemp", ["-d"], { encoding: "utf8" }).trim();
    // The system's python3: one under root's home (a pyenv shim) is not for nobody to run.
    const real = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : execFileSync("sh", ["-c", "command -v python3"], { encoding: "utf8" }).trim();
    execFileSync("sh", ["-c", `printf '#!/bin/sh\\nexec setpriv --reuid 65534 --regid 65534 --clear-groups %s "$@"\\n' "$1" >"$2/python3"; chmod 755 "$2/python3"`, "sh", real, bin]);
    try {
      const counts = receiverRun(`PATH=${bin}:$PATH`);
      const rmemMax = Number(execFileSync("cat", ["/proc/sys/net/core/rmem_max"], { encoding: "utf8" }));
      expect(counts.bufferOption).toBe("SO_RCVBUF");
      expect(counts.bufferBytes).toBe(2 * Math.min(rmemMax, 8 << 20));
      expect(counts.datagrams).toBe(6);
    } finally {
      execFileSync("rm", ["-rf", bin]);
    }
  });

  it("a sender that failed, or a receiver that counted nothing, fails the cell with why", () => {
    const failed = JSON.stringify({ sender: "uso", messageSize: 100, segmentsPerSend: 2, sends: 0, datagrams: 0, bytes: 0, seconds: 0, cpuSeconds: 0, pacing: "none", error: "uso sender: An invalid argument was supplied" });
    expect(usoRun(failed, undefined, 10).error).toBe("uso sender: An invalid argument was supplied");
    const ok = JSON.stringify({ sender: "uso", messageSize: 100, segmentsPerSend: 2, sends: 1, datagrams: 2, bytes: 200, seconds: 1, cpuSeconds: 0.01, pacing: "spin", error: null });
    expect(usoRun(ok, undefined, 10).error).toMatch(/uso receiver reported nothing/);
  });
});
