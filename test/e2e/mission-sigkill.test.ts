/**
 * SIGKILL of a live mission: `kestrel start` (the whole pipeline in one process, its recorder included) is killed
 * without warning, with its process group (what `kill -9` by a supervisor, the OOM killer of a cgroup or a power
 * cut leave), so none of its shutdown runs: no summary, no footer, no metadata.yaml. The recorder's periodic flush
 * (storage.flush_ms, 1 s) bounds the loss: the recording opens (reindexed, the unfinished file reported), every
 * message in it decodes, and its newest message is at most one flush period older than the kill.
 * (nodes/bag/recorder-sigkill.test.ts does the same to `kestrel bag record`; writer-flush.test.ts to the writer.)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBag } from '../../lib/bag/reader.js';
import { KESTREL_ROOT } from '../../runtime/launch/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-mission-kill-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('kestrel start: SIGKILL', () => {
  it('a SIGKILLed live mission leaves a recording that reads back, losing at most the last flush period (1 s)', async () => {
    const out = join(tmp, 'rec');
    // Its own process group, so the kill takes the mission's child hosts with it, as a supervisor's would.
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start', '--duration', '300', '--fc', 'memory', '--perception', 'oracle', '--verbose', '--out', out], {
      cwd: KESTREL_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const pid = child.pid as number;
    let log = '';
    child.stdout.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr.on('data', (b: Buffer) => (log += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    try {
      const started = Date.now();
      // The recorder is activated last: once it records, the whole pipeline runs.
      while (!/\[\/?recorder\]: recording /.test(log) && child.exitCode === null && Date.now() - started < 240_000) await sleep(100);
      expect(log).toMatch(/\[\/?recorder\]: recording /);
      // Several flush periods of mission, then the kill at a time that is not a flush boundary.
      await sleep(3300);
      const killedNs = BigInt(Date.now()) * 1_000_000n;
      process.kill(-pid, 'SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(log).not.toMatch(/mission passport-queue: stopped|recorded \d+ messages/); // no shutdown ran
      expect(existsSync(join(out, 'metadata.yaml'))).toBe(false);
      expect(readdirSync(out).filter((f) => f.endsWith('.mcap'))).toHaveLength(1);

      const bag = await openBag(out);
      const msgs = [...bag.messagesSync()];
      for (const m of msgs) expect(() => m.decode(), `${m.topic} at ${m.logTimeNs}`).not.toThrow();
      expect(bag.problems().map((p) => p.kind).sort()).toEqual(['reindexed', 'truncated']);
      const topics = new Set(msgs.map((m) => m.topic));
      expect(topics.size).toBeGreaterThan(3);
      const lostMs = Number(killedNs - msgs[msgs.length - 1].logTimeNs) / 1e6;
      console.log(`[mission-sigkill] ${msgs.length} messages on ${topics.size} topics read back; the newest is ${lostMs.toFixed(0)} ms older than the kill`);
      // One flush period (1000 ms), plus what a loaded 2-core machine delays the flush timer by.
      expect(lostMs).toBeLessThan(1250);
      expect(lostMs).toBeGreaterThan(0);
    } finally {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }, 300_000);
});
