/**
 * A supervised child process for heavy inference. A native crash (SIGSEGV, abort), a hang
 * (SIGSTOP, a stuck native call), runaway memory or the OOM killer ends the child, never the
 * control process: the supervisor rejects the child's pending requests with ChildLostError,
 * reports the state change, and starts a new child after an exponential backoff; `init` runs
 * on every start (load the model again) before the child counts as ready.
 *
 * - Requests carry ids and a per-request deadline; an AbortSignal cancels one (the host's
 *   handler sees its own signal abort) and the call settles when the child answers.
 * - Watchdog: the host sends a heartbeat every `heartbeatMs`; none for `heartbeatTimeoutMs`
 *   (a stopped or wedged child) → SIGKILL and restart. A check that itself ran late by more
 *   than the timeout (this process stalled, not the child) does not count, nor does a silence
 *   while the child waits for a CPU (an overloaded machine: `judgeSilence`), up to 5 timeouts.
 * - Memory: `--max-old-space-size` caps the child's JS heap; its RSS (VmRSS in
 *   /proc/<pid>/status: native allocations too) is polled and the child killed above `memoryCapMb`.
 * - Priority: `nice` is applied to the child's pid at once and by the host to all its threads;
 *   `sched` (a scheduling policy, lib/process/sched.ts) to every thread at ready and by the host.
 *   A policy that cannot be applied fails the start (or kills the child): never silently ignored.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getPriority, setPriority } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENV_HEARTBEAT_MS, ENV_NAME, ENV_NICE, ENV_SCHED, type SerializedError, type ToChild, type ToParent } from './protocol.js';
import { SCHED_POLICIES, SchedPolicyError, isSchedPolicy, setProcessPolicy, type SchedPolicy } from './sched.js';

export type ChildState = 'starting' | 'ready' | 'backoff' | 'failed' | 'stopped';

export interface RestartPolicy {
  /** First restart delay. */
  initialMs: number;
  /** Delay cap; each consecutive failure doubles the delay up to this. */
  maxMs: number;
  /** Give up (state 'failed') after this many consecutive failed starts or losses; 0 = never. */
  maxConsecutive: number;
  /** A child that stayed ready this long resets the backoff to initialMs. */
  resetAfterMs: number;
}

export interface SupervisorOptions {
  /** For reasons and diagnostics, e.g. "perception detector". */
  name: string;
  /** Host script (.ts under tsx, or its compiled .js): a path or file URL. */
  entry: string | URL;
  env?: Record<string, string>;
  /** Nice value of the child relative to this process, 0..19 (0 = as the parent; the sum is capped at 19). */
  nice?: number;
  /**
   * Scheduling policy of every thread of the child (Linux): 'other' (default: as this process),
   * 'batch' (never preempts a running thread when it wakes), 'idle' (runs only on time no normal
   * thread wants, preempted at once when one wakes). See lib/process/sched.ts.
   */
  sched?: SchedPolicy;
  /** RSS cap in MB (native memory included); 0 = none. */
  memoryCapMb?: number;
  /** V8 old-space cap in MB for the child's JS heap; 0 = Node's default. */
  heapMb?: number;
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  /** RSS poll period. */
  pollMs?: number;
  /** A start (spawn + ready + init) taking longer counts as a failed start. */
  startTimeoutMs?: number;
  restart?: Partial<RestartPolicy>;
  /**
   * The first start (configure, before the control loop runs) loads at this process's priority
   * and is lowered to `nice` and `sched` once ready; restarts mid-run load at them already. Default true.
   */
  fastFirstStart?: boolean;
  /** Runs after each spawn, before 'ready' (load the model; replay setup). A throw fails the start. */
  init?: (call: <R>(method: string, arg: unknown, o?: RequestOptions) => Promise<R>) => Promise<void>;
}

export interface StateEvent {
  name: string;
  state: ChildState;
  /** Why the child is not ready (a loss, a failed start), or what happened. */
  reason: string;
  pid: number | undefined;
  /** Children started after the first. */
  restarts: number;
  /** In 'backoff': the delay before the next start. */
  retryInMs?: number;
  /** In 'ready' after a loss: ms from the loss to ready again. */
  downMs?: number;
}

export class ChildLostError extends Error {
  constructor(readonly child: string, readonly reason: string) {
    super(`${child}: child process lost (${reason})`);
    this.name = 'ChildLostError';
  }
}

export class ChildUnavailableError extends Error {
  constructor(readonly child: string, readonly state: ChildState, readonly reason: string) {
    super(`${child}: child process not ready (${state}${reason ? `: ${reason}` : ''})`);
    this.name = 'ChildUnavailableError';
  }
}

export class RequestDeadlineError extends Error {
  constructor(readonly child: string, readonly method: string, readonly deadlineMs: number) {
    super(`${child}: '${method}' got no answer within ${deadlineMs} ms`);
    this.name = 'RequestDeadlineError';
  }
}

/** An error thrown in the child, with its name kept (e.g. ModelLoadError). */
export class ChildError extends Error {
  constructor(e: SerializedError) {
    super(e.message);
    this.name = e.name;
  }
}

export interface RequestOptions {
  /** Reject with RequestDeadlineError after this long (the child keeps running). 0 = none. */
  deadlineMs?: number;
  /** Cancels in the child; the call still settles with the child's answer (or a loss). */
  signal?: AbortSignal;
  /** Not ready: wait for it (up to the deadline) instead of rejecting with ChildUnavailableError. */
  waitReady?: boolean;
  /**
   * Model setup on a ready child (a second model's load, a grammar, a prompt prefix): often
   * synchronous native work that blocks the child's event loop for seconds on a busy machine, so
   * while one is in flight the watchdog bounds silence by startTimeoutMs, as during a start.
   */
  setup?: boolean;
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  cleanup?: () => void;
}

/** Every live supervisor in this process (tests and tools find children by name). */
const live = new Set<Supervisor>();
export function supervisors(): readonly Supervisor[] {
  return [...live];
}

const requireHere = createRequire(import.meta.url);

/** The host script next to `importMetaUrl` with the same extension: `.ts` under tsx, `.js` when compiled. */
export function siblingEntry(importMetaUrl: string, base: string): URL {
  const ext = importMetaUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${base}${ext}`, importMetaUrl);
}

function execArgvFor(entryPath: string, heapMb: number): string[] {
  const a: string[] = [];
  // TypeScript sources: register tsx in the child (by absolute URL: the child's cwd may not see node_modules).
  if (entryPath.endsWith('.ts')) a.push('--import', pathToFileURL(requireHere.resolve('tsx')).href);
  if (heapMb > 0) a.push(`--max-old-space-size=${heapMb}`);
  return a;
}

/** VmRSS of a process in MB, or undefined (gone, or not Linux). */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Main-thread scheduler times of a process in ms (/proc/<pid>/schedstat: on CPU, waiting for a CPU), or undefined. */
export function schedMs(pid: number): { runMs: number; waitMs: number } | undefined {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? { runMs: run / 1e6, waitMs: wait / 1e6 } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A silent child: hung, or only starved? A stopped or deadlocked child neither runs nor waits for a
 * CPU; a starved one is runnable and waits on the run queue while the machine is overloaded. So a
 * silence past the timeout is starvation (tolerated up to `starveCapMs`) when the child's main
 * thread spent at least a quarter of it waiting for a CPU. Pure.
 */
export function judgeSilence(silentMs: number, timeoutMs: number, runQueueWaitMs: number | undefined, starveCapMs: number): 'alive' | 'starved' | 'hang' {
  if (silentMs <= timeoutMs) return 'alive';
  if (runQueueWaitMs !== undefined && runQueueWaitMs >= silentMs / 4 && silentMs <= starveCapMs) return 'starved';
  return 'hang';
}

/** A starved child (waiting for a CPU, not hung) is given this many heartbeat timeouts before the watchdog acts. */
const STARVE_CAP_FACTOR = 5;

export class Supervisor {
  state: ChildState = 'stopped';
  /** Watchdog checks that found the child silent but waiting for a CPU (not killed). */
  starvedChecks = 0;
  reason = '';
  restarts = 0;
  /** Peak RSS seen over all children, MB. */
  peakRssMb = 0;
  lastRssMb = 0;
  /** false while lingering (see ref/unref): the child does not keep this process alive, and a loss stops instead of restarting. */
  private held = true;
  /** The child's nice value: this process's plus `nice` (as the nice command adds), at most 19. */
  effectiveNice = 0;
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(e: StateEvent) => void>();
  private readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private consecutive = 0;
  private killReason: string | undefined;
  private lastBeat = 0;
  /** The child's run-queue wait at its last heartbeat (schedMs). */
  private beatWaitMs: number | undefined;
  private lostAt: number | undefined;
  private readyAt = 0;
  /** Setup requests (RequestOptions.setup) in flight. */
  private setupInFlight = 0;
  private timers: NodeJS.Timeout[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private stderrTail = '';
  private firstStart: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private generation = 0;
  readonly o: Required<Omit<SupervisorOptions, 'init' | 'env' | 'restart'>> & { restart: RestartPolicy; env: Record<string, string>; init?: SupervisorOptions['init'] };

  constructor(opts: SupervisorOptions) {
    const nice = opts.nice ?? 0;
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new Error(`${opts.name}: nice must be an integer in 0..19, got ${nice}`);
    const sched = opts.sched ?? 'other';
    if (!isSchedPolicy(sched)) throw new Error(`${opts.name}: sched must be one of ${SCHED_POLICIES.join(', ')}, got '${String(sched)}'`);
    this.o = {
      name: opts.name,
      entry: opts.entry,
      env: opts.env ?? {},
      nice,
      sched,
      memoryCapMb: opts.memoryCapMb ?? 0,
      heapMb: opts.heapMb ?? 0,
      heartbeatMs: opts.heartbeatMs ?? 250,
      heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? 2000,
      pollMs: opts.pollMs ?? 250,
      startTimeoutMs: opts.startTimeoutMs ?? 60_000,
      fastFirstStart: opts.fastFirstStart ?? true,
      restart: { initialMs: 200, maxMs: 5000, maxConsecutive: 0, resetAfterMs: 10_000, ...opts.restart },
      init: opts.init,
    };
    if (this.o.heartbeatTimeoutMs <= this.o.heartbeatMs) throw new Error(`${opts.name}: heartbeatTimeoutMs (${this.o.heartbeatTimeoutMs}) must exceed heartbeatMs (${this.o.heartbeatMs})`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get name(): string {
    return this.o.name;
  }

  onState(fn: (e: StateEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Starts the first child; resolves when it is ready, rejects with the first start's error (no retry then). */
  start(): Promise<void> {
    if (this.state !== 'stopped') throw new Error(`${this.name}: already started`);
    live.add(this);
    return new Promise((resolve, reject) => {
      this.firstStart = { resolve, reject };
      this.spawn();
    });
  }

  /** Resolves when ready; rejects when the supervisor is failed or stopped, or `signal` aborts. */
  whenReady(signal?: AbortSignal): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'failed' || this.state === 'stopped') return Promise.reject(new ChildUnavailableError(this.name, this.state, this.reason));
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const w = { resolve: () => { signal?.removeEventListener('abort', onAbort); resolve(); }, reject: (e: Error) => { signal?.removeEventListener('abort', onAbort); reject(e); } };
      const onAbort = (): void => {
        this.readyWaiters = this.readyWaiters.filter((x) => x !== w);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.readyWaiters.push(w);
    });
  }

  /** One request to the child. While not ready: rejects with ChildUnavailableError, or waits (waitReady). */
  async request<R>(method: string, arg: unknown, o: RequestOptions = {}): Promise<R> {
    if (this.state !== 'ready') {
      if (!o.waitReady || this.state === 'failed' || this.state === 'stopped') throw new ChildUnavailableError(this.name, this.state, this.reason);
      await this.whenReady(o.signal);
    }
    if (!o.setup) return this.send<R>(method, arg, o);
    this.setupInFlight++;
    try {
      return await this.send<R>(method, arg, o);
    } finally {
      this.setupInFlight--;
    }
  }

  private send<R>(method: string, arg: unknown, o: RequestOptions): Promise<R> {
    const child = this.child;
    if (!child?.connected) return Promise.reject(new ChildUnavailableError(this.name, this.state, this.reason || 'no child'));
    if (o.signal?.aborted) return Promise.reject(o.signal.reason as Error);
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const p: Pending = { method, resolve: resolve as (v: unknown) => void, reject };
      if (o.deadlineMs && o.deadlineMs > 0) {
        p.timer = setTimeout(() => {
          this.settle(id);
          if (this.child?.connected) this.child.send({ t: 'cancel', id } satisfies ToChild);
          reject(new RequestDeadlineError(this.name, method, o.deadlineMs ?? 0));
        }, o.deadlineMs);
      }
      if (o.signal) {
        const signal = o.signal;
        const onAbort = (): void => {
          if (this.child?.connected) this.child.send({ t: 'cancel', id } satisfies ToChild);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending.set(id, p);
      child.send({ t: 'req', id, method, arg } satisfies ToChild);
    });
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    p.cleanup?.();
    return p;
  }

  private emit(extra: Partial<StateEvent> = {}): void {
    const e: StateEvent = { name: this.name, state: this.state, reason: this.reason, pid: this.child?.pid, restarts: this.restarts, ...extra };
    for (const l of this.listeners) l(e);
  }

  private spawn(): void {
    const gen = ++this.generation;
    this.state = 'starting';
    this.killReason = undefined;
    this.stderrTail = '';
    const entryPath = typeof this.o.entry === 'string' ? this.o.entry : fileURLToPath(this.o.entry);
    // Relative to this process, as `nice` does: under `nice -n 10` the LLM's 10 becomes 19 (it stays below control).
    const target = this.o.nice > 0 ? Math.min(19, Math.max(0, getPriority()) + this.o.nice) : 0;
    this.effectiveNice = target;
    const fast = this.o.fastFirstStart && this.restarts === 0;
    const nice = fast ? 0 : target;
    const sched: SchedPolicy = fast ? 'other' : this.o.sched;
    const child = fork(entryPath, [], {
      execArgv: execArgvFor(entryPath, this.o.heapMb),
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ...this.o.env, [ENV_HEARTBEAT_MS]: String(this.o.heartbeatMs), [ENV_NICE]: String(nice), [ENV_SCHED]: sched, [ENV_NAME]: this.name },
    });
    this.child = child;
    if (child.pid !== undefined && nice > 0) {
      try {
        setPriority(child.pid, nice);
      } catch {
        // Not permitted here: the host lowers its own threads anyway.
      }
    }
    const keepTail = (b: Buffer): void => {
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-600);
    };
    child.stdout?.on('data', keepTail);
    child.stderr?.on('data', keepTail);
    this.emit({ reason: this.restarts === 0 ? 'starting' : `restart ${this.restarts}` });
    this.lastBeat = performance.now();
    const startTimer = setTimeout(() => this.kill(`no ready within startTimeoutMs ${this.o.startTimeoutMs}`), this.o.startTimeoutMs);
    this.timers.push(startTimer);
    child.on('message', (m: ToParent) => {
      if (gen !== this.generation) return;
      if (m.t === 'hb') {
        this.lastBeat = performance.now();
        this.beatWaitMs = child.pid ? schedMs(child.pid)?.waitMs : undefined;
        return;
      }
      if (m.t === 'sched-failed') {
        this.failPolicy(gen, m.message);
        return;
      }
      if (m.t === 'ready') {
        this.lastBeat = performance.now();
        void this.onHostReady(gen, startTimer);
        return;
      }
      const p = this.settle(m.id);
      if (!p) return;
      if (m.ok) p.resolve(m.value);
      else p.reject(new ChildError(m.error));
    });
    child.on('error', (e) => {
      if (gen === this.generation) this.kill(`spawn error: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      if (gen !== this.generation) return;
      const tail = this.stderrTail.trim().split('\n').slice(-2).join(' | ');
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      this.onLost(this.killReason ? `${this.killReason} (${how})` : `${how}${tail ? `: ${tail}` : ''}`);
    });
    this.startWatch(gen);
  }

  private async onHostReady(gen: number, startTimer: NodeJS.Timeout): Promise<void> {
    try {
      await this.o.init?.(<R,>(method: string, arg: unknown, o?: RequestOptions) => this.send<R>(method, arg, o ?? {}));
    } catch (e) {
      if (gen !== this.generation) return;
      const err = e instanceof Error ? e : new Error(String(e));
      // The first start fails with the model's own error (a bad model file must fail configure, not loop).
      this.failChild(err, `init failed: ${err.message}`);
      return;
    }
    // Stopped or being killed meanwhile (a refused policy, the watchdog): this child never counts as ready.
    if (gen !== this.generation || this.state !== 'starting' || this.killReason !== undefined) return;
    try {
      this.applyPriority();
    } catch (e) {
      this.failPolicy(gen, (e as Error).message);
      return;
    }
    clearTimeout(startTimer);
    const downMs = this.lostAt === undefined ? undefined : performance.now() - this.lostAt;
    this.lostAt = undefined;
    this.state = 'ready';
    this.readyAt = performance.now();
    this.lastBeat = this.readyAt;
    this.reason = '';
    this.emit({ reason: downMs === undefined ? 'ready' : `ready again after ${downMs.toFixed(0)} ms`, downMs });
    for (const w of this.readyWaiters.splice(0)) w.resolve();
    const fs = this.firstStart;
    this.firstStart = undefined;
    fs?.resolve();
  }

  /**
   * The child to effectiveNice and its policy: the policy on every thread here (throws
   * SchedPolicyError when refused), then both via the host (new threads, every 2 s).
   */
  private applyPriority(): void {
    const child = this.child;
    if (!child?.pid || (this.effectiveNice <= 0 && this.o.sched === 'other')) return;
    if (this.effectiveNice > 0) {
      try {
        setPriority(child.pid, this.effectiveNice);
      } catch {
        // Not permitted: the host lowers its own threads anyway.
      }
    }
    if (this.o.sched !== 'other') setProcessPolicy(this.o.sched, child.pid);
    if (child.connected) child.send({ t: 'priority', nice: this.effectiveNice, sched: this.o.sched } satisfies ToChild);
  }

  /** The policy could not be applied: the first start fails with it (configure fails), a later child is killed. */
  private failPolicy(gen: number, message: string): void {
    if (gen !== this.generation) return;
    const err = new SchedPolicyError(`${this.name}: scheduling policy '${this.o.sched}' could not be applied: ${message}`);
    this.failChild(err, err.message);
  }

  /** A failed first start rejects start() with `err` (and stops); a later child is killed with `killReason`. */
  private failChild(err: Error, killReason: string): void {
    if (this.firstStart) {
      const fs = this.firstStart;
      this.firstStart = undefined;
      this.stop().catch(() => undefined);
      fs.reject(err);
      return;
    }
    this.kill(killReason);
  }

  private startWatch(gen: number): void {
    const period = Math.min(this.o.pollMs, this.o.heartbeatMs);
    let lastCheck = performance.now();
    const t = setInterval(() => {
      if (gen !== this.generation || !this.child?.pid) return;
      const now = performance.now();
      const checkLate = now - lastCheck - period;
      lastCheck = now;
      // Only judge the child when this process itself kept time (a stalled parent sees no beats either).
      // Starting (imports, model load: often synchronous) is bounded by startTimeoutMs instead.
      if (this.state === 'ready' && checkLate < this.o.heartbeatTimeoutMs / 2) {
        const silent = now - this.lastBeat;
        const waitNow = schedMs(this.child.pid)?.waitMs;
        const waited = waitNow !== undefined && this.beatWaitMs !== undefined ? waitNow - this.beatWaitMs : undefined;
        const setup = this.setupInFlight > 0;
        const bound = setup ? Math.max(this.o.startTimeoutMs, this.o.heartbeatTimeoutMs) : this.o.heartbeatTimeoutMs;
        const verdict = judgeSilence(silent, bound, waited, bound * STARVE_CAP_FACTOR);
        if (verdict === 'starved') this.starvedChecks++;
        if (verdict === 'hang') {
          const starving = waited !== undefined && waited >= silent / 4;
          const limit = setup ? `startTimeoutMs ${bound} while a model setup runs` : `heartbeatTimeoutMs ${bound}`;
          this.kill(`hang: no heartbeat for ${silent.toFixed(0)} ms (${limit}${starving ? `; starved past ${STARVE_CAP_FACTOR}x the timeout` : ''})`);
          return;
        }
      }
      const rss = rssMb(this.child.pid);
      if (rss !== undefined) {
        this.lastRssMb = rss;
        this.peakRssMb = Math.max(this.peakRssMb, rss);
        if (this.o.memoryCapMb > 0 && rss > this.o.memoryCapMb) this.kill(`memory cap: RSS ${rss.toFixed(0)} MB > memoryCapMb ${this.o.memoryCapMb}`);
      }
      if (this.state === 'ready' && this.consecutive > 0 && now - this.readyAt > this.o.restart.resetAfterMs) this.consecutive = 0;
    }, period);
    t.unref();
    this.timers.push(t);
  }

  /** An idle spare (kept for reuse) must not keep this process alive: unref the child, its IPC channel and pipes. */
  unref(): void {
    this.held = false;
    this.refChild(false);
  }

  ref(): void {
    this.held = true;
    this.refChild(true);
  }

  private refChild(on: boolean): void {
    const c = this.child;
    if (!c) return;
    const f = on ? 'ref' : 'unref';
    c[f]();
    c.channel?.[f]();
    for (const s of [c.stdout, c.stderr]) (s as unknown as { ref?: () => void; unref?: () => void } | null)?.[f]?.();
  }

  /** Kills the current child (SIGKILL works on a stopped one too); the loss path restarts it. */
  kill(reason: string): void {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.killReason ??= reason;
    this.child.kill('SIGKILL');
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  private onLost(reason: string): void {
    this.clearTimers();
    const err = new ChildLostError(this.name, reason);
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(err);
    this.child = undefined;
    if (this.state === 'stopped') return;
    this.lostAt ??= performance.now();
    this.reason = reason;
    if (this.firstStart) {
      const fs = this.firstStart;
      this.firstStart = undefined;
      this.state = 'failed';
      this.emit();
      for (const w of this.readyWaiters.splice(0)) w.reject(err);
      live.delete(this);
      fs.reject(err);
      return;
    }
    if (!this.held) {
      // An idle spare that died: nobody needs it restarted.
      void this.stop();
      return;
    }
    this.consecutive++;
    const r = this.o.restart;
    if (r.maxConsecutive > 0 && this.consecutive > r.maxConsecutive) {
      this.state = 'failed';
      this.reason = `${reason}; gave up after ${r.maxConsecutive} consecutive restarts`;
      this.emit();
      for (const w of this.readyWaiters.splice(0)) w.reject(new ChildUnavailableError(this.name, 'failed', this.reason));
      live.delete(this);
      return;
    }
    const delay = Math.min(r.maxMs, r.initialMs * 2 ** (this.consecutive - 1));
    this.state = 'backoff';
    this.emit({ retryInMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'backoff') return;
      this.restarts++;
      this.spawn();
    }, delay);
  }

  /** Ends the child (SIGTERM, then SIGKILL after `graceMs`); no restart. `before` runs first while it is still up (release). */
  async stop(graceMs = 1000, before?: () => Promise<void>): Promise<void> {
    if (this.state === 'stopped') return;
    if (before && this.state === 'ready') await before().catch(() => undefined);
    this.state = 'stopped';
    this.reason = 'stopped';
    if (this.restartTimer) clearTimeout(this.restartTimer);
    live.delete(this);
    for (const w of this.readyWaiters.splice(0)) w.reject(new ChildUnavailableError(this.name, 'stopped', 'stopped'));
    const child = this.child;
    this.emit();
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.onLost('stopped');
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
