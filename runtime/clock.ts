import { Subscription, interval, timer, firstValueFrom, type Observable, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { msToTime, type Time } from './time.js';

/**
 * Every node reads time from a Clock, never from Date.now(), so that a replay under
 * sim time is deterministic. The clock doubles as an RxJS scheduler: `interval`,
 * `timer`, `timeout`, `debounceTime` all run on bag/sim time when given `clock.scheduler`.
 */
export interface Clock {
  readonly kind: 'system' | 'sim';
  /** Milliseconds since the Unix epoch (system) or since the sim/bag epoch (sim). */
  now(): number;
  stamp(): Time;
  readonly scheduler: SchedulerLike;
}

export class SystemClock implements Clock {
  readonly kind = 'system' as const;
  // performance.now() is monotonic; anchoring it once to the wall clock keeps stamps
  // comparable with other hosts without jumping when NTP slews the wall clock.
  private readonly origin = performance.timeOrigin;
  readonly scheduler: SchedulerLike;

  constructor(scheduler?: SchedulerLike) {
    this.scheduler = scheduler ?? asyncOn(() => this.now());
  }

  now(): number {
    return this.origin + performance.now();
  }

  stamp(): Time {
    return msToTime(this.now());
  }
}

/** A scheduler on real timers whose now() is the given clock (RxJS asyncScheduler uses Date.now()). */
function asyncOn(now: () => number): SchedulerLike {
  return {
    now,
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
      const action = new RealAction<T>(work);
      return action.schedule(state, delay);
    },
  };
}

class RealAction<T> extends Subscription implements SchedulerAction<T> {
  private handle: ReturnType<typeof setTimeout> | undefined;
  constructor(private readonly work: (this: SchedulerAction<T>, state?: T) => void) {
    super(() => this.clear());
  }
  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.clear();
    this.handle = setTimeout(() => {
      this.handle = undefined;
      this.work.call(this, state);
    }, Math.max(0, delay));
    return this;
  }
  private clear(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
  }
}

interface Due {
  at: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

/**
 * Sim time: advances only when told (by a bag player, the simulator or `/clock`).
 * Timers fire in (due time, scheduling order), so the same inputs give the same
 * sequence of callbacks on every run.
 */
export class SimClock implements Clock {
  readonly kind = 'sim' as const;
  private t: number;
  private seq = 0;
  private queue: Due[] = [];
  private flushing = false;
  readonly scheduler: SchedulerLike;

  constructor(startMs = 0) {
    this.t = startMs;
    this.scheduler = {
      now: () => this.t,
      schedule: <T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription => new SimAction<T>(this, work).schedule(state, delay),
    };
  }

  now(): number {
    return this.t;
  }

  stamp(): Time {
    return msToTime(this.t);
  }

  /** @internal */
  enqueue(at: number, run: () => void): Due {
    const due: Due = { at: Math.max(at, this.t), seq: this.seq++, run, cancelled: false };
    // Binary insert keeps the queue ordered by (at, seq).
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const q = this.queue[mid];
      if (q.at < due.at || (q.at === due.at && q.seq < due.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, due);
    return due;
  }

  /** Runs every timer due up to `ms` in time order, then sets the clock to `ms`. Time never goes back. */
  advanceTo(ms: number): void {
    if (this.flushing) throw new Error('SimClock.advanceTo called re-entrantly from a timer callback');
    this.flushing = true;
    try {
      while (this.queue.length > 0 && this.queue[0].at <= ms) {
        const due = this.queue.shift() as Due;
        if (due.cancelled) continue;
        if (due.at > this.t) this.t = due.at;
        due.run();
      }
      if (ms > this.t) this.t = ms;
    } finally {
      this.flushing = false;
    }
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.t + ms);
  }

  /** Time of the next pending timer, if any: lets a replay jump straight to it. */
  nextDue(): number | undefined {
    const next = this.queue.find((d) => !d.cancelled);
    return next?.at;
  }
}

class SimAction<T> extends Subscription implements SchedulerAction<T> {
  private due: Due | undefined;
  constructor(
    private readonly clock: SimClock,
    private readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super(() => this.cancel());
  }
  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.cancel();
    this.due = this.clock.enqueue(this.clock.now() + delay, () => {
      this.due = undefined;
      this.work.call(this, state);
    });
    return this;
  }
  private cancel(): void {
    if (this.due) this.due.cancelled = true;
    this.due = undefined;
  }
}

/** Emits every `periodMs` of the clock's time. */
export function every(clock: Clock, periodMs: number): Observable<number> {
  return interval(periodMs, clock.scheduler);
}

/** Resolves after `ms` of the clock's time. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return firstValueFrom(timer(ms, clock.scheduler)).then(() => undefined);
}
