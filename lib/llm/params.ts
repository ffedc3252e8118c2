/**
 * The LLM parameters shared by the intent and planner nodes (same names in both, so one
 * params file block `/**: ros__parameters: model_path: ...` configures both).
 *
 * Using a published model: set `model_path` to e.g. Llama-3.2-1B-Instruct-Q4_0.gguf; with
 * `template: auto` its embedded chat template is used. Leave it empty for the generated tiny
 * random model (models/cache/, written on first use), which is what tests run.
 */
import { p, type ParamDecls, type ParamValues } from '../../runtime/params.js';
import { ensureModel } from '../../models/gguf/cache.js';
import type { Quant } from '../../models/gguf/writer.js';
import type { LlmConfig, PredictorKind, TemplateKind, GrammarKind } from './engine.js';

export const LLM_PARAMS = {
  model_path: p.string('', "GGUF model file; '' = the generated tiny random model (models/cache/, written on first use)"),
  quantization: p.string('Q4_0', "Quantization of the generated model when model_path is ''", ['Q4_0', 'Q8_0', 'F16']),
  threads: p.int(1, 'CPU threads for llama.cpp; 0 = all cores (a tiny model runs fastest on 1)', { min: 0, max: 256 }),
  context_size: p.int(2048, 'Context window in tokens', { min: 256, max: 131072 }),
  gpu_layers: p.int(0, 'Layers offloaded to a GPU (0 = CPU only)', { min: 0, max: 1000 }),
  max_memory_mb: p.int(0, 'Refuse to load a model needing more memory (weights + context); 0 = no limit', { min: 0 }),
  use_mmap: p.bool(false, 'mmap the model file (Q4_0 is repacked at load, so mmap roughly doubles its RSS)'),
  template: p.string('auto', "Prompt format: 'auto' = the GGUF's chat template when present (Llama 3.2 Instruct), else plain text", ['auto', 'none']),
  grammar: p.string('gbnf', "Output constraint: 'gbnf' (bounded numbers, ASCII strings) or node-llama-cpp's 'json_schema' grammar", ['gbnf', 'json_schema']),
  predictor: p.string('none', 'Faster decoding: prompt lookup (input_lookup) or a draft model (draft)', ['none', 'input_lookup', 'draft']),
  draft_model_path: p.string('', "Draft GGUF for predictor 'draft' (same tokenizer as model_path)"),
} satisfies ParamDecls;

type LlmParamValues = ParamValues<typeof LLM_PARAMS>;

export function resolveModelPath(v: Pick<LlmParamValues, 'model_path' | 'quantization'>): string {
  return v.model_path !== '' ? v.model_path : ensureModel('tiny', v.quantization as Quant);
}

export function engineConfig(v: LlmParamValues): LlmConfig {
  return {
    modelPath: resolveModelPath(v),
    threads: v.threads,
    contextSize: v.context_size,
    gpuLayers: v.gpu_layers,
    maxMemoryMb: v.max_memory_mb,
    useMmap: v.use_mmap,
    template: v.template as TemplateKind,
    predictor: v.predictor as PredictorKind,
    draftModelPath: v.draft_model_path || undefined,
  };
}

export const grammarKind = (v: Pick<LlmParamValues, 'grammar'>): GrammarKind => v.grammar as GrammarKind;
