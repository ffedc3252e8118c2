import { describe, expect, it } from 'vitest';
import { isPreciseError, mergeCounts, mutate, rng, runFuzz, type FuzzTarget } from './fuzz.js';

describe('fuzz harness', () => {
  it('is reproducible from its seed', () => {
    const a = rng(7);
    const b = rng(7);
    const src = Buffer.from('0123456789abcdef');
    for (let i = 0; i < 50; i++) expect(mutate(src, a)).toEqual(mutate(src, b));
    expect(src.toString()).toBe('0123456789abcdef');
  });

  it('classifies ok, clear errors, crashes, silent wrong results and noted cases', async () => {
    const c = await runFuzz(
      {
        name: 'toy',
        gen: (_r, i) => i % 5,
        run: (k) => {
          if (k === 1) throw new Error('bad input at byte 3');
          if (k === 2) throw new RangeError('offset out of range');
          if (k === 4) return { noted: 'a checksum collision' };
          return k === 3 ? { wrong: 'off by one' } : 'ok';
        },
        isClear: isPreciseError,
      },
      1,
      10,
    );
    expect(c).toMatchObject({ cases: 10, ok: 2, clearErrors: 2, crashes: 2, silentWrong: 2, noted: 2 });
    expect(c.failures.map((f) => f.kind)).toEqual(['crash', 'silent_wrong', 'noted', 'crash', 'silent_wrong', 'noted']);
  });

  it('shards split the cases over workers: the same inputs per case index, merged counts equal to one run', async () => {
    const seen: number[][] = [[], [], []];
    const target = (shard: number): FuzzTarget<number> => ({
      name: 'toy',
      gen: (r) => r.int(0, 1000),
      run: (v) => {
        seen[shard].push(v);
        if (v % 7 === 0) throw new RangeError(`crash on ${v}`);
        return v % 5 === 0 ? { wrong: `wrong on ${v}` } : 'ok';
      },
      isClear: isPreciseError,
    });
    const whole = await runFuzz(target(0), 3, 300);
    const all = seen[0].splice(0);
    const parts = await Promise.all([0, 1].map((k) => runFuzz(target(k + 1), 3, 300, { index: k, count: 2 })));
    expect(seen[1]).toEqual(all.filter((_, i) => i % 2 === 0));
    expect(seen[2]).toEqual(all.filter((_, i) => i % 2 === 1));
    const merged = mergeCounts(parts);
    expect({ ...merged, maxCaseMs: 0 }).toEqual({ ...whole, maxCaseMs: 0 });
  });
});
