import { describe, expect, it } from 'vitest';
import { fuzzCases, runFuzz } from '../../test/support/fuzz.js';
import { framerTarget } from './framer.fuzz.js';

describe('MAVLink framer fuzz', () => {
  it('keeps every valid frame among garbage and random chunking (seeded, 2,000 streams)', async () => {
    const c = await runFuzz(framerTarget, 19, fuzzCases(2000));
    expect(c.failures).toEqual([]);
    expect(c).toMatchObject({ crashes: 0, silentWrong: 0 });
  });
});
