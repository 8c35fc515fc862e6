import type { Cell, CellEvidence, CellResult } from "./cell";
import type { Iperf3Run } from "./iperf3";

/**
 * One cell's result. The client ran in the guest, so the JSON's own CPU (`host_total`) is the
 * guest's and `remote_total` is the host server's. An iperf3 error fails the cell; a stalled
 * receiver, or one that got nothing, makes its numbers meaningless: invalid rather than slow.
 */
export function cellResult(cell: Cell, run: Iperf3Run, evidence: CellEvidence): CellResult {
  const status = run.error !== null ? "failed" : run.invalidReason !== null ? "invalid" : "ok";
  const error = run.error ?? run.invalidReason;
  return {
    id: cell.id,
    variant: cell.variant,
    sender: cell.sender,
    status,
    error,
    payloadBytes: cell.payloadBytes,
    mtu: cell.mtu,
    bitrate: cell.bitrate,
    repetition: cell.repetition,
    durationSeconds: cell.durationSeconds,
    throughputBps: run.throughputBps,
    senderBps: run.senderBps,
    jitterMs: run.jitterMs,
    lostPackets: run.lostPackets,
    packets: run.packets,
    lossPercent: run.lossPercent,
    outOfOrder: run.outOfOrder,
    guestCpuPercent: run.localCpuPercent,
    hostCpuPercent: run.remoteCpuPercent,
    fragmented: cell.fragmented,
    stalled: run.stalled,
    evidence,
    ...(cell.arm === undefined ? {} : { arm: cell.arm, pair: cell.pair }),
  };
}
