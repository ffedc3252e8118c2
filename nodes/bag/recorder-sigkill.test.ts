/**
 * SIGKILL of a real recording process: `kestrel bag record` (the recorder node, in its own process,
 * recording the demo launch at 50 Hz) is killed without warning, so nothing of its shutdown runs:
 * no footer, no summary, no metadata.yaml. What the periodic flush (storage.flush_ms, 1 s) already
 * wrote must read back: the bag opens (reindexed, the unfinished file reported), every message in
 * it decodes, and the newest one is at most one flush period older than the kill (test/support/sigkill.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/support/fixtures.js';
import { killMidRecording } from '../../test/support/sigkill.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-rec-kill-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('recorder: SIGKILL', () => {
  it('a SIGKILLed `kestrel bag record` leaves a bag that reads back, losing at most the last flush period (1 s)', async () => {
    const out = join(tmp, 'rec');
    const { bag, msgs } = await killMidRecording({
      name: 'recorder-sigkill',
      args: ['bag', 'record', '-o', out, '-a', '--launch', join(REPO_ROOT, 'launch/demo.launch.yaml'), 'rate_hz:=50.0'],
      out,
      ready: /recording to/,
      readyTimeoutMs: 60_000,
      shutdown: /recorded \d+ messages/,
      group: false,
    });
    expect(bag.problems().find((p) => p.kind === 'truncated')?.message).toMatch(/without the MCAP footer \(recording not finalized\)|file is truncated/);
    // 50 Hz for about 3 s, less the last flush period at most.
    expect(msgs.filter((m) => m.topic === '/demo/chatter').length).toBeGreaterThan(50);
  }, 120_000);
});
