/**
 * RxJS operators for real-time pipelines. Names say the policy:
 * - latestOnly: slow work never queues; while busy, only the newest input waits (one slot).
 * - withDeadline: a result that is not ready by the deadline becomes a miss, the work is aborted.
 * - syncApprox: pair messages from two streams whose stamps are within a slop.
 */
import { Observable, from, type OperatorFunction, type SchedulerLike, type Subscription, type MonoTypeOperatorFunction } from 'rxjs';
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

/** Operator form of runWithDeadline: each input becomes one DeadlineResult, in order, never later than the deadline. */
export function withDeadline<T, R>(clock: Clock, deadlineMs: number, work: (input: T, signal: AbortSignal) => Promise<R>): OperatorFunction<T, DeadlineResult<R>> {
  return latestOnly((input: T) => runWithDeadline(clock, deadlineMs, (signal) => work(input, signal)));
}

/**
 * Approximate-time pairing (like message_filters' ApproximateTime for two inputs):
 * emits [a, b] when the newest `a` and newest `b` are within `slopMs` of each other;
 * each message is used at most once.
 */
export function syncApprox<A, B>(other: Observable<B>, slopMs: number, stampOfA: (a: A) => number, stampOfB: (b: B) => number): OperatorFunction<A, [A, B]> {
  return (source) =>
    new Observable<[A, B]>((sub) => {
      let lastA: A | undefined;
      let lastB: B | undefined;
      const tryEmit = (): void => {
        if (lastA === undefined || lastB === undefined) return;
        if (Math.abs(stampOfA(lastA) - stampOfB(lastB)) <= slopMs) {
          const pair: [A, B] = [lastA, lastB];
          lastA = undefined;
          lastB = undefined;
          sub.next(pair);
        }
      };
      const s1 = source.subscribe({ next: (a) => { lastA = a; tryEmit(); }, error: (e) => sub.error(e) });
      const s2 = other.subscribe({ next: (b) => { lastB = b; tryEmit(); }, error: (e) => sub.error(e) });
      return () => {
        s1.unsubscribe();
        s2.unsubscribe();
      };
    });
}

/**
 * Watchdog: passes values through, and calls `onSilent` once when no value arrived for
 * `timeoutMs` of clock time (then again only after values resume and stop again).
 */
export function watchdog<T>(scheduler: SchedulerLike, timeoutMs: number, onSilent: () => void, onResume?: () => void): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((sub) => {
      let silent = false;
      let timer: Subscription | undefined;
      const arm = (): void => {
        timer?.unsubscribe();
        timer = scheduler.schedule(() => {
          silent = true;
          onSilent();
        }, timeoutMs);
      };
      arm();
      const s = source.subscribe({
        next: (v) => {
          if (silent) {
            silent = false;
            onResume?.();
          }
          arm();
          sub.next(v);
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      });
      return () => {
        s.unsubscribe();
        timer?.unsubscribe();
      };
    });
}

// ---- Deadline bookkeeping: budgets, stage counters, silent-topic detection ----

/** Counters a deadline-bound stage reports into (StageStats from runtime/diagnostics.ts fits). */
export interface StageSink {
  record(latencyMs: number): void;
  miss(): void;
  drop(n?: number): void;
  error(e: unknown): void;
}

/** Records every result into `stage` (latency always; a miss on deadline; an error on failure) and passes it on. */
export function recordStage<R>(stage: StageSink): MonoTypeOperatorFunction<DeadlineResult<R>> {
  return (source) =>
    new Observable<DeadlineResult<R>>((sub) =>
      source.subscribe({
        next: (r) => {
          stage.record(r.latencyMs);
          if (!r.ok) {
            if (r.reason === 'deadline') stage.miss();
            else stage.error(r.error);
          }
          sub.next(r);
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      }),
    );
}

/** Only the values that made their deadline; misses and errors are dropped here (count them upstream with recordStage). */
export function onTimeOnly<R>(): OperatorFunction<DeadlineResult<R>, R> {
  return (source) =>
    new Observable<R>((sub) =>
      source.subscribe({
        next: (r) => {
          if (r.ok) sub.next(r.value);
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      }),
    );
}

/**
 * The usual shape of a slow stage: latest-only input (replaced inputs counted as drops),
 * work aborted at `deadlineMs`, latency/misses/errors recorded in `stage`; emits on-time values only.
 */
export function withStageDeadline<T, R>(clock: Clock, stage: StageSink, deadlineMs: number, work: (input: T, signal: AbortSignal) => Promise<R>): OperatorFunction<T, R> {
  return (source) =>
    source.pipe(
      latestOnly((input: T) => runWithDeadline(clock, deadlineMs, (signal) => work(input, signal)), { onDrop: () => stage.drop() }),
      recordStage<R>(stage),
      onTimeOnly<R>(),
    );
}

export class BudgetError extends Error {
  constructor(stage: string, value: number) {
    super(`budget of stage '${stage}': expected a finite number of ms > 0, got ${value}`);
    this.name = 'BudgetError';
  }
}

/**
 * A stage's budget from a params group (`budget_ms.<stage>: 80`), else `defaultMs`.
 * Throws a BudgetError for a budget that is not a positive finite number.
 */
export function stageBudget(budgets: Readonly<Record<string, number>>, stage: string, defaultMs: number): number {
  const v = Object.prototype.hasOwnProperty.call(budgets, stage) ? budgets[stage] : defaultMs;
  if (!Number.isFinite(v) || v <= 0) throw new BudgetError(stage, v);
  return v;
}

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

/**
 * A drift-free fixed-rate tick on the clock: each tick is scheduled for its absolute due
 * time, so callback time never accumulates into the rate (RxJS `interval` reschedules
 * relative to the callback). A tick late by whole periods skips the ticks it overran
 * (reported in `skipped`) instead of firing a burst. Under SimClock it ticks exactly.
 */
export function fixedRate(clock: Clock, periodMs: number): Observable<FixedRateTick> {
  if (!(periodMs > 0) || !Number.isFinite(periodMs)) throw new Error(`fixedRate: period must be a finite number of ms > 0, got ${periodMs}`);
  return new Observable<FixedRateTick>((sub) => {
    const start = clock.now();
    let n = 0;
    let timer: Subscription | undefined;
    const arm = (): void => {
      const due = start + (n + 1) * periodMs;
      timer = clock.scheduler.schedule(() => {
        const now = clock.now();
        // Late by k whole periods: ticks n..n+k-1 are gone; fire as tick n+k.
        const skipped = Math.max(0, Math.floor((now - due) / periodMs));
        n += skipped;
        const tick: FixedRateTick = { n, dueMs: start + (n + 1) * periodMs, skipped };
        n++;
        arm();
        sub.next(tick);
      }, Math.max(0, due - clock.now()));
    };
    arm();
    return () => timer?.unsubscribe();
  });
}
