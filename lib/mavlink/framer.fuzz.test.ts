import { describe, expect, it } from 'vitest';
import { fuzzCases, runFuzz } from '../../test/support/fuzz.js';
import { framerTarget } from './framer.fuzz.js';

describe('MAVLink framer fuzz', () => {
  it('keeps every valid frame among garbage and random chunking (seeded, 2,000 streams)', async () => {
    const c = await runFuzz(framerTarget, 19, fuzzCases(2000));
    // A noted case (garbage passing the CRC-16 by chance, about 2 in 10^5 streams) is no failure of the framer.
    expect(c.failures.filter((f) => f.kind !== 'noted')).toEqual([]);
    expect(c).toMatchObject({ crashes: 0, silentWrong: 0 });
  });
});
