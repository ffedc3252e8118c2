/**
 * Supervisor with real child processes (lib/process/test-host.ts): requests, a native abort,
 * SIGKILL, SIGSTOP (watchdog), a child allocating without bound (RSS cap), backoff, deadlines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { threadPolicy } from './sched.js';
import { ChildError, ChildLostError, ChildUnavailableError, RequestDeadlineError, Supervisor, judgeSilence, schedMs, siblingEntry, type StateEvent, type SupervisorOptions } from './supervisor.js';

const ENTRY = siblingEntry(import.meta.url, 'test-host');
const started: Supervisor[] = [];

function make(o: Partial<SupervisorOptions> = {}): { sup: Supervisor; events: StateEvent[] } {
  const sup = new Supervisor({ name: 'test child', entry: ENTRY, restart: { initialMs: 50, maxMs: 400 }, ...o });
  const events: StateEvent[] = [];
  sup.onState((e) => events.push(e));
  started.push(sup);
  return { sup, events };
}

const until = async (cond: () => boolean, ms: number, what: string): Promise<number> => {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - t0;
};

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

describe('Supervisor', () => {
  it('answers requests with ids, keeps the child error name, and honours a per-request deadline', async () => {
    const { sup } = make();
    await sup.start();
    expect(sup.state).toBe('ready');
    const [a, b] = await Promise.all([sup.request('echo', { x: new Uint8Array([1, 2, 3]) }), sup.request('echo', 'two')]);
    expect(a).toEqual({ x: new Uint8Array([1, 2, 3]) });
    expect(b).toBe('two');
    await expect(sup.request('fail', 'bad input')).rejects.toMatchObject({ name: 'TestHostError', message: 'bad input' });
    await expect(sup.request('fail', 'x')).rejects.toBeInstanceOf(ChildError);
    await expect(sup.request('nope', 1)).rejects.toThrow(/no method 'nope'/);
    await expect(sup.request('sleep', 5000, { deadlineMs: 50 })).rejects.toBeInstanceOf(RequestDeadlineError);
    // An abort cancels in the child: the handler's signal fires and the call settles with its answer.
    const ac = new AbortController();
    const p = sup.request('sleep', 5000, { signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    await expect(p).rejects.toThrow('sleep aborted');
    expect(sup.state).toBe('ready');
  });

  it('a native abort in the child rejects its requests with ChildLostError and the child is restarted', async () => {
    const { sup, events } = make();
    await sup.start();
    const pid1 = sup.pid;
    await expect(sup.request('abort', null)).rejects.toBeInstanceOf(ChildLostError);
    expect(sup.state).toBe('backoff');
    expect(sup.reason).toMatch(/SIGABRT/);
    // While down: rejected at once, or waited for.
    await expect(sup.request('echo', 1)).rejects.toBeInstanceOf(ChildUnavailableError);
    expect(await sup.request('echo', 2, { waitReady: true, deadlineMs: 10_000 })).toBe(2);
    expect(sup.pid).not.toBe(pid1);
    expect(sup.restarts).toBe(1);
    const back = events.find((e) => e.state === 'ready' && e.downMs !== undefined);
    expect(back?.downMs).toBeLessThan(5000);
    expect(events.map((e) => e.state)).toEqual(['starting', 'ready', 'backoff', 'starting', 'ready']);
  });

  it('SIGKILL from outside: restart with exponential backoff; gives up after maxConsecutive', async () => {
    const { sup, events } = make({ restart: { initialMs: 40, maxMs: 1000, maxConsecutive: 2 } });
    await sup.start();
    for (let i = 0; i < 3; i++) {
      await until(() => sup.state === 'ready', 10_000, 'ready');
      process.kill(sup.pid as number, 'SIGKILL');
      await until(() => sup.state === 'backoff' || sup.state === 'failed', 5000, 'the loss');
    }
    expect(events.filter((e) => e.state === 'backoff').map((e) => e.retryInMs)).toEqual([40, 80]);
    expect(sup.state).toBe('failed');
    expect(sup.reason).toMatch(/killed by SIGKILL; gave up after 2/);
    await expect(sup.whenReady()).rejects.toBeInstanceOf(ChildUnavailableError);
  });

  it('SIGSTOP: the heartbeat watchdog detects the hang, kills and restarts the child', async () => {
    const { sup, events } = make({ heartbeatMs: 50, heartbeatTimeoutMs: 300 });
    await sup.start();
    const pending = sup.request('sleep', 10_000);
    const t0 = performance.now();
    process.kill(sup.pid as number, 'SIGSTOP');
    await expect(pending).rejects.toThrow(/hang: no heartbeat/);
    const detectMs = performance.now() - t0;
    expect(detectMs).toBeGreaterThanOrEqual(300 - 50 - 20); // timeout minus one beat period and one check period
    expect(detectMs).toBeLessThan(2000);
    await until(() => sup.state === 'ready', 10_000, 'restart');
    expect(events.find((e) => e.state === 'backoff')?.reason).toMatch(/hang: no heartbeat .* \(killed by SIGKILL\)/);
    expect(await sup.request('echo', 'alive')).toBe('alive');
  });

  it('a model setup that blocks the child past the heartbeat timeout is bounded by startTimeoutMs instead; other work is not', async () => {
    const { sup } = make({ heartbeatMs: 50, heartbeatTimeoutMs: 300, startTimeoutMs: 20_000 });
    await sup.start();
    const pid = sup.pid;
    // A synchronous load on a ready child (a second model, a grammar): no beats for 2.5 s, no kill.
    expect(await sup.request('block', 2500, { setup: true })).toBe('unblocked');
    expect(sup.pid).toBe(pid);
    expect(sup.restarts).toBe(0);
    // The same silence outside a setup is a hang (past 5x the timeout even if judged starved).
    await expect(sup.request('block', 2500)).rejects.toThrow(/hang: no heartbeat .*heartbeatTimeoutMs 300/);
    await until(() => sup.state === 'ready', 10_000, 'restart');
  });

  it('a child that allocates without bound is stopped by its RSS cap', async () => {
    const { sup } = make({ memoryCapMb: 200, pollMs: 20 });
    await sup.start();
    await sup.request('allocate', 20);
    await until(() => sup.state !== 'ready', 10_000, 'the cap to trip');
    expect(sup.reason).toMatch(/memory cap: RSS \d+ MB > memoryCapMb 200/);
    expect(sup.peakRssMb).toBeGreaterThan(200);
    expect(sup.peakRssMb).toBeLessThan(600);
    await until(() => sup.state === 'ready', 10_000, 'restart');
  });

  it('sets the nice value (relative to this process) on every thread of the child', async () => {
    const { sup } = make({ nice: 7 });
    await sup.start();
    const want = Math.min(19, getPriority() + 7);
    // Started at this process's priority (fastFirstStart), lowered once ready.
    const threads = (): number[] => readdirSync(`/proc/${sup.pid}/task`).map(Number);
    expect(threads().length).toBeGreaterThan(3); // the main thread, V8's and libuv's workers
    await until(() => threads().every((t) => getPriority(t) === want), 3000, 'every thread lowered');
    // A restart loads at the lowered priority from its first instruction.
    process.kill(sup.pid as number, 'SIGKILL');
    await until(() => sup.restarts === 1 && sup.state === 'ready', 10_000, 'restart');
    expect(threads().map((t) => getPriority(t))).toEqual(threads().map(() => want));
    expect(sup.effectiveNice).toBe(Math.min(19, getPriority() + 7));
  });

  it.runIf(process.platform === 'linux')("sched 'idle' puts every thread of the child under SCHED_IDLE, restarts from their start", async () => {
    const { sup } = make({ sched: 'idle', nice: 3 });
    await sup.start();
    const policies = (): string[] => readdirSync(`/proc/${sup.pid}/task`).map((t) => threadPolicy(Number(t)) ?? 'gone');
    // Applied by the parent to every thread at ready, before start() resolves.
    expect(new Set(policies())).toEqual(new Set(['idle']));
    process.kill(sup.pid as number, 'SIGKILL');
    await until(() => sup.restarts === 1 && sup.state === 'ready', 10_000, 'restart');
    expect(new Set(policies())).toEqual(new Set(['idle']));
  });

  it('a scheduling policy the child cannot apply fails the first start, and kills a later child, with the reason', async () => {
    const first = make({ sched: 'batch', init: async (call) => void (await call('refuseSched', 'EPERM (test)')) });
    await expect(first.sup.start()).rejects.toThrow(/scheduling policy 'batch' could not be applied: EPERM \(test\)/);
    expect(first.sup.state).toBe('stopped');
    const { sup } = make({ sched: 'batch' });
    await sup.start();
    const pid = sup.pid;
    // The kill may beat the reply: the request then fails with the lost child, which is what it reports.
    await sup.request('refuseSched', 'EPERM (later)').catch((e: Error) => expect(e.message).toMatch(/scheduling policy 'batch' could not be applied: EPERM \(later\)/));
    await until(() => sup.pid !== pid && sup.state === 'ready', 10_000, 'killed and restarted');
    expect(sup.reason === '' && sup.restarts).toBe(1);
  });

  it('a failing init fails the first start with its own error (no retry loop)', async () => {
    const { sup } = make({
      init: async (call) => {
        await call('fail', 'model not loadable');
      },
    });
    await expect(sup.start()).rejects.toThrow('model not loadable');
    expect(sup.state).toBe('stopped');
  });

  it('rejects bad parameters with a clear error', () => {
    expect(() => new Supervisor({ name: 'x', entry: ENTRY, nice: 25 })).toThrow(/nice must be an integer in 0..19, got 25/);
    expect(() => new Supervisor({ name: 'x', entry: ENTRY, sched: 'fifo' as 'idle' })).toThrow(/sched must be one of other, batch, idle, got 'fifo'/);
    expect(() => new Supervisor({ name: 'x', entry: ENTRY, heartbeatMs: 500, heartbeatTimeoutMs: 400 })).toThrow(/must exceed heartbeatMs/);
  });
});

describe('watchdog: hung or only starved', () => {
  it('judgeSilence: silence past the timeout is a hang unless the child spent it waiting for a CPU, up to the cap', () => {
    expect(judgeSilence(1500, 2000, 0, 10_000)).toBe('alive');
    expect(judgeSilence(3000, 2000, 0, 10_000)).toBe('hang'); // SIGSTOP, a deadlock: no run-queue wait
    expect(judgeSilence(3000, 2000, undefined, 10_000)).toBe('hang'); // no schedstat: the plain watchdog
    expect(judgeSilence(3000, 2000, 1200, 10_000)).toBe('starved'); // runnable, waiting for a CPU
    expect(judgeSilence(12_000, 2000, 11_000, 10_000)).toBe('hang'); // starved past the cap
  });

  it('schedMs reads this process\'s run and run-queue wait times', () => {
    const a = schedMs(process.pid);
    expect(a).toBeDefined();
    let x = 0;
    for (let i = 0; i < 3e6; i++) x += i;
    expect(x).toBeGreaterThan(0);
    expect(schedMs(process.pid)!.runMs).toBeGreaterThan(a!.runMs);
    expect(schedMs(2 ** 22 + 7)).toBeUndefined();
  });
});
