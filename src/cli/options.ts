import { InvalidArgumentError } from "commander";

/** A commander option parser for a whole number in [min, max]; commander names the option on failure. */
export function wholeNumber(min: number, max: number = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value: string) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`}.`);
    }
    return n;
  };
}

/**
 * `--fail-if`, repeatable. A rule always holds `>`: one without it was most likely typed
 * unquoted, and the shell took `>5%` as a redirection (creating a file named `5%`). The rest of
 * the rule is the report's to check.
 */
export const collectFailRule = (value: string, previous: string[]): string[] => {
  if (!value.includes(">")) {
    throw new InvalidArgumentError(
      "It has no >LIMIT. Typed unquoted, the shell takes >5% as a redirection (and creates a file named 5%): " +
        "quote the rule, e.g. --fail-if 'throughput-drop:uso>5%'",
    );
  }
  return [...previous, value];
};

/** A repeatable option: every value given, in order. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];
