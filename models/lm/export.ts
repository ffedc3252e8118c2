/**
 * `npx tsx models/lm/export.ts [--in models/lm/export] [--out models/lm] [--name kestrel-lm] [--quants F16,Q8_0,Q4_0] [--verify N]`
 *
 * --name: file prefix (`kestrel-lm-draft`, `kestrel-lm-pruned-l2` for the draft and pruned variants of
 * issue 18); --quants: which of the three files to write (the variants ship Q4_0 only).
 *
 * Reads what models/lm/train/export.py wrote (weights.safetensors + manifest.json) and writes
 * kestrel-lm-{f16,q8_0,q4_0}.gguf through models/gguf/writer.ts. With --verify N, loads each file
 * with node-llama-cpp (LlmEngine, 1 thread) and checks that greedy generation under the Kestrel
 * GBNF reproduces the Python greedy output (greedy.jsonl) on N examples per task; prints the
 * agreement per file and exits 1 if the F16 file disagrees anywhere.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeTrainedGguf, type ModelShape, type Quant, type GgufVocab } from '../gguf/writer.js';
import { readSafetensors } from './safetensors.js';
import { LlmEngine } from '../../lib/llm/engine.js';
import { shapeFor } from './format.js';
import { parseOutput } from '../../lib/llm/grammar.js';

interface Manifest {
  shape: ModelShape;
  ropeBase: number;
  eps: number;
  tokenizer: { pieces: string[]; scores: number[]; types: number[]; bos: number; eos: number; unk: number };
  metadata: Record<string, string | number | boolean>;
  training: Record<string, unknown>;
}

interface GreedyRow {
  split: string;
  task: 'intent' | 'plan';
  system: string;
  user: string;
  output: string;
  greedy: string;
}

export const QUANTS: readonly Quant[] = ['F16', 'Q8_0', 'Q4_0'];
export const ggufName = (q: Quant, name = 'kestrel-lm'): string => `${name}-${q.toLowerCase()}.gguf`;

/** --quants as given on the command line; throws naming the bad entry. */
export function parseQuants(s: string): Quant[] {
  return s.split(',').map((q) => {
    if (!(QUANTS as readonly string[]).includes(q)) throw new Error(`--quants: '${q}' is not one of ${QUANTS.join(', ')}`);
    return q as Quant;
  });
}

export function exportGgufs(inDir: string, outDir: string, name = 'kestrel-lm', quants: readonly Quant[] = QUANTS): string[] {
  const m = JSON.parse(readFileSync(join(inDir, 'manifest.json'), 'utf8')) as Manifest;
  const tensors = readSafetensors(join(inDir, 'weights.safetensors'));
  const vocab: GgufVocab = { tokens: m.tokenizer.pieces, scores: m.tokenizer.scores, types: m.tokenizer.types, bos: m.tokenizer.bos, eos: m.tokenizer.eos, unk: m.tokenizer.unk };
  return quants.map((q) => {
    const path = join(outDir, ggufName(q, name));
    const bytes = writeTrainedGguf(path, { shape: m.shape, tensors, vocab, metadata: m.metadata, ropeBase: m.ropeBase, rmsEps: m.eps }, q,
      // tied output: keep the embedding/output matrix at 8 bits in the 4-bit file (as llama.cpp's quantizer keeps output higher)
      q === 'Q4_0' ? { embedQuant: 'Q8_0' } : {});
    process.stdout.write(`${path}: ${(bytes / 2 ** 20).toFixed(2)} MiB\n`);
    return path;
  });
}

async function verify(path: string, rows: GreedyRow[]): Promise<number> {
  const e = await LlmEngine.load({ modelPath: path, threads: 1, contextSize: 1024, gpuLayers: 0, maxMemoryMb: 0, template: 'none' });
  let same = 0;
  try {
    for (const r of rows) {
      const grammar = await e.createGrammar(shapeFor(r.task, r.system));
      const g = await e.generate({ system: r.system, user: r.user }, { grammar, maxTokens: 200, reusePrefix: false });
      if (g.text === r.greedy) same++;
      else if (process.env.VERBOSE) process.stdout.write(`  differs (${r.task}): python ${r.greedy}\n                 llama  ${g.text}\n`);
    }
  } finally {
    await e.dispose();
  }
  return same;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (n: string, d: string): string => {
    const i = args.indexOf(n);
    return i >= 0 && args[i + 1] ? args[i + 1] : d;
  };
  const inDir = flag('--in', 'models/lm/export');
  const outDir = flag('--out', 'models/lm');
  const n = Number(flag('--verify', '0'));
  const paths = exportGgufs(inDir, outDir, flag('--name', 'kestrel-lm'), parseQuants(flag('--quants', QUANTS.join(','))));
  if (n <= 0) return;
  const gp = join(inDir, 'greedy.jsonl');
  if (!existsSync(gp)) throw new Error(`${gp} missing: run export.py first`);
  const all = readFileSync(gp, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as GreedyRow);
  // only outputs the grammar admits can be reproduced under it (an undertrained model may name a class the prompt lacks)
  const admitted = (r: GreedyRow): boolean => {
    try {
      parseOutput(r.greedy, shapeFor(r.task, r.system));
      return true;
    } catch {
      return false;
    }
  };
  const rows = (['intent', 'plan'] as const).flatMap((t) => all.filter((r) => r.task === t && admitted(r)).slice(0, n));
  process.stdout.write(`comparing ${rows.length} python greedy outputs the grammar admits (of ${all.length})\n`);
  let f16Bad = false;
  for (const [i, p] of paths.entries()) {
    const same = await verify(p, rows);
    process.stdout.write(`${p}: llama.cpp greedy == python greedy on ${same}/${rows.length}\n`);
    if (i === 0 && paths[0].endsWith('-f16.gguf') && same < rows.length) f16Bad = true;
  }
  if (f16Bad) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
