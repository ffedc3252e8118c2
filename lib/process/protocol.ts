/** Messages between a Supervisor (parent) and a host script served by serve() (child), over Node IPC. */
import type { SchedPolicy } from './sched.js';

export interface SerializedError {
  name: string;
  message: string;
}

export type ToChild =
  | { t: 'req'; id: number; method: string; arg: unknown }
  /** The parent gave up on request `id` (its signal aborted): the host aborts the handler's signal. */
  | { t: 'cancel'; id: number }
  /** Lower every thread of the child to this nice value (absolute) and scheduling policy, now and every 2 s. */
  | { t: 'priority'; nice: number; sched: SchedPolicy };

export type ToParent =
  | { t: 'hb' }
  | { t: 'ready' }
  /** The host could not apply its scheduling policy (the parent kills it with this reason: never a silent fallback). */
  | { t: 'sched-failed'; message: string }
  | { t: 'res'; id: number; ok: true; value: unknown }
  | { t: 'res'; id: number; ok: false; error: SerializedError };

/** Environment variables the supervisor sets for the host. */
export const ENV_HEARTBEAT_MS = 'KESTREL_CHILD_HEARTBEAT_MS';
export const ENV_NICE = 'KESTREL_CHILD_NICE';
export const ENV_SCHED = 'KESTREL_CHILD_SCHED';
export const ENV_NAME = 'KESTREL_CHILD_NAME';

export function serializeError(e: unknown): SerializedError {
  return e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
}
