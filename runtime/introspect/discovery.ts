/**
 * Where running Kestrel processes put their introspection sockets, and how a client finds them: one socket per
 * process, `<pid>.sock`, in $KESTREL_RUNTIME_DIR, else $XDG_RUNTIME_DIR/kestrel, else <tmp>/kestrel-<uid>
 * (created mode 0700: only this user can connect).
 */
import { readdirSync, unlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export function introspectionDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KESTREL_RUNTIME_DIR) return env.KESTREL_RUNTIME_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'kestrel');
  return join(tmpdir(), `kestrel-${userInfo().uid}`);
}

export function socketPath(dir: string, pid: number): string {
  return join(dir, `${pid}.sock`);
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface FoundSocket {
  pid: number;
  socket: string;
}

/**
 * The sockets of live processes in `dir`, oldest pid first. Sockets left by processes that died without closing
 * them (a kill -9) are removed on the way.
 */
export function liveSockets(dir: string): FoundSocket[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: FoundSocket[] = [];
  for (const n of names) {
    const m = /^(\d+)\.sock$/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pidAlive(pid)) out.push({ pid, socket: join(dir, n) });
    else {
      try {
        unlinkSync(join(dir, n));
      } catch {
        // Another client removed it first.
      }
    }
  }
  return out.sort((a, b) => a.pid - b.pid);
}

export class DiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

/** The one process to talk to: `pid` when given, else the only live one in `dir`. */
export function chooseSocket(dir: string, pid?: number): FoundSocket {
  const live = liveSockets(dir);
  if (pid !== undefined) {
    const f = live.find((s) => s.pid === pid);
    if (!f) throw new DiscoveryError(`no running Kestrel with pid ${pid} in ${dir} (running: ${live.map((s) => s.pid).join(', ') || 'none'})`);
    return f;
  }
  if (live.length === 0) throw new DiscoveryError(`no running Kestrel found (no <pid>.sock in ${dir}; 'kestrel launch' and 'kestrel start' create one)`);
  if (live.length > 1) throw new DiscoveryError(`${live.length} Kestrel processes are running (pids ${live.map((s) => s.pid).join(', ')}): choose one with --pid`);
  return live[0];
}
