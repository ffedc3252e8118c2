/**
 * rosbag2 compression outside MCAP chunks: per-message (`compression_mode: message`, each
 * payload one zstd or lz4 frame) and per-file (`compression_mode: file`, `x.db3.zstd`).
 * Frames are bounded: a declared size above `maxBytes` is refused before allocating.
 * A whole compressed file is streamed into an unlinked temporary file (`unpackFile`), as
 * rosbag2 itself decompresses it to disk: memory stays bounded whatever the file's size.
 */
import { closeSync, fstatSync, openSync, readSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lz4DecodeFrames, Lz4FrameDecoder } from './lz4.js';
import { BagError, type Unpacked } from './types.js';
import { ZstdStreamDecoder, zstdStreamUnavailable } from './zstd-stream.js';
import { loadZstd, zstdNow } from './zstd-wasm.js';

export type CompressionFormat = 'zstd' | 'lz4';

export function compressionFormat(format: string, where: string): CompressionFormat {
  const f = format.toLowerCase();
  if (f === 'zstd' || f === 'lz4') return f;
  throw new BagError(where, `compression format '${format}' is not supported (zstd or lz4)`);
}

/** Decompressed size declared by a zstd frame header, or undefined when the frame omits it. */
export function zstdContentSize(b: Uint8Array, where: string): number | undefined {
  if (b.byteLength < 6 || b[0] !== 0x28 || b[1] !== 0xb5 || b[2] !== 0x2f || b[3] !== 0xfd) throw new BagError(where, 'not a zstd frame (bad magic number)');
  const fhd = b[4];
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3];
  const fcsBytes = fcsFlag === 0 ? single : [1, 2, 4, 8][fcsFlag];
  if (fcsBytes === 0) return undefined;
  const at = 5 + (single ? 0 : 1) + dictBytes;
  if (at + fcsBytes > b.byteLength) throw new BagError(where, 'zstd frame header is cut');
  const v = new DataView(b.buffer, b.byteOffset + at, fcsBytes);
  if (fcsBytes === 1) return v.getUint8(0);
  if (fcsBytes === 2) return v.getUint16(0, true) + 256;
  if (fcsBytes === 4) return v.getUint32(0, true);
  return Number(v.getBigUint64(0, true));
}

/** Loads what decompress() needs (wasm-zstd). */
export async function compressionReady(): Promise<void> {
  await loadZstd();
}

/** One zstd frame → bytes. Needs `compressionReady()` to have resolved. */
export function unzstd(data: Uint8Array, where: string, maxBytes: number): Uint8Array {
  const declared = zstdContentSize(data, where);
  if (declared !== undefined) {
    if (declared > maxBytes) throw new BagError(where, `zstd frame declares ${declared} bytes, above the bound of ${maxBytes}`);
    try {
      return zstdNow().decompress(data, declared);
    } catch (e) {
      throw new BagError(where, `corrupt zstd frame: ${(e as Error).message}`);
    }
  }
  // Streamed frames (rosbag2 file compression) omit the size: grow the output until it fits.
  for (let size = Math.min(maxBytes, Math.max(1 << 20, data.byteLength * 8)); ; size = Math.min(maxBytes, size * 4)) {
    try {
      return zstdNow().decompress(data, size);
    } catch (e) {
      if (size >= maxBytes) throw new BagError(where, `corrupt zstd data, or more than ${maxBytes} bytes once decompressed: ${(e as Error).message}`);
    }
  }
}

export function unlz4(data: Uint8Array, where: string, maxBytes: number): Uint8Array {
  try {
    return lz4DecodeFrames(data, maxBytes);
  } catch (e) {
    throw new BagError(where, `corrupt lz4 frame: ${(e as Error).message}`);
  }
}

export function decompress(format: CompressionFormat, data: Uint8Array, where: string, maxBytes: number): Uint8Array {
  return format === 'zstd' ? unzstd(data, where, maxBytes) : unlz4(data, where, maxBytes);
}

/** Input is read in blocks of this size while a whole file is unpacked. */
const READ_BLOCK = 1 << 20;
/** Left free on the temporary directory's disk when unpacking. */
const DISK_RESERVE = 256 << 20;

/**
 * Decompresses a whole file (rosbag2 `compression_mode: file`) into a temporary file that is
 * unlinked at once: it is read through the returned descriptor, and its space goes back to the
 * disk when the descriptor is closed (by `Bag.close()`, when the bag is collected, or when the
 * process ends, even by SIGKILL). Memory held: one read block, one decoder window, one output
 * block. The output is bounded by `maxBytes` and by the free space of `os.tmpdir()` (TMPDIR).
 * zstd streams through libzstd; without it (not loadable), the file is decoded in memory, bounded.
 */
export function unpackFile(format: CompressionFormat, path: string, maxBytes: number): Unpacked {
  const dir = tmpdir();
  let room = maxBytes;
  try {
    const fs = statfsSync(dir);
    room = Math.min(maxBytes, Math.max(0, fs.bavail * fs.bsize - DISK_RESERVE));
  } catch {
    // statfs is unavailable on some file systems: only maxBytes bounds the output.
  }
  const tmp = join(dir, `kestrel-unpacked-${randomUUID()}`);
  const fd = openSync(tmp, 'wx+', 0o600);
  unlinkSync(tmp);
  let size = 0;
  const emit = (b: Uint8Array): void => {
    for (let at = 0; at < b.byteLength; ) at += writeSync(fd, b, at, b.byteLength - at, size + at);
    size += b.byteLength;
  };
  const bound = room < maxBytes ? `${room} bytes (the free space in ${dir} less ${DISK_RESERVE >> 20} MiB; set TMPDIR to a larger disk)` : `${maxBytes} bytes`;
  const input = openSync(path, 'r');
  try {
    const inSize = fstatSync(input).size;
    if (format === 'zstd' && zstdStreamUnavailable() !== undefined) {
      const all = new Uint8Array(inSize);
      readSync(input, all, 0, inSize, 0);
      emit(unzstd(all, path, room));
      return { fd, size };
    }
    const d = format === 'zstd' ? new ZstdStreamDecoder(room, emit) : new Lz4FrameDecoder(room, emit);
    const block = new Uint8Array(READ_BLOCK);
    try {
      for (let pos = 0; pos < inSize; ) {
        const got = readSync(input, block, 0, block.byteLength, pos);
        if (got === 0) break;
        d.push(block.subarray(0, got));
        pos += got;
      }
      d.end();
    } catch (e) {
      const why = (e as Error).message;
      throw new BagError(path, `whole-file ${format} compression: ${/more than \d+ bytes once decompressed/.test(why) ? `decompresses to more than ${bound}` : why}`);
    } finally {
      if (d instanceof ZstdStreamDecoder) d.close();
    }
    return { fd, size };
  } catch (e) {
    closeSync(fd);
    throw e;
  } finally {
    closeSync(input);
  }
}
