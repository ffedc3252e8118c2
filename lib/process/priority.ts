/**
 * Control before compute. On a 2-core board the LLM's and ONNX Runtime's threads share the
 * cores with the event loop that runs the control tick; when the tick's timer fires it must
 * not wait for a compute thread's time slice. Linux nice values are per thread: lowering
 * every thread of this process except the main (event-loop) thread lets the kernel preempt
 * inference for the tick. Threads created later by a lowered thread inherit its value, so
 * call this after models are loaded, and again now and then (it is cheap and idempotent).
 */
import { existsSync, readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

export interface PriorityReport {
  /** Threads whose nice value is now `nice` (or lower priority already). */
  lowered: number;
  /** Threads that could not be changed (exited meanwhile, or not permitted). */
  failed: number;
  /** false where /proc/self/task is missing (not Linux): nothing was done. */
  supported: boolean;
}

/** Lowers every thread but the main one to `nice` (0..19). Never raises a thread. */
export function lowerComputeThreads(nice = 10): PriorityReport {
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw new Error(`lowerComputeThreads: nice must be an integer in 0..19, got ${nice}`);
  if (process.platform !== 'linux' || !existsSync('/proc/self/task')) return { lowered: 0, failed: 0, supported: false };
  let lowered = 0;
  let failed = 0;
  for (const entry of readdirSync('/proc/self/task')) {
    const tid = Number(entry);
    if (!Number.isInteger(tid) || tid === process.pid) continue;
    try {
      if (getPriority(tid) < nice) setPriority(tid, nice);
      lowered++;
    } catch {
      failed++;
    }
  }
  return { lowered, failed, supported: true };
}
