import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readGgufFileInfo } from 'node-llama-cpp';
import { buildVocab, quantizeQ4_0, quantizeQ8_0, tensorSpecs, writeTrainedGguf, type F32Tensor, type ModelShape, type TrainedModelSpec } from './writer.js';

const SHAPE: ModelShape = { vocab: 600, hidden: 64, layers: 1, heads: 2, kvHeads: 1, ffn: 96, contextLength: 256, untiedOutput: false };

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function spec(): TrainedModelSpec {
  let x = 12345;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.1;
  const tensors = new Map<string, F32Tensor>();
  for (const t of tensorSpecs(SHAPE, 'F16')) {
    const shape = [...t.dims].reverse();
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map(() => (t.ones ? 1 : rnd()));
    tensors.set(t.name, { shape, data });
  }
  const v = buildVocab(SHAPE.vocab);
  return { shape: SHAPE, tensors, vocab: { ...v, bos: 1, eos: 2, unk: 0 }, metadata: { 'kestrel.prompt_format': 'kestrel-lm-1', 'kestrel.seed': 1, 'general.name': 'test' } };
}

describe('GGUF writer: trained weights', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-trained-'));

  it('quantizes like ggml: Q8_0 and Q4_0 blocks dequantize close to the input', () => {
    const x = new Float32Array(64).map((_, i) => Math.sin(i * 0.7) * (i < 32 ? 1 : 0.01));
    const q8 = quantizeQ8_0(x);
    const q4 = quantizeQ4_0(x);
    expect(q8.length).toBe(68);
    expect(q4.length).toBe(36);
    for (let b = 0; b < 2; b++) {
      const d8 = halfToFloat(q8.readUInt16LE(b * 34));
      const d4 = halfToFloat(q4.readUInt16LE(b * 18));
      const amax = Math.max(...x.subarray(b * 32, b * 32 + 32).map(Math.abs));
      for (let j = 0; j < 32; j++) {
        const v = x[b * 32 + j];
        expect(Math.abs(q8.readInt8(b * 34 + 2 + j) * d8 - v)).toBeLessThanOrEqual(amax / 127);
        const byte = q4[b * 18 + 2 + (j % 16)];
        const nib = j < 16 ? byte & 15 : byte >> 4;
        expect(Math.abs((nib - 8) * d4 - v)).toBeLessThanOrEqual(amax / 8 + 1e-6);
      }
    }
  });

  it('writes F16, Q8_0 and Q4_0 files node-llama-cpp reads, with the vocabulary and metadata', async () => {
    for (const q of ['F16', 'Q8_0', 'Q4_0'] as const) {
      const path = join(dir, `m-${q}.gguf`);
      writeTrainedGguf(path, spec(), q, q === 'Q4_0' ? { embedQuant: 'Q8_0' } : {});
      const info = await readGgufFileInfo(path, { readTensorInfo: true });
      const md = info.metadata as unknown as { general: { name: string }; kestrel: { prompt_format: string; seed: number }; tokenizer: { ggml: { add_space_prefix: boolean; tokens: string[] } } };
      expect(md.general.name).toBe('test');
      expect(md.kestrel.prompt_format).toBe('kestrel-lm-1');
      expect(md.kestrel.seed).toBe(1);
      expect(md.tokenizer.ggml.add_space_prefix).toBe(false);
      expect(md.tokenizer.ggml.tokens[3 + 0x0a]).toBe('<0x0A>');
      const names = info.tensorInfo!.map((t) => t.name);
      expect(names).not.toContain('output.weight');
      const embd = info.tensorInfo!.find((t) => t.name === 'token_embd.weight')!;
      expect(embd.dimensions.map(Number)).toEqual([64, 600]);
      expect(embd.ggmlType).toBe(q === 'F16' ? 1 : 8);
    }
  });

  it('refuses a missing tensor, a wrong shape, a non-finite value and a bad vocabulary, naming them', () => {
    const p = join(dir, 'bad.gguf');
    const s1 = spec();
    (s1.tensors as Map<string, F32Tensor>).delete('blk.0.ffn_up.weight');
    expect(() => writeTrainedGguf(p, s1, 'F16')).toThrow("missing tensor 'blk.0.ffn_up.weight'");
    const s2 = spec();
    (s2.tensors as Map<string, F32Tensor>).set('blk.0.attn_k.weight', { shape: [64, 32], data: new Float32Array(2048) });
    expect(() => writeTrainedGguf(p, s2, 'F16')).toThrow("tensor 'blk.0.attn_k.weight' has shape [64, 32], expected [32, 64]");
    const s3 = spec();
    s3.tensors.get('output_norm.weight')!.data[3] = Number.NaN;
    expect(() => writeTrainedGguf(p, s3, 'Q8_0')).toThrow("tensor 'output_norm.weight' has a non-finite value at 3");
    const s4 = spec();
    expect(() => writeTrainedGguf(p, { ...s4, vocab: { ...s4.vocab, tokens: s4.vocab.tokens.slice(1) } }, 'F16')).toThrow('invalid vocabulary: 599 tokens, model vocab is 600');
    expect(() => writeTrainedGguf(p, { ...s4, shape: { ...SHAPE, untiedOutput: true } }, 'F16')).toThrow('tied-output');
  });
});
