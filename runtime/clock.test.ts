import { describe, expect, it } from 'vitest';
import { interval, take, timer } from 'rxjs';
import { SimClock, SystemClock, every, sleep } from './clock.js';
import { ageMs, minTime, msToTime, nsToTime, timeToMs, timeToNs } from './time.js';

describe('SimClock', () => {
  it('fires timers in (due time, scheduling order), and only when advanced', () => {
    const c = new SimClock(1000);
    const log: string[] = [];
    c.scheduler.schedule(() => log.push(`b@${c.now()}`), 20);
    c.scheduler.schedule(() => log.push(`a@${c.now()}`), 10);
    c.scheduler.schedule(() => log.push(`c@${c.now()}`), 20);
    c.scheduler.schedule(() => log.push(`z@${c.now()}`), 0);
    expect(log).toEqual([]);
    c.advanceTo(1015);
    expect(log).toEqual(['z@1000', 'a@1010']);
    expect(c.now()).toBe(1015);
    c.advanceBy(100);
    expect(log).toEqual(['z@1000', 'a@1010', 'b@1020', 'c@1020']);
    expect(c.now()).toBe(1115);
  });

  it('timers scheduled from a timer run in the same advance when due; cancelled ones never run', () => {
    const c = new SimClock(0);
    const log: number[] = [];
    c.scheduler.schedule(() => {
      log.push(c.now());
      c.scheduler.schedule(() => log.push(c.now()), 5);
    }, 10);
    const cancelled = c.scheduler.schedule(() => log.push(-1), 12);
    cancelled.unsubscribe();
    c.advanceTo(100);
    expect(log).toEqual([10, 15]);
  });

  it('time never goes back; re-entrant advance is refused', () => {
    const c = new SimClock(50);
    c.advanceTo(10);
    expect(c.now()).toBe(50);
    c.scheduler.schedule(() => c.advanceBy(1), 1);
    expect(() => c.advanceBy(5)).toThrow(/re-entrantly/);
  });

  it('every() ticks exactly on multiples of the period, with RxJS operators on sim time', () => {
    const c = new SimClock(0);
    const ticks: number[] = [];
    every(c, 50).pipe(take(5)).subscribe(() => ticks.push(c.now()));
    const t2: number[] = [];
    interval(30, c.scheduler).pipe(take(3)).subscribe(() => t2.push(c.now()));
    timer(75, c.scheduler).subscribe(() => t2.push(-c.now()));
    c.advanceTo(1000);
    expect(ticks).toEqual([50, 100, 150, 200, 250]);
    expect(t2).toEqual([30, 60, -75, 90]);
  });

  it('sleep() resolves when sim time reaches it; nextDue() says when', async () => {
    const c = new SimClock(0);
    let done = false;
    void sleep(c, 40).then(() => (done = true));
    expect(c.nextDue()).toBe(40);
    c.advanceTo(39);
    await Promise.resolve();
    expect(done).toBe(false);
    c.advanceTo(40);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(true);
    expect(c.nextDue()).toBeUndefined();
  });
});

describe('SystemClock and time helpers', () => {
  it('is monotonic and near the wall clock; its scheduler runs real timers on its own now()', async () => {
    const c = new SystemClock();
    const a = c.now();
    await sleep(c, 5);
    const b = c.now();
    expect(b).toBeGreaterThan(a);
    expect(Math.abs(a - Date.now())).toBeLessThan(1000);
    expect(c.scheduler.now()).toBeGreaterThanOrEqual(b);
  });

  it('converts stamps without losing nanoseconds', () => {
    expect(msToTime(1234.5)).toEqual({ sec: 1, nanosec: 234_500_000 });
    expect(timeToMs({ sec: 2, nanosec: 500_000 })).toBe(2000.5);
    expect(timeToNs({ sec: 1_700_000_000, nanosec: 123_456_789 })).toBe(1_700_000_000_123_456_789n);
    expect(nsToTime(1_700_000_000_123_456_789n)).toEqual({ sec: 1_700_000_000, nanosec: 123_456_789 });
    expect(msToTime(999.9999999)).toEqual({ sec: 1, nanosec: 0 });
    expect(ageMs({ sec: 0, nanosec: 0 }, 5)).toBe(Number.POSITIVE_INFINITY);
    expect(minTime([{ sec: 0, nanosec: 0 }, { sec: 3, nanosec: 0 }, { sec: 2, nanosec: 5 }])).toEqual({ sec: 2, nanosec: 5 });
  });
});
