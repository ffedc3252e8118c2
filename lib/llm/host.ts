/**
 * Child-process side of ProcessLlmEngine (lib/process supervises it): hosts the llama.cpp
 * engines of one model file (intent and planner share one child and one loaded model, as they
 * share one model in process), their grammars, and their generations. A native crash or a
 * runaway allocation in llama.cpp ends this process only.
 */
import { serve } from '../process/host.js';
import { rssMb } from '../process/supervisor.js';
import { LlmEngine, type GenerationResult, type GrammarKind, type LlmConfig, type PromptParts, type SampleOptions } from './engine.js';
import { ModelTooLargeError } from './gguf-check.js';
import type { JsonShape } from './grammar.js';
import type { LlamaGrammar } from 'node-llama-cpp';

const engines = new Map<number, LlmEngine>();
const grammars = new Map<string, LlamaGrammar>();

function engine(eid: number): LlmEngine {
  const e = engines.get(eid);
  if (!e) throw new Error(`the LLM child has no engine ${eid} loaded`);
  return e;
}

serve({
  /** `capMb`: the child's RSS cap; a model that would not fit in what is left under it is refused before loading. */
  load: async ({ eid, cfg, capMb }: { eid: number; cfg: LlmConfig; capMb: number }) => {
    let c = cfg;
    const loadedAlready = [...engines.values()].some((e) => e.cfg.modelPath === cfg.modelPath);
    const room = capMb > 0 && !loadedAlready ? capMb - (rssMb(process.pid) ?? 0) : 0;
    if (room > 0) c = { ...cfg, maxMemoryMb: cfg.maxMemoryMb > 0 ? Math.min(cfg.maxMemoryMb, room) : Math.floor(room) };
    try {
      engines.set(eid, await LlmEngine.load(c));
    } catch (e) {
      if (e instanceof ModelTooLargeError && room > 0 && e.limitMb === c.maxMemoryMb && c.maxMemoryMb !== cfg.maxMemoryMb) {
        e.message = `model file '${cfg.modelPath}': needs about ${e.neededMb.toFixed(0)} MB of memory (weights + context), above the ${e.limitMb.toFixed(0)} MB left under the child's child_memory_mb ${capMb}`;
      }
      throw e;
    }
    return true;
  },
  grammar: async ({ eid, gid, shape, kind }: { eid: number; gid: number; shape: JsonShape; kind: GrammarKind }) => {
    grammars.set(`${eid}:${gid}`, await engine(eid).createGrammar(shape, kind));
    return true;
  },
  release_grammar: ({ eid, gid }: { eid: number; gid: number }) => grammars.delete(`${eid}:${gid}`),
  warm: ({ eid, system }: { eid: number; system: string }) => engine(eid).warmPrefix(system),
  generate: async (a: { eid: number; p: PromptParts; gid?: number; maxTokens: number; reusePrefix?: boolean; sample?: SampleOptions }, signal: AbortSignal): Promise<GenerationResult> => {
    const e = engine(a.eid);
    const grammar = a.gid === undefined ? undefined : grammars.get(`${a.eid}:${a.gid}`);
    if (a.gid !== undefined && !grammar) throw new Error(`the LLM child has no grammar ${a.gid} for engine ${a.eid}`);
    return e.generate(a.p, { grammar, maxTokens: a.maxTokens, reusePrefix: a.reusePrefix, sample: a.sample, signal });
  },
  dispose: async ({ eid }: { eid: number }) => {
    await engines.get(eid)?.dispose();
    engines.delete(eid);
    for (const k of [...grammars.keys()]) if (k.startsWith(`${eid}:`)) grammars.delete(k);
    return true;
  },
});
