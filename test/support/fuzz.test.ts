import { describe, expect, it } from 'vitest';
import { isPreciseError, mutate, rng, runFuzz } from './fuzz.js';

describe('fuzz harness', () => {
  it('is reproducible from its seed', () => {
    const a = rng(7);
    const b = rng(7);
    const src = Buffer.from('0123456789abcdef');
    for (let i = 0; i < 50; i++) expect(mutate(src, a)).toEqual(mutate(src, b));
    expect(src.toString()).toBe('0123456789abcdef');
  });

  it('classifies ok, clear errors, crashes and silent wrong results', async () => {
    const c = await runFuzz(
      {
        name: 'toy',
        gen: (_r, i) => i % 4,
        run: (k) => {
          if (k === 1) throw new Error('bad input at byte 3');
          if (k === 2) throw new RangeError('offset out of range');
          return k === 3 ? { wrong: 'off by one' } : 'ok';
        },
        isClear: isPreciseError,
      },
      1,
      8,
    );
    expect(c).toMatchObject({ cases: 8, ok: 2, clearErrors: 2, crashes: 2, silentWrong: 2 });
    expect(c.failures.map((f) => f.kind)).toEqual(['crash', 'silent_wrong', 'crash', 'silent_wrong']);
  });
});
