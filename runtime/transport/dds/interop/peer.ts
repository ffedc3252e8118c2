/**
 * The Fast DDS peer (fastdds_peer.cpp) for the interop test and `npm run bench -- dds`: built with g++ on first use
 * and cached under out/cache/dds-peer/<hash of source and compiler>/ (git-ignored), so a suite run does not rebuild it.
 * `peerUnavailable()` says why it cannot be built here (no g++, no Fast DDS headers or libraries); callers skip with it.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(here, 'fastdds_peer.cpp');
const REPO = resolve(here, '..', '..', '..', '..');
const CACHE = join(REPO, 'out', 'cache', 'dds-peer');
const HEADERS = ['/usr/include/fastdds/dds/domain/DomainParticipant.hpp', '/usr/include/fastcdr/Cdr.h'];

function gxxVersion(): string | undefined {
  const r = spawnSync('g++', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : undefined;
}

/** Why the peer cannot be built here, or undefined. */
export function peerUnavailable(): string | undefined {
  if (gxxVersion() === undefined) return 'g++ is not installed (Debian: g++)';
  const missing = HEADERS.filter((h) => !existsSync(h));
  if (missing.length > 0) return `Fast DDS headers missing (${missing.join(', ')}; Debian: libfastrtps-dev)`;
  return undefined;
}

/** The peer binary, built if its cached copy is missing. Throws with g++'s output when the build fails. */
export function peerBinary(): string {
  const why = peerUnavailable();
  if (why) throw new Error(`Fast DDS peer unavailable: ${why}`);
  const src = readFileSync(SOURCE);
  const hash = createHash('sha256').update(src).update(gxxVersion() ?? '').digest('hex').slice(0, 16);
  const bin = join(CACHE, hash, 'fastdds_peer');
  if (existsSync(bin)) return bin;
  mkdirSync(dirname(bin), { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  // -O1: a quarter of -O2's compile time on this file; the peer's speed is Fast DDS's, not its own code's.
  const r = spawnSync('g++', ['-std=c++17', '-O1', '-o', tmp, SOURCE, '-lfastrtps', '-lfastcdr'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the Fast DDS peer failed (g++ exit ${r.status}):\n${r.stderr}`);
  renameSync(tmp, bin); // atomic: a concurrent run sees either no binary or a whole one
  // Builds of older sources are of no further use.
  for (const d of readdirSync(CACHE)) if (d !== hash) rmSync(join(CACHE, d), { recursive: true, force: true });
  return bin;
}

export type PeerEvent = { ev: string } & Record<string, unknown>;

/** A running peer: send it command lines, wait for its JSON events. */
export class FastDdsPeer {
  readonly events: PeerEvent[] = [];
  readonly stderr: string[] = [];
  private waiters: { pred: (e: PeerEvent) => boolean; resolve: (e: PeerEvent) => void }[] = [];
  private exited = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let e: PeerEvent;
      try {
        e = JSON.parse(line) as PeerEvent;
      } catch {
        e = { ev: 'unparsed', line };
      }
      this.events.push(e);
      for (const w of [...this.waiters]) {
        if (w.pred(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    child.on('exit', () => {
      this.exited = true;
    });
  }

  /** `config`: 'loopback' (UDPv4 on 127.0.0.1, 127.0.0.1 as initial peer) or 'localhost_only' (rmw_fastrtps_cpp under ROS_LOCALHOST_ONLY=1). */
  static async start(domain: number, config: 'loopback' | 'localhost_only' = 'loopback'): Promise<FastDdsPeer> {
    const child = spawn(peerBinary(), [String(domain), config], { stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new FastDdsPeer(child);
    await p.waitFor((e) => e.ev === 'ready' || e.ev === 'fatal', 10_000, 'peer start');
    return p;
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** The first event (already seen or still to come) matching `pred`. */
  waitFor(pred: (e: PeerEvent) => boolean, timeoutMs: number, what: string): Promise<PeerEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`Fast DDS peer: no '${what}' within ${timeoutMs} ms (exited: ${this.exited}; stderr: ${this.stderr.join('').slice(-500)})`));
      }, timeoutMs);
      const done = (e: PeerEvent): void => {
        clearTimeout(timer);
        resolvePromise(e);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }

  /** Sends a command and waits for its `ok` (or an error). */
  async command(line: string, timeoutMs = 15_000): Promise<PeerEvent> {
    const cmd = line.split(' ')[0];
    const start = this.events.length;
    this.send(line);
    const e = await this.waitFor((x) => this.events.indexOf(x) >= start && ((x.ev === 'ok' && x.cmd === cmd) || x.ev === 'error'), timeoutMs, line);
    if (e.ev === 'error') throw new Error(`Fast DDS peer: '${line}': ${String(e.what)}`);
    return e;
  }

  received(topic: string): Record<string, unknown>[] {
    return this.events.filter((e) => e.ev === 'recv' && e.topic === topic).map((e) => e.msg as Record<string, unknown>);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.send('quit');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }
}
