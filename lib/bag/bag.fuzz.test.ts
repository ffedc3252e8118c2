import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzCases, runFuzz, type FuzzTarget } from '../../test/support/fuzz.js';
import { bagSeeds, bagTargets, type BagSeeds } from './bag.fuzz.js';
import { readMcapFile } from './mcap-file.js';

let seeds: BagSeeds;
let targets: Map<string, FuzzTarget<Buffer>>;
beforeAll(async () => {
  seeds = await bagSeeds();
  targets = new Map(bagTargets(seeds).map((t) => [t.name, t]));
});
afterAll(() => rmSync(seeds.dir, { recursive: true, force: true }));

describe('bag reader fuzz', () => {
  it.each([
    ['bag-mcap', 'mutated MCAP (cut, bit flips, sizes, opcodes): a BagError naming the file, or only messages of the bag, in time order', 200],
    ['bag-db3', 'mutated db3 (header and page sizes, cells, cuts): a BagError naming the file, or rows in time order on known topics', 300],
    ['bag-metadata', 'mutated metadata.yaml beside an intact MCAP: a BagError naming metadata.yaml or the file, or only messages of the bag', 300],
  ] as const)('%s: %s (seeded, %i cases)', async (name, _what, n) => {
    const c = await runFuzz(targets.get(name) as FuzzTarget<Buffer>, 19, fuzzCases(n));
    expect(c.failures).toEqual([]);
    expect(c).toMatchObject({ crashes: 0, silentWrong: 0 });
    expect(c.ok).toBeGreaterThan(n / 10);
  }, 120_000);

  it('reading a truncated MCAP file leaves no descriptor open (npm run fuzz ran out of them: 789 leaked in 1,500 cases)', async () => {
    const dir = join(seeds.dir, 'fd');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'cut.mcap');
    writeFileSync(file, seeds.mcap.subarray(0, Math.floor(seeds.mcap.byteLength / 2)));
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 20; i++) expect((await readMcapFile(file)).problems.map((p) => p.kind)).toContain('truncated');
    expect(fds()).toBe(before);
  });
});
