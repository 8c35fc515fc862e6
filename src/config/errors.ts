import { printable, shownValue } from "./printable";

/** One problem with one setting: which key, what was given, what is allowed. */
export interface ConfigProblem {
  readonly key: string;
  readonly value: unknown;
  readonly allowed: string;
  /** What most likely went wrong, when it can be told: `did you mean mtu?`, the quotes around a number. */
  readonly hint?: string;
}

export function describeProblem(p: ConfigProblem): string {
  return `${printable(p.key)}: ${p.allowed} (given: ${shownValue(p.value)})${p.hint === undefined ? "" : `; ${printable(p.hint)}`}`;
}

export class ConfigError extends Error {
  constructor(readonly stack: string, readonly problems: readonly ConfigProblem[]) {
    super(
      `stack ${printable(stack)} has ${problems.length} invalid setting${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${describeProblem(p)}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** A stack file that holds no settings to check: missing, empty, not text, not YAML. */
export class StackFileError extends Error {
  constructor(message: string) {
    super(printable(message));
    this.name = "StackFileError";
  }
}
