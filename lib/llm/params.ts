/**
 * The LLM parameters shared by the intent and planner nodes (same names in both, so one
 * params file block `/**: ros__parameters: model_path: ...` configures both).
 *
 * Using a published model: set `model_path` to e.g. Llama-3.2-1B-Instruct-Q4_0.gguf; with
 * `template: auto` its embedded chat template is used. Leave it empty for the generated tiny
 * random model (models/cache/, written on first use), which is what tests run.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../runtime/package-root.js';
import { p, type ParamDecls, type ParamValues } from '../../runtime/params.js';
import type { LlmConfig, PredictorKind, TemplateKind, GrammarKind } from './engine.js';

/** Kestrel's own model (models/lm/, LM-SPEC), Q4_0. */
export const KESTREL_LM_PATH = join(PACKAGE_ROOT, 'models', 'lm', 'kestrel-lm-q4_0.gguf');
/** The prompt format a Kestrel model declares in `kestrel.prompt_format`. */
export const KESTREL_PROMPT_FORMAT = 'kestrel-lm-1';
/** `model_path` naming the bundled Kestrel LM (models/lm/kestrel-lm-<quantization>.gguf). */
export const KESTREL_LM = 'kestrel-lm';
/** `draft_model_path` naming the bundled draft model (models/lm/kestrel-lm-draft-q4_0.gguf, distilled from the Kestrel LM). */
export const KESTREL_LM_DRAFT = 'kestrel-lm-draft';
const LM_DIR = join(PACKAGE_ROOT, 'models', 'lm');

/**
 * Default `model_path` of the intent and planner nodes: Kestrel's own trained model. '' = the
 * generated tiny random model (mechanics tests only).
 */
export const DEFAULT_MODEL_PATH = KESTREL_LM;

export const LLM_PARAMS = {
  model_path: p.string(DEFAULT_MODEL_PATH, "GGUF model file; 'kestrel-lm' = Kestrel's own trained model (models/lm/, at `quantization`); '' = the generated tiny random model (models/cache/, written on first use; random weights, for mechanics tests)"),
  prompt_format: p.string('auto', "Prompts and grammars: 'auto' = the GGUF's kestrel.prompt_format (Kestrel LM: LM-SPEC prompts) else the long prompts for chat models; or force one", ['auto', KESTREL_PROMPT_FORMAT, 'generic']),
  quantization: p.string('Q4_0', "Quantization of the bundled model when model_path is 'kestrel-lm' or ''", ['Q4_0', 'Q8_0', 'F16']),
  threads: p.int(1, 'CPU threads for llama.cpp; 0 = all cores (a tiny model runs fastest on 1)', { min: 0, max: 256 }),
  context_size: p.int(2048, 'Context window in tokens', { min: 256, max: 131072 }),
  gpu_layers: p.int(0, 'Layers offloaded to a GPU (0 = CPU only)', { min: 0, max: 1000 }),
  max_memory_mb: p.int(0, 'Refuse to load a model needing more memory (weights + context); 0 = no limit', { min: 0 }),
  use_mmap: p.bool(false, 'mmap the model file (Q4_0 is repacked at load, so mmap roughly doubles its RSS)'),
  template: p.string('auto', "Prompt format: 'auto' = the GGUF's chat template when present (Llama 3.2 Instruct), else plain text", ['auto', 'none']),
  grammar: p.string('gbnf', "Output constraint: 'gbnf' (bounded numbers, ASCII strings) or node-llama-cpp's 'json_schema' grammar", ['gbnf', 'json_schema']),
  predictor: p.string('none', "Faster decoding, outputs unchanged: prompt lookup (input_lookup), prompt lookup plus the node's output skeletons (lookup), or a draft model (draft)", ['none', 'input_lookup', 'lookup', 'draft']),
  draft_model_path: p.string(KESTREL_LM_DRAFT, "Draft GGUF for predictor 'draft' (same tokenizer as model_path); 'kestrel-lm-draft' = the bundled draft distilled from Kestrel's model"),
  forced_tokens: p.bool(false, 'Predict the text the output grammar forces (JSON keys, punctuation, one-candidate enum tails) before any predictor; outputs unchanged'),
  model_variant: p.string('full', "With model_path 'kestrel-lm': 'full', or a bundled structured-pruned variant 'pruned-<level>' (models/lm/kestrel-lm-pruned-<level>-q4_0.gguf, README 'Pruned variants')"),
} satisfies ParamDecls;

type LlmParamValues = ParamValues<typeof LLM_PARAMS>;

/**
 * Writes (or finds) the generated tiny model for `model_path: ''`. lib/llm does not import the
 * generator (models/gguf): the nodes and the CLI pass `ensureModel` in.
 */
export type TinyModelSource = (quantization: 'Q4_0' | 'Q8_0' | 'F16') => string;

/** The bundled variants of the Kestrel LM ('pruned-<level>'), from the files in models/lm. */
export function bundledVariants(dir = LM_DIR): string[] {
  return readdirSync(dir).map((f) => /^kestrel-lm-(pruned-[a-z0-9-]+)-q4_0\.gguf$/.exec(f)?.[1]).filter((x): x is string => !!x).sort();
}

/** A bundled variant's file; throws naming `model_variant` (and what exists) when there is none. */
export function variantPath(variant: string, quantization: string, dir = LM_DIR): string {
  if (!/^pruned-[a-z0-9-]+$/.test(variant)) throw new Error(`model_variant '${variant}': expected 'full' or 'pruned-<level>'`);
  const f = join(dir, `kestrel-lm-${variant}-${quantization.toLowerCase()}.gguf`);
  if (!existsSync(f)) throw new Error(`model_variant '${variant}' at quantization ${quantization}: no ${f} (bundled variants, Q4_0 only: ${bundledVariants(dir).join(', ') || 'none'})`);
  return f;
}

export function resolveModelPath(v: Pick<LlmParamValues, 'model_path' | 'quantization'> & { model_variant?: string }, tiny?: TinyModelSource): string {
  if (v.model_path === KESTREL_LM) {
    if (v.model_variant && v.model_variant !== 'full') return variantPath(v.model_variant, v.quantization);
    return join(LM_DIR, `kestrel-lm-${v.quantization.toLowerCase()}.gguf`);
  }
  if (v.model_variant && v.model_variant !== 'full') throw new Error(`model_variant '${v.model_variant}' needs model_path 'kestrel-lm' (got '${v.model_path}')`);
  if (v.model_path !== '') return v.model_path;
  if (!tiny) throw new Error("model_path '' (the generated tiny model) needs a model source; set model_path");
  return tiny(v.quantization as 'Q4_0' | 'Q8_0' | 'F16');
}

export function engineConfig(v: LlmParamValues, tiny?: TinyModelSource): LlmConfig {
  return {
    modelPath: resolveModelPath(v, tiny),
    threads: v.threads,
    contextSize: v.context_size,
    gpuLayers: v.gpu_layers,
    maxMemoryMb: v.max_memory_mb,
    useMmap: v.use_mmap,
    template: v.template as TemplateKind,
    predictor: v.predictor as PredictorKind,
    draftModelPath: v.draft_model_path === KESTREL_LM_DRAFT ? join(LM_DIR, 'kestrel-lm-draft-q4_0.gguf') : v.draft_model_path || undefined,
    forcedTokens: v.forced_tokens,
  };
}

export const grammarKind = (v: Pick<LlmParamValues, 'grammar'>): GrammarKind => v.grammar as GrammarKind;

/** Whether to speak the Kestrel LM format (LM-SPEC) to this model: forced by param, or declared by the GGUF. */
export function usesKestrelFormat(v: Pick<LlmParamValues, 'prompt_format'>, declared: string | undefined): boolean {
  return v.prompt_format === KESTREL_PROMPT_FORMAT || (v.prompt_format === 'auto' && declared === KESTREL_PROMPT_FORMAT);
}
