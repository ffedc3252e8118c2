/**
 * llama.cpp through node-llama-cpp, shaped for Kestrel: one model shared by every node that
 * names the same file (a 1B model loaded twice would double the memory), one context and
 * sequence per engine, greedy grammar-constrained generation with a fixed prompt prefix
 * whose KV cache is kept between calls, optional token predictors, and token/latency counters.
 */
import {
  getLlama, LlamaCompletion, LlamaGrammar, LlamaLogLevel, LlamaText, resolveChatWrapper, GgufInsights,
  DraftSequenceTokenPredictor, InputLookupTokenPredictor,
  type Llama, type LlamaModel, type LlamaContext, type LlamaContextSequence, type Token, type TokenPredictor,
  type ChatWrapper,
} from 'node-llama-cpp';
import { checkGguf, ModelTooLargeError, type GgufSummary } from './gguf-check.js';
import { LookupTokenPredictor } from './lookup-predictor.js';
import { ForcedTokenPredictor } from './forced-predictor.js';
import { shapeToGbnf, shapeToJsonSchema, type JsonShape } from './grammar.js';

export type PredictorKind = 'none' | 'input_lookup' | 'lookup' | 'draft';
export type TemplateKind = 'auto' | 'none';
export type GrammarKind = 'gbnf' | 'json_schema';

export interface LlmConfig {
  modelPath: string;
  /** CPU threads; 0 = all cores. A tiny model wants 1 (2 threads is ~30x slower on it). */
  threads: number;
  contextSize: number;
  /** Layers offloaded to a GPU; 0 = CPU only (no GPU backend is even probed). */
  gpuLayers: number;
  /** Refuse to load when weights + context would need more; 0 = no limit. */
  maxMemoryMb: number;
  /** Q4_0 is repacked at load: with mmap the file pages stay resident too (RSS ≈ 2× file). */
  useMmap?: boolean;
  /** `auto`: the GGUF's chat template when it has one (Llama 3.2 Instruct), else a plain prompt. */
  template?: TemplateKind;
  predictor?: PredictorKind;
  /** Draft model for `predictor: draft` (must share the tokenizer). */
  draftModelPath?: string;
  draftMaxTokens?: number;
  /** For `predictor: lookup`: output skeletons searched after the sequence itself (lookup-predictor.ts). */
  predictorMemory?: readonly string[];
  /** Predict the grammar-forced text (keys, punctuation, one-candidate enum tails) first, then `predictor` (forced-predictor.ts). */
  forcedTokens?: boolean;
}

export interface PromptParts {
  /** Fixed part (system prompt, mission): its KV cache is evaluated once and reused. */
  system: string;
  /** Changing part (situation, intent). */
  user: string;
}

/** A grammar of a child-hosted engine (ProcessLlmEngine): a handle, the grammar lives in the child. */
export interface RemoteGrammar {
  readonly remote: true;
  readonly id: number;
  readonly owner: object;
}

/** What createGrammar returns: llama.cpp's grammar in process, a handle for a child-hosted engine. */
export type LlmGrammar = LlamaGrammar | RemoteGrammar;

/** The engine as the nodes use it, in process (LlmEngine) or hosted in a child (ProcessLlmEngine). */
export interface LlmEngineApi {
  readonly busy: boolean;
  /** Resolves when the current generation (if any) has really stopped, aborted or not. */
  idle(): Promise<void>;
  createGrammar(shape: JsonShape, kind?: GrammarKind): Promise<LlmGrammar>;
  /** Forgets a grammar made for one request (grounded decoding), so a long run does not accumulate them. */
  releaseGrammar(g: LlmGrammar): Promise<void>;
  /** Evaluates the fixed prefix now; returns its length in tokens. */
  warmPrefix(system: string): Promise<number>;
  /** Throws the signal's reason on abort; one request at a time (EngineBusyError). */
  generate(p: PromptParts, o: GenerateOptions): Promise<GenerationResult>;
  dispose(): Promise<void>;
}

export interface GenerateOptions {
  grammar?: LlmGrammar;
  maxTokens: number;
  signal?: AbortSignal;
  /** false: clear the KV cache first (the reference for prefix-reuse measurements). */
  reusePrefix?: boolean;
  /** Monotonic ms source for ttft/duration (nodes pass their clock). */
  now?: () => number;
  /**
   * Seeded sampling instead of greedy decoding (the intent node's verified resampling): the same seed,
   * prompt and grammar give the same text, so replays stay deterministic.
   */
  sample?: SampleOptions;
}

export interface SampleOptions {
  temperature: number;
  seed: number;
  topK?: number;
}

export type StopReason = 'eos' | 'max_tokens' | 'stop';

export interface GenerationResult {
  text: string;
  stopReason: StopReason;
  promptTokens: number;
  /** Prompt tokens whose KV cache was reused from the previous call. */
  reusedTokens: number;
  completionTokens: number;
  ttftMs: number;
  totalMs: number;
  tokensPerSecond: number;
  predictions?: { validated: number; refuted: number; used: number; unused: number };
}

export class EngineBusyError extends Error {
  constructor() {
    super('LLM engine is still generating (previous request not settled)');
    this.name = 'EngineBusyError';
  }
}

let llamaCpu: Promise<Llama> | undefined;
let llamaGpu: Promise<Llama> | undefined;

/** The llama.cpp binding (prebuilt, never compiled at run time). */
export function getKestrelLlama(gpu: boolean): Promise<Llama> {
  const make = (): Promise<Llama> => getLlama({ gpu: gpu ? 'auto' : false, build: 'never', logLevel: LlamaLogLevel.error, progressLogs: false });
  if (gpu) return (llamaGpu ??= make());
  return (llamaCpu ??= make());
}

interface SharedModel {
  model: Promise<LlamaModel>;
  refs: number;
}
const models = new Map<string, SharedModel>();

async function estimateMb(llama: Llama, g: GgufSummary, cfg: LlmConfig): Promise<number> {
  const insights = await GgufInsights.from(g.info, llama);
  const m = await insights.estimateModelResourceRequirementsV2({ gpuLayers: cfg.gpuLayers, useMmap: cfg.useMmap ?? false });
  const c = await insights.estimateContextResourceRequirementsV2({ contextSize: cfg.contextSize, modelGpuLayers: cfg.gpuLayers, sequences: 1 });
  const repackQ4 = (cfg.useMmap ?? false) && (g.info.tensorInfo ?? []).some((t) => t.ggmlType === 2) ? g.fileBytes : 0;
  return (m.cpuRam + c.cpuRam + repackQ4) / 2 ** 20;
}

async function acquireModel(llama: Llama, path: string, cfg: LlmConfig): Promise<LlamaModel> {
  const key = `${path}|${cfg.gpuLayers}|${cfg.useMmap ?? false}`;
  let s = models.get(key);
  if (!s) {
    const model = llama.loadModel({ modelPath: path, gpuLayers: cfg.gpuLayers, useMmap: cfg.useMmap ?? false });
    s = { model, refs: 0 };
    models.set(key, s);
    model.catch(() => models.delete(key));
  }
  s.refs++;
  return s.model;
}

async function releaseModel(path: string, cfg: LlmConfig): Promise<void> {
  const key = `${path}|${cfg.gpuLayers}|${cfg.useMmap ?? false}`;
  const s = models.get(key);
  if (!s) return;
  if (--s.refs > 0) return;
  models.delete(key);
  await (await s.model).dispose();
}

/** Checks the file and the memory budget; throws ModelFileError / ModelTooLargeError. */
export async function checkModel(cfg: LlmConfig): Promise<GgufSummary> {
  const g = await checkGguf(cfg.modelPath);
  if (cfg.maxMemoryMb > 0) {
    const llama = await getKestrelLlama(cfg.gpuLayers > 0);
    const need = await estimateMb(llama, g, cfg);
    if (need > cfg.maxMemoryMb) throw new ModelTooLargeError(cfg.modelPath, need, cfg.maxMemoryMb);
  }
  return g;
}

export class LlmEngine implements LlmEngineApi {
  private running: Promise<unknown> | undefined;
  private disposed = false;
  private readonly completion: LlamaCompletion;
  private readonly prefixCache = new Map<string, Token[]>();
  /** The shape each grammar of this engine was made from (what the forced-token predictor follows). */
  private readonly shapes = new WeakMap<LlamaGrammar, JsonShape>();

  private constructor(
    readonly cfg: LlmConfig,
    readonly llama: Llama,
    readonly model: LlamaModel,
    readonly context: LlamaContext,
    readonly sequence: LlamaContextSequence,
    readonly chatWrapper: ChatWrapper | undefined,
    readonly summary: GgufSummary,
    private readonly draft: { model: LlamaModel; context: LlamaContext; cfg: LlmConfig } | undefined,
    private readonly forced: ForcedTokenPredictor | undefined,
  ) {
    this.completion = new LlamaCompletion({ contextSequence: sequence });
  }

  static async load(cfg: LlmConfig): Promise<LlmEngine> {
    const summary = await checkModel(cfg);
    const llama = await getKestrelLlama(cfg.gpuLayers > 0);
    const model = await acquireModel(llama, cfg.modelPath, cfg);
    let draft: { model: LlamaModel; context: LlamaContext; cfg: LlmConfig } | undefined;
    try {
      const context = await model.createContext({ contextSize: cfg.contextSize, threads: cfg.threads, sequences: 1 });
      let predictor: TokenPredictor | undefined;
      if (cfg.predictor === 'input_lookup') {
        predictor = new InputLookupTokenPredictor({ patternLength: { min: 2 }, predictionLength: { max: 8 } });
      } else if (cfg.predictor === 'lookup') {
        predictor = new LookupTokenPredictor((cfg.predictorMemory ?? []).map((t) => model.tokenize(t)));
      } else if (cfg.predictor === 'draft') {
        if (!cfg.draftModelPath) throw new Error("predictor 'draft' needs draft_model_path");
        const dcfg: LlmConfig = { ...cfg, modelPath: cfg.draftModelPath, predictor: 'none' };
        await checkGguf(dcfg.modelPath);
        const dmodel = await acquireModel(llama, dcfg.modelPath, dcfg);
        const dctx = await dmodel.createContext({ contextSize: cfg.contextSize, threads: cfg.threads, sequences: 1 });
        draft = { model: dmodel, context: dctx, cfg: dcfg };
        predictor = new DraftSequenceTokenPredictor(dctx.getSequence(), { maxTokens: cfg.draftMaxTokens ?? 8, minConfidence: 0 });
      }
      const forced = cfg.forcedTokens
        ? new ForcedTokenPredictor({ tokenize: (t) => model.tokenize(t), detokenize: (t) => model.detokenize([...t]) }, predictor)
        : undefined;
      predictor = forced ?? predictor;
      const sequence = context.getSequence(predictor ? { tokenPredictor: predictor } : undefined);
      const useTemplate = (cfg.template ?? 'auto') === 'auto' && summary.hasChatTemplate;
      const chatWrapper = useTemplate ? resolveChatWrapper(model) : undefined;
      return new LlmEngine(cfg, llama, model, context, sequence, chatWrapper, summary, draft, forced);
    } catch (e) {
      if (draft) {
        await draft.context.dispose();
        await releaseModel(draft.cfg.modelPath, draft.cfg);
      }
      await releaseModel(cfg.modelPath, cfg);
      throw e;
    }
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Resolves when the current generation (if any) has really stopped, aborted or not. */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  async createGrammar(shape: JsonShape, kind: GrammarKind = 'gbnf'): Promise<LlamaGrammar> {
    const g = kind === 'gbnf'
      ? await this.llama.createGrammar({ grammar: shapeToGbnf(shape) })
      : await this.llama.createGrammarForJsonSchema(shapeToJsonSchema(shape) as unknown as Parameters<Llama['createGrammarForJsonSchema']>[0]);
    // the forced-token automaton follows the compact GBNF output; node-llama-cpp's JSON-schema grammar admits other spacing
    if (kind === 'gbnf') this.shapes.set(g, shape);
    return g;
  }

  /** In process a grammar is freed with its last reference; nothing to do. */
  async releaseGrammar(): Promise<void> {}

  private get bos(): Token[] {
    const t = this.model.tokens;
    return t.shouldPrependBosToken && t.bos !== null ? [t.bos] : [];
  }

  /**
   * Prompt tokens without the leading BOS (LlamaCompletion always prepends it). The plain form
   * tokenizes the fixed part on its own, so its tokens never depend on the changing part.
   */
  tokenize(p: PromptParts): Token[] {
    if (this.chatWrapper) {
      const { contextText } = this.chatWrapper.generateContextState({
        chatHistory: [{ type: 'system', text: p.system }, { type: 'user', text: p.user }, { type: 'model', response: [] }],
      });
      const t = contextText.tokenize(this.model.tokenizer);
      const bos = this.model.tokens.bos;
      return bos !== null && t[0] === bos ? t.slice(1) : t;
    }
    let prefix = this.prefixCache.get(p.system);
    if (!prefix) {
      prefix = this.model.tokenize(p.system);
      this.prefixCache.set(p.system, prefix);
    }
    return [...prefix, ...LlamaText(p.user).tokenize(this.model.tokenizer)];
  }

  /** The tokens the context holds for this prompt (BOS included). */
  contextTokens(p: PromptParts): Token[] {
    return [...this.bos, ...this.tokenize(p)];
  }

  /** Length of the fixed prefix in context tokens (what prefix reuse saves each call). */
  prefixLength(system: string): number {
    const a = this.contextTokens({ system, user: 'a' });
    const b = this.contextTokens({ system, user: 'b' });
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    return i;
  }

  /** Evaluates the fixed prefix now, so the first real request only pays for its suffix. */
  async warmPrefix(system: string): Promise<number> {
    if (this.running) throw new EngineBusyError();
    const n = this.prefixLength(system);
    const prefix = this.contextTokens({ system, user: 'a' }).slice(0, n);
    await this.sequence.adaptStateToTokens(prefix, false);
    const already = this.sequence.nextTokenIndex;
    if (already < prefix.length) await this.sequence.evaluateWithoutGeneratingNewTokens(prefix.slice(already));
    return n;
  }

  /** Greedy generation. Throws the signal's reason on abort; only one request at a time (EngineBusyError). */
  async generate(p: PromptParts, o: GenerateOptions): Promise<GenerationResult> {
    if (this.disposed) throw new Error('LLM engine disposed');
    if (this.running) throw new EngineBusyError();
    if (o.grammar && !(o.grammar instanceof LlamaGrammar)) throw new Error('generate: this grammar belongs to a child-hosted engine (ProcessLlmEngine), not to this in-process one');
    const run = this.doGenerate(p, o);
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = undefined;
    }
  }

  private async doGenerate(p: PromptParts, o: GenerateOptions): Promise<GenerationResult> {
    const now = o.now ?? (() => performance.now());
    const tokens = this.tokenize(p);
    const full = [...this.bos, ...tokens];
    if (o.reusePrefix === false) await this.sequence.clearHistory();
    const reused = Math.min(this.sequence.compareContextTokens(full).firstDifferentIndex, full.length - 1);
    this.forced?.begin(full, o.grammar ? this.shapes.get(o.grammar as LlamaGrammar) : undefined);
    const before = this.sequence.tokenPredictions;
    const t0 = now();
    let first: number | undefined;
    let n = 0;
    const res = await this.completion.generateCompletionWithMeta(tokens, {
      grammar: o.grammar as LlamaGrammar | undefined,
      maxTokens: o.maxTokens,
      signal: o.signal,
      stopOnAbortSignal: false,
      temperature: o.sample?.temperature ?? 0,
      ...(o.sample ? { seed: o.sample.seed, topK: o.sample.topK ?? 40 } : {}),
      repeatPenalty: false,
      onToken: (t) => {
        first ??= now();
        n += t.length;
      },
    });
    const end = now();
    const after = this.sequence.tokenPredictions;
    const stopReason: StopReason = res.metadata.stopReason === 'maxTokens' ? 'max_tokens' : res.metadata.stopReason === 'eogToken' ? 'eos' : 'stop';
    const genMs = first === undefined ? 0 : end - first;
    return {
      text: res.response,
      stopReason,
      promptTokens: full.length,
      reusedTokens: reused,
      completionTokens: n,
      ttftMs: (first ?? end) - t0,
      totalMs: end - t0,
      tokensPerSecond: n > 1 && genMs > 0 ? ((n - 1) * 1000) / genMs : 0,
      predictions: (this.cfg.predictor && this.cfg.predictor !== 'none') || this.forced
        ? { validated: after.validated - before.validated, refuted: after.refuted - before.refuted, used: after.used - before.used, unused: after.unused - before.unused }
        : undefined,
    };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    // Disposing while predicted generation is still settling throws DisposedError: wait first.
    await this.idle();
    await this.context.dispose();
    if (this.draft) {
      await this.draft.context.dispose();
      await releaseModel(this.draft.cfg.modelPath, this.draft.cfg);
    }
    await releaseModel(this.cfg.modelPath, this.cfg);
  }
}
