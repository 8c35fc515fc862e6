import * as fs from "node:fs";
import type { CellResult } from "./cell";
import { cellResult } from "./benchmarkCell";
import { cellEvidence } from "./evidence";
import { bitrateFlag, parseIperf3 } from "./iperf3";
import { cellId } from "../plan/benchmark/cells";
import { IPV4_UDP_HEADER_BYTES } from "../config/features";

export interface ImportOptions {
  /** Overrides the file's `start.test_start.blksize`. */
  readonly payload?: number;
  /** The path MTU of the manual run; iperf3's JSON does not record it. Default 1500. */
  readonly mtu?: number;
  /** e.g. `mtu9000-uso-on`; default `imported`. */
  readonly variant?: string;
}

const DEFAULT_MTU = 1500;

/** One manual iperf3 JSON run as a cell; `repetition` counts runs of the same payload. */
export function importIperf3Text(name: string, text: string, opts: ImportOptions, repetition: number): CellResult {
  const run = parseIperf3(text);
  const payloadBytes = opts.payload ?? run.payloadBytes;
  if (payloadBytes === null) {
    throw new Error(`${name}: no payload size in the file (start.test_start.blksize): pass --payload`);
  }
  const mtu = opts.mtu ?? DEFAULT_MTU;
  const variant = opts.variant ?? "imported";
  return cellResult(
    {
      id: cellId(variant, payloadBytes, "plain", null, repetition),
      variant,
      // The seed's manual runs were plain iperf3: one datagram per send.
      sender: "plain",
      payloadBytes,
      mtu,
      bitrate: run.targetBitrate === null ? "unknown" : bitrateFlag(run.targetBitrate),
      repetition,
      durationSeconds: run.durationSeconds ?? 0,
      fragmented: payloadBytes > mtu - IPV4_UDP_HEADER_BYTES,
    },
    run,
    // A manual run has no capture or counters beside it.
    cellEvidence("plain", /-uso-on\b/.test(variant), undefined, null),
  );
}

/** `offload-lab import-iperf3 FILE...`: iperf3 JSON files from manual runs → cell results. */
export function importIperf3(files: string[], opts: ImportOptions): CellResult[] {
  const seen = new Map<number, number>();
  return files.map((file) => {
    const text = fs.readFileSync(file, "utf8");
    const payload = opts.payload ?? parseIperf3(text).payloadBytes ?? -1;
    const repetition = (seen.get(payload) ?? 0) + 1;
    seen.set(payload, repetition);
    return importIperf3Text(file, text, opts, repetition);
  });
}
