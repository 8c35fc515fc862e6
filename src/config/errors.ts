/** One problem with one setting: which key, what was given, what is allowed. */
export interface ConfigProblem {
  readonly key: string;
  readonly value: unknown;
  readonly allowed: string;
}

export function describeProblem(p: ConfigProblem): string {
  const given = p.value === undefined ? "nothing" : JSON.stringify(p.value);
  return `${p.key}: ${p.allowed} (given: ${given})`;
}

export class ConfigError extends Error {
  constructor(readonly stack: string, readonly problems: readonly ConfigProblem[]) {
    super(
      `stack ${stack} has ${problems.length} invalid setting${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${describeProblem(p)}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}
