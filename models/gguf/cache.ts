/**
 * Generated models are cached under models/cache/ (git-ignored) and written on first use.
 * The file name encodes shape, quantization and seed, so a changed shape never reuses a stale file.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../runtime/package-root.js';
import { CHATML_TEMPLATE, CHATML_TOKENS, DRAFT_1B_SHAPE, LLAMA_1B_SHAPE, TINY_SHAPE, writeGguf, type ModelShape, type Quant } from './writer.js';

/** models/cache/ under the package root (also when this module runs compiled from dist/). */
export const MODEL_CACHE_DIR = join(PACKAGE_ROOT, 'models', 'cache');

export type ShapeName = 'tiny' | '1b' | 'draft1b';
export const SHAPES: Record<ShapeName, ModelShape> = { tiny: TINY_SHAPE, '1b': LLAMA_1B_SHAPE, draft1b: DRAFT_1B_SHAPE };

export function cachedModelPath(shape: ShapeName, quant: Quant, seed = 1234, dir = MODEL_CACHE_DIR): string {
  return join(dir, `kestrel-${shape}-${quant.toLowerCase()}-s${seed}.gguf`);
}

/** Path of the generated model, writing it first if it is not cached yet. */
export function ensureModel(shape: ShapeName, quant: Quant, seed = 1234, dir = MODEL_CACHE_DIR): string {
  const path = cachedModelPath(shape, quant, seed, dir);
  if (existsSync(path) && statSync(path).size > 0) return path;
  writeGguf(path, { shape: SHAPES[shape], quant, seed });
  return path;
}

/** The tiny model with a ChatML chat template and its control tokens (tests of `template: auto`). */
export function ensureChatModel(quant: Quant = 'Q4_0', dir = MODEL_CACHE_DIR): string {
  const path = join(dir, `kestrel-tiny-chatml-${quant.toLowerCase()}.gguf`);
  if (existsSync(path) && statSync(path).size > 0) return path;
  writeGguf(path, { shape: TINY_SHAPE, quant, seed: 1234, chatTemplate: CHATML_TEMPLATE, controlTokens: CHATML_TOKENS });
  return path;
}
