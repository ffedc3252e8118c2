/**
 * Writes the Kestrel LM corpus: `npx tsx models/lm/corpus/gen.ts --seed 1 [--version v1|v2|v3] [--out models/lm/data/<version>]`
 * → train.jsonl, val.jsonl, heldout.jsonl (LM-SPEC "Corpus JSONL"), then READY. Same seed and
 * counts → byte-identical files. Counts per family and split are printed and written to
 * stats.json.
 */
import { mkdirSync, writeFileSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from './rng.js';
import { CORPUS_VERSIONS, intentExample, type CorpusVersion, type Example } from './intent.js';
import { planExample } from './plan.js';

/** The version `gen.ts` writes by default (`--version v1` reproduces v1: the committed model's corpus). */
export const CORPUS_VERSION: CorpusVersion = 'v2';

export interface CorpusCounts {
  intent: { train: number; val: number; heldout: number };
  plan: { train: number; val: number; heldout: number };
}

export const DEFAULT_COUNTS: CorpusCounts = {
  intent: { train: 200_000, val: 2_000, heldout: 2_000 },
  plan: { train: 56_000, val: 2_000, heldout: 2_000 },
};

export type Split = 'train' | 'val' | 'heldout';
const SPLITS: readonly Split[] = ['train', 'val', 'heldout'];

/** Examples of one split, in file order (intent and plan interleaved deterministically). */
export function* splitExamples(seed: number, split: Split, counts: CorpusCounts, seen?: Set<string>, version: CorpusVersion = CORPUS_VERSION): Generator<Example> {
  const ri = new Rng(seed, `intent/${split}`);
  const rp = new Rng(seed, `plan/${split}`);
  const mix = new Rng(seed, `mix/${split}`);
  let ni = counts.intent[split];
  let np = counts.plan[split];
  while (ni + np > 0) {
    const takeIntent = np === 0 || (ni > 0 && mix.next() < ni / (ni + np));
    if (takeIntent) {
      const e = intentExample(ri, split, version);
      const key = e.system + e.user;
      // val and heldout never repeat a train prompt.
      if (seen && split !== 'train' && seen.has(key)) continue;
      seen?.add(key);
      ni--;
      yield e;
    } else {
      np--;
      yield planExample(rp, split);
    }
  }
}

export function exampleLine(e: Example): string {
  return JSON.stringify({ task: e.task, family: e.family, split: e.split, system: e.system, user: e.user, output: e.output });
}

export function writeCorpus(seed: number, out: string, counts: CorpusCounts = DEFAULT_COUNTS, version: CorpusVersion = CORPUS_VERSION): Record<string, Record<string, number>> {
  mkdirSync(out, { recursive: true });
  rmSync(join(out, 'READY'), { force: true });
  const stats: Record<string, Record<string, number>> = {};
  const seen = new Set<string>();
  for (const split of SPLITS) {
    const fd = openSync(join(out, `${split}.jsonl`), 'w');
    const per: Record<string, number> = {};
    let buf: string[] = [];
    for (const e of splitExamples(seed, split, counts, seen, version)) {
      per[`${e.task}:${e.family}`] = (per[`${e.task}:${e.family}`] ?? 0) + 1;
      buf.push(exampleLine(e));
      if (buf.length >= 2000) {
        writeSync(fd, `${buf.join('\n')}\n`);
        buf = [];
      }
    }
    if (buf.length) writeSync(fd, `${buf.join('\n')}\n`);
    closeSync(fd);
    stats[split] = Object.fromEntries(Object.entries(per).sort(([a], [b]) => a.localeCompare(b)));
  }
  writeFileSync(join(out, 'stats.json'), `${JSON.stringify({ version, seed, counts, families: stats }, null, 1)}\n`);
  return stats;
}

function main(): void {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' }, version: { type: 'string', default: CORPUS_VERSION }, out: { type: 'string' }, scale: { type: 'string', default: '1' } } });
  const version = CORPUS_VERSIONS.find((x) => x === values.version);
  if (!version) throw new Error(`--version: '${values.version}' is not a corpus version (${CORPUS_VERSIONS.join(', ')})`);
  const out = values.out ?? `models/lm/data/${version}`;
  const seed = Number(values.seed);
  const scale = Number(values.scale);
  const sc = (n: number): number => Math.max(1, Math.round(n * scale));
  const counts: CorpusCounts = {
    intent: { train: sc(DEFAULT_COUNTS.intent.train), val: sc(DEFAULT_COUNTS.intent.val), heldout: sc(DEFAULT_COUNTS.intent.heldout) },
    plan: { train: sc(DEFAULT_COUNTS.plan.train), val: sc(DEFAULT_COUNTS.plan.val), heldout: sc(DEFAULT_COUNTS.plan.heldout) },
  };
  const t0 = process.hrtime.bigint();
  const stats = writeCorpus(seed, out, counts, version);
  for (const [split, per] of Object.entries(stats)) {
    const total = Object.values(per).reduce((a, b) => a + b, 0);
    console.log(`${split}: ${total}`);
    for (const [f, n] of Object.entries(per)) console.log(`  ${f.padEnd(36)} ${n}`);
  }
  writeFileSync(join(out, 'READY'), `${version} seed ${seed}\n`);
  console.log(`wrote ${out} in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
}

if (process.argv[1] && /gen\.ts$/.test(process.argv[1])) main();
