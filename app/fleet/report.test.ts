import { describe, expect, it } from 'vitest';
import { diffBaseline, fleetReport, renderFleetHtml } from './report.js';
import type { JobResult } from './result.js';

const row = (id: string, o: Partial<JobResult> = {}): JobResult => ({
  kestrel_fleet_result: 1,
  id,
  key: `k-${id}`,
  spec: { source: { kind: 'scenario', scenario: 'passport-queue', control: false, seed: 1, duration_s: 3 }, perception: 'oracle', latency: 'config/latency/pi5.json', profile: id.endsWith('x86') ? 'x86' : 'pi5', params: [] },
  code_version: 'c1',
  passed: true,
  precision: 1,
  recall: 1,
  time_to_alert_s: [2],
  deadline_misses: 0,
  e2e_age_p99_ms: 100,
  energy_estimate_j: 10,
  digest: `d-${id}`,
  decisions_log_sha256: 'x',
  ...o,
});

describe('fleet report', () => {
  it('rows sorted by job, totals per device profile, the same bytes for the same results in any order', () => {
    const rows = [row('b/pi5'), row('a/x86', { passed: false, recall: 0.5 }), row('a/pi5', { energy_estimate_j: 20 })];
    const a = fleetReport('t', rows, []);
    const b = fleetReport('t', [...rows].reverse(), []);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.rows.map((r) => r.id)).toEqual(['a/pi5', 'a/x86', 'b/pi5']);
    expect(a.by_profile.pi5).toMatchObject({ jobs: 2, passed: 2, energy_estimate_j: 30, recall_mean: 1 });
    expect(a.by_profile.x86).toMatchObject({ jobs: 1, passed: 0, recall_mean: 0.5 });
    expect(renderFleetHtml(a)).toContain('<td>a/x86</td><td>NO</td>');
  });

  it('against a baseline: regressions (other code, worse figures), flaky jobs (same code, other result), new and missing', () => {
    const base = fleetReport('t', [row('a'), row('b'), row('c'), row('gone')], []);
    const cur = fleetReport('t', [
      row('a'),
      row('b', { code_version: 'c2', digest: 'other', recall: 0.5, passed: false, e2e_age_p99_ms: 103 }),
      row('c', { digest: 'other' }),
      row('new'),
    ], []);
    const d = diffBaseline(cur, base);
    expect(d.unchanged).toBe(1);
    expect(d.regressions).toEqual([{ id: 'b', key: 'k-b', what: ['expectations met → NOT met', 'recall 1 → 0.5'] }]);
    expect(d.flaky).toEqual([{ id: 'c', key: 'k-c', code_version: 'c1' }]);
    expect(d.added).toEqual(['new']);
    expect(d.missing).toEqual(['gone']);
    expect(renderFleetHtml(cur, d)).toMatch(/REGRESSION: expectations met → NOT met; recall 1 → 0\.5/);
    // Better figures from new code are an improvement, not a regression.
    const better = diffBaseline(fleetReport('t', [row('b', { code_version: 'c2', digest: 'o', deadline_misses: 0 })], []), fleetReport('t', [row('b', { deadline_misses: 3 })], []));
    expect(better.regressions).toEqual([]);
    expect(better.improved[0].what).toEqual(['deadline misses 3 → 0']);
  });
});
