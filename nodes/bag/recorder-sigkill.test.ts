/**
 * SIGKILL of a real recording process: `kestrel bag record` (the recorder node, in its own process,
 * recording the demo launch at 50 Hz) is killed without warning, so nothing of its shutdown runs:
 * no footer, no summary, no metadata.yaml. What the periodic flush (storage.flush_ms, 1 s) already
 * wrote must read back: the bag opens (reindexed, the unfinished file reported), every message in
 * it decodes, and the newest one is at most one flush period older than the kill.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBag } from '../../lib/bag/reader.js';
import { REPO_ROOT } from '../../test/support/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-rec-kill-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('recorder: SIGKILL', () => {
  it('a SIGKILLed `kestrel bag record` leaves a bag that reads back, losing at most the last flush period (1 s)', async () => {
    const out = join(tmp, 'rec');
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'cli/main.ts'), 'bag', 'record', '-o', out, '-a', '--launch', join(REPO_ROOT, 'launch/demo.launch.yaml'), 'rate_hz:=50.0'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr.on('data', (b: Buffer) => (log += b.toString()));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    const started = Date.now();
    while (!log.includes('recording to') && Date.now() - started < 60_000) await sleep(100);
    expect(log).toContain('recording to');
    // Several flush periods of recording, then the kill at a time that is not a flush boundary.
    await sleep(3300);
    const killedNs = BigInt(Date.now()) * 1_000_000n;
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(log).not.toMatch(/recorded \d+ messages/); // no shutdown ran
    expect(existsSync(join(out, 'metadata.yaml'))).toBe(false);
    expect(readdirSync(out).filter((f) => f.endsWith('.mcap'))).toHaveLength(1);

    const readStart = process.hrtime.bigint();
    const bag = await openBag(out);
    const msgs = [...bag.messagesSync()];
    for (const m of msgs) expect(() => m.decode()).not.toThrow();
    const readMs = Number(process.hrtime.bigint() - readStart) / 1e6;
    expect(bag.problems().map((p) => p.kind).sort()).toEqual(['reindexed', 'truncated']);
    expect(bag.problems().find((p) => p.kind === 'truncated')?.message).toMatch(/without the MCAP footer \(recording not finalized\)|file is truncated/);
    const chatter = msgs.filter((m) => m.topic === '/demo/chatter');
    // 50 Hz for about 3 s, less the last flush period at most.
    expect(chatter.length).toBeGreaterThan(50);
    const lostMs = Number(killedNs - msgs[msgs.length - 1].logTimeNs) / 1e6;
    console.log(`[recorder-sigkill] ${msgs.length} messages read back in ${readMs.toFixed(0)} ms; the newest is ${lostMs.toFixed(0)} ms older than the kill`);
    // One flush period (1000 ms), plus what a loaded 2-core machine delays the timer and the 20 ms publish period.
    expect(lostMs).toBeLessThan(1250);
    expect(lostMs).toBeGreaterThan(0);
  }, 120_000);
});
