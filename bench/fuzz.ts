/**
 * `npm run fuzz [-- --cases N] [target ...]`: the long fuzz campaign. Runs each target of the
 * in-suite fuzz tests (test/support/fuzz.ts harness) from a fixed seed, for 10^5 cases by default
 * (a target with slow cases, a file written and opened per case, sets its own `defaultCases`), and
 * writes the counts (cases, ok, clear errors, crashes, silent wrong, slowest case, cases/s, the
 * first failures to replay) to bench/results/fuzz.json. Exit code 1 when any target had a crash or
 * a silent wrong result. `--cases N` or `FUZZ_CASES` sets every target's count (a busy machine: fewer).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineInfo, RESULTS_DIR } from './harness.js';
import { runFuzz, type FuzzCounts, type FuzzTarget } from '../test/support/fuzz.js';
import { cdrTarget } from '../msgs/codec.fuzz.js';
import { framerTarget } from '../lib/mavlink/framer.fuzz.js';
import { launchTarget, paramsTarget } from '../runtime/launch/launch.fuzz.js';
import { bagSeeds, bagTargets } from '../lib/bag/bag.fuzz.js';

// The bag targets mutate a small bag written once per run (removed at the end).
const seeds = await bagSeeds();
const TARGETS: FuzzTarget<never>[] = [cdrTarget, framerTarget, launchTarget, paramsTarget, ...bagTargets(seeds)] as unknown as FuzzTarget<never>[];
const SEED = 20261201;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let cases = process.env.FUZZ_CASES === undefined ? undefined : Number(process.env.FUZZ_CASES);
  const wanted: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cases') cases = Number(argv[++i]);
    else wanted.push(argv[i]);
  }
  if (cases !== undefined && !(Number.isInteger(cases) && cases > 0)) {
    process.stderr.write(`--cases must be a positive integer\n`);
    return 2;
  }
  const unknown = wanted.filter((w) => !TARGETS.some((t) => t.name === w));
  if (unknown.length > 0) {
    process.stderr.write(`unknown fuzz target(s): ${unknown.join(', ')}; available: ${TARGETS.map((t) => t.name).join(', ')}\n`);
    return 2;
  }
  const results: (FuzzCounts & { wallS: number; casesPerS: number })[] = [];
  for (const t of TARGETS.filter((x) => wanted.length === 0 || wanted.includes(x.name))) {
    const t0 = process.hrtime.bigint();
    const c = await runFuzz(t, SEED, cases ?? t.defaultCases ?? 100_000);
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const casesPerS = c.cases / wallS;
    results.push({ ...c, wallS, casesPerS });
    process.stdout.write(
      `${t.name}: ${c.cases} cases in ${wallS.toFixed(0)} s (${casesPerS.toFixed(0)}/s): ${c.ok} ok, ${c.clearErrors} clear errors, ${c.crashes} crashes, ${c.silentWrong} silent wrong (slowest ${c.maxCaseMs.toFixed(0)} ms)\n`,
    );
    for (const f of c.failures) process.stdout.write(`  case ${f.case} ${f.kind}: ${f.message}\n`);
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, 'fuzz.json');
  const totals = results.reduce((a, r) => ({ cases: a.cases + r.cases, crashes: a.crashes + r.crashes, clearErrors: a.clearErrors + r.clearErrors, silentWrong: a.silentWrong + r.silentWrong }), { cases: 0, crashes: 0, clearErrors: 0, silentWrong: 0 });
  writeFileSync(file, `${JSON.stringify({ name: 'fuzz', date: new Date().toISOString(), machine: machineInfo(), seed: SEED, casesPerTarget: cases ?? 'per target (defaultCases, else 100000)', totals, targets: results }, null, 2)}\n`);
  process.stdout.write(`fuzz: ${totals.cases} cases, ${totals.crashes} crashes, ${totals.clearErrors} clear errors, ${totals.silentWrong} silent wrong (${file})\n`);
  return totals.crashes + totals.silentWrong > 0 ? 1 : 0;
}

main().then(
  (code) => {
    rmSync(seeds.dir, { recursive: true, force: true });
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`fuzz: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
