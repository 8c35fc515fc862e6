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

export const collect = (value: string, previous: string[]): string[] => [...previous, value];
