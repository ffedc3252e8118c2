/**
 * Heavy work (model inference, LLM generation) goes through `ctx.compute(stage, fn)`.
 * Live, it only measures. Under sim time (replay, `kestrel eval`) the work runs for real,
 * then its cost is charged to the virtual clock, either as measured or from a latency
 * model, so a replay sees the same deadlines and drops a device would see, and with a
 * latency model the replay is deterministic. The tracker lets a replay driver wait until
 * no real work is in flight before advancing virtual time.
 */
import { sleep, type Clock } from './clock.js';

export interface StageLatency {
  /** Fixed cost per call, ms. */
  fixed_ms: number;
  /** Extra cost per unit of work (e.g. per generated token), ms. */
  per_unit_ms?: number;
}

/** `measured`: charge the wall time the work took here; otherwise charge from the table (stage name → cost). */
export type LatencyModel = { mode: 'measured'; scale?: number } | { mode: 'model'; stages: Record<string, StageLatency>; default_ms?: number };

export class ComputeTracker {
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  get busy(): boolean {
    return this.inFlight > 0;
  }

  async track<T>(p: Promise<T>): Promise<T> {
    this.inFlight++;
    try {
      return await p;
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const w of this.waiters.splice(0)) w();
    }
  }

  /** Resolves once no tracked work is running. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

export interface ComputeResult<T> {
  value: T;
  /** Wall time the work took on this machine. */
  wallMs: number;
  /** Time charged on the node's clock (equals wallMs live). */
  chargedMs: number;
}

export function chargeFor(model: LatencyModel | undefined, stage: string, wallMs: number, units = 0): number {
  if (!model) return wallMs;
  if (model.mode === 'measured') return wallMs * (model.scale ?? 1);
  const s = model.stages[stage];
  if (!s) return model.default_ms ?? wallMs;
  return s.fixed_ms + (s.per_unit_ms ?? 0) * units;
}

/**
 * Runs `fn`, measures it, and under sim time sleeps on the clock for the charged cost.
 * `units` (e.g. tokens generated) may be reported by fn's result through `unitsOf`.
 */
export async function runCompute<T>(
  clock: Clock,
  tracker: ComputeTracker | undefined,
  model: LatencyModel | undefined,
  stage: string,
  fn: () => Promise<T>,
  unitsOf?: (value: T) => number,
): Promise<ComputeResult<T>> {
  const t0 = process.hrtime.bigint();
  const value = await (tracker ? tracker.track(fn()) : fn());
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (clock.kind !== 'sim') return { value, wallMs, chargedMs: wallMs };
  const chargedMs = chargeFor(model, stage, wallMs, unitsOf ? unitsOf(value) : 0);
  if (chargedMs > 0) await sleep(clock, chargedMs);
  return { value, wallMs, chargedMs };
}
