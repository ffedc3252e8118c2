/**
 * Periodic flush: what a SIGKILL would leave is what is in the file while the writer is still
 * open. With flushMs 200, every message older than about one flush period is on disk, in a
 * complete chunk, before any close.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeMsg } from '../../msgs/index.js';
import { readMcapFile } from './mcap-file.js';
import { createBagWriter } from './writer.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('bag writer periodic flush', () => {
  it('a crash loses at most one flush period: older messages are in the file before close', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kestrel-flush-')), 'bag');
    const w = await createBagWriter(dir, { flushMs: 200, finalizeOnSignal: false });
    const sent: number[] = [];
    const t0 = Date.now();
    // 20 Hz of small messages for 1.2 s: far below the chunk size, so only the timer ends chunks.
    while (Date.now() - t0 < 1200) {
      const now = Date.now();
      void w.write('/chatter', 'std_msgs/msg/String', BigInt(now) * 1_000_000n, makeMsg('std_msgs/msg/String', { data: `t${now}` }));
      sent.push(now);
      await sleep(50);
    }
    await sleep(250); // one flush period after the last message
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.mcap')) as string);
    const onDisk = await readMcapFile(file);
    expect(onDisk.complete).toBe(false); // no footer yet: this is what a SIGKILL leaves
    expect(onDisk.messages.length).toBe(sent.length);
    await w.close();
    const closed = await readMcapFile(file);
    expect(closed.complete).toBe(true);
    expect(closed.messages.map((m) => Number(m.logTime / 1_000_000n))).toEqual(sent);
  });

  it('without new messages, the last one still reaches the file within a flush period', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kestrel-flush-')), 'bag');
    const w = await createBagWriter(dir, { flushMs: 100, finalizeOnSignal: false });
    await w.write('/chatter', 'std_msgs/msg/String', 1n, makeMsg('std_msgs/msg/String', { data: 'only' }));
    await sleep(300);
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.mcap')) as string);
    expect((await readMcapFile(file)).messages).toHaveLength(1);
    await w.close();
  });
});
