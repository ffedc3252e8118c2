import { describe, expect, it } from 'vitest';
import { fuzzCases, runFuzz } from '../test/support/fuzz.js';
import { cdrTarget } from './codec.fuzz.js';

describe('CDR decode fuzz', () => {
  it('mutated messages: a precise error or the same result inside any buffer, never a read past the view (seeded, 5,000 cases)', async () => {
    const c = await runFuzz(cdrTarget, 19, fuzzCases(5000));
    expect(c.failures).toEqual([]);
    expect(c).toMatchObject({ crashes: 0, silentWrong: 0 });
    expect(c.clearErrors).toBeGreaterThan(100);
    expect(c.ok).toBeGreaterThan(100);
  });
});
