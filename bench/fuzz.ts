/**
 * `npm run fuzz [-- --cases N] [--workers N] [target ...]`: the long fuzz campaign. Runs each target of the
 * in-suite fuzz tests (test/support/fuzz.ts harness) from a fixed seed, for 10^5 cases by default, split over
 * worker threads (one per core by default: case i runs on worker i mod N, every worker generating the same case
 * stream, so the counts do not depend on N), and writes the counts (cases, ok, clear errors, crashes, silent wrong, noted,
 * slowest case, cases/s, the first failures to replay) to bench/results/fuzz.json. Exit code 1 when any target had
 * a crash or a silent wrong result. `--cases N` or `FUZZ_CASES` sets every target's count (a busy machine: fewer).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { machineInfo, RESULTS_DIR } from './harness.js';
import { mergeCounts, type FuzzCounts } from '../test/support/fuzz.js';
import { bagSeeds, type BagSeeds } from '../lib/bag/bag.fuzz.js';
import { campaignTargets, FUZZ_SEED } from './fuzz-targets.js';
import type { ShardRequest } from './fuzz-worker.js';

type Reply = { ready: true } | { counts: FuzzCounts } | { error: string };

/** A worker thread running bench/fuzz-worker.ts under tsx (registered first: the bench runs from sources). */
class ShardWorker {
  private readonly w: Worker;
  private waiting: ((r: Reply) => void) | undefined;
  private readonly ready: Promise<Reply>;

  constructor(seeds: BagSeeds) {
    const here = import.meta.url;
    const tsxApi = pathToFileURL(join(dirname(createRequire(here).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
    const entry = new URL('./fuzz-worker.ts', here).href;
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); }).catch((e) => { require('node:worker_threads').parentPort.postMessage({ error: 'cannot start the fuzz worker: ' + (e && e.stack || e) }); });`;
    this.w = new Worker(boot, { eval: true, workerData: seeds });
    this.ready = this.next();
    this.w.on('message', (r: Reply) => {
      const f = this.waiting;
      this.waiting = undefined;
      f?.(r);
    });
    this.w.on('error', (e) => this.waiting?.({ error: e.stack ?? String(e) }));
  }

  private next(): Promise<Reply> {
    return new Promise((res) => (this.waiting = res));
  }

  /** Resolves once the worker has built its targets (so that start-up is not counted in the first target's time). */
  async started(): Promise<void> {
    const r0 = await this.ready;
    if ('error' in r0) throw new Error(r0.error);
  }

  async run(req: ShardRequest): Promise<FuzzCounts> {
    await this.started();
    const reply = this.next();
    this.w.postMessage(req);
    const r = await reply;
    if ('error' in r) throw new Error(`fuzz worker, target ${req.target}: ${r.error}`);
    if (!('counts' in r)) throw new Error(`fuzz worker, target ${req.target}: unexpected reply`);
    return r.counts;
  }

  async close(): Promise<void> {
    const gone = new Promise((res) => this.w.once('exit', res));
    this.w.postMessage('exit');
    await gone;
  }
}

function positiveInt(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${what} must be a positive integer, got '${v}'`);
  return n;
}

async function main(seeds: BagSeeds): Promise<number> {
  const argv = process.argv.slice(2);
  let casesArg = process.env.FUZZ_CASES;
  let workersArg: string | undefined;
  const wanted: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cases') casesArg = argv[++i];
    else if (argv[i] === '--workers') workersArg = argv[++i];
    else wanted.push(argv[i]);
  }
  let cases: number | undefined;
  let workers: number;
  try {
    cases = positiveInt(casesArg, '--cases (or FUZZ_CASES)');
    workers = positiveInt(workersArg, '--workers') ?? availableParallelism();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  // The main thread's own copy, for the names and default counts only (its case folder is removed at once).
  const local = campaignTargets(seeds);
  rmSync(local.dir, { recursive: true, force: true });
  const all = local.targets;
  const unknown = wanted.filter((w) => !all.some((t) => t.name === w));
  if (unknown.length > 0) {
    process.stderr.write(`unknown fuzz target(s): ${unknown.join(', ')}; available: ${all.map((t) => t.name).join(', ')}\n`);
    return 2;
  }
  const pool = Array.from({ length: workers }, () => new ShardWorker(seeds));
  const results: (FuzzCounts & { wallS: number; casesPerS: number; workers: number })[] = [];
  const chosen = all.filter((x) => wanted.length === 0 || wanted.includes(x.name));
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, 'fuzz.json');
  const totalsOf = (): { cases: number; crashes: number; clearErrors: number; silentWrong: number } =>
    results.reduce((a, r) => ({ cases: a.cases + r.cases, crashes: a.crashes + r.crashes, clearErrors: a.clearErrors + r.clearErrors, silentWrong: a.silentWrong + r.silentWrong }), { cases: 0, crashes: 0, clearErrors: 0, silentWrong: 0 });
  // Written after every target: a campaign cut short (a time limit, Ctrl-C) still leaves the counts it has.
  const save = (): void => {
    const doc = { name: 'fuzz', date: new Date().toISOString(), machine: machineInfo(), seed: FUZZ_SEED, workers, casesPerTarget: cases ?? 'per target (defaultCases, else 100000)', complete: results.length === chosen.length, totals: totalsOf(), targets: results };
    writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  };
  try {
    await Promise.all(pool.map((w) => w.started()));
    for (const t of chosen) {
      const n = cases ?? t.defaultCases ?? 100_000;
      const t0 = process.hrtime.bigint();
      const c = mergeCounts(await Promise.all(pool.map((w, index) => w.run({ target: t.name, cases: n, shard: { index, count: workers } }))));
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      const casesPerS = c.cases / wallS;
      results.push({ ...c, wallS, casesPerS, workers });
      save();
      process.stdout.write(
        `${t.name}: ${c.cases} cases in ${wallS.toFixed(0)} s on ${workers} worker(s) (${casesPerS.toFixed(0)}/s): ${c.ok} ok, ${c.clearErrors} clear errors, ${c.crashes} crashes, ${c.silentWrong} silent wrong${c.noted > 0 ? `, ${c.noted} noted` : ''} (slowest ${c.maxCaseMs.toFixed(0)} ms)\n`,
      );
      for (const f of c.failures) process.stdout.write(`  case ${f.case} ${f.kind}: ${f.message}\n`);
    }
  } finally {
    await Promise.all(pool.map((w) => w.close()));
  }
  const totals = totalsOf();
  process.stdout.write(`fuzz: ${totals.cases} cases, ${totals.crashes} crashes, ${totals.clearErrors} clear errors, ${totals.silentWrong} silent wrong (${file})\n`);
  return totals.crashes + totals.silentWrong > 0 ? 1 : 0;
}

// The bag targets mutate small bags written once per run (removed at the end) and handed to every worker.
const seeds = await bagSeeds();
main(seeds).then(
  (code) => {
    rmSync(seeds.dir, { recursive: true, force: true });
    process.exitCode = code;
  },
  (e: unknown) => {
    rmSync(seeds.dir, { recursive: true, force: true });
    process.stderr.write(`fuzz: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
