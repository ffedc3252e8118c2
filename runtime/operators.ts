/**
 * RxJS operators for real-time pipelines, each with a production caller. Names say the policy:
 * - latestOnly: slow work never queues; while busy, only the newest input waits (one slot).
 * - runWithDeadline: a result that is not ready by the deadline is a miss and the work is aborted. This is what
 *   `deadline_ms` means in every node (planner, intent); a budget that is only counted is `latency_budget_ms`,
 *   a longest publish period `max_period_ms`.
 * - watchTopics: topics that fell silent for k periods.
 * - fixedRate: ticks on absolute due times, skipping (and reporting) overruns.
 */
import { Observable, from, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Clock } from './clock.js';

export interface LatestOnlyOptions<T> {
  /** Called for each input replaced or skipped while the work was busy. */
  onDrop?: (dropped: T) => void;
  /** Called when the work throws or rejects; the stream continues with the next input. */
  onError?: (error: unknown, input: T) => void;
}

/**
 * Runs `work` on inputs one at a time. An input arriving while `work` runs waits in a
 * single slot; a newer one replaces it (the older is dropped and reported). Errors in
 * `work` are reported and skipped, so one bad frame never ends the pipeline.
 */
export function latestOnly<T, R>(work: (input: T) => Promise<R> | Observable<R> | R, opts: LatestOnlyOptions<T> = {}): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((sub) => {
      let busy = false;
      let pending: { v: T } | undefined;
      let sourceDone = false;
      let inner: Subscription | undefined;

      const run = (input: T): void => {
        busy = true;
        let out: Promise<R> | Observable<R> | R;
        try {
          out = work(input);
        } catch (e) {
          opts.onError?.(e, input);
          finish();
          return;
        }
        const obs = out instanceof Observable || out instanceof Promise ? from(out) : from([out]);
        inner = obs.subscribe({
          next: (r) => sub.next(r),
          error: (e) => {
            opts.onError?.(e, input);
            finish();
          },
          complete: finish,
        });
      };
      const finish = (): void => {
        busy = false;
        inner = undefined;
        if (pending) {
          const next = pending.v;
          pending = undefined;
          run(next);
        } else if (sourceDone) sub.complete();
      };

      const outer = source.subscribe({
        next: (v) => {
          if (!busy) run(v);
          else {
            if (pending) opts.onDrop?.(pending.v);
            pending = { v };
          }
        },
        error: (e) => sub.error(e),
        complete: () => {
          sourceDone = true;
          if (!busy) sub.complete();
        },
      });
      return () => {
        outer.unsubscribe();
        inner?.unsubscribe();
      };
    });
}

export type DeadlineResult<R> =
  | { ok: true; value: R; latencyMs: number }
  | { ok: false; reason: 'deadline'; latencyMs: number }
  | { ok: false; reason: 'error'; error: unknown; latencyMs: number };

/**
 * Runs `work` with an AbortSignal that fires at the deadline (on the clock's time).
 * Resolves at the deadline at the latest, whatever `work` does: a late model never blocks
 * its caller. A late result that arrives after the deadline is discarded.
 */
export function runWithDeadline<R>(clock: Clock, deadlineMs: number, work: (signal: AbortSignal) => Promise<R>): Promise<DeadlineResult<R>> {
  const start = clock.now();
  const ctrl = new AbortController();
  return new Promise<DeadlineResult<R>>((resolve) => {
    let settled = false;
    const timer = clock.scheduler.schedule(() => {
      if (settled) return;
      settled = true;
      ctrl.abort(new DeadlineError(deadlineMs));
      resolve({ ok: false, reason: 'deadline', latencyMs: clock.now() - start });
    }, deadlineMs);
    let p: Promise<R>;
    try {
      p = work(ctrl.signal);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (value) => {
        if (settled) return;
        settled = true;
        timer.unsubscribe();
        resolve({ ok: true, value, latencyMs: clock.now() - start });
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        timer.unsubscribe();
        resolve({ ok: false, reason: 'error', error, latencyMs: clock.now() - start });
      },
    );
  });
}

export class DeadlineError extends Error {
  constructor(readonly deadlineMs: number) {
    super(`deadline of ${deadlineMs} ms exceeded`);
    this.name = 'DeadlineError';
  }
}

// ---- Silent-topic detection ----

/** A topic that must keep publishing: silent when nothing arrived for `periodMs × k`. */
export interface WatchSpec {
  topic: string;
  periodMs: number;
  k: number;
}

export class WatchSpecError extends Error {
  constructor(detail: string) {
    super(`watchdog parameters: ${detail}`);
    this.name = 'WatchSpecError';
  }
}

/** Parallel param arrays (`watch_topics`, `watch_periods_ms`) → specs, with a precise error when they disagree. */
export function watchSpecs(topics: readonly string[], periodsMs: readonly number[], k: number): WatchSpec[] {
  if (topics.length !== periodsMs.length) {
    throw new WatchSpecError(`watch_topics has ${topics.length} entries but watch_periods_ms has ${periodsMs.length}; expected one period per topic`);
  }
  if (!Number.isFinite(k) || k < 1) throw new WatchSpecError(`watch_k must be >= 1, got ${k}`);
  return topics.map((topic, i) => {
    const periodMs = periodsMs[i];
    if (!Number.isFinite(periodMs) || periodMs <= 0) throw new WatchSpecError(`period of '${topic}' must be > 0 ms, got ${periodMs}`);
    return { topic, periodMs, k };
  });
}

/**
 * Watches several topics on a stream of (topic) events and reports the set of silent ones on
 * every change. A topic never heard from counts as silent once its timeout has passed since
 * the watch started, so a node that never comes up is caught too.
 */
export function watchTopics(
  events: Observable<{ topic: string }>,
  scheduler: SchedulerLike,
  specs: readonly WatchSpec[],
  onChange: (silent: ReadonlySet<string>, changed: { topic: string; silent: boolean }) => void,
): Subscription {
  const silent = new Set<string>();
  const timers = new Map<string, Subscription>();
  const timeoutOf = new Map(specs.map((s) => [s.topic, s.periodMs * s.k]));
  const arm = (topic: string, timeoutMs: number): void => {
    timers.get(topic)?.unsubscribe();
    timers.set(
      topic,
      scheduler.schedule(() => {
        silent.add(topic);
        onChange(silent, { topic, silent: true });
      }, timeoutMs),
    );
  };
  for (const [topic, t] of timeoutOf) arm(topic, t);
  const sub = events.subscribe((e) => {
    const t = timeoutOf.get(e.topic);
    if (t === undefined) return;
    arm(e.topic, t);
    if (silent.delete(e.topic)) onChange(silent, { topic: e.topic, silent: false });
  });
  sub.add(() => {
    for (const t of timers.values()) t.unsubscribe();
  });
  return sub;
}

export interface FixedRateTick {
  /** Tick index, from 0. */
  n: number;
  /** Clock time the tick was due (start + (n + 1) × period): lateness = now − due. */
  dueMs: number;
  /** Ticks skipped just before this one because the process was late by whole periods. */
  skipped: number;
}

export interface FixedRateOptions {
  /**
   * System clock only: wake this many ms before each due time and busy-wait to it, so the time
   * the thread needs to get a core back (and the timer's whole-ms granularity) falls before the
   * due time instead of after it. Costs up to this much CPU per period. 0 = off.
   */
  spinMs?: number;
}

/**
 * A drift-free fixed-rate tick on the clock: each tick is scheduled for its absolute due
 * time, so callback time never accumulates into the rate (RxJS `interval` reschedules
 * relative to the callback). A tick late by whole periods skips the ticks it overran
 * (reported in `skipped`) instead of firing a burst. Under SimClock it ticks exactly.
 */
export function fixedRate(clock: Clock, periodMs: number, opts: FixedRateOptions = {}): Observable<FixedRateTick> {
  if (!(periodMs > 0) || !Number.isFinite(periodMs)) throw new Error(`fixedRate: period must be a finite number of ms > 0, got ${periodMs}`);
  const spinMs = opts.spinMs ?? 0;
  if (!(spinMs >= 0 && spinMs < periodMs)) throw new Error(`fixedRate: spinMs must be in [0, period ${periodMs} ms), got ${spinMs}`);
  // Virtual time never advances while a callback spins: a spin under sim time would never end.
  if (spinMs > 0 && clock.kind !== 'system') throw new Error(`fixedRate: spinMs needs the system clock; this clock is '${clock.kind}'`);
  return new Observable<FixedRateTick>((sub) => {
    const start = clock.now();
    let n = 0;
    let timer: Subscription | undefined;
    const arm = (): void => {
      const due = start + (n + 1) * periodMs;
      // The due time rides along as the action's state, so a clock wrapper can measure lateness from it
      // (bench/pipeline.bench.ts) rather than from the wake-up, which a spin puts before it.
      timer = clock.scheduler.schedule<number>(() => {
        while (spinMs > 0 && clock.now() < due) {
          // Busy-wait to the due time: this thread already holds a core.
        }
        const now = clock.now();
        // Late by k whole periods: ticks n..n+k-1 are gone; fire as tick n+k.
        const skipped = Math.max(0, Math.floor((now - due) / periodMs));
        n += skipped;
        const tick: FixedRateTick = { n, dueMs: start + (n + 1) * periodMs, skipped };
        n++;
        arm();
        sub.next(tick);
      }, Math.max(0, due - spinMs - clock.now()), due);
    };
    arm();
    return () => timer?.unsubscribe();
  });
}
