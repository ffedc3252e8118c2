/**
 * LZ4 frames (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md) decoded incrementally, so that
 * a whole-file `.lz4` is streamed in bounded memory and a per-message frame is decoded with its sizes
 * checked. The block codec is lz4js's (the kept library); the frame layer is here because lz4js decodes
 * frames only whole, reads a block checksum from the wrong place, and sizes its output from the frame's
 * content-size field without a bound. Each block's token stream is walked before lz4js decodes it (the
 * codec itself checks nothing), so hostile input costs at most one pass over the block and never
 * writes or reads outside it.
 */
import { createRequire } from 'node:module';

/** lz4js (CommonJS), required on the first frame: a bag without lz4 never loads it. */
let lz4js: { decompressBlock: typeof import('lz4js').decompressBlock; xxh32: typeof import('lz4js/xxh32.js').hash } | undefined;
function lib(): NonNullable<typeof lz4js> {
  if (!lz4js) {
    const require = createRequire(import.meta.url);
    lz4js = { decompressBlock: (require('lz4js') as typeof import('lz4js')).decompressBlock, xxh32: (require('lz4js/xxh32.js') as typeof import('lz4js/xxh32.js')).hash };
  }
  return lz4js;
}
const xxh32 = (seed: number, src: Uint8Array, index: number, len: number): number => lib().xxh32(seed, src, index, len);
const decompressBlock = (src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number => lib().decompressBlock(src, dst, sIndex, sLength, dIndex);

const MAGIC = 0x184d2204;
const LEGACY_MAGIC = 0x184c2102;
/** Linked blocks may refer this far back into earlier output. */
const WINDOW = 65536;
const BLOCK_MAX: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

export class Lz4FormatError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'Lz4FormatError';
  }
}

interface Frame {
  linked: boolean;
  blockChecksum: boolean;
  contentChecksum: boolean;
  contentSize: number | undefined;
  blockMax: number;
  produced: number;
}

/**
 * Checks one compressed block before it is decoded: every literal run and match lies within the block,
 * every match offset within the output so far (plus `history` bytes of earlier blocks), and the output
 * fits `maxOut`. Returns the decoded size.
 */
function checkBlock(b: Uint8Array, start: number, len: number, history: number, maxOut: number): number {
  const end = start + len;
  let i = start;
  let out = 0;
  const length = (n: number): number => {
    for (;;) {
      if (i >= end) throw new Lz4FormatError('block ends inside a length');
      const x = b[i++];
      n += x;
      if (x !== 0xff) return n;
    }
  };
  while (i < end) {
    const token = b[i++];
    let lit = token >> 4;
    if (lit === 15) lit = length(lit);
    if (i + lit > end) throw new Lz4FormatError(`a literal run of ${lit} bytes runs past the block`);
    i += lit;
    out += lit;
    if (out > maxOut) throw new Lz4FormatError(`block decodes to more than its maximum of ${maxOut} bytes`);
    if (i === end) break;
    if (i + 2 > end) throw new Lz4FormatError('block ends inside a match offset');
    const offset = b[i] | (b[i + 1] << 8);
    i += 2;
    if (offset === 0 || offset > out + history) throw new Lz4FormatError(`match offset ${offset} points before the start of the data`);
    let m = token & 15;
    if (m === 15) m = length(m);
    out += m + 4;
    if (out > maxOut) throw new Lz4FormatError(`block decodes to more than its maximum of ${maxOut} bytes`);
  }
  return out;
}

/**
 * Incremental decoder of concatenated LZ4 frames (and skippable frames). `push` bytes as they come,
 * `end()` at the end of input; output goes to `emit` block by block (a view of the decoder's window, valid during the call: copy what you keep).
 * At most one block (4 MiB) plus the 64 KiB window is held.
 */
export class Lz4FrameDecoder {
  private pending: Uint8Array = new Uint8Array(0);
  private frame: Frame | undefined;
  private skip = 0;
  private window = new Uint8Array(0);
  private history = 0;
  private frames = 0;
  /** Bytes of input consumed, for error messages. */
  private consumed = 0;
  total = 0;

  constructor(private readonly maxBytes: number, private readonly emit: (b: Uint8Array) => void) {}

  push(chunk: Uint8Array): void {
    if (this.skip > 0) {
      const n = Math.min(this.skip, chunk.byteLength);
      this.skip -= n;
      this.consumed += n;
      chunk = chunk.subarray(n);
    }
    if (chunk.byteLength === 0) return;
    if (this.pending.byteLength === 0) this.pending = chunk;
    else {
      const b = new Uint8Array(this.pending.byteLength + chunk.byteLength);
      b.set(this.pending);
      b.set(chunk, this.pending.byteLength);
      this.pending = b;
    }
    let at = 0;
    try {
      for (let used; (used = this.step(this.pending, at)) > 0; ) at += used;
    } catch (e) {
      if (e instanceof Lz4FormatError) throw new Lz4FormatError(`at byte ${this.consumed + at}: ${e.message}`);
      throw e;
    }
    this.consumed += at;
    // Copy the tail so that the (possibly large) chunk it came from can be freed.
    this.pending = at === 0 ? this.pending : this.pending.slice(at);
  }

  end(): void {
    if (this.skip > 0) throw new Lz4FormatError(`input ends inside a skippable frame (${this.skip} bytes missing)`);
    if (this.frame || this.pending.byteLength > 0) throw new Lz4FormatError(`input is cut: ${this.frame ? 'a frame is not finished' : `${this.pending.byteLength} trailing bytes are not a frame`} at byte ${this.consumed}`);
    if (this.frames === 0) throw new Lz4FormatError('no LZ4 frame in the input');
  }

  /** Parses one unit (frame header, block, end mark) at `at`; returns the bytes used, or 0 when more are needed. */
  private step(b: Uint8Array, at: number): number {
    const avail = b.byteLength - at;
    const v = new DataView(b.buffer, b.byteOffset + at, avail);
    const f = this.frame;
    if (!f) {
      if (avail < 4) return 0;
      const magic = v.getUint32(0, true);
      if ((magic & 0xfffffff0) === 0x184d2a50) {
        if (avail < 8) return 0;
        const n = v.getUint32(4, true);
        const here = Math.min(n, avail - 8);
        this.skip = n - here;
        return 8 + here;
      }
      if (magic === LEGACY_MAGIC) throw new Lz4FormatError('legacy LZ4 frame (lz4 -l) is not supported; recompress with the default frame format');
      if (magic !== MAGIC) throw new Lz4FormatError(`not an LZ4 frame (magic 0x${magic.toString(16)})`);
      if (avail < 7) return 0;
      const flg = b[at + 4];
      const bd = b[at + 5];
      if (flg >> 6 !== 1) throw new Lz4FormatError(`unknown frame version ${flg >> 6}`);
      if (flg & 0x01) throw new Lz4FormatError('frames with a dictionary id are not supported');
      if (flg & 0x02 || bd & 0x8f) throw new Lz4FormatError('reserved bits set in the frame descriptor');
      const blockMax = BLOCK_MAX[(bd >> 4) & 7];
      if (blockMax === undefined) throw new Lz4FormatError(`invalid block maximum size code ${(bd >> 4) & 7}`);
      const hasSize = (flg & 0x08) !== 0;
      const headerLen = 4 + 2 + (hasSize ? 8 : 0) + 1;
      if (avail < headerLen) return 0;
      const hc = (xxh32(0, b, at + 4, headerLen - 5) >>> 8) & 0xff;
      if (hc !== b[at + headerLen - 1]) throw new Lz4FormatError('frame descriptor checksum mismatch');
      let contentSize: number | undefined;
      if (hasSize) {
        const big = v.getBigUint64(6, true);
        if (big > BigInt(this.maxBytes - this.total)) throw new Lz4FormatError(`frame declares ${big} bytes, above the bound of ${this.maxBytes}`);
        contentSize = Number(big);
      }
      this.frame = { linked: (flg & 0x20) === 0, blockChecksum: (flg & 0x10) !== 0, contentChecksum: (flg & 0x04) !== 0, contentSize, blockMax, produced: 0 };
      if (this.window.byteLength < WINDOW + blockMax) this.window = new Uint8Array(WINDOW + blockMax);
      this.history = 0;
      return headerLen;
    }
    if (avail < 4) return 0;
    const word = v.getUint32(0, true);
    if (word === 0) {
      const len = 4 + (f.contentChecksum ? 4 : 0);
      if (avail < len) return 0;
      if (f.contentSize !== undefined && f.produced !== f.contentSize) throw new Lz4FormatError(`frame declares ${f.contentSize} bytes and holds ${f.produced}`);
      this.frame = undefined;
      this.frames++;
      return len;
    }
    const raw = (word & 0x80000000) !== 0;
    const size = word & 0x7fffffff;
    if (size > f.blockMax) throw new Lz4FormatError(`a block of ${size} bytes exceeds the frame's maximum of ${f.blockMax}`);
    const len = 4 + size + (f.blockChecksum ? 4 : 0);
    if (avail < len) return 0;
    if (f.blockChecksum && xxh32(0, b, at + 4, size) >>> 0 !== v.getUint32(4 + size, true)) throw new Lz4FormatError('block checksum mismatch');
    const history = f.linked ? this.history : 0;
    const n = raw ? size : checkBlock(b, at + 4, size, history, f.blockMax);
    if (this.total + n > this.maxBytes) throw new Lz4FormatError(`more than ${this.maxBytes} bytes once decompressed`);
    const w = this.window;
    if (raw) w.set(b.subarray(at + 4, at + 4 + size), history);
    else decompressBlock(b, w, at + 4, size, history);
    this.emit(w.subarray(history, history + n));
    f.produced += n;
    this.total += n;
    if (f.linked) {
      // Keep the last 64 KiB at the front for the next block's matches.
      const end = history + n;
      const keep = Math.min(WINDOW, end);
      w.copyWithin(0, end - keep, end);
      this.history = keep;
    }
    return len;
  }
}

/** One or more whole LZ4 frames → bytes, at most `maxBytes`. */
export function lz4DecodeFrames(data: Uint8Array, maxBytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const d = new Lz4FrameDecoder(maxBytes, (b) => parts.push(b.slice()));
  d.push(data);
  d.end();
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(d.total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
