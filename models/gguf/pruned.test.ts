import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { getLlama, LlamaLogLevel, readGgufFileInfo, type Llama } from 'node-llama-cpp';
import { architectureOf, TINY_SHAPE, writeGguf, type ModelShape } from './writer.js';

// Pruned shapes (models/lm/train/prune.py): fewer heads than hidden / head size, per-layer sizes.
const dir = mkdtempSync(join(tmpdir(), 'kestrel-pruned-'));
let llama: Llama | undefined;
const getL = async (): Promise<Llama> => (llama ??= await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false }));

async function greedyTokens(path: string, prompts: readonly string[], n = 10): Promise<number[][]> {
  const l = await getL();
  const m = await l.loadModel({ modelPath: path });
  try {
    const out: number[][] = [];
    for (const p of prompts) {
      const c = await m.createContext({ contextSize: 256, threads: 1 });
      const toks: number[] = [];
      for await (const t of c.getSequence().evaluate(m.tokenize(p), { temperature: 0 })) {
        toks.push(t);
        if (toks.length >= n) break;
      }
      await c.dispose();
      out.push(toks);
    }
    return out;
  } finally {
    await m.dispose();
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GGUF writer: pruned shapes', () => {
  const prompts = ['hello world', 'the drone sees a person', '{"rules":['];

  it("computes a uniform model the same under llama.cpp's llama and deci architectures", async () => {
    const s: ModelShape = { ...TINY_SHAPE, heads: 2, kvHeads: 1, headDim: 32, ffn: 256 };
    const a = join(dir, 'llama.gguf');
    const b = join(dir, 'deci.gguf');
    writeGguf(a, { shape: s, quant: 'F16', seed: 7 });
    writeGguf(b, { shape: { ...s, architecture: 'deci' }, quant: 'F16', seed: 7 });
    const ia = await readGgufFileInfo(a);
    expect(ia.metadata.general.architecture).toBe('llama');
    // heads × head size (64) ≠ hidden (128): the head size must be declared
    expect((ia.metadata as unknown as { llama: { attention: { key_length: number } } }).llama.attention.key_length).toBe(32);
    expect((await readGgufFileInfo(b)).metadata.general.architecture).toBe('deci');
    const ta = await greedyTokens(a, prompts);
    expect(new Set(ta.flat()).size).toBeGreaterThan(3);
    expect(await greedyTokens(b, prompts)).toEqual(ta);
  }, 60_000);

  it('writes per-layer heads and FFN widths as deci arrays that llama.cpp loads and runs', async () => {
    const s: ModelShape = { ...TINY_SHAPE, headDim: 32, layerHeads: [4, 2], layerKvHeads: [2, 1], layerFfn: [384, 256] };
    expect(architectureOf(s)).toBe('deci');
    expect(architectureOf({ ...s, layerFfn: [256, 256], layerHeads: [2, 2], layerKvHeads: [1, 1] })).toBe('llama');
    const p = join(dir, 'perlayer.gguf');
    writeGguf(p, { shape: s, quant: 'Q4_0' });
    const md = (await readGgufFileInfo(p)).metadata as unknown as { deci: { feed_forward_length: number[]; attention: { head_count: number[] } } };
    expect(md.deci.feed_forward_length).toEqual([384, 256]);
    expect(md.deci.attention.head_count).toEqual([4, 2]);
    const t = await greedyTokens(p, prompts.slice(0, 1), 5);
    expect(t[0]).toHaveLength(5);
  }, 60_000);

  it('refuses inconsistent per-layer shapes, naming the field', () => {
    const p = join(dir, 'bad.gguf');
    expect(() => writeGguf(p, { shape: { ...TINY_SHAPE, layerFfn: [384] }, quant: 'F16' })).toThrow(/layerFfn has 1 entries for 2 layers/);
    expect(() => writeGguf(p, { shape: { ...TINY_SHAPE, headDim: 32, layerHeads: [3, 2], layerKvHeads: [2, 1] }, quant: 'F16' })).toThrow(/layer 0: heads 3 not divisible by kv heads 2/);
    expect(() => writeGguf(p, { shape: { ...TINY_SHAPE, layerFfn: [384, 100] }, quant: 'F16' })).toThrow(/layer 1: ffn 100/);
  });
});
