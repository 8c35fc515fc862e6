/** mulberry32: a tiny seeded generator, so a recorded seed replays the same order anywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The stack order of each sample: as listed, or shuffled (Fisher–Yates) from one generator seeded
 * once, so sample k's order depends only on the seed and k.
 */
export function sampleOrders(stacks: readonly string[], samples: number, shuffle: boolean, seed: number): string[][] {
  const random = seededRandom(seed);
  const orders: string[][] = [];
  for (let s = 0; s < samples; s++) {
    const order = [...stacks];
    if (shuffle) {
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    orders.push(order);
  }
  return orders;
}
