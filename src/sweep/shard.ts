import type { Shard } from "./state";

/** `--shard i/n`: this job's share of a sweep that n jobs (a CI matrix) run between them. */
export function parseShard(text: string): Shard | string {
  const m = /^([1-9][0-9]{0,3})\/([1-9][0-9]{0,3})$/.exec(text.trim());
  if (m === null) return `--shard "${text}": give i/n, e.g. 2/3 (this job's share i of n)`;
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (index > count) return `--shard ${text}: i must be from 1 to n (${count})`;
  return { index, count };
}

/**
 * The runs of shard i/n: every n-th of the whole sweep's runs in their order (sample by sample,
 * each sample's stacks as listed or shuffled from the seed), starting at the i-th. Deterministic
 * given the same stacks, samples and seed, so n jobs cover the sweep exactly once; round-robin,
 * so every shard gets a mix of stacks and samples rather than one stack's samples.
 */
export function shardOf<T>(runs: readonly T[], shard: Shard | null): T[] {
  if (shard === null) return [...runs];
  return runs.filter((_, i) => i % shard.count === shard.index - 1);
}
