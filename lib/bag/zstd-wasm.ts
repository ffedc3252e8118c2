/**
 * @foxglove/wasm-zstd, loaded on first need: importing it compiles its WebAssembly module, a tenth
 * of `kestrel bag info`'s start-up, and a bag whose chunks are uncompressed or lz4 (or info read
 * from the MCAP summary alone) never needs it.
 */
import { nativeZstd, type ZstdCodec } from './zstd-stream.js';

type WasmZstd = typeof import('@foxglove/wasm-zstd');

let loading: Promise<WasmZstd> | undefined;
let loaded: WasmZstd | undefined;

/** Loads the module (once per process). */
export function loadZstd(): Promise<WasmZstd> {
  loading ??= import('@foxglove/wasm-zstd').then(async (m) => {
    await m.isLoaded;
    loaded = m;
    return m;
  });
  return loading;
}

/**
 * The chunk codec: libzstd when it loads (faster, and nothing to compile), else wasm-zstd, which
 * `loadZstd()` must have loaded first.
 */
export async function loadChunkZstd(): Promise<ZstdCodec> {
  return nativeZstd() ?? (await loadZstd());
}

/** The module, once `loadZstd()` has resolved. */
export function zstdNow(): WasmZstd {
  if (!loaded) throw new Error('wasm-zstd is not loaded yet (await loadZstd() first)');
  return loaded;
}
