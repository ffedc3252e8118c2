/**
 * SIGKILL in the middle of a recording, shared by the tests that kill a recording process
 * (nodes/bag/recorder-sigkill.test.ts: `kestrel bag record`; test/e2e/mission-sigkill.test.ts: `kestrel start`).
 * Nothing of the shutdown runs, so what reads back is what the recorder's periodic flush (storage.flush_ms,
 * 1 s) already wrote; the checks every such kill must pass are made here, the rest by each test.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { openBag, type Bag } from '../../lib/bag/reader.js';
import type { BagMessage } from '../../lib/bag/types.js';
import { REPO_ROOT } from './fixtures.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface KillOptions {
  /** Arguments of `cli/main.ts`, the recording to `out` among them. */
  args: string[];
  out: string;
  /** Output that says the recording runs. */
  ready: RegExp;
  readyTimeoutMs: number;
  /** Output that only a shutdown prints (must not appear). */
  shutdown: RegExp;
  /** Kill the whole process group (the child hosts too), as a supervisor's `kill -9` does. */
  group: boolean;
  /** For the log line. */
  name: string;
}

export interface Killed {
  log: string;
  bag: Bag;
  msgs: BagMessage[];
  /** How much older than the kill the newest message read back is. */
  lostMs: number;
}

/**
 * Starts the recording, lets it run several flush periods, SIGKILLs it at a time that is not a flush
 * boundary, and reads it back: killed by the signal, no shutdown output, no metadata.yaml, one .mcap,
 * every message decodes, the bag reindexed and reported truncated, and the newest message at most one
 * flush period older than the kill.
 */
export async function killMidRecording(o: KillOptions): Promise<Killed> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'cli/main.ts'), ...o.args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: o.group,
  });
  const pid = child.pid as number;
  let log = '';
  child.stdout.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
  const kill = (): void => {
    if (o.group) process.kill(-pid, 'SIGKILL');
    else child.kill('SIGKILL');
  };
  let killedNs = 0n;
  try {
    const started = Date.now();
    while (!o.ready.test(log) && child.exitCode === null && Date.now() - started < o.readyTimeoutMs) await sleep(100);
    expect(log).toMatch(o.ready);
    await sleep(3300);
    killedNs = BigInt(Date.now()) * 1_000_000n;
    kill();
    expect(await exited).toBe('SIGKILL');
  } finally {
    try {
      kill();
    } catch {
      // already gone
    }
  }
  expect(log).not.toMatch(o.shutdown);
  expect(existsSync(join(o.out, 'metadata.yaml'))).toBe(false);
  expect(readdirSync(o.out).filter((f) => f.endsWith('.mcap'))).toHaveLength(1);

  const readStart = process.hrtime.bigint();
  const bag = await openBag(o.out);
  const msgs = [...bag.messagesSync()];
  for (const m of msgs) expect(() => m.decode(), `${m.topic} at ${m.logTimeNs}`).not.toThrow();
  const readMs = Number(process.hrtime.bigint() - readStart) / 1e6;
  expect(bag.problems().map((p) => p.kind).sort()).toEqual(['reindexed', 'truncated']);
  const lostMs = Number(killedNs - msgs[msgs.length - 1].logTimeNs) / 1e6;
  console.log(`[${o.name}] ${msgs.length} messages read back in ${readMs.toFixed(0)} ms; the newest is ${lostMs.toFixed(0)} ms older than the kill`);
  // One flush period (1000 ms), plus what a loaded 2-core machine delays the flush timer by.
  expect(lostMs).toBeLessThan(1250);
  expect(lostMs).toBeGreaterThan(0);
  return { log, bag, msgs, lostMs };
}
