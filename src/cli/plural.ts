/** `1 file`, `2 files`: a count with its noun in the number it needs. */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : nouns}`;
}
