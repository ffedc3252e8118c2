/**
 * Children shared by key and kept a while after their last user lets go (an idle spare, not
 * holding this process alive): the next mission in the same process (eval runs, tests, a
 * relaunch) reuses the loaded child instead of paying spawn + imports + model load again.
 */
import type { Supervisor } from './supervisor.js';

/** How long an unused child is kept for reuse. */
export const LINGER_MS = 15_000;

interface Entry<T> {
  sup: Supervisor;
  refs: number;
  timer?: NodeJS.Timeout;
  data: T;
}

export class ChildPool<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /** `exclusive`: a child serves one user at a time (reused only when idle), else it is shared. */
  constructor(private readonly o: { lingerMs?: number; exclusive?: boolean } = {}) {}

  private get lingerMs(): number {
    return this.o.lingerMs ?? LINGER_MS;
  }

  /** The child for `key`: a live one (reused, `fresh` false) or a new one from `make`, started. */
  async acquire(key: string, make: () => { sup: Supervisor; data: T }): Promise<{ sup: Supervisor; data: T; fresh: boolean; pooled: boolean }> {
    let e = this.entries.get(key);
    if (e && (e.sup.state === 'failed' || e.sup.state === 'stopped')) {
      if (e.timer) clearTimeout(e.timer);
      this.entries.delete(key);
      e = undefined;
    }
    if (e && this.o.exclusive && e.refs > 0) {
      // Busy and not shareable: a child of its own, not pooled.
      const m = make();
      await m.sup.start();
      return { sup: m.sup, data: m.data, fresh: true, pooled: false };
    }
    if (e) {
      e.refs++;
      if (e.timer) {
        clearTimeout(e.timer);
        e.timer = undefined;
        e.sup.ref();
      }
      try {
        await e.sup.whenReady();
      } catch (err) {
        e.refs--;
        throw err;
      }
      return { sup: e.sup, data: e.data, fresh: false, pooled: true };
    }
    const m = make();
    const entry: Entry<T> = { sup: m.sup, refs: 1, data: m.data };
    this.entries.set(key, entry);
    try {
      await m.sup.start();
    } catch (err) {
      this.entries.delete(key);
      throw err;
    }
    return { sup: m.sup, data: m.data, fresh: true, pooled: true };
  }

  /** One user fewer; the last one leaves the child idle for `lingerMs`, then stops it (`now`: at once). */
  async release(key: string, now = false): Promise<void> {
    const e = this.entries.get(key);
    if (!e || --e.refs > 0) return;
    if (now || this.lingerMs <= 0 || e.sup.state !== 'ready') {
      this.entries.delete(key);
      await e.sup.stop();
      return;
    }
    e.sup.unref();
    e.timer = setTimeout(() => {
      this.entries.delete(key);
      void e.sup.stop();
    }, this.lingerMs);
    e.timer.unref();
  }
}
