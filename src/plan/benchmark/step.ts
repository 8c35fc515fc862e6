import type { LabConfig } from "../../config/model";
import { scriptFile } from "../script/files";
import { hostScript } from "../script/hostScript";
import type { Step } from "../step";
import type { Transport } from "../transport/transport";
import { FIREWALL_LIB, labPorts } from "../host-firewall/step";
import { planCells, skippedSenders } from "./cells";
import { CELL_GRACE_SECONDS, guestCellScript } from "./guestCell";
import { type BenchmarkOutput, parseBenchmark } from "./output";
import { switchLimitSeconds, usoSwitchScript } from "./usoSwitch";
import { USO_DATAGRAM_MAGIC } from "./windowsCell";

export type { BenchmarkOutput } from "./output";

const LOOP = scriptFile(__dirname, "benchmark.sh");
const COUNTERS_LIB = scriptFile(__dirname, "counters-lib.sh");
const CAPTURE_LIB = scriptFile(__dirname, "capture-lib.sh");
const USO_RECEIVER_LIB = scriptFile(__dirname, "uso-receiver-lib.sh");
const USO_RECEIVER_PY = scriptFile(__dirname, "uso-receiver.py");

/** Seconds a capture gets to start before the cell runs without it. */
const CAPTURE_START_SECONDS = 5;

/**
 * Everything whose change should re-run the matrix, and nothing that would reprovision. A
 * round of `sweep --budget` (benchmark.round) is among them and in no other step's: a round
 * replaces this step alone.
 */
function benchmarkTriggers(cfg: LabConfig, transport: Transport): string[] {
  return [
    cfg.benchmark.runId,
    ...(cfg.benchmark.round === undefined ? [] : [JSON.stringify(cfg.benchmark.round)]),
    JSON.stringify(cfg.matrix),
    JSON.stringify(cfg.capture),
    String(cfg.iperf3.port),
    cfg.guest.iperf3Path,
    transport.description,
  ];
}

/**
 * The benchmark: ONE host step that runs every cell of the matrix in order (benchmark.sh) and
 * prints one JSON line per cell (output.ts). Each cell's guest script goes through the
 * transport, so the step needs whatever the transport needs (the guest's SSH key).
 */
export function benchmarkStep(
  cfg: LabConfig,
  transport: Transport,
  after: { iperf3Server: Step; guestOffloads: Step; hostOffloads: Step; guestNetwork: Step },
): Step<BenchmarkOutput> {
  const cells = planCells(cfg);
  const arms = cfg.matrix.usoArms;
  const create = hostScript({
    step: "benchmark",
    file: LOOP,
    libraries: [COUNTERS_LIB, CAPTURE_LIB, USO_RECEIVER_LIB, FIREWALL_LIB],
    values: {
      TRANSPORT: transport.functionDefinition,
      ADDR: cfg.network.hostAddress,
      PORT: cfg.iperf3.port,
      BRIDGE: cfg.network.bridge,
      PORTS: labPorts(cfg),
      FIREWALL: cfg.host.firewall,
      TAP: cfg.guest.tapName,
      MTU: cfg.offloads.mtu,
      CAPTURE: cfg.capture.frames ? 1 : 0,
      SNAPLEN: cfg.capture.snapLength,
      MAX_PACKETS: cfg.capture.maxPackets,
      CAPTURE_START_SECONDS,
      GRACE: CELL_GRACE_SECONDS,
      USO_RECEIVER_PY: USO_RECEIVER_PY.text,
      USO_MAGIC: USO_DATAGRAM_MAGIC,
      CELL_IDS: cells.map((c) => c.id),
      CELL_SECONDS: cells.map((c) => c.durationSeconds),
      CELL_PAYLOADS: cells.map((c) => c.payloadBytes),
      CELL_SENDERS: cells.map((c) => c.sender),
      CELL_ARMS: cells.map((c) => c.arm ?? ""),
      CELL_SCRIPTS: cells.map((c) => guestCellScript(cfg, c)),
      USO_SWITCH_OFF: arms ? usoSwitchScript(cfg, "off") : "",
      USO_SWITCH_ON: arms ? usoSwitchScript(cfg, "on") : "",
      SWITCH_LIMIT: switchLimitSeconds(cfg),
    },
  });
  const counting = `, counting the frames and bytes ${cfg.guest.tapName} receives and this host's UDP receive errors`;
  const capture = cfg.capture.frames ? `, capturing the guest's frames above MTU + 14 on ${cfg.guest.tapName}` : "";
  const switching = arms ? `, each in both USO arms (the guest's USO switched off, then on, and read back before each cell)` : "";
  const skipped = skippedSenders(cfg);
  const notPlanned = skipped.length === 0 ? "" : `; not planned: ${skipped.map((s) => `${s.sender} at ${s.payloadBytes} B`).join(", ")} (above MTU − 28: IP-fragmented, nothing to segment)`;
  return {
    name: "benchmark",
    component: "Benchmark",
    runsOn: "host",
    create,
    // guest-network: the guest has its address and a route to the host, or no cell can connect.
    dependsOn: [after.iperf3Server, after.guestOffloads, after.hostOffloads, after.guestNetwork],
    triggers: benchmarkTriggers(cfg, transport),
    secretEnv: transport.secretEnv,
    effect: {
      changes: `runs ${cells.length} iperf3 cells from the guest to ${cfg.network.hostAddress}:${cfg.iperf3.port}${switching}${counting}${capture}${notPlanned}; leaves nothing behind`,
    },
    parse: (stdout) => ({ ...parseBenchmark(stdout, cells), ...(skipped.length === 0 ? {} : { skipped }) }),
  };
}
