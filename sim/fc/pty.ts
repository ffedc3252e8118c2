/**
 * A real serial pseudo-terminal pair from socat, as the tests and `npm start` use to put the
 * simulated flight controller on one end and the MAVLink bridge on the other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** Path of one end (a symlink to /dev/pts/N). */
  a: string;
  b: string;
  /** socat's pid. */
  pid: number | undefined;
  /** The temp dir holding the links, removed by close() (undefined when the caller chose the paths). */
  dir: string | undefined;
  /** Ends socat, so both /dev/pts ends vanish as when a USB cable is pulled; the link paths stay reusable. */
  unplug(): Promise<void>;
  /** Ends socat and removes the temp dir. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** Use these link paths instead of fresh ones in a temp dir (to reopen the "same device"). */
  a?: string;
  b?: string;
  /** A dir this pair should remove on close() (pass the old pair's `dir` when replugging). */
  dir?: string;
  timeoutMs?: number;
  socat?: string;
}

function findSocat(explicit?: string): string {
  const candidates = explicit ? [explicit] : ['/usr/bin/socat', '/usr/local/bin/socat', '/bin/socat'];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`socat not found (looked at ${candidates.join(', ')}): install socat (apt-get install socat)`);
  return found;
}

/** Starts `socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B` and waits until both links exist. */
export async function startPtyPair(opts: PtyPairOptions = {}): Promise<PtyPair> {
  const socat = findSocat(opts.socat);
  let dir: string | undefined = opts.dir;
  if (!opts.a || !opts.b) dir = mkdtempSync(join(tmpdir(), 'kestrel-pty-'));
  const a = opts.a ?? join(dir as string, 'fc');
  const b = opts.b ?? join(dir as string, 'gcs');
  const child: ChildProcess = spawn(socat, ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited: number | null | undefined;
  const exitP = new Promise<void>((resolve) => child.once('exit', (code) => {
    exited = code;
    resolve();
  }));
  child.once('error', (e) => {
    stderr += `\n${e.message}`;
  });
  const deadline = (opts.timeoutMs ?? 5000);
  const started = process.hrtime.bigint();
  // socat announces "starting data transfer loop" once both ptys are open; the links exist before that.
  while (!(existsSync(a) && existsSync(b) && stderr.includes('starting data transfer loop'))) {
    if (exited !== undefined) throw new Error(`socat exited (code ${exited}) before creating ${a} and ${b}: ${stderr.trim()}`);
    if (Number(process.hrtime.bigint() - started) / 1e6 > deadline) {
      child.kill('SIGTERM');
      throw new Error(`socat did not create ${a} and ${b} within ${deadline} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  async function unplug(): Promise<void> {
    if (exited === undefined) {
      child.kill('SIGTERM');
      await exitP;
    }
  }
  return {
    a,
    b,
    pid: child.pid,
    dir,
    unplug,
    async close(): Promise<void> {
      await unplug();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
