import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { SimClock, SystemClock, sleep, type Clock } from './clock.js';
import { msToTime } from './time.js';
import type { SchedulerAction, Subscription as RxSubscription } from 'rxjs';
import {
  fixedRate,
  latestOnly,
  runWithDeadline,
  watchSpecs,
  watchTopics,
} from './operators.js';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('latestOnly', () => {
  it('never queues: while busy only the newest input waits; replaced ones are reported', async () => {
    const src = new Subject<number>();
    const started: number[] = [];
    const dropped: number[] = [];
    const out: number[] = [];
    const gates: (() => void)[] = [];
    src
      .pipe(
        latestOnly(
          (n: number) =>
            new Promise<number>((r) => {
              started.push(n);
              gates.push(() => r(n * 10));
            }),
          { onDrop: (d) => dropped.push(d) },
        ),
      )
      .subscribe((v) => out.push(v));
    for (const n of [1, 2, 3, 4]) src.next(n);
    expect(started).toEqual([1]);
    expect(dropped).toEqual([2, 3]);
    gates.shift()!();
    await flush();
    expect(started).toEqual([1, 4]);
    gates.shift()!();
    await flush();
    expect(out).toEqual([10, 40]);
  });

  it('an error in the work is reported and the stream goes on', async () => {
    const src = new Subject<number>();
    const errors: string[] = [];
    const out: number[] = [];
    src
      .pipe(
        latestOnly(
          (n: number) => {
            if (n === 2) throw new Error('sync boom');
            if (n === 3) return Promise.reject(new Error('async boom'));
            return n;
          },
          { onError: (e) => errors.push((e as Error).message) },
        ),
      )
      .subscribe((v) => out.push(v));
    src.next(1);
    src.next(2);
    src.next(3);
    await flush();
    src.next(4);
    await flush();
    expect(out).toEqual([1, 4]);
    expect(errors).toEqual(['sync boom', 'async boom']);
  });
});

describe('deadlines', () => {
  it('runWithDeadline: on time → value; late → miss at exactly the deadline, work aborted; throw → error', async () => {
    const c = new SimClock(0);
    const ok = runWithDeadline(c, 50, async () => {
      await sleep(c, 20);
      return 'done';
    });
    let aborted: unknown;
    const late = runWithDeadline(c, 50, (signal) => {
      signal.addEventListener('abort', () => (aborted = signal.reason));
      return new Promise<string>(() => {});
    });
    const bad = runWithDeadline(c, 50, () => {
      throw new Error('no model');
    });
    await flush();
    c.advanceTo(20);
    await flush();
    c.advanceTo(50);
    await flush();
    expect(await ok).toEqual({ ok: true, value: 'done', latencyMs: 20 });
    expect(await late).toEqual({ ok: false, reason: 'deadline', latencyMs: 50 });
    expect((aborted as Error).name).toBe('DeadlineError');
    expect(await bad).toMatchObject({ ok: false, reason: 'error', latencyMs: 0 });
  });

});

describe('watchdogs', () => {
  it('watchTopics(): a topic is silent at exactly last message + period × k, never-heard topics too', () => {
    const c = new SimClock(0);
    const ev = new Subject<{ topic: string }>();
    const changes: string[] = [];
    const sub = watchTopics(ev, c.scheduler, watchSpecs(['/detections', '/plan'], [100, 1000], 3), (silent, ch) =>
      changes.push(`${c.now()} ${ch.topic} ${ch.silent ? 'silent' : 'back'} [${[...silent].join(',')}]`),
    );
    for (let t = 0; t <= 500; t += 100) {
      c.advanceTo(t);
      ev.next({ topic: '/detections' });
      ev.next({ topic: '/other' });
    }
    c.advanceTo(3500);
    ev.next({ topic: '/detections' });
    expect(changes).toEqual(['800 /detections silent [/detections]', '3000 /plan silent [/detections,/plan]', '3500 /detections back [/plan]']);
    sub.unsubscribe();
    c.advanceTo(10_000);
    expect(changes).toHaveLength(3);
  });

  it('watchSpecs(): mismatched params are a clear error', () => {
    expect(() => watchSpecs(['/a'], [], 3)).toThrow(/watch_topics has 1 entries but watch_periods_ms has 0/);
    expect(() => watchSpecs(['/a'], [0], 3)).toThrow(/period of '\/a' must be > 0/);
    expect(() => watchSpecs([], [], 0.5)).toThrow(/watch_k must be >= 1/);
  });
});

describe('fixedRate', () => {
  it('ticks exactly on absolute due times under sim time', () => {
    const c = new SimClock(7);
    const ticks: string[] = [];
    const sub = fixedRate(c, 20).subscribe((t) => ticks.push(`${t.n}@${c.now()} due ${t.dueMs} skip ${t.skipped}`));
    c.advanceTo(70);
    sub.unsubscribe();
    c.advanceTo(200);
    expect(ticks).toEqual(['0@27 due 27 skip 0', '1@47 due 47 skip 0', '2@67 due 67 skip 0']);
  });

  it('a late process skips overrun ticks (reported) instead of bursting, and never drifts', () => {
    // A clock whose timers fire only when the test says, at whatever time it says (a stalled event loop).
    let now = 0;
    const pending: { at: number; run: () => void }[] = [];
    const clock: Clock = {
      kind: 'system',
      now: () => now,
      stamp: () => msToTime(now),
      scheduler: {
        now: () => now,
        schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): RxSubscription {
          const e = { at: now + delay, run: () => work.call(undefined as unknown as SchedulerAction<T>, state) };
          pending.push(e);
          return { unsubscribe: () => pending.splice(pending.indexOf(e), 1) } as unknown as RxSubscription;
        },
      },
    };
    const ticks: [number, number, number][] = [];
    fixedRate(clock, 10).subscribe((t) => ticks.push([t.n, t.dueMs, t.skipped]));
    const fire = (at: number): void => {
      now = at;
      pending.shift()!.run();
    };
    fire(10.5); // half a period late: no skip
    expect(pending[0].at).toBe(20); // next due on the absolute grid, not 10.5 + 10
    fire(47); // 27 ms late for tick 1 (due 20): ticks 1 and 2 are lost
    expect(ticks).toEqual([
      [0, 10, 0],
      [3, 40, 2],
    ]);
    expect(pending[0].at).toBe(50);
    expect(() => fixedRate(clock, 0)).toThrow(/period/);
  });

  it('with spinMs on the system clock, wakes early and never ticks before the due time', async () => {
    const clock = new SystemClock();
    const late: number[] = [];
    const sub = fixedRate(clock, 10, { spinMs: 3 }).subscribe((t) => late.push(clock.now() - t.dueMs));
    await sleep(clock, 125);
    sub.unsubscribe();
    expect(late.length).toBeGreaterThanOrEqual(8);
    // Without the spin, whole-ms timers fire up to 1 ms before the due time.
    for (const l of late) expect(l).toBeGreaterThanOrEqual(0);
  });

  it('refuses a spin under sim time (virtual time never advances inside a spin) and one of a period or more', () => {
    expect(() => fixedRate(new SimClock(0), 20, { spinMs: 2 })).toThrow(/spinMs needs the system clock; this clock is 'sim'/);
    expect(() => fixedRate(new SystemClock(), 20, { spinMs: 20 })).toThrow(/spinMs must be in \[0, period 20 ms\), got 20/);
    expect(() => fixedRate(new SystemClock(), 20, { spinMs: -1 })).toThrow(/spinMs/);
  });
});
