import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { getPriority, release as osRelease } from 'node:os';
import { SchedPolicyError, atOrBelow, setProcessPolicy, setThreadPolicy, setThreadSlice, threadPolicy, type SchedPolicy } from './sched.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A plain node process with its usual threads (V8's and libuv's workers), kept alive. */
async function sleeper(): Promise<number> {
  const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000); process.stdout.write("up")'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(c);
  await new Promise((r) => c.stdout?.once('data', r));
  return c.pid as number;
}

const policies = (pid: number): (string | undefined)[] => readdirSync(`/proc/${pid}/task`).map((t) => threadPolicy(Number(t)));

describe.runIf(process.platform === 'linux')('scheduling policy', () => {
  it('lowers every thread of a process, and never raises one', async () => {
    const pid = await sleeper();
    expect(threadPolicy(pid)).toBe('other');
    const r = setProcessPolicy('idle', pid);
    expect(r.set).toBeGreaterThan(3);
    expect(new Set(policies(pid))).toEqual(new Set(['idle']));
    // batch is above idle: the threads stay idle.
    setProcessPolicy('batch', pid);
    expect(new Set(policies(pid))).toEqual(new Set(['idle']));
  });

  it('ranks policies: idle below batch below other', () => {
    const order: SchedPolicy[] = ['other', 'batch', 'idle'];
    for (const [i, a] of order.entries()) for (const [j, b] of order.entries()) expect(atOrBelow(a, b)).toBe(i >= j);
    expect(atOrBelow('fifo', 'other')).toBe(false);
  });

  it('refuses with the errno and an unknown policy by name', () => {
    expect(() => setThreadPolicy(2 ** 22 + 7, 'idle')).toThrow(SchedPolicyError);
    expect(() => setThreadPolicy(2 ** 22 + 7, 'idle')).toThrow(/SCHED_IDLE\) failed: ESRCH/);
    expect(() => setThreadPolicy(process.pid, 'fifo' as SchedPolicy)).toThrow(/unknown scheduling policy 'fifo' \(one of other, batch, idle\)/);
    expect(() => setProcessPolicy('idle', 2 ** 22 + 7)).toThrow(/no \/proc\/4194311\/task/);
  });
});

describe.runIf(process.platform === 'linux')('custom time slice', () => {
  const [maj, min] = (/^(\d+)\.(\d+)/.exec(osRelease()) ?? ['', '0', '0']).slice(1).map(Number);
  const release = maj * 100 + min;

  it.runIf(release >= 612)('sets the slice of a thread of another process, keeps its nice and policy', async () => {
    const pid = await sleeper();
    const slice = (p: number): number => Number(/se\.slice\s*:\s*(\d+)/.exec(readFileSync(`/proc/${p}/sched`, 'utf8'))?.[1] ?? -1);
    const nice = getPriority(pid);
    setThreadSlice(pid, 300);
    expect(slice(pid)).toBe(300_000);
    expect(getPriority(pid)).toBe(nice);
    expect(threadPolicy(pid)).toBe('other');
  });

  it('refuses a slice out of the kernel range, and a gone thread', () => {
    expect(() => setThreadSlice(0, 50)).toThrow(/slice must be an integer in 100..100000 µs, got 50/);
    expect(() => setThreadSlice(2 ** 22 + 7, 300)).toThrow(SchedPolicyError);
  });
});
