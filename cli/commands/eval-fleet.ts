/**
 * `kestrel eval --manifest fleet.yaml [--queue redis://host:6379] [--baseline RUN] [--out DIR] [--jobs N]`:
 * the manifest's jobs on a local pool of `kestrel eval` children (or through BullMQ to `kestrel worker`s), then one
 * fleet report and, with a baseline, the regressions and flaky jobs.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { codeVersion, jobKey } from '../../app/fleet/key.js';
import { loadManifest } from '../../app/fleet/manifest.js';
import { defaultConcurrency, runLocal, type FleetOutcome, type Progress } from '../../app/fleet/pool.js';
import { diffBaseline, fleetReport, renderFleetHtml, type FleetReport } from '../../app/fleet/report.js';
import { fleetJob, type FleetJob } from '../../app/fleet/run-job.js';
import { writeAtomic } from '../../app/fleet/store.js';
import { parseOptions } from '../args.js';
import { io, println, UsageError } from '../command.js';

export const FLEET_USAGE = `Fleet evaluation (a manifest of bags, scenarios × seeds, latency models, device profiles; config/fleet.example.yaml):
  --manifest FILE   run every job of the manifest, each one 'kestrel eval' run; finished jobs in --out are not redone
  --out DIR         the run folder (default out/fleet-<name>): jobs/<key>/ per job (eval.json, report.html,
                    decisions.log, result.json), fleet.json + fleet.html (the fleet report), timing.json (wall times)
  --jobs N          local pool size (default: the cores here, ${defaultConcurrency()})
  --queue URL       redis://host:port: enqueue the jobs in BullMQ for 'kestrel worker --queue URL' on any machine, wait
  --baseline RUN    a previous run folder (or its fleet.json): flag regressions and flaky jobs
  Exit status: 0 all jobs done, no regression; 4 a regression or a flaky job against --baseline; 1 a job failed
  after its retries, or errors; 2 bad usage.`;

/** A regression or a flaky job against the baseline. */
export const EXIT_REGRESSION = 4;

function progressBar(): { update(p: Progress): void; stop(): void } {
  const fmt = (p: Progress): string => `${p.done}/${p.total} done (${p.reused} reused), ${p.running} running, ${p.failed} failed, ETA ${p.etaS ?? '?'} s`;
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({ format: 'fleet [{bar}] {status}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      update: (p) => {
        if (!started) bar.start(p.total, 0, { status: fmt(p) });
        started = true;
        bar.update(p.done + p.failed, { status: fmt(p) });
      },
      stop: () => bar.stop(),
    };
  }
  // Not a terminal (CI, pipes): a line whenever a job starts or ends.
  let last = '';
  return {
    update: (p) => {
      const s = fmt(p);
      if (s !== last) io.err(`fleet: ${s}\n`);
      last = s;
    },
    stop: () => undefined,
  };
}

function readBaseline(path: string): FleetReport {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'fleet.json') : path;
  if (!existsSync(file)) throw new UsageError(`--baseline: no fleet report at ${file}`);
  const j = JSON.parse(readFileSync(file, 'utf8')) as FleetReport;
  if (j.kestrel_fleet !== 1 || !Array.isArray(j.rows)) throw new Error(`--baseline ${file}: not a kestrel fleet report (kestrel_fleet: 1 with rows)`);
  return j;
}

export async function runFleet(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, { manifest: { type: 'string' }, queue: { type: 'string' }, baseline: { type: 'string' }, out: { type: 'string' }, jobs: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`--manifest takes no scenario or bag (got '${positionals[0]}'): the manifest lists them`);
  if (!values.manifest) throw new UsageError('--manifest needs a file');
  const concurrency = values.jobs === undefined ? undefined : Number(values.jobs);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) throw new UsageError(`--jobs expects a positive integer, got '${values.jobs}'`);
  if (values.queue !== undefined && !/^rediss?:\/\/[^\s]+$/.test(values.queue)) throw new UsageError(`--queue expects redis://host:port, got '${values.queue}'`);
  const baseline = values.baseline !== undefined ? readBaseline(values.baseline) : undefined;
  const m = loadManifest(values.manifest);
  for (const n of m.notes) io.err(`kestrel eval: note: ${n}\n`);
  const run = resolve(values.out ?? join('out', `fleet-${m.name}`));
  mkdirSync(run, { recursive: true });
  // Jobs with equal content are one job (a manifest that lists a bag twice runs it once).
  const jobs = new Map<string, FleetJob>();
  for (const s of m.specs) {
    const key = jobKey(s);
    if (!jobs.has(key)) jobs.set(key, fleetJob(s, key));
  }
  const code = codeVersion();
  io.err(`kestrel eval: fleet '${m.name}': ${jobs.size} job(s) → ${run}${values.queue ? ` via ${values.queue}` : ''}\n`);
  const bar = progressBar();
  const t0 = process.hrtime.bigint();
  let out: FleetOutcome;
  try {
    if (values.queue) {
      const { runQueued } = await import('../../app/fleet/queue.js');
      out = await runQueued([...jobs.values()], { url: values.queue, run, retries: m.retries, timeoutS: m.timeoutS, code, onProgress: (p) => bar.update(p) });
    } else out = await runLocal([...jobs.values()], { run, concurrency, retries: m.retries, timeoutS: m.timeoutS, code, onProgress: (p) => bar.update(p) });
  } finally {
    bar.stop();
  }
  const rep = fleetReport(m.name, out.results, out.failures);
  const diff = baseline ? diffBaseline(rep, baseline) : undefined;
  writeAtomic(join(run, 'fleet.json'), `${JSON.stringify(rep, null, 2)}\n`);
  writeAtomic(join(run, 'fleet.html'), renderFleetHtml(rep, diff));
  if (diff) writeAtomic(join(run, 'baseline-diff.json'), `${JSON.stringify({ baseline: values.baseline, ...diff }, null, 2)}\n`);
  writeFileSync(join(run, 'timing.json'), `${JSON.stringify({ wall_s: Number(process.hrtime.bigint() - t0) / 1e9, jobs_wall_s: out.wallS }, null, 2)}\n`);

  println(`fleet ${m.name}: ${rep.completed}/${rep.jobs} jobs completed, ${rep.passed} met every expectation, ${rep.failed.length} failed`);
  for (const [p, t] of Object.entries(rep.by_profile))
    println(`  ${p}: ${t.jobs} jobs, ${t.passed} passed, precision ${t.precision_mean}, recall ${t.recall_mean}, deadline misses ${t.deadline_misses}, e2e p99 max ${t.e2e_age_p99_max_ms} ms, energy ${t.energy_estimate_j} J (estimate)`);
  for (const f of rep.failed) println(`  FAILED ${f.id} after ${f.attempts} attempt(s): ${f.error}`);
  if (diff) {
    println(`  baseline: ${diff.regressions.length} regression(s), ${diff.flaky.length} flaky, ${diff.improved.length} improved, ${diff.unchanged} unchanged, ${diff.added.length} new, ${diff.missing.length} missing`);
    for (const r of diff.regressions) println(`  REGRESSION ${r.id}: ${r.what.join('; ')}`);
    for (const r of diff.flaky) println(`  FLAKY ${r.id}: same job and code (${r.code_version}), another result`);
  }
  println(`  wrote ${join(run, 'fleet.json')}, ${join(run, 'fleet.html')}`);
  if (diff && (diff.regressions.length > 0 || diff.flaky.length > 0)) return EXIT_REGRESSION;
  return rep.failed.length > 0 ? 1 : 0;
}
