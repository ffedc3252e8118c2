/**
 * SIGKILL of a live mission: `kestrel start` (the whole pipeline in one process, its recorder included) is killed
 * without warning, with its process group (what `kill -9` by a supervisor, the OOM killer of a cgroup or a power
 * cut leave), so none of its shutdown runs: no summary, no footer, no metadata.yaml. The recorder's periodic flush
 * (storage.flush_ms, 1 s) bounds the loss: the recording opens (reindexed, the unfinished file reported), every
 * message in it decodes, and its newest message is at most one flush period older than the kill.
 * (nodes/bag/recorder-sigkill.test.ts does the same to `kestrel bag record`, through the same
 * test/support/sigkill.ts; writer-flush.test.ts to the writer.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killMidRecording } from '../support/sigkill.js';

const tmp = mkdtempSync(join(tmpdir(), 'kestrel-mission-kill-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('kestrel start: SIGKILL', () => {
  it('a SIGKILLed live mission leaves a recording that reads back, losing at most the last flush period (1 s)', async () => {
    const out = join(tmp, 'rec');
    const { msgs } = await killMidRecording({
      name: 'mission-sigkill',
      args: ['start', '--duration', '300', '--fc', 'memory', '--perception', 'oracle', '--verbose', '--out', out],
      out,
      // The recorder is activated last: once it records, the whole pipeline runs.
      ready: /\[\/?recorder\]: recording /,
      readyTimeoutMs: 240_000,
      shutdown: /mission passport-queue: stopped|recorded \d+ messages/,
      // Its own process group, so the kill takes the mission's child hosts with it, as a supervisor's would.
      group: true,
    });
    expect(new Set(msgs.map((m) => m.topic)).size).toBeGreaterThan(3);
  }, 300_000);
});
