/**
 * Linux scheduling policy of threads (sched_setscheduler(2) through libc via koffi: Node has
 * only nice). Why not nice alone: a nice-10 LLM thread that the kernel has just picked keeps its
 * core for the rest of its slice (EEVDF protects a running task's slice), so the control tick
 * that wakes on that core waits up to a slice (about 1.5 ms on 2 cores) and, under a busy run
 * queue, several. A thread under SCHED_IDLE is preempted at once by any normal thread that wakes
 * (kernel/sched/fair.c, check_preempt_wakeup_fair), and SCHED_IDLE or SCHED_BATCH threads never
 * wakeup-preempt a normal one (the control thread keeps its core when it wakes them).
 *
 * - `other`: SCHED_OTHER, the default time sharing (nice weights only).
 * - `batch`: SCHED_BATCH, nice weights, but never preempts a running thread on wakeup.
 * - `idle`:  SCHED_IDLE, runs only on time no normal thread wants; always preempted on wakeup.
 *
 * Policies are per thread and inherited by threads created later (clone copies them), as nice is.
 * An unprivileged thread may always lower itself (other → batch → idle); going back up needs
 * CAP_SYS_NICE or RLIMIT_NICE.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { constants, getPriority } from 'node:os';
import { lazyNative, requireKoffi } from '../../runtime/native.js';

export const SCHED_POLICIES = ['other', 'batch', 'idle'] as const;
export type SchedPolicy = (typeof SCHED_POLICIES)[number];

/** Kernel numbers (include/uapi/linux/sched.h). */
const POLICY_NUMBER: Record<SchedPolicy, number> = { other: 0, batch: 3, idle: 5 };
const NUMBER_POLICY = new Map<number, string>([[0, 'other'], [1, 'fifo'], [2, 'rr'], [3, 'batch'], [5, 'idle'], [6, 'deadline']]);
/** Lower rank, higher priority; realtime policies rank above every time-sharing one. */
const RANK: Record<string, number> = { fifo: -1, rr: -1, deadline: -1, other: 0, batch: 1, idle: 2 };

/** Whether a thread under `current` already runs at `target`'s priority or below (never raised). */
export function atOrBelow(current: string, target: SchedPolicy): boolean {
  return (RANK[current] ?? -1) >= RANK[target];
}

export class SchedPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedPolicyError';
  }
}

export function isSchedPolicy(v: string): v is SchedPolicy {
  return (SCHED_POLICIES as readonly string[]).includes(v);
}

interface Sched {
  set(tid: number, policy: number): number;
  /** sched_setattr / sched_getattr (no glibc wrapper before 2.41: raw syscalls); -1 and errno on failure. */
  setattr(tid: number, attr: Buffer): number;
  getattr(tid: number, attr: Buffer): number;
  errno(): number;
}

/** sched_setattr, sched_getattr syscall numbers. */
const SETATTR: Partial<Record<NodeJS.Architecture, [number, number]>> = { x64: [314, 315], arm64: [274, 275] };

const native = lazyNative((): Sched => {
  if (process.platform !== 'linux') throw new Error(`scheduling policies are set on Linux only (this is ${process.platform})`);
  const koffi = requireKoffi();
  const so = koffi.load('libc.so.6');
  // struct sched_param is one int (sched_priority), 0 for every non-realtime policy.
  const fn = so.func('int sched_setscheduler(int pid, int policy, const int *param)');
  const param = Int32Array.of(0);
  const syscall = so.func('long syscall(long number, ...)');
  const nr = SETATTR[process.arch];
  const noAttr = (): number => {
    throw new SchedPolicyError(`sched_setattr: no syscall number known for ${process.arch}`);
  };
  return {
    set: (tid, policy) => fn(tid, policy, param) as number,
    setattr: nr ? (tid, attr) => Number(syscall(nr[0], 'int', tid, 'void *', attr, 'unsigned int', 0)) : noAttr,
    getattr: nr ? (tid, attr) => Number(syscall(nr[1], 'int', tid, 'void *', attr, 'unsigned int', attr.length, 'unsigned int', 0)) : noAttr,
    errno: () => koffi.errno(),
  };
});

function errnoName(n: number): string {
  const e = Object.entries(constants.errno).find(([, v]) => v === n);
  return e ? e[0] : `errno ${n}`;
}

/**
 * The policy of a thread (`tid` a thread id, a process id: its main thread, or 0: the calling
 * thread), from field 41 of /proc/<tid>/stat; undefined when the thread is gone or this is not Linux.
 */
export function threadPolicy(tid: number): string | undefined {
  try {
    const stat = readFileSync(tid === 0 ? '/proc/thread-self/stat' : `/proc/${tid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses) start at field 3.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const n = Number(rest[41 - 3]);
    return NUMBER_POLICY.get(n) ?? `policy ${n}`;
  } catch {
    return undefined;
  }
}

/** Why policies cannot be set here (not Linux, libc not loadable), or undefined when they can. */
export function schedUnavailable(): string | undefined {
  return native.get() ? undefined : `cannot set a scheduling policy: ${native.error()}`;
}

/**
 * Sets one thread (or a process's main thread) to `policy`. Throws SchedPolicyError with the
 * errno's name when the kernel refuses (EPERM: raising a thread back from idle without
 * CAP_SYS_NICE; ESRCH: no such thread).
 */
function checkPolicy(policy: SchedPolicy): void {
  if (!isSchedPolicy(policy)) throw new SchedPolicyError(`unknown scheduling policy '${String(policy)}' (one of ${SCHED_POLICIES.join(', ')})`);
}

export function setThreadPolicy(tid: number, policy: SchedPolicy): void {
  checkPolicy(policy);
  const s = native.get();
  if (!s) throw new SchedPolicyError(schedUnavailable() ?? 'cannot set a scheduling policy');
  if (s.set(tid, POLICY_NUMBER[policy]) !== 0) {
    const err = errnoName(s.errno());
    throw new SchedPolicyError(`sched_setscheduler(${tid}, SCHED_${policy.toUpperCase()}) failed: ${err}${err === 'EPERM' ? ' (raising a thread from a lower policy needs CAP_SYS_NICE)' : ''}`);
  }
}

export interface PolicyReport {
  /** Threads now under `policy`. */
  set: number;
  /** Threads that exited while being set (not an error). */
  gone: number;
}

/**
 * Lowers every thread of process `pid` (default: this one) to `policy`; a thread already there or
 * lower is left alone (never raised), so `other` changes nothing. A thread that exits meanwhile
 * is skipped; any other refusal throws SchedPolicyError (never a silent partial result).
 */
export function setProcessPolicy(policy: SchedPolicy, pid = process.pid): PolicyReport {
  checkPolicy(policy);
  const dir = `/proc/${pid}/task`;
  if (process.platform !== 'linux' || !existsSync(dir)) throw new SchedPolicyError(schedUnavailable() ?? `cannot set a scheduling policy: no ${dir}`);
  let set = 0;
  let gone = 0;
  for (const entry of readdirSync(dir)) {
    const tid = Number(entry);
    if (!Number.isInteger(tid)) continue;
    const now = threadPolicy(tid);
    if (now === undefined) {
      gone++;
      continue;
    }
    if (atOrBelow(now, policy)) {
      set++;
      continue;
    }
    try {
      setThreadPolicy(tid, policy);
      set++;
    } catch (e) {
      if (!existsSync(`${dir}/${entry}`)) gone++;
      else throw e;
    }
  }
  return { set, gone };
}

/** The kernel clamps a custom slice to 0.1..100 ms (kernel/sched/syscalls.c). */
export const SLICE_MIN_US = 100;
export const SLICE_MAX_US = 100_000;

/**
 * Gives one thread (0: the calling one) a custom time slice (Linux 6.12+, EEVDF: `sched_runtime` of sched_setattr for a
 * time-sharing thread), keeping its policy and nice value. A shorter slice than the running
 * thread's lets a waking thread preempt it at once instead of waiting out the runner's protected
 * slice (kernel feature PREEMPT_SHORT); unprivileged. Read back to check: a kernel before 6.12
 * accepts the call and ignores the slice, which throws here rather than pass silently.
 */
export function setThreadSlice(tid: number, sliceUs: number): void {
  if (!Number.isInteger(sliceUs) || sliceUs < SLICE_MIN_US || sliceUs > SLICE_MAX_US) throw new SchedPolicyError(`slice must be an integer in ${SLICE_MIN_US}..${SLICE_MAX_US} µs, got ${sliceUs}`);
  const s = native.get();
  if (!s) throw new SchedPolicyError(schedUnavailable() ?? 'cannot set a time slice');
  const policy = threadPolicy(tid);
  if (policy !== 'other' && policy !== 'batch' && policy !== 'idle') throw new SchedPolicyError(`thread ${tid}: a custom slice is for time-sharing threads (its policy is ${policy ?? 'unknown: gone?'})`);
  // struct sched_attr, version 0 (48 bytes): size, policy, flags, nice, priority, runtime, deadline, period.
  const attr = Buffer.alloc(48);
  attr.writeUInt32LE(48, 0);
  attr.writeUInt32LE(POLICY_NUMBER[policy], 4);
  // SCHED_FLAG_RESET_ON_FORK: threads and processes this thread starts (inference children, V8's workers) get the default slice.
  attr.writeBigUInt64LE(1n, 8);
  // sched_setattr sets nice too: pass the thread's own, or an unprivileged call fails (or, privileged, resets it).
  attr.writeInt32LE(getPriority(tid), 16);
  attr.writeBigUInt64LE(BigInt(sliceUs) * 1000n, 24);
  if (s.setattr(tid, attr) !== 0) throw new SchedPolicyError(`sched_setattr(${tid}, slice ${sliceUs} µs) failed: ${errnoName(s.errno())}`);
  const back = Buffer.alloc(48);
  if (s.getattr(tid, back) !== 0) throw new SchedPolicyError(`sched_getattr(${tid}) failed: ${errnoName(s.errno())}`);
  const got = Number(back.readBigUInt64LE(24) / 1000n);
  if (got !== sliceUs) throw new SchedPolicyError(`thread ${tid}: the kernel kept a slice of ${got} µs, not ${sliceUs} (custom slices need Linux 6.12 or later)`);
}
