/**
 * Seeded mutation fuzzing helpers: a small PRNG (mulberry32) and byte-level mutations
 * (bit flips, byte runs, cuts, inserted or deleted bytes, overwritten 32/64-bit sizes).
 * Same seed, same cases: a failure is reproduced by its seed and case number.
 */
export type Rng = () => number;

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function int(r: Rng, n: number): number {
  return Math.floor(r() * n);
}

/** One random mutation of `src` (never changes `src`); `from` keeps a prefix intact (e.g. a file's magic). */
export function mutate(src: Uint8Array, r: Rng, from = 0): { bytes: Uint8Array; what: string } {
  const b = new Uint8Array(src);
  const at = from + int(r, Math.max(1, b.length - from));
  switch (int(r, 6)) {
    case 0:
      b[at] ^= 1 << int(r, 8);
      return { bytes: b, what: `bit flip at ${at}` };
    case 1: {
      const n = 1 + int(r, 16);
      for (let i = 0; i < n && at + i < b.length; i++) b[at + i] = int(r, 256);
      return { bytes: b, what: `${n} random bytes at ${at}` };
    }
    case 2:
      return { bytes: b.subarray(0, at), what: `cut at ${at}` };
    case 3: {
      const v = new DataView(b.buffer);
      if (at + 4 <= b.length) v.setUint32(at, [0xffffffff, 0x7fffffff, 65536, 0x10000000][int(r, 4)], int(r, 2) === 0);
      return { bytes: b, what: `32-bit size overwritten at ${at}` };
    }
    case 4: {
      const v = new DataView(b.buffer);
      if (at + 8 <= b.length) v.setBigUint64(at, [0xffffffffffffffffn, 1n << 40n, 3_500_000_000n][int(r, 3)], true);
      return { bytes: b, what: `64-bit size overwritten at ${at}` };
    }
    default: {
      const n = 1 + int(r, 64);
      const out = new Uint8Array(b.length - Math.min(n, b.length - at));
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + n), at);
      return { bytes: out, what: `${n} bytes deleted at ${at}` };
    }
  }
}
