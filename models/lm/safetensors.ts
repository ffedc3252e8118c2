/**
 * Minimal safetensors reader (F32 only): what models/lm/train/export.py writes for the GGUF writer.
 * Layout: u64 LE header length, JSON header {name: {dtype, shape, data_offsets}}, then the data.
 */
import { readFileSync } from 'node:fs';
import type { F32Tensor } from '../gguf/writer.js';

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function readSafetensors(path: string): Map<string, F32Tensor> {
  const buf = readFileSync(path);
  if (buf.length < 8) throw new Error(`${path}: too short for a safetensors file`);
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) throw new Error(`${path}: header length ${n} exceeds the file`);
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, Entry | Record<string, string>>;
  const base = 8 + n;
  const out = new Map<string, F32Tensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const t = e as Entry;
    if (t.dtype !== 'F32') throw new Error(`${path}: tensor '${name}' is ${t.dtype}, expected F32`);
    const [b, end] = t.data_offsets;
    const count = t.shape.reduce((a, x) => a * x, 1);
    if (end - b !== count * 4 || base + end > buf.length) throw new Error(`${path}: tensor '${name}' offsets do not match its shape`);
    // copy: the Float32Array needs 4-byte alignment, which the file offset does not guarantee
    const data = new Float32Array(count);
    Buffer.from(data.buffer).set(buf.subarray(base + b, base + end));
    out.set(name, { shape: t.shape, data });
  }
  return out;
}
