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
