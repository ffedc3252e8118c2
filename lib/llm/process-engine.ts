/**
 * An LlmEngineApi whose llama.cpp engine lives in a supervised child process (lib/process),
 * so a native crash, hang, runaway memory or OOM in the model cannot stop the control process.
 * Engines on the same model file and child settings share one child (and one loaded model).
 *
 * - generate(): the AbortSignal cancels in the child; the call settles when the child stops
 *   (at its next token, as in process) and rejects with the signal's reason. A child lost
 *   mid-generation rejects it with ChildLostError; while the child is down, the next call
 *   waits for the restart (bounded by its signal, i.e. the node's deadline).
 * - The supervisor replays each engine's setup (load, grammars, the last warmed prefix) on
 *   every restart before the child counts as ready.
 * - `now` in GenerateOptions does not cross: ttft/duration are measured in the child.
 */
import { ChildError, ChildLostError, ChildUnavailableError, Supervisor, siblingEntry, type SupervisorOptions } from '../process/supervisor.js';
import { ChildPool } from '../process/pool.js';
import { EngineBusyError, type GenerateOptions, type GenerationResult, type GrammarKind, type LlmConfig, type LlmEngineApi, type LlmGrammar, type PromptParts, type RemoteGrammar } from './engine.js';
import { checkGguf, ModelFileError, ModelTooLargeError } from './gguf-check.js';
import type { JsonShape } from './grammar.js';

export type ProcessOptions = Omit<SupervisorOptions, 'name' | 'entry' | 'init'>;

interface Setup {
  cfg: LlmConfig;
  grammars: { gid: number; shape: JsonShape; kind: GrammarKind }[];
  warm?: string;
}

interface Shared {
  sup: Supervisor;
  engines: Map<number, Setup>;
  capMb: number;
}

/** One child per model file and child settings, shared by the engines on it, kept a while after the last (lib/process/pool.ts). */
const children = new ChildPool<{ engines: Map<number, Setup>; capMb: number }>();
let nextEid = 1;

/** Load errors keep their class across the process boundary (nodes and tests match on them). */
function revive(e: unknown): unknown {
  if (!(e instanceof ChildError)) return e;
  const cls = e.name === 'ModelFileError' ? ModelFileError : e.name === 'ModelTooLargeError' ? ModelTooLargeError : undefined;
  if (!cls) return e;
  const r = Object.create(cls.prototype as object) as Error;
  Object.assign(r, { name: e.name, message: e.message, stack: e.stack });
  return r;
}

/** A setup call is tried on this many children before its loss is the caller's error. */
const SETUP_TRIES = 3;

/**
 * A setup call (load, grammar, warm) on a ready child. A child lost meanwhile (killed by the
 * watchdog on a saturated machine, say) is restarted by the supervisor, which replays only the
 * setup that had completed, so the call is made again on the new child. A child that keeps dying
 * on it (a model that crashes llama.cpp) fails after SETUP_TRIES with the loss.
 */
async function setupCall<R>(sup: Supervisor, method: string, arg: unknown): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sup.request<R>(method, arg, { waitReady: true, setup: true });
    } catch (e) {
      if (!(e instanceof ChildLostError) || attempt >= SETUP_TRIES) throw e;
    }
  }
}

/**
 * Warms `system` as a node's activate does; a lost or unavailable child is not the node's
 * failure (warming only saves the first call's prefill, and the supervisor restarts the child),
 * so it comes back as the reason instead of failing activate. Other errors still throw.
 */
export async function warmPrefixOrLoss(engine: LlmEngineApi, system: string): Promise<{ tokens: number } | { lost: string }> {
  try {
    return { tokens: await engine.warmPrefix(system) };
  } catch (e) {
    if (e instanceof ChildLostError || e instanceof ChildUnavailableError) return { lost: e.message };
    throw e;
  }
}

function keyOf(cfg: LlmConfig, o: ProcessOptions): string {
  return JSON.stringify([cfg.modelPath, cfg.gpuLayers, cfg.useMmap ?? false, o]);
}

export class ProcessLlmEngine implements LlmEngineApi {
  private running: Promise<unknown> | undefined;
  private disposed = false;
  private nextGid = 1;

  private constructor(
    private readonly shared: Shared,
    private readonly key: string,
    readonly eid: number,
    private readonly setup: Setup,
  ) {}

  get supervisor(): Supervisor {
    return this.shared.sup;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  static async load(cfg: LlmConfig, o: ProcessOptions = {}): Promise<ProcessLlmEngine> {
    // A missing or foreign file fails here, before a child is spawned for it.
    await checkGguf(cfg.modelPath);
    if (cfg.predictor === 'draft' && cfg.draftModelPath) await checkGguf(cfg.draftModelPath);
    const key = keyOf(cfg, o);
    const eid = nextEid++;
    const setup: Setup = { cfg, grammars: [] };
    const make = () => {
      // The first engine loads inside init, while the child is still 'starting': the model load
      // blocks the child's event loop for seconds, which the heartbeat watchdog only judges once ready.
      const capMb = o.memoryCapMb ?? 0;
      const engines = new Map<number, Setup>([[eid, setup]]);
      const sup = new Supervisor({
        name: `LLM '${cfg.modelPath.split('/').pop() ?? cfg.modelPath}'`,
        entry: siblingEntry(import.meta.url, 'host'),
        ...o,
        // Every (re)start loads every engine again, with its grammars and warmed prefix.
        init: async (call) => {
          for (const [id, st] of engines) {
            await call('load', { eid: id, cfg: st.cfg, capMb }).catch((e: unknown) => {
              throw revive(e);
            });
            for (const g of st.grammars) await call('grammar', { eid: id, ...g });
            if (st.warm !== undefined) await call('warm', { eid: id, system: st.warm });
          }
        },
      });
      return { sup, data: { engines, capMb } };
    };
    let got;
    try {
      got = await children.acquire(key, make);
    } catch (e) {
      throw revive(e);
    }
    const shared: Shared = { sup: got.sup, ...got.data };
    if (!got.fresh) {
      // A child that is up (shared, or an idle spare): the llama.cpp binding is loaded there, only this engine is new.
      try {
        await setupCall(shared.sup, 'load', { eid, cfg, capMb: shared.capMb });
      } catch (e) {
        await children.release(key);
        throw revive(e);
      }
      shared.engines.set(eid, setup);
    }
    return new ProcessLlmEngine(shared, key, eid, setup);
  }

  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  async createGrammar(shape: JsonShape, kind: GrammarKind = 'gbnf'): Promise<LlmGrammar> {
    const g = { gid: this.nextGid++, shape, kind };
    await setupCall(this.shared.sup, 'grammar', { eid: this.eid, ...g });
    this.setup.grammars.push(g);
    return { remote: true, id: g.gid, owner: this } satisfies RemoteGrammar;
  }

  async releaseGrammar(g: LlmGrammar): Promise<void> {
    if (!('remote' in g && g.owner === this)) throw new Error('releaseGrammar: this grammar was not created by this engine (ProcessLlmEngine)');
    // Dropped from the setup first: a restart must not replay it, whether or not the child hears of it now.
    this.setup.grammars = this.setup.grammars.filter((x) => x.gid !== g.id);
    if (this.shared.sup.state === 'ready') await this.shared.sup.request('release_grammar', { eid: this.eid, gid: g.id }).catch(() => undefined);
  }

  async warmPrefix(system: string): Promise<number> {
    if (this.running) throw new EngineBusyError();
    const n = await setupCall<number>(this.shared.sup, 'warm', { eid: this.eid, system });
    this.setup.warm = system;
    return n;
  }

  async generate(p: PromptParts, o: GenerateOptions): Promise<GenerationResult> {
    if (this.disposed) throw new Error('LLM engine disposed');
    if (this.running) throw new EngineBusyError();
    const g = o.grammar;
    if (g && !('remote' in g && g.owner === this)) throw new Error('generate: this grammar was not created by this engine (ProcessLlmEngine)');
    const run = this.remote(p, o, g?.id);
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = undefined;
    }
  }

  private async remote(p: PromptParts, o: GenerateOptions, gid: number | undefined): Promise<GenerationResult> {
    try {
      return await this.shared.sup.request<GenerationResult>('generate', { eid: this.eid, p, gid, maxTokens: o.maxTokens, reusePrefix: o.reusePrefix, sample: o.sample }, { signal: o.signal, waitReady: true });
    } catch (e) {
      // The child stopped because we aborted: the caller gets its own reason, as in process.
      if (o.signal?.aborted && e instanceof ChildError) throw o.signal.reason as Error;
      throw e;
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.idle();
    this.shared.engines.delete(this.eid);
    if (this.shared.sup.state === 'ready') await this.shared.sup.request('dispose', { eid: this.eid }, { deadlineMs: 5000 }).catch(() => undefined);
    await children.release(this.key);
  }
}
