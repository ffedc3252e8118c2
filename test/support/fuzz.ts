/**
 * A small seeded fuzz harness shared by the in-suite fuzz tests (`*.fuzz.test.ts`, a few seconds
 * each) and the long campaign (`npm run fuzz`, bench/fuzz.ts). Every case is classified:
 * - `ok`: the target accepted the input and its output passed the check;
 * - `clear_error`: the target threw an error the target itself calls precise (`isClear`);
 * - `crash`: any other throw (RangeError, TypeError, an unnamed error...), or a case over `caseMs`;
 * - `silent_wrong`: the target returned, but the check says the result is wrong;
 * - `noted`: the result is right as far as the input lets any implementation tell, but the target
 *   reports a known limit it hit (a MAVLink CRC-16 that garbage passes by chance), counted apart.
 * A fuzz test asserts `crashes == 0` and `silentWrong == 0`; the first few failing cases are kept
 * (seed, case index, message) so a failure can be replayed with the same seed.
 */

/** mulberry32: tiny, fast, good enough for test-case generation, and reproducible from one seed. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
    bytes: (n) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [lo, hi], both included. */
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
}

/** Values that break length fields and counters: 0, 1, powers of two around type limits, all-ones. */
const INTERESTING_U32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 30_000_000];

/**
 * One mutation of `src` (never modified): 1..`maxEdits` edits among bit flips, random bytes,
 * an interesting little- or big-endian u32 written anywhere (length prefixes), truncation,
 * insertion, deletion and duplication of a slice.
 */
export function mutate(src: Uint8Array, r: Rng, maxEdits = 4): Buffer {
  let b = Buffer.from(src);
  const edits = r.int(1, maxEdits);
  for (let e = 0; e < edits; e++) {
    const kind = r.int(0, 7);
    const at = b.length === 0 ? 0 : r.int(0, b.length - 1);
    switch (kind) {
      case 0:
      case 1:
        if (b.length > 0) b[at] ^= 1 << r.int(0, 7);
        break;
      case 2:
        if (b.length > 0) b[at] = r.int(0, 255);
        break;
      case 3:
        if (b.length >= 4) {
          const v = r.pick(INTERESTING_U32);
          const p = Math.min(at, b.length - 4);
          if (r.chance(0.5)) b.writeUInt32LE(v >>> 0, p);
          else b.writeUInt32BE(v >>> 0, p);
        }
        break;
      case 4:
        b = b.subarray(0, r.int(0, b.length));
        break;
      case 5:
        b = Buffer.concat([b.subarray(0, at), r.bytes(r.int(1, 16)), b.subarray(at)]);
        break;
      case 6:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + r.int(1, 16)))]);
        break;
      case 7: {
        const len = r.int(1, Math.max(1, Math.min(64, b.length - at)));
        b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
        break;
      }
    }
  }
  return Buffer.from(b);
}

/** Mutates text: byte-level mutations plus swapping in tokens that matter to the format. */
export function mutateText(src: string, r: Rng, tokens: readonly string[], maxEdits = 4): string {
  let s = src;
  const edits = r.int(1, maxEdits);
  for (let e = 0; e < edits; e++) {
    if (tokens.length > 0 && r.chance(0.5)) {
      const at = r.int(0, s.length);
      const cut = r.chance(0.5) ? r.int(0, 8) : 0;
      s = s.slice(0, at) + r.pick(tokens) + s.slice(at + cut);
    } else {
      s = mutate(Buffer.from(s, 'utf8'), r, 1).toString('utf8');
    }
  }
  return s;
}

export type Verdict = 'ok' | { wrong: string } | { noted: string };

export interface FuzzTarget<T> {
  name: string;
  /** Builds case `i` from the generator (seeded once per run). */
  gen(r: Rng, i: number): T;
  /** Runs the target on the case; returns what the output check says. Throws to report an error. */
  run(input: T): Verdict | Promise<Verdict>;
  /** True for an error the target meant to raise (precise message), false for a crash. */
  isClear(e: unknown): boolean;
  /** A case slower than this counts as a crash (a hang or a runaway allocation); default 2000 ms. */
  caseMs?: number;
  /**
   * Cases of the long campaign (`npm run fuzz`) when neither `--cases` nor FUZZ_CASES says; default
   * 10^5. Set lower for a target whose cases are slow (a file written and opened per case), so that
   * each target still finishes in a few minutes.
   */
  defaultCases?: number;
}

export interface FuzzCounts {
  target: string;
  seed: number;
  cases: number;
  ok: number;
  clearErrors: number;
  crashes: number;
  silentWrong: number;
  /** Cases the target passed with a note (see Verdict). */
  noted: number;
  /** Slowest case, ms. */
  maxCaseMs: number;
  /** The first few crashes, wrong results and notes: case index and message, to replay with the same seed. */
  failures: { case: number; kind: 'crash' | 'silent_wrong' | 'noted'; message: string }[];
}

/** An Error whose message is non-empty and not one of the engine's own (RangeError, TypeError...). */
export function isPreciseError(e: unknown): boolean {
  return e instanceof Error && e.constructor === Error && e.message.length > 0;
}

/**
 * One shard of a run split over workers: shard `index` of `count` runs the cases `i` with `i % count === index`.
 * Every shard still generates every case (generation is cheap next to a run), so case `i` is the same input
 * whatever the split, and a failure replays from (seed, case) alone.
 */
export interface FuzzShard {
  index: number;
  count: number;
}

export async function runFuzz<T>(t: FuzzTarget<T>, seed: number, cases: number, shard: FuzzShard = { index: 0, count: 1 }): Promise<FuzzCounts> {
  const r = rng(seed);
  const c: FuzzCounts = { target: t.name, seed, cases: 0, ok: 0, clearErrors: 0, crashes: 0, silentWrong: 0, noted: 0, maxCaseMs: 0, failures: [] };
  const limit = t.caseMs ?? 2000;
  const fail = (i: number, kind: 'crash' | 'silent_wrong' | 'noted', message: string): void => {
    if (c.failures.length < 10) c.failures.push({ case: i, kind, message: message.slice(0, 300) });
  };
  for (let i = 0; i < cases; i++) {
    const input = t.gen(r, i);
    if (i % shard.count !== shard.index) continue;
    const t0 = performance.now();
    let verdict: Verdict | undefined;
    let error: unknown;
    let threw = false;
    try {
      verdict = await t.run(input);
    } catch (e) {
      threw = true;
      error = e;
    }
    const ms = performance.now() - t0;
    c.maxCaseMs = Math.max(c.maxCaseMs, ms);
    c.cases++;
    if (ms > limit) {
      c.crashes++;
      fail(i, 'crash', `case took ${ms.toFixed(0)} ms (limit ${limit})`);
    } else if (threw) {
      if (t.isClear(error)) c.clearErrors++;
      else {
        c.crashes++;
        fail(i, 'crash', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
    } else if (verdict === 'ok') c.ok++;
    else if (verdict !== undefined && 'noted' in verdict) {
      c.noted++;
      fail(i, 'noted', verdict.noted);
    } else {
      c.silentWrong++;
      fail(i, 'silent_wrong', verdict !== undefined && 'wrong' in verdict ? verdict.wrong : 'no verdict');
    }
  }
  return c;
}

/** The counts of one target's shards, as one run: sums, the slowest case, the first failures by case index. */
export function mergeCounts(parts: readonly FuzzCounts[]): FuzzCounts {
  if (parts.length === 0) throw new Error('mergeCounts: no shard counts to merge');
  const sum = (f: (c: FuzzCounts) => number): number => parts.reduce((n, c) => n + f(c), 0);
  return {
    target: parts[0].target,
    seed: parts[0].seed,
    cases: sum((c) => c.cases),
    ok: sum((c) => c.ok),
    clearErrors: sum((c) => c.clearErrors),
    crashes: sum((c) => c.crashes),
    silentWrong: sum((c) => c.silentWrong),
    noted: sum((c) => c.noted),
    maxCaseMs: Math.max(...parts.map((c) => c.maxCaseMs)),
    failures: parts.flatMap((c) => c.failures).sort((a, b) => a.case - b.case).slice(0, 10),
  };
}

/** Case count for an in-suite fuzz test, scaled by FUZZ_SCALE (the long campaign sets it). */
export function fuzzCases(base: number): number {
  const s = Number(process.env.FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(s) && s > 0 ? s : 1)));
}
