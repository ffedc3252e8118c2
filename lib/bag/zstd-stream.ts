/**
 * Streaming zstd decompression through the system's libzstd (`libzstd.so.1`, the zstd reference
 * library: Debian and Ubuntu install it with dpkg itself), called through koffi. Why not
 * @foxglove/wasm-zstd: it only decodes a whole frame into a buffer sized up front, and rosbag2 /
 * rosbags write file compression as one streamed frame without a content size, so a `.db3.zstd`
 * would have to be held whole in memory (and guessed at, then copied out of the WebAssembly heap).
 * libzstd's `ZSTD_decompressStream` keeps only the frame's window (at most 128 MiB, zstd's default
 * limit, for a frame that asks for it; 8 MiB or less at the levels rosbag2 uses).
 * MCAP chunks are compressed and decompressed here too, whole (`nativeZstd`): measured on the
 * 100k-message Imu bag's 768 KiB chunks, libzstd decodes 7x and encodes (level 1, the same bytes)
 * 1.7x faster than wasm-zstd warm, and a one-shot convert never waits for WebAssembly to warm up
 * (its first chunks ran 8x slower still).
 */
import { lazyNative, requireKoffi } from '../../runtime/native.js';
import { uninitialized } from './bytes.js';

interface LibZstd {
  create(): unknown;
  free(z: unknown): unknown;
  decompress(z: unknown, out: { dst: Uint8Array; size: number; pos: number }, input: { src: Uint8Array; size: number; pos: number }): unknown;
  isError(code: unknown): number;
  errorName(code: unknown): string;
  compress(dst: Uint8Array, cap: number, src: Uint8Array, n: number, level: number): unknown;
  compressBound(n: number): unknown;
  decompressWhole(dst: Uint8Array, cap: number, src: Uint8Array, n: number): unknown;
}

/** libzstd through koffi (bags without zstd never load it), or undefined (with `zstdStreamUnavailable()` saying why) when it cannot be loaded. */
const native = lazyNative((): LibZstd => {
  const koffi = requireKoffi();
  const so = koffi.load('libzstd.so.1');
  koffi.struct('ZSTD_inBuffer', { src: 'void *', size: 'size_t', pos: 'size_t' });
  koffi.struct('ZSTD_outBuffer', { dst: 'void *', size: 'size_t', pos: 'size_t' });
  const create = so.func('void *ZSTD_createDStream()');
  const free = so.func('size_t ZSTD_freeDStream(void *zds)');
  const decompress = so.func('size_t ZSTD_decompressStream(void *zds, _Inout_ ZSTD_outBuffer *output, _Inout_ ZSTD_inBuffer *input)');
  const isError = so.func('unsigned int ZSTD_isError(size_t code)');
  const errorName = so.func('const char *ZSTD_getErrorName(size_t code)');
  const compress = so.func('size_t ZSTD_compress(void *dst, size_t dstCapacity, const void *src, size_t srcSize, int level)');
  const compressBound = so.func('size_t ZSTD_compressBound(size_t srcSize)');
  const decompressWhole = so.func('size_t ZSTD_decompress(void *dst, size_t dstCapacity, const void *src, size_t srcSize)');
  return {
    create: () => create() as unknown,
    free: (z) => free(z) as unknown,
    decompress: (z, out, input) => decompress(z, out, input) as unknown,
    isError: (c) => isError(c) as number,
    errorName: (c) => errorName(c) as string,
    compress: (dst, cap, src, n, level) => compress(dst, cap, src, n, level) as unknown,
    compressBound: (n) => compressBound(n) as unknown,
    decompressWhole: (dst, cap, src, n) => decompressWhole(dst, cap, src, n) as unknown,
  };
});

/** Why streaming zstd is not available here, or undefined when it is. */
export function zstdStreamUnavailable(): string | undefined {
  return native.get() ? undefined : `libzstd.so.1 could not be loaded (${native.error()}); install the libzstd1 package`;
}

/** Whole-buffer zstd (MCAP chunks), the same calls as @foxglove/wasm-zstd's. */
export interface ZstdCodec {
  compress(src: Uint8Array, level: number): Uint8Array;
  /** `size`: the decoded size, known beforehand (the chunk header's). Throws on bad data. */
  decompress(src: Uint8Array, size: number): Uint8Array;
}

let codec: ZstdCodec | null | undefined;

/** libzstd's one-shot calls, or undefined when it cannot be loaded (the caller then uses wasm-zstd). */
export function nativeZstd(): ZstdCodec | undefined {
  if (codec !== undefined) return codec ?? undefined;
  const z = native.get();
  codec = z
    ? {
        compress(src, level) {
          const cap = Number(z.compressBound(src.byteLength));
          // Not zeroed: only what libzstd wrote is returned.
          const dst = uninitialized(cap);
          const r = z.compress(dst, cap, src, src.byteLength, level);
          if (z.isError(r)) throw new Error(`zstd compression failed: ${z.errorName(r)}`);
          return dst.subarray(0, Number(r));
        },
        decompress(src, size) {
          const dst = uninitialized(size);
          const r = z.decompressWhole(dst, size, src, src.byteLength);
          if (z.isError(r)) throw new Error(`corrupt zstd data: ${z.errorName(r)}`);
          return Number(r) === size ? dst : dst.subarray(0, Number(r));
        },
      }
    : null;
  return codec ?? undefined;
}

const OUT = 1 << 17;

/**
 * Incremental zstd decoder (one or more frames): `push` input as it comes, `end()` at the end of
 * the input; decoded bytes go to `emit` (a view of the decoder's buffer, valid during the call: copy what you keep). Call `close()` to free
 * the native context, also after an error. Throws an Error with libzstd's reason on bad data.
 */
export class ZstdStreamDecoder {
  private readonly z: LibZstd;
  private ctx: unknown;
  private readonly out = new Uint8Array(OUT);
  /** 0 once a frame is complete (libzstd's "hint" return), else bytes still expected. */
  private hint: unknown = 0;
  private fed = false;
  total = 0;

  constructor(private readonly maxBytes: number, private readonly emit: (b: Uint8Array) => void) {
    const z = native.get();
    if (!z) throw new Error(zstdStreamUnavailable());
    this.z = z;
    this.ctx = z.create();
    if (!this.ctx) throw new Error('ZSTD_createDStream failed (out of memory?)');
  }

  private run(input: { src: Uint8Array; size: number; pos: number }): void {
    for (;;) {
      const out = { dst: this.out, size: OUT, pos: 0 };
      const before = input.pos;
      const r = this.z.decompress(this.ctx, out, input);
      if (this.z.isError(r)) throw new Error(`corrupt zstd data: ${this.z.errorName(r)}`);
      // A call that took no input and gave no output says nothing about the frame (after a frame's end, libzstd hints the next header).
      if (input.pos > before || out.pos > 0) this.hint = r;
      if (out.pos > 0) {
        this.total += out.pos;
        if (this.total > this.maxBytes) throw new Error(`more than ${this.maxBytes} bytes once decompressed`);
        // A view, not a copy: 128 KiB a call piled up as garbage (tens of MiB of RSS) when the caller only writes it out.
        this.emit(this.out.subarray(0, out.pos));
      }
      // Done with this input once it is consumed and the output was not filled (nothing left buffered).
      if (input.pos >= input.size && out.pos < OUT) return;
    }
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.fed = true;
    this.run({ src: chunk, size: chunk.byteLength, pos: 0 });
  }

  end(): void {
    if (!this.fed) throw new Error('empty input: not a zstd frame');
    // Output libzstd still holds for the last input is flushed by calls without input.
    if (Number(this.hint) !== 0) this.run({ src: new Uint8Array(0), size: 0, pos: 0 });
    if (Number(this.hint) !== 0) throw new Error(`zstd data is cut: the last frame needs ${Number(this.hint)} more byte(s)`);
  }

  close(): void {
    if (this.ctx) this.z.free(this.ctx);
    this.ctx = undefined;
  }
}
