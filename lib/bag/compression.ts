/**
 * rosbag2 compression outside MCAP chunks: per-message (`compression_mode: message`, each
 * payload one zstd or lz4 frame) and per-file (`compression_mode: file`, `x.db3.zstd`).
 * Frames are bounded: a declared size above `maxBytes` is refused before allocating.
 */
import * as zstd from '@foxglove/wasm-zstd';
import { decompress as lz4Decompress } from 'lz4js';
import { BagError } from './types.js';

export type CompressionFormat = 'zstd' | 'lz4';

export function compressionFormat(format: string, where: string): CompressionFormat {
  const f = format.toLowerCase();
  if (f === 'zstd' || f === 'lz4') return f;
  throw new BagError(where, `compression format '${format}' is not supported (zstd or lz4)`);
}

/** Decompressed size declared by a zstd frame header, or undefined when the frame omits it. */
function zstdContentSize(b: Uint8Array, where: string): number | undefined {
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

let zstdReady: Promise<boolean> | undefined;
export function compressionReady(): Promise<boolean> {
  zstdReady ??= zstd.isLoaded;
  return zstdReady;
}

/** One zstd frame → bytes. Needs `compressionReady()` to have resolved. */
export function unzstd(data: Uint8Array, where: string, maxBytes: number): Uint8Array {
  const declared = zstdContentSize(data, where);
  if (declared !== undefined) {
    if (declared > maxBytes) throw new BagError(where, `zstd frame declares ${declared} bytes, above the bound of ${maxBytes}`);
    try {
      return zstd.decompress(data, declared);
    } catch (e) {
      throw new BagError(where, `corrupt zstd frame: ${(e as Error).message}`);
    }
  }
  // Streamed frames (rosbag2 file compression) omit the size: grow the output until it fits.
  for (let size = Math.min(maxBytes, Math.max(1 << 20, data.byteLength * 8)); ; size = Math.min(maxBytes, size * 4)) {
    try {
      return zstd.decompress(data, size);
    } catch (e) {
      if (size >= maxBytes) throw new BagError(where, `corrupt zstd data, or more than ${maxBytes} bytes once decompressed: ${(e as Error).message}`);
    }
  }
}

export function unlz4(data: Uint8Array, where: string, maxBytes: number): Uint8Array {
  try {
    const out = lz4Decompress(data);
    if (out.byteLength > maxBytes) throw new Error(`${out.byteLength} bytes, above the bound of ${maxBytes}`);
    return out;
  } catch (e) {
    throw new BagError(where, `corrupt lz4 frame: ${(e as Error).message}`);
  }
}

export function decompress(format: CompressionFormat, data: Uint8Array, where: string, maxBytes: number): Uint8Array {
  return format === 'zstd' ? unzstd(data, where, maxBytes) : unlz4(data, where, maxBytes);
}
