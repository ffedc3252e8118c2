import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { lowerComputeThreads } from './priority.js';

describe('lowerComputeThreads', () => {
  it.runIf(process.platform === 'linux')('lowers every thread but the main one, and leaves the main thread alone', async () => {
    const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((r) => w.once('online', r));
    const before = getPriority(process.pid);
    const r = lowerComputeThreads(7);
    expect(r.supported).toBe(true);
    expect(r.lowered).toBeGreaterThan(0);
    expect(getPriority(process.pid)).toBe(before);
    const others = readdirSync('/proc/self/task').map(Number).filter((t) => t !== process.pid);
    expect(others.some((t) => { try { return getPriority(t) >= 7; } catch { return false; } })).toBe(true);
    await w.terminate();
  });

  it('refuses a nice value outside 0..19', () => {
    expect(() => lowerComputeThreads(-5)).toThrow(/0\.\.19/);
  });
});
