/**
 * Seeded randomness for the simulator. Everything random in sim/ draws from these, never
 * from Math.random(), so the same seed gives the same frames, world and sensor noise.
 */

/** A 32-bit integer hash (murmur3 finaliser) of up to three integers. */
export function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a | 0, 0x27d4eb2d) ^ Math.imul(b | 0, 0x165667b1) ^ Math.imul(c | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** hash3 mapped to [0, 1). */
export function hash01(a: number, b: number, c: number): number {
  return hash3(a, b, c) / 4294967296;
}

/** Derives a sub-seed from a seed and a label, so independent streams do not correlate. */
export function subSeed(seed: number, label: string): number {
  let h = seed | 0;
  for (let i = 0; i < label.length; i++) h = hash3(h, label.charCodeAt(i), i);
  return h >>> 0;
}

/** A small, fast, seedable PRNG (mulberry32) with the distributions the simulator needs. */
export class Rng {
  private s: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.s = hash3(seed, 0x5eed, 1) | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(mean = 0, sigma = 1): number {
    if (this.spare !== undefined) {
      const z = this.spare;
      this.spare = undefined;
      return mean + sigma * z;
    }
    let u = this.next();
    while (u <= 1e-12) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return mean + sigma * r * Math.cos(2 * Math.PI * v);
  }
}
