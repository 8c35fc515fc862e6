import type { z } from "zod";

/**
 * A setting that did not take. The guest and host scripts print the same wording on stderr
 * when they fail, so the step's error and the pure comparison read alike.
 */
export interface OffloadMismatch {
  /** e.g. `guest eth0`, `guest Ethernet`, `tap tap0`, `bridge virbr0`. */
  readonly where: string;
  /** An ethtool feature, a NetKVM keyword, `mtu` or `link`. */
  readonly setting: string;
  readonly requested: string;
  /** As read back: `off [fixed]`, `0 (Disabled)`, `absent`. */
  readonly actual: string;
}

export function describeMismatch(m: OffloadMismatch): string {
  return `${m.where}: ${m.setting} requested ${m.requested}, actual ${m.actual}`;
}

/** The step's failure message, or null when every setting took. */
export function mismatchFailure(mismatches: readonly OffloadMismatch[]): string | null {
  if (mismatches.length === 0) return null;
  return `offload settings did not take: ${mismatches.map(describeMismatch).join("; ")}`;
}

/** What a step set and read back, checked against the config: part of the stack outputs. */
export interface OffloadStepResult<T> {
  readonly readBack: T;
  readonly mismatches: readonly OffloadMismatch[];
  /** The step's failure message (same wording as the script's), null when everything took. */
  readonly error: string | null;
}

/** Parses a step's stdout as its one JSON document, naming the step when it is not one. */
export function stepJson<T>(step: string, stdout: string, schema: z.ZodType<T>): T {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout.trim());
  } catch {
    throw new Error(`${step}: stdout is not one JSON document: ${JSON.stringify(stdout.slice(0, 300))}`);
  }
  const parsed = schema.safeParse(doc);
  if (!parsed.success) {
    throw new Error(`${step}: unexpected read-back: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}
