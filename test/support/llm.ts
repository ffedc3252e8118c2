/** Test helpers: the tiny generated model (written once into models/cache/, reused across tests). */
import { ensureModel } from '../../models/gguf/cache.js';
import type { Quant } from '../../models/gguf/writer.js';
import type { LlmConfig } from '../../lib/llm/engine.js';

export function tinyModel(quant: Quant = 'Q4_0', seed = 1234): string {
  return ensureModel('tiny', quant, seed);
}

/** Engine config for the tiny model: 1 thread (2 threads is ~30x slower on a tiny model). */
export function tinyConfig(over: Partial<LlmConfig> = {}): LlmConfig {
  return { modelPath: tinyModel(), threads: 1, contextSize: 1024, gpuLayers: 0, maxMemoryMb: 0, template: 'auto', predictor: 'none', ...over };
}
