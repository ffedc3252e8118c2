/**
 * Writes GGUF v3 llama-architecture models with random weights and a working SentencePiece
 * tokenizer (byte fallback), in F16, Q8_0 or Q4_0. Streams tensor data to disk, so the
 * 1B-shaped model (2 GB in F16) never sits in memory whole.
 *
 * Format (ggml-org/llama.cpp, gguf-py): header, key/values, tensor infos, padding to the
 * alignment, then tensor data, each tensor aligned. Dims are written innermost first (ne0).
 */
import { closeSync, openSync, writeSync, renameSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Quant = 'F16' | 'Q8_0' | 'Q4_0';

export interface ModelShape {
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  contextLength: number;
  /** Separate output matrix; a tied random model repeats one token, an untied one gives varied text. */
  untiedOutput: boolean;
  /**
   * Structured pruning (models/lm/train/prune.py): the head size when heads × head size ≠ hidden
   * (written as llama.attention.key_length / value_length), and per-layer query heads, kv heads and
   * FFN widths (written as arrays, which llama.cpp reads per layer). Absent = uniform, hidden / heads.
   */
  headDim?: number;
  /** Forces the GGUF architecture (default: architectureOf, `deci` only when layers differ). */
  architecture?: 'llama' | 'deci';
  layerHeads?: readonly number[];
  layerKvHeads?: readonly number[];
  layerFfn?: readonly number[];
}

/** Per-layer sizes of a shape (the uniform values where no per-layer list is given). */
export function layerSizes(s: ModelShape, l: number): { heads: number; kvHeads: number; ffn: number } {
  return { heads: s.layerHeads?.[l] ?? s.heads, kvHeads: s.layerKvHeads?.[l] ?? s.kvHeads, ffn: s.layerFfn?.[l] ?? s.ffn };
}

export const headDimOf = (s: ModelShape): number => s.headDim ?? s.hidden / s.heads;

/** A per-layer list as GGUF writes it: one number when every layer agrees (what llama.cpp always reads), else an array. */
function perLayerKv(s: ModelShape, list: readonly number[] | undefined, uniform: number): KvValue {
  if (!list || list.every((v) => v === list[0])) return { t: 'u32', v: list ? list[0] : uniform };
  return { t: 'i32[]', v: list };
}

/**
 * llama.cpp's llama architecture reads the per-layer arrays but sizes every layer's tensors from
 * layer 0's values (it refuses a file whose layers differ); its `deci` architecture (Nemotron-NAS:
 * a llama block stack with per-layer heads, kv heads and FFN widths, the same RoPE mode) sizes each
 * layer from its own entry. So a non-uniform shape is written as `deci`, everything else as `llama`.
 */
export function architectureOf(s: ModelShape): 'llama' | 'deci' {
  const varies = (l: readonly number[] | undefined): boolean => !!l && l.some((v) => v !== l[0]);
  return s.architecture ?? (varies(s.layerHeads) || varies(s.layerKvHeads) || varies(s.layerFfn) ? 'deci' : 'llama');
}

/** Renames the llama.* keys for the file's architecture. */
function archKvs(s: ModelShape, kvs: [string, KvValue][]): [string, KvValue][] {
  const arch = architectureOf(s);
  return kvs.map(([k, v]): [string, KvValue] => {
    if (k === 'general.architecture') return [k, { t: 'str', v: arch }];
    return [k.startsWith('llama.') ? `${arch}.${k.slice(6)}` : k, v];
  });
}

/** The shape-dependent llama.* keys of both writers. */
function shapeKvs(s: ModelShape): [string, KvValue][] {
  const hd = headDimOf(s);
  const kvs: [string, KvValue][] = [
    ['llama.context_length', { t: 'u32', v: s.contextLength }],
    ['llama.embedding_length', { t: 'u32', v: s.hidden }],
    ['llama.block_count', { t: 'u32', v: s.layers }],
    ['llama.feed_forward_length', perLayerKv(s, s.layerFfn, s.ffn)],
    ['llama.attention.head_count', perLayerKv(s, s.layerHeads, s.heads)],
    ['llama.attention.head_count_kv', perLayerKv(s, s.layerKvHeads, s.kvHeads)],
    ['llama.rope.dimension_count', { t: 'u32', v: hd }],
  ];
  // llama.cpp derives the head size as hidden / heads unless told: a pruned model must say it
  if (hd * s.heads !== s.hidden || s.layerHeads) kvs.push(['llama.attention.key_length', { t: 'u32', v: hd }], ['llama.attention.value_length', { t: 'u32', v: hd }]);
  return kvs;
}

/** A few MB: fast enough for tests on one thread. */
export const TINY_SHAPE: ModelShape = { vocab: 1024, hidden: 128, layers: 2, heads: 4, kvHeads: 2, ffn: 384, contextLength: 2048, untiedOutput: true };
/** A small draft model sharing the 1B shape's vocabulary (and so its tokenizer), for speculative decoding. */
export const DRAFT_1B_SHAPE: ModelShape = { vocab: 32000, hidden: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 768, contextLength: 4096, untiedOutput: false };
/** Llama-3.2-1B shape (tied embeddings, like the published model), vocab cut to 32000. */
export const LLAMA_1B_SHAPE: ModelShape = { vocab: 32000, hidden: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192, contextLength: 4096, untiedOutput: false };

export interface WriteOptions {
  shape: ModelShape;
  quant: Quant;
  seed?: number;
  /** Weight standard deviation (like a fresh init). */
  std?: number;
  name?: string;
  /** Jinja chat template (`tokenizer.chat_template`), as published instruct models carry. */
  chatTemplate?: string;
  /** Control tokens the template uses (e.g. <|im_start|>), placed at the end of the vocabulary. */
  controlTokens?: readonly string[];
}

/** ChatML, the simplest widely recognised template: lets tests exercise the `template: auto` path. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
export const CHATML_TOKENS = ['<|im_start|>', '<|im_end|>'] as const;

const GGML_F32 = 0;
const GGML_F16 = 1;
const GGML_Q4_0 = 2;
const GGML_Q8_0 = 8;
const FILE_TYPE: Record<Quant, number> = { F16: 1, Q4_0: 2, Q8_0: 7 };
const GGML_TYPE: Record<Quant, number> = { F16: GGML_F16, Q4_0: GGML_Q4_0, Q8_0: GGML_Q8_0 };
const ALIGN = 32;

// GGUF value types
const T_U32 = 4;
const T_I32 = 5;
const T_F32 = 6;
const T_BOOL = 7;
const T_STR = 8;
const T_ARR = 9;

type KvValue =
  | { t: 'u32'; v: number }
  | { t: 'i32'; v: number }
  | { t: 'f32'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'str'; v: string }
  | { t: 'str[]'; v: readonly string[] }
  | { t: 'f32[]'; v: readonly number[] }
  | { t: 'i32[]'; v: readonly number[] };

/** Little-endian byte builder for the header part. */
class Bytes {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32LE(v, this.length); this.length += 4; }
  i32(v: number): void { this.ensure(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
  u64(v: number): void { this.ensure(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  f32(v: number): void { this.ensure(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
  u8(v: number): void { this.ensure(1); this.buf.writeUInt8(v, this.length); this.length += 1; }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  pad(align: number): void {
    const n = (align - (this.length % align)) % align;
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Buffer { return this.buf.subarray(0, this.length); }
}

function writeKv(b: Bytes, key: string, val: KvValue): void {
  b.str(key);
  switch (val.t) {
    case 'u32': b.u32(T_U32); b.u32(val.v); break;
    case 'i32': b.u32(T_I32); b.i32(val.v); break;
    case 'f32': b.u32(T_F32); b.f32(val.v); break;
    case 'bool': b.u32(T_BOOL); b.u8(val.v ? 1 : 0); break;
    case 'str': b.u32(T_STR); b.str(val.v); break;
    case 'str[]': b.u32(T_ARR); b.u32(T_STR); b.u64(val.v.length); for (const s of val.v) b.str(s); break;
    case 'f32[]': b.u32(T_ARR); b.u32(T_F32); b.u64(val.v.length); for (const x of val.v) b.f32(x); break;
    case 'i32[]': b.u32(T_ARR); b.u32(T_I32); b.u64(val.v.length); for (const x of val.v) b.i32(x); break;
  }
}

// SentencePiece token types (llama.cpp LLAMA_TOKEN_TYPE_*)
const TT_NORMAL = 1;
const TT_UNKNOWN = 2;
const TT_CONTROL = 3;
const TT_BYTE = 6;

const WORDS = [
  'the', 'and', 'to', 'of', 'a', 'in', 'is', 'if', 'for', 'with', 'no', 'more', 'than', 'when', 'alert', 'count', 'person', 'people',
  'bag', 'car', 'vehicle', 'queue', 'region', 'zone', 'left', 'within', 'hold', 'goto', 'orbit', 'land', 'rtl', 'track', 'action',
  'target', 'speed', 'radius', 'reason', 'rules', 'kind', 'class', 'id', 'op', 'threshold', 'duration', 'severity', 'reaction',
  'message', 'dwell', 'unattended', 'proximity', 'info', 'warning', 'critical', 'none', 'mission', 'plan', 'x', 'y', 'z', 'true', 'false',
];
const JSON_PIECES = ['{"', '":', '",', '"}', '{', '}', '[', ']', '":"', '","', '"},', '[{', '}]', '": ', ', "', '0.', '.0', '00'];

/** Pieces after specials and bytes: JSON punctuation, words, then letter n-grams to fill the vocabulary. */
export function buildVocab(size: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TT_UNKNOWN, TT_CONTROL, TT_CONTROL];
  for (let i = 0; i < 256; i++) {
    tokens.push(`<0x${i.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TT_BYTE);
  }
  const seen = new Set(tokens);
  const pieces: string[] = [];
  const add = (s: string): void => {
    if (!seen.has(s)) {
      seen.add(s);
      pieces.push(s);
    }
  };
  add('▁');
  for (let c = 33; c < 127; c++) add(String.fromCharCode(c));
  for (const p of JSON_PIECES) add(p);
  for (const w of WORDS) {
    add(`▁${w}`);
    add(w);
  }
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const digits = '0123456789';
  for (const a of digits) for (const b of digits) add(a + b);
  outer: for (const prefix of ['', '▁']) {
    for (const a of letters) for (const b of letters) {
      if (tokens.length + pieces.length >= size) break outer;
      add(prefix + a + b);
    }
  }
  outer3: for (const prefix of ['', '▁']) {
    for (const a of letters) for (const b of letters) for (const c of letters) {
      if (tokens.length + pieces.length >= size) break outer3;
      add(prefix + a + b + c);
    }
  }
  const n = Math.max(0, size - tokens.length);
  if (pieces.length < n) throw new Error(`vocabulary of ${size} is larger than the generator can fill (${tokens.length + pieces.length})`);
  for (let i = 0; i < n; i++) {
    tokens.push(pieces[i]);
    types.push(TT_NORMAL);
  }
  // SentencePiece merges the highest-scoring pair first: longer pieces win, earlier ones break ties.
  const scores = tokens.map((t, i) => (types[i] === TT_NORMAL ? [...t].length * 1000 - i : 0));
  return { tokens, scores, types };
}

/** IEEE 754 binary16 bits of a float (round to nearest). */
export function f32ToF16(v: number): number {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  f[0] = v;
  const x = u[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >> (1 - exp);
    return sign | ((m + 0x1000) >> 13);
  }
  if (exp >= 31) return sign | 0x7c00;
  return sign | ((exp << 10) + ((mant + 0x1000) >> 13));
}

/** xorshift32: deterministic, fast, good enough for random weights. */
class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  fill(u32: Uint32Array): void {
    let x = this.s;
    for (let i = 0; i < u32.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      u32[i] = x >>> 0;
    }
    this.s = x >>> 0;
  }
  gauss(): number {
    const u = (this.next() + 1) / 4294967297;
    const v = this.next() / 4294967296;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

interface TensorSpec {
  name: string;
  /** ne0 first (innermost, the row length). */
  dims: number[];
  type: number;
  /** Norm weights are ones; everything else random. */
  ones?: boolean;
}

function tensorBytes(t: TensorSpec): number {
  const n = t.dims.reduce((a, b) => a * b, 1);
  switch (t.type) {
    case GGML_F32: return n * 4;
    case GGML_F16: return n * 2;
    case GGML_Q8_0: return (n / 32) * 34;
    case GGML_Q4_0: return (n / 32) * 18;
    default: throw new Error(`unsupported ggml type ${t.type}`);
  }
}

export function tensorSpecs(s: ModelShape, quant: Quant): TensorSpec[] {
  const q = GGML_TYPE[quant];
  const headDim = headDimOf(s);
  const out: TensorSpec[] = [{ name: 'token_embd.weight', dims: [s.hidden, s.vocab], type: q }];
  for (let l = 0; l < s.layers; l++) {
    const b = `blk.${l}`;
    const { heads, kvHeads, ffn } = layerSizes(s, l);
    const kv = headDim * kvHeads;
    out.push(
      { name: `${b}.attn_norm.weight`, dims: [s.hidden], type: GGML_F32, ones: true },
      { name: `${b}.attn_q.weight`, dims: [s.hidden, headDim * heads], type: q },
      { name: `${b}.attn_k.weight`, dims: [s.hidden, kv], type: q },
      { name: `${b}.attn_v.weight`, dims: [s.hidden, kv], type: q },
      { name: `${b}.attn_output.weight`, dims: [headDim * heads, s.hidden], type: q },
      { name: `${b}.ffn_norm.weight`, dims: [s.hidden], type: GGML_F32, ones: true },
      { name: `${b}.ffn_gate.weight`, dims: [s.hidden, ffn], type: q },
      { name: `${b}.ffn_up.weight`, dims: [s.hidden, ffn], type: q },
      { name: `${b}.ffn_down.weight`, dims: [ffn, s.hidden], type: q },
    );
  }
  out.push({ name: 'output_norm.weight', dims: [s.hidden], type: GGML_F32, ones: true });
  if (s.untiedOutput) out.push({ name: 'output.weight', dims: [s.hidden, s.vocab], type: q });
  return out;
}

/** Bytes of weights read per generated token (every matrix once; embeddings read one row). */
export function weightBytesPerToken(s: ModelShape, quant: Quant): number {
  let total = 0;
  for (const t of tensorSpecs(s, quant)) {
    if (t.name === 'token_embd.weight' && s.untiedOutput) continue;
    total += tensorBytes(t);
  }
  return total;
}

function validateShape(s: ModelShape): void {
  const bad = (m: string): never => { throw new Error(`invalid model shape: ${m}`); };
  if (s.headDim === undefined && s.hidden % s.heads !== 0) bad(`hidden ${s.hidden} not divisible by heads ${s.heads}`);
  if (s.headDim !== undefined && (!Number.isInteger(s.headDim) || s.headDim <= 0 || s.headDim % 2 !== 0)) bad(`headDim ${s.headDim} is not a positive even integer`);
  for (const [name, list] of [['layerHeads', s.layerHeads], ['layerKvHeads', s.layerKvHeads], ['layerFfn', s.layerFfn]] as const) {
    if (list && list.length !== s.layers) bad(`${name} has ${list.length} entries for ${s.layers} layers`);
  }
  const hd = headDimOf(s);
  if (s.hidden % 32 !== 0) bad('hidden must be a multiple of 32 (quant block size)');
  for (let l = 0; l < s.layers; l++) {
    const { heads, kvHeads, ffn } = layerSizes(s, l);
    if (!(heads >= 1 && kvHeads >= 1) || heads % kvHeads !== 0) bad(`layer ${l}: heads ${heads} not divisible by kv heads ${kvHeads}`);
    if (ffn % 32 !== 0 || (hd * kvHeads) % 32 !== 0) bad(`layer ${l}: ffn ${ffn} and kv width ${hd * kvHeads} must be multiples of 32 (quant block size)`);
  }
  if (s.vocab < 512) bad(`vocab ${s.vocab} < 512 (specials + 256 bytes + ASCII pieces)`);
}

/** Writes the model to `path` (atomically: a temp file renamed at the end). Returns the file size. */
export function writeGguf(path: string, o: WriteOptions): number {
  const s = o.shape;
  validateShape(s);
  const rng = new Rng(o.seed ?? 1234);
  const std = o.std ?? 0.02;
  const vocab = buildVocab(s.vocab);
  const extra = o.controlTokens ?? [];
  extra.forEach((t, i) => {
    const at = s.vocab - extra.length + i;
    vocab.tokens[at] = t;
    vocab.types[at] = TT_CONTROL;
    vocab.scores[at] = 0;
  });

  const h = new Bytes();
  const kvs: [string, KvValue][] = [
    ['general.architecture', { t: 'str', v: 'llama' }],
    ['general.name', { t: 'str', v: o.name ?? `kestrel-random-${s.hidden}x${s.layers}-${o.quant}` }],
    ['general.file_type', { t: 'u32', v: FILE_TYPE[o.quant] }],
    ['general.quantization_version', { t: 'u32', v: 2 }],
    ['general.alignment', { t: 'u32', v: ALIGN }],
    ...shapeKvs(s),
    ['llama.rope.freq_base', { t: 'f32', v: 10000 }],
    ['llama.attention.layer_norm_rms_epsilon', { t: 'f32', v: 1e-5 }],
    ['llama.vocab_size', { t: 'u32', v: s.vocab }],
    ['tokenizer.ggml.model', { t: 'str', v: 'llama' }],
    ['tokenizer.ggml.tokens', { t: 'str[]', v: vocab.tokens }],
    ['tokenizer.ggml.scores', { t: 'f32[]', v: vocab.scores }],
    ['tokenizer.ggml.token_type', { t: 'i32[]', v: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', { t: 'u32', v: 0 }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: 1 }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: 2 }],
    ['tokenizer.ggml.add_bos_token', { t: 'bool', v: true }],
    ['tokenizer.ggml.add_eos_token', { t: 'bool', v: false }],
  ];
  if (o.chatTemplate) kvs.push(['tokenizer.chat_template', { t: 'str', v: o.chatTemplate }]);
  const tensors = tensorSpecs(s, o.quant);
  h.u32(0x46554747); // "GGUF"
  h.u32(3);
  h.u64(tensors.length);
  h.u64(kvs.length);
  for (const [k, v] of archKvs(s, kvs)) writeKv(h, k, v);
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    h.str(t.name);
    h.u32(t.dims.length);
    for (const d of t.dims) h.u64(d);
    h.u32(t.type);
    h.u64(offset);
    offsets.push(offset);
    offset += tensorBytes(t);
    offset += (ALIGN - (offset % ALIGN)) % ALIGN;
  }
  h.pad(ALIGN);

  // Gaussian f16 values, indexed by random bits: fast random F16 weights.
  const table = new Uint16Array(4096);
  for (let i = 0; i < table.length; i++) table[i] = f32ToF16(rng.gauss() * std);
  // Quant scales: uniform nibbles (q-8) have std ~4.6, uniform int8 ~73.9.
  const d4 = f32ToF16(std / 4.6);
  const d8 = f32ToF16(std / 73.9);

  return writeFileAtomically(path, (put, at) => {
    put(h.bytes());
    const dataStart = at();
    const CHUNK = 36 * 34 * 1024; // a multiple of both block sizes (and of 4)
    const chunk = Buffer.alloc(CHUNK);
    const u32 = new Uint32Array(chunk.buffer, chunk.byteOffset, CHUNK / 4);
    const u16 = new Uint16Array(chunk.buffer, chunk.byteOffset, CHUNK / 2);
    tensors.forEach((t, i) => {
      const target = dataStart + offsets[i];
      if (at() < target) put(Buffer.alloc(target - at()));
      let left = tensorBytes(t);
      if (t.ones) {
        const b = Buffer.alloc(left);
        for (let j = 0; j < left / 4; j++) b.writeFloatLE(1, j * 4);
        put(b);
        return;
      }
      while (left > 0) {
        const n = Math.min(left, CHUNK);
        rng.fill(u32);
        if (t.type === GGML_F16) {
          for (let j = 0; j < n / 2; j++) u16[j] = table[u16[j] & 4095];
        } else if (t.type === GGML_Q8_0) {
          for (let j = 0; j < n / 2; j += 17) u16[j] = d8;
        } else if (t.type === GGML_Q4_0) {
          for (let j = 0; j < n / 2; j += 9) u16[j] = d4;
        }
        put(chunk.subarray(0, n));
        left -= n;
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Trained weights: the same file layout with real tensors and a real SentencePiece vocabulary.

/** A SentencePiece vocabulary as the GGUF stores it (GGUF token types: NORMAL 1 … BYTE 6). */
export interface GgufVocab {
  tokens: readonly string[];
  scores: readonly number[];
  types: readonly number[];
  bos: number;
  eos: number;
  unk: number;
}

/** One float32 tensor in torch layout ([out, in] row-major, i.e. GGUF dims reversed). */
export interface F32Tensor {
  /** torch shape, outermost first. */
  shape: readonly number[];
  data: Float32Array;
}

export interface TrainedModelSpec {
  shape: ModelShape;
  /** GGUF tensor names (token_embd.weight, blk.N.attn_q.weight, …, output_norm.weight). */
  tensors: ReadonlyMap<string, F32Tensor>;
  vocab: GgufVocab;
  /** Extra key/values (general.name, kestrel.*): strings, integers (u32), floats (f32), booleans. */
  metadata?: Readonly<Record<string, string | number | boolean>>;
  ropeBase?: number;
  rmsEps?: number;
}

export interface TrainedWriteOptions {
  /**
   * Type of token_embd in a quantized file (default: the file's). With tied embeddings it is
   * also the output matrix; llama.cpp's own quantizer keeps that one at higher precision.
   */
  embedQuant?: Quant;
}

/** ggml's quantize_row_q8_0_ref: per 32 values an f16 scale amax/127 and 32 int8 (roundf). */
export function quantizeQ8_0(x: Float32Array): Buffer {
  if (x.length % 32 !== 0) throw new Error(`Q8_0 needs a multiple of 32 values, got ${x.length}`);
  const out = Buffer.alloc((x.length / 32) * 34);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    out.writeUInt16LE(f32ToF16(d), b * 34);
    for (let j = 0; j < 32; j++) {
      const v = x[b * 32 + j] * id;
      out.writeInt8(Math.sign(v) * Math.round(Math.abs(v)), b * 34 + 2 + j);
    }
  }
  return out;
}

/** ggml's quantize_row_q4_0_ref: scale = (value of largest magnitude) / -8, nibbles j | (j+16) << 4. */
export function quantizeQ4_0(x: Float32Array): Buffer {
  if (x.length % 32 !== 0) throw new Error(`Q4_0 needs a multiple of 32 values, got ${x.length}`);
  const out = Buffer.alloc((x.length / 32) * 18);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = x[b * 32 + j];
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = max / -8;
    const id = d ? 1 / d : 0;
    out.writeUInt16LE(f32ToF16(d), b * 18);
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, Math.trunc(x[b * 32 + j] * id + 8.5));
      const q1 = Math.min(15, Math.trunc(x[b * 32 + 16 + j] * id + 8.5));
      out.writeUInt8(q0 | (q1 << 4), b * 18 + 2 + j);
    }
  }
  return out;
}

function encodeTensor(x: Float32Array, type: number): Buffer {
  switch (type) {
    case GGML_F32: return Buffer.from(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
    case GGML_F16: {
      const out = Buffer.alloc(x.length * 2);
      for (let i = 0; i < x.length; i++) out.writeUInt16LE(f32ToF16(x[i]), i * 2);
      return out;
    }
    case GGML_Q8_0: return quantizeQ8_0(x);
    case GGML_Q4_0: return quantizeQ4_0(x);
    default: throw new Error(`unsupported ggml type ${type}`);
  }
}

function metaKv(v: string | number | boolean): KvValue {
  if (typeof v === 'string') return { t: 'str', v };
  if (typeof v === 'boolean') return { t: 'bool', v };
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? { t: 'u32', v } : { t: 'f32', v };
}

/** Checks the vocabulary has the layout llama.cpp's SPM tokenizer expects; throws naming the problem. */
export function checkVocab(v: GgufVocab, vocabSize: number): void {
  const bad = (m: string): never => { throw new Error(`invalid vocabulary: ${m}`); };
  if (v.tokens.length !== vocabSize) bad(`${v.tokens.length} tokens, model vocab is ${vocabSize}`);
  if (v.scores.length !== vocabSize || v.types.length !== vocabSize) bad('tokens, scores and types differ in length');
  for (const [name, id] of [['bos', v.bos], ['eos', v.eos], ['unk', v.unk]] as const) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) bad(`${name} id ${id} out of range`);
  }
  if (!v.types.some((t) => t === TT_BYTE)) bad('no byte pieces (byte fallback needs <0x00>..<0xFF>)');
  if (new Set(v.tokens).size !== v.tokens.length) bad('duplicate tokens');
}

/**
 * Writes a trained llama model (tied output) as GGUF v3 in F16, Q8_0 or Q4_0; norms stay F32.
 * Each tensor's torch shape must equal the GGUF dims reversed. Returns the file size.
 */
export function writeTrainedGguf(path: string, m: TrainedModelSpec, quant: Quant, o: TrainedWriteOptions = {}): number {
  const s = m.shape;
  validateShape(s);
  if (s.untiedOutput) throw new Error('writeTrainedGguf writes tied-output models (untiedOutput must be false)');
  checkVocab(m.vocab, s.vocab);
  const specs = tensorSpecs(s, quant);
  if (o.embedQuant) specs[0].type = GGML_TYPE[o.embedQuant];
  const names = new Set(specs.map((t) => t.name));
  for (const n of m.tensors.keys()) if (!names.has(n)) throw new Error(`unexpected tensor '${n}' for this shape`);
  const data = specs.map((t) => {
    const w = m.tensors.get(t.name);
    if (!w) throw new Error(`missing tensor '${t.name}'`);
    const want = [...t.dims].reverse();
    if (w.shape.length !== want.length || w.shape.some((d, i) => d !== want[i])) {
      throw new Error(`tensor '${t.name}' has shape [${w.shape.join(', ')}], expected [${want.join(', ')}]`);
    }
    if (w.data.length !== want.reduce((a, b) => a * b, 1)) throw new Error(`tensor '${t.name}' has ${w.data.length} values for shape [${want.join(', ')}]`);
    for (let i = 0; i < w.data.length; i++) if (!Number.isFinite(w.data[i])) throw new Error(`tensor '${t.name}' has a non-finite value at ${i}`);
    return encodeTensor(w.data, t.type);
  });

  const kvs: [string, KvValue][] = [
    ['general.architecture', { t: 'str', v: 'llama' }],
    ['general.name', { t: 'str', v: `kestrel-lm-${s.hidden}x${s.layers}-${quant}` }],
    ['general.file_type', { t: 'u32', v: FILE_TYPE[quant] }],
    ['general.quantization_version', { t: 'u32', v: 2 }],
    ['general.alignment', { t: 'u32', v: ALIGN }],
    ...shapeKvs(s),
    ['llama.rope.freq_base', { t: 'f32', v: m.ropeBase ?? 10000 }],
    ['llama.attention.layer_norm_rms_epsilon', { t: 'f32', v: m.rmsEps ?? 1e-5 }],
    ['llama.vocab_size', { t: 'u32', v: s.vocab }],
    ['tokenizer.ggml.model', { t: 'str', v: 'llama' }],
    ['tokenizer.ggml.tokens', { t: 'str[]', v: m.vocab.tokens }],
    ['tokenizer.ggml.scores', { t: 'f32[]', v: m.vocab.scores }],
    ['tokenizer.ggml.token_type', { t: 'i32[]', v: m.vocab.types }],
    ['tokenizer.ggml.unknown_token_id', { t: 'u32', v: m.vocab.unk }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: m.vocab.bos }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: m.vocab.eos }],
    ['tokenizer.ggml.add_bos_token', { t: 'bool', v: true }],
    ['tokenizer.ggml.add_eos_token', { t: 'bool', v: false }],
    ['tokenizer.ggml.add_space_prefix', { t: 'bool', v: false }],
  ];
  for (const [k, v] of Object.entries(m.metadata ?? {})) {
    const at = kvs.findIndex(([key]) => key === k);
    if (at >= 0) kvs[at] = [k, metaKv(v)];
    else kvs.push([k, metaKv(v)]);
  }

  const h = new Bytes();
  h.u32(0x46554747); // "GGUF"
  h.u32(3);
  h.u64(specs.length);
  h.u64(kvs.length);
  for (const [k, v] of archKvs(s, kvs)) writeKv(h, k, v);
  let offset = 0;
  specs.forEach((t, i) => {
    h.str(t.name);
    h.u32(t.dims.length);
    for (const d of t.dims) h.u64(d);
    h.u32(t.type);
    h.u64(offset);
    offset += data[i].length;
    offset += (ALIGN - (offset % ALIGN)) % ALIGN;
  });
  h.pad(ALIGN);

  return writeFileAtomically(path, (put) => {
    put(h.bytes());
    for (const b of data) {
      put(b);
      const pad = (ALIGN - (b.length % ALIGN)) % ALIGN;
      if (pad) put(Buffer.alloc(pad));
    }
  });
}

/**
 * Writes `path` through a temporary file renamed into place, so a crash or a full disk never leaves a
 * half-written GGUF under the real name. `write` gets `put` (appends) and `at` (bytes written so far).
 * Returns the file's size.
 */
function writeFileAtomically(path: string, write: (put: (b: Uint8Array) => void, at: () => number) => void): number {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let pos = 0;
  try {
    write(
      (b) => {
        let done = 0;
        while (done < b.length) done += writeSync(fd, b, done, b.length - done, pos + done);
        pos += b.length;
      },
      () => pos,
    );
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return pos;
}
