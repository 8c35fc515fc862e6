import { seededRandom, shuffleWith } from "../plan/seededShuffle";

/**
 * The stack order of each sample: as listed, or shuffled (Fisher–Yates) from one generator seeded
 * once, so sample k's order depends only on the seed and k.
 */
export function sampleOrders(stacks: readonly string[], samples: number, shuffle: boolean, seed: number): string[][] {
  const random = seededRandom(seed);
  const orders: string[][] = [];
  for (let s = 0; s < samples; s++) {
    orders.push(shuffle ? shuffleWith(stacks, random) : [...stacks]);
  }
  return orders;
}
