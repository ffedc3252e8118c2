/**
 * The fleet report (fleet.json + fleet.html): a row per job, totals per device profile, and the diff against a
 * baseline run. Pure: the same results give the same bytes (rows sorted by job name, no clock), which is what
 * lets two runs of one manifest be compared byte for byte.
 */
import type { JobFailure } from './pool.js';
import type { JobResult } from './result.js';

export interface ProfileTotals {
  jobs: number;
  passed: number;
  precision_mean: number;
  recall_mean: number;
  deadline_misses: number;
  e2e_age_p99_max_ms: number;
  energy_estimate_j: number;
}

export interface FleetReport {
  kestrel_fleet: 1;
  name: string;
  code_versions: string[];
  jobs: number;
  completed: number;
  passed: number;
  failed: { id: string; key: string; error: string; attempts: number }[];
  rows: JobResult[];
  by_profile: Record<string, ProfileTotals>;
}

const round = (n: number, d = 3): number => Math.round(n * 10 ** d) / 10 ** d;
const byId = <T extends { id: string; key: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export function fleetReport(name: string, results: readonly JobResult[], failures: readonly JobFailure[]): FleetReport {
  const rows = [...results].sort(byId);
  const by: Record<string, ProfileTotals> = {};
  for (const prof of [...new Set(rows.map((r) => r.spec.profile))].sort()) {
    const rs = rows.filter((r) => r.spec.profile === prof);
    const mean = (f: (r: JobResult) => number): number => round(rs.reduce((n, r) => n + f(r), 0) / rs.length);
    by[prof] = {
      jobs: rs.length,
      passed: rs.filter((r) => r.passed).length,
      precision_mean: mean((r) => r.precision),
      recall_mean: mean((r) => r.recall),
      deadline_misses: rs.reduce((n, r) => n + r.deadline_misses, 0),
      e2e_age_p99_max_ms: Math.max(...rs.map((r) => r.e2e_age_p99_ms)),
      energy_estimate_j: round(rs.reduce((n, r) => n + r.energy_estimate_j, 0)),
    };
  }
  return {
    kestrel_fleet: 1,
    name,
    code_versions: [...new Set(rows.map((r) => r.code_version))].sort(),
    jobs: rows.length + failures.length,
    completed: rows.length,
    passed: rows.filter((r) => r.passed).length,
    failed: [...failures].sort(byId).map((f) => ({ id: f.id, key: f.key, error: f.error, attempts: f.attempts })),
    rows,
    by_profile: by,
  };
}

/** How much worse a figure may get before it is a regression (run-to-run noise is zero under a latency model; these absorb model-free rounding). */
export const TOLERANCE = { e2e_p99_rel: 0.1, e2e_p99_abs_ms: 5, energy_rel: 0.05 };

export interface BaselineDiff {
  regressions: { id: string; key: string; what: string[] }[];
  /** The same job by the same code with another result: determinism says this must not happen. */
  flaky: { id: string; key: string; code_version: string }[];
  improved: { id: string; key: string; what: string[] }[];
  /** In the baseline, not in this run; and the other way round. */
  missing: string[];
  added: string[];
  unchanged: number;
}

export function diffBaseline(cur: FleetReport, base: FleetReport): BaselineDiff {
  const old = new Map(base.rows.map((r) => [r.key, r]));
  const now = new Set(cur.rows.map((r) => r.key));
  const d: BaselineDiff = { regressions: [], flaky: [], improved: [], missing: base.rows.filter((r) => !now.has(r.key)).map((r) => r.id), added: [], unchanged: 0 };
  for (const r of cur.rows) {
    const b = old.get(r.key);
    if (!b) {
      d.added.push(r.id);
      continue;
    }
    if (b.digest === r.digest) {
      d.unchanged++;
      continue;
    }
    if (b.code_version === r.code_version) {
      d.flaky.push({ id: r.id, key: r.key, code_version: r.code_version });
      continue;
    }
    const worse: string[] = [];
    const better: string[] = [];
    const cmp = (what: string, was: number, is: number, higherIsBetter: boolean, noise = 0): void => {
      const delta = is - was;
      if (Math.abs(delta) <= noise) return;
      (delta > 0 === higherIsBetter ? better : worse).push(`${what} ${was} → ${is}`);
    };
    if (b.passed && !r.passed) worse.push('expectations met → NOT met');
    if (!b.passed && r.passed) better.push('expectations NOT met → met');
    cmp('recall', b.recall, r.recall, true);
    cmp('precision', b.precision, r.precision, true);
    cmp('deadline misses', b.deadline_misses, r.deadline_misses, false);
    cmp('e2e age p99 ms', b.e2e_age_p99_ms, r.e2e_age_p99_ms, false, Math.max(TOLERANCE.e2e_p99_abs_ms, b.e2e_age_p99_ms * TOLERANCE.e2e_p99_rel));
    cmp('energy J (estimate)', b.energy_estimate_j, r.energy_estimate_j, false, b.energy_estimate_j * TOLERANCE.energy_rel);
    if (worse.length) d.regressions.push({ id: r.id, key: r.key, what: worse });
    else if (better.length) d.improved.push({ id: r.id, key: r.key, what: better });
    else d.unchanged++;
  }
  return d;
}

const esc = (s: string | number | boolean): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderFleetHtml(rep: FleetReport, diff?: BaselineDiff): string {
  const table = (head: string[], rows: (string | number | boolean)[][]): string =>
    `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
  const flagged = new Map<string, string>();
  for (const x of diff?.regressions ?? []) flagged.set(x.key, `REGRESSION: ${x.what.join('; ')}`);
  for (const x of diff?.flaky ?? []) flagged.set(x.key, 'FLAKY: same job, same code, other result');
  const parts = [
    `<!doctype html><html><head><meta charset="utf-8"><title>kestrel fleet: ${esc(rep.name)}</title>`,
    '<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:2px 6px;text-align:left}th{background:#eee}.bad{color:#b00;font-weight:bold}</style></head><body>',
    `<h1>kestrel fleet: ${esc(rep.name)}</h1>`,
    `<p>${rep.completed}/${rep.jobs} jobs completed, ${rep.passed} met every expectation, ${rep.failed.length} failed. Code: ${esc(rep.code_versions.join(', ') || '-')}. Energy figures are ESTIMATES from the device profiles.</p>`,
  ];
  if (diff)
    parts.push(
      `<p class="${diff.regressions.length || diff.flaky.length ? 'bad' : ''}">Against the baseline: ${diff.regressions.length} regression(s), ${diff.flaky.length} flaky job(s), ${diff.improved.length} improved, ${diff.unchanged} unchanged, ${diff.added.length} new, ${diff.missing.length} missing.</p>`,
    );
  parts.push('<h2>Per device profile</h2>', table(['profile', 'jobs', 'passed', 'precision (mean)', 'recall (mean)', 'deadline misses', 'e2e age p99 max (ms)', 'energy (J, estimate)'], Object.entries(rep.by_profile).map(([k, t]) => [k, t.jobs, t.passed, t.precision_mean, t.recall_mean, t.deadline_misses, t.e2e_age_p99_max_ms, t.energy_estimate_j])));
  parts.push(
    '<h2>Jobs</h2>',
    table(
      ['job', 'passed', 'precision', 'recall', 'time to alert (s)', 'deadline misses', 'e2e age p99 (ms)', 'energy (J, estimate)', 'baseline', 'folder'],
      rep.rows.map((r) => [r.id, r.passed ? 'yes' : 'NO', r.precision, r.recall, r.time_to_alert_s.join(', ') || '-', r.deadline_misses, r.e2e_age_p99_ms, r.energy_estimate_j, flagged.get(r.key) ?? '', `jobs/${r.key}`]),
    ),
  );
  if (rep.failed.length) parts.push('<h2 class="bad">Failed jobs</h2>', table(['job', 'attempts', 'error'], rep.failed.map((f) => [f.id, f.attempts, f.error])));
  parts.push('</body></html>\n');
  return parts.join('\n');
}
