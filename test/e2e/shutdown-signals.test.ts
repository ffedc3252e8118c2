/**
 * Shutdown on SIGINT and SIGTERM, each sent three ways to a live `kestrel start` with a recording:
 * to the node process directly, to `npm start` (as `timeout -s INT 25 npm start` does), and to the
 * whole process group (a terminal's Ctrl-C, systemd's KillMode=control-group). Every time: the
 * summary is printed, the recording is closed with metadata.yaml after the nodes stopped, with
 * 0 write errors, and readable to its end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KESTREL_ROOT } from '../../runtime/launch/index.js';
import { readMcapFile } from '../../lib/bag/mcap-file.js';

type Way = 'direct' | 'npm' | 'group';
const ARGS = ['--duration', '300', '--fc', 'memory', '--perception', 'oracle', '--verbose'];

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  dir: string;
  stopMs: number;
}

function run(way: Way, sig: NodeJS.Signals): Promise<Outcome> {
  const dir = join(mkdtempSync(join(tmpdir(), `kestrel-sig-${way}-${sig}-`)), 'rec');
  const args = [...ARGS, '--out', dir];
  // npm's own child is node itself (the script execs it); `direct` skips npm.
  const child: ChildProcess =
    way === 'direct'
      ? spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'start', ...args], { cwd: KESTREL_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('npm', ['start', '--silent', '--', ...args], { cwd: KESTREL_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: way === 'group' });
  let out = '';
  let sentAt = 0;
  return new Promise((resolve, reject) => {
    const giveUp = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${way} ${sig}: no exit within 400 s; output:\n${out}`));
    }, 400_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      // Signal once the pipeline runs (the recorder, activated last, has started), not while it loads.
      if (sentAt === 0 && /\[\/?recorder\]: recording /.test(out)) {
        sentAt = Date.now();
        setTimeout(() => {
          if (way === 'group') process.kill(-(child.pid as number), sig);
          else child.kill(sig);
        }, 1500);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(giveUp);
      resolve({ code, signal, out, dir, stopMs: sentAt ? Date.now() - sentAt : -1 });
    });
  });
}

const CASES: [Way, NodeJS.Signals][] = [
  ['direct', 'SIGINT'],
  ['direct', 'SIGTERM'],
  ['npm', 'SIGINT'],
  ['npm', 'SIGTERM'],
  ['group', 'SIGINT'],
  ['group', 'SIGTERM'],
];

describe('kestrel start: SIGINT and SIGTERM, direct, through npm start, and to the process group', () => {
  it('prints the summary and closes the recording (metadata.yaml, 0 write errors) every way', { timeout: 1_200_000 }, async () => {
    // Three at a time: each run loads the whole pipeline.
    const results: Outcome[] = [];
    for (let i = 0; i < CASES.length; i += 3) results.push(...(await Promise.all(CASES.slice(i, i + 3).map(([w, s]) => run(w, s)))));
    for (const [i, r] of results.entries()) {
      const [way, sig] = CASES[i];
      const what = `${way} ${sig}:\n${r.out}`;
      expect(r.stopMs, what).toBeGreaterThan(0);
      expect(r.out, what).toContain(`received ${sig}: stopping the mission`);
      expect(r.out, what).toMatch(/mission passport-queue: stopped after [\d.]+ s of 300 s/);
      expect(r.out, what).toMatch(/recording: .* 0 write errors/);
      expect(r.out, what).not.toMatch(/after close|\/recorder\/record:.*errors [1-9]/);
      expect(r.code, what).toBe(0);
      expect(existsSync(join(r.dir, 'metadata.yaml')), what).toBe(true);
      const mcap = readdirSync(r.dir).filter((f) => f.endsWith('.mcap'));
      expect(mcap.length, what).toBeGreaterThan(0);
      const content = await readMcapFile(join(r.dir, mcap[0]));
      expect(content.complete, what).toBe(true);
      expect(content.messages.length, what).toBeGreaterThan(0);
    }
  });
});
