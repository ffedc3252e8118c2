/**
 * `npm run bench [-- name ...]`: runs bench/<name>.bench.ts files in order, each writing
 * bench/results/<name>.json, and prints one summary line per benchmark.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeResult, checkGoals, type Bench } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
// Order matters: membw first, as other benches compare against the bandwidth limit it measures.
const ORDER = ['membw', 'pipeline', 'mavlink', 'dds', 'replay', 'perception', 'llm'];

function versions(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  return { node: process.version, ...pkg.dependencies };
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = readdirSync(here).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace(/\.bench\.ts$/, ''));
  const names = [...ORDER.filter((n) => files.includes(n)), ...files.filter((n) => !ORDER.includes(n)).sort()];
  const unknown = wanted.filter((w) => !files.includes(w));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${names.join(', ')}\n`);
    return 2;
  }
  let failed = 0;
  for (const name of wanted.length > 0 ? wanted : names) {
    const mod = (await import(pathToFileURL(join(here, `${name}.bench.ts`)).href)) as { default: Bench };
    const t0 = process.hrtime.bigint();
    try {
      const r = await mod.default.run();
      const file = writeResult(name, mod.default.description, r, versions());
      const goals = checkGoals(r.goals).map((g) => `${g.name} ${g.value.toFixed(3)} ${g.op} ${g.target}: ${g.status}`);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      process.stdout.write(`${name}: ${r.summary}${goals.length ? ` [${goals.join('; ')}]` : ''} (${secs.toFixed(0)} s, ${file})\n`);
    } catch (e) {
      failed++;
      process.stderr.write(`${name}: FAILED: ${(e as Error).stack ?? String(e)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
