import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzCases, runFuzz } from '../../test/support/fuzz.js';
import { launchTarget, paramsTarget, SEEDS } from './launch.fuzz.js';

describe('launch and params file fuzz', () => {
  it('the unmutated seeds resolve', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-seed-'));
    for (const [ext, text] of Object.entries(SEEDS)) expect(launchTarget.run({ ext: ext as 'xml' | 'yaml', text, file: join(dir, `seed.launch.${ext}`) })).toBe('ok');
  });

  it('mutated launch files (XML and YAML): a LaunchError at file:line or well-typed parameters (seeded, 400 cases)', async () => {
    const c = await runFuzz(launchTarget, 19, fuzzCases(400));
    expect(c.failures).toEqual([]);
    expect(c).toMatchObject({ crashes: 0, silentWrong: 0 });
    expect(c.ok).toBeGreaterThan(5);
    expect(c.clearErrors).toBeGreaterThan(20);
  });

  it('mutated params files: a ParamsFileError at file:line or well-typed parameters (seeded, 1,000 cases)', async () => {
    const c = await runFuzz(paramsTarget, 19, fuzzCases(1000));
    expect(c.failures).toEqual([]);
    expect(c).toMatchObject({ crashes: 0, silentWrong: 0 });
    expect(c.ok).toBeGreaterThan(50);
  });
});
