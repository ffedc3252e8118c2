import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobResult } from './result.js';
import type { FleetJob } from './run-job.js';
import { jobDir, partitionStored, storeResult } from './store.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-fleet-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const spec: FleetJob['spec'] = { source: { kind: 'scenario', scenario: 'passport-queue', control: false, seed: 1, duration_s: 3 }, perception: 'oracle', latency: 'config/latency/pi5.json', profile: 'pi5', params: [] };
const job = (k: string): FleetJob => ({ id: `job-${k}`, key: k, spec });
const result = (k: string, code = 'c1'): JobResult => ({
  kestrel_fleet_result: 1,
  id: `job-${k}`,
  key: k,
  spec,
  code_version: code,
  passed: true,
  precision: 1,
  recall: 1,
  time_to_alert_s: [],
  deadline_misses: 0,
  e2e_age_p99_ms: 1,
  energy_estimate_j: 1,
  digest: `d-${k}`,
  decisions_log_sha256: 'x',
});

describe('fleet run folder', () => {
  it('partitionStored: finished jobs by this code are reused, in manifest order; others (missing, other code, damaged) are to run', () => {
    const run = join(tmp, 'p');
    storeResult(run, result('a'));
    storeResult(run, result('c'));
    storeResult(run, result('d', 'older'));
    storeResult(run, result('e'));
    writeFileSync(join(jobDir(run, 'e'), 'result.json'), '{"kestrel_fleet_result": 1, "key": "e", "dig');
    const { stored, todo } = partitionStored(['a', 'b', 'c', 'd', 'e'].map(job), run, 'c1');
    expect(stored.map((r) => r.key)).toEqual(['a', 'c']);
    expect(todo.map((j) => j.key)).toEqual(['b', 'd', 'e']);
  });

  it("storeResult: a queue worker's files (eval.json, decisions.log, report.html) land in the job's folder", () => {
    const run = join(tmp, 'q');
    storeResult(run, result('a'), { evalJson: '{}\n', decisionsLog: 'log\n', reportHtml: '<!doctype html>\n' });
    expect(readFileSync(join(jobDir(run, 'a'), 'report.html'), 'utf8')).toBe('<!doctype html>\n');
    expect(readFileSync(join(jobDir(run, 'a'), 'decisions.log'), 'utf8')).toBe('log\n');
    // From an older worker, without the report: the rest is still stored.
    storeResult(run, result('b'), { evalJson: '{}\n', decisionsLog: '' });
    expect(existsSync(join(jobDir(run, 'b'), 'report.html'))).toBe(false);
    expect(partitionStored([job('a'), job('b')], run, 'c1').stored).toHaveLength(2);
  });
});
