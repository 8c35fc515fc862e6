import { execFileSync, spawnSync } from "node:child_process";
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

  it("is refused on a Linux guest and with a payload above MTU − 28, with why", () => {
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
    expect(problems({ ...win, matrix: { senders: ["uso"] } })[0]).toMatch(/^offload-lab:matrix.senders.0: needs every payload at most MTU − 28 = 1472: .*payloads above it: 65507/);
    expect(problems({ ...win, matrix: { senders: ["plain", "uso"], payloads: [1472] } })).toEqual([]);
  });
});

const python = spawnSync("python3", ["--version"]).status === 0;

describe.skipIf(!python)("the host's uso receiver (python3, loopback)", () => {
  it("counts the lab's datagrams, their reordering, and ignores foreign ones", () => {
    // A stand-in for the Windows sender: the same datagram layout, sent over loopback.
    const send = `import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
order = [0, 1, 2, 4, 3, 6]
for seq in order:
    s.sendto(struct.pack(">Q", seq) + ${JSON.stringify(USO_DATAGRAM_MAGIC)}.encode() + bytes(84), ("127.0.0.1", int(sys.argv[1])))
s.sendto(b"not ours, iperf3 or anyone", ("127.0.0.1", int(sys.argv[1])))
`;
    // The receiver exactly as the benchmark step binds it, and the loop's own functions for it.
    const stand = { name: "stand-in" } as Step;
    const step = benchmarkStep(cfg, { kind: "netns", description: "unused", functionDefinition: "guest_exec() { sh -s; }", secretEnv: {}, hostTools: [] }, {
      iperf3Server: stand, guestOffloads: stand, hostOffloads: stand, guestNetwork: stand,
    });
    const values = bashAssignments({ USO_RECEIVER_PY: boundValue(step.create, "USO_RECEIVER_PY"), USO_MAGIC: boundValue(step.create, "USO_MAGIC") });
    const script = `set -euo pipefail
WORK=$(mktemp -d); ADDR=127.0.0.1; PORT=$1
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
    const out = execFileSync("bash", ["-c", script, "bash", port, send], { encoding: "utf8" });
    // What it printed is what the benchmark line's schema takes as `receiver`.
    const counts = usoReceiverCounts.parse(JSON.parse(out.trim()));
    expect(counts).toMatchObject({ datagrams: 6, bytes: 6 * 100, maxSequence: 6, outOfOrder: 1 });
    const sender = JSON.stringify({ sender: "uso", messageSize: 100, segmentsPerSend: 2, sends: 4, datagrams: 8, bytes: 800, seconds: 1, error: null });
    const run = usoRun(sender, counts, 1);
    expect(run).toMatchObject({ error: null, throughputBps: 4800, senderBps: 6400, packets: 8, lostPackets: 2, lossPercent: 25, outOfOrder: 1 });
  });

  it("a sender that failed, or a receiver that counted nothing, fails the cell with why", () => {
    const failed = JSON.stringify({ sender: "uso", messageSize: 100, segmentsPerSend: 2, sends: 0, datagrams: 0, bytes: 0, seconds: 0, error: "uso sender: An invalid argument was supplied" });
    expect(usoRun(failed, undefined, 10).error).toBe("uso sender: An invalid argument was supplied");
    const ok = JSON.stringify({ sender: "uso", messageSize: 100, segmentsPerSend: 2, sends: 1, datagrams: 2, bytes: 200, seconds: 1, error: null });
    expect(usoRun(ok, undefined, 10).error).toMatch(/uso receiver reported nothing/);
  });
});
