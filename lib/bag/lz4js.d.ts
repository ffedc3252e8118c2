// lz4js ships no types: its block codec and frame compressor, and the xxhash32 it checks headers with.
declare module 'lz4js' {
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  /** Decodes one LZ4 block `src[sIndex, sIndex + sLength)` into `dst` from `dIndex` (matches may reach back into `dst`); returns the new end. */
  export function decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}
declare module 'lz4js/xxh32.js' {
  export function hash(seed: number, src: Uint8Array, index: number, len: number): number;
}
