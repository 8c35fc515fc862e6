/**
 * "did you mean": the known names closest to a misspelt one, by optimal string alignment
 * distance (Levenshtein plus the swap of two neighbours, the commonest typo), ignoring case.
 */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => [i, ...Array<number>(y.length).fill(0)]);
  for (let j = 1; j <= y.length; j++) d[0]![j] = j;
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[x.length]![y.length]!;
}

/** How far a name may be from a known one and still be taken for a typo of it. */
function tolerance(word: string): number {
  return word.length <= 4 ? 1 : word.length <= 10 ? 2 : 3;
}

/** The known names nearest to `word` within its tolerance (ties all returned), nearest first. */
export function closest(word: string, known: readonly string[]): string[] {
  let best = Infinity;
  let found: string[] = [];
  for (const k of known) {
    const d = editDistance(word, k);
    if (d > tolerance(word) || d > best) continue;
    if (d < best) found = [];
    best = d;
    found.push(k);
  }
  return found;
}

/** `did you mean a?` / `did you mean a or b?`, or undefined when nothing is close. */
export function didYouMean(word: string, known: readonly string[], show: (name: string) => string = (n) => n): string | undefined {
  const near = closest(word, known);
  if (near.length === 0) return undefined;
  return `did you mean ${near.slice(0, 3).map(show).join(" or ")}?`;
}
