/**
 * A slow stage as test nodes model one (latest-only input, work aborted at its deadline, counters in a StageStats):
 * built from the runtime's latestOnly and runWithDeadline. No production node has this shape, so it lives here.
 */
import { Observable, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import type { Clock } from '../../runtime/clock.js';
import { latestOnly, runWithDeadline, type DeadlineResult } from '../../runtime/operators.js';

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
