/** Messages between a Supervisor (parent) and a host script served by serve() (child), over Node IPC. */

export interface SerializedError {
  name: string;
  message: string;
}

export type ToChild =
  | { t: 'req'; id: number; method: string; arg: unknown }
  /** The parent gave up on request `id` (its signal aborted): the host aborts the handler's signal. */
  | { t: 'cancel'; id: number }
  /** Lower every thread of the child to this nice value (absolute), now and every 2 s. */
  | { t: 'nice'; value: number };

export type ToParent =
  | { t: 'hb' }
  | { t: 'ready' }
  | { t: 'res'; id: number; ok: true; value: unknown }
  | { t: 'res'; id: number; ok: false; error: SerializedError };

/** Environment variables the supervisor sets for the host. */
export const ENV_HEARTBEAT_MS = 'KESTREL_CHILD_HEARTBEAT_MS';
export const ENV_NICE = 'KESTREL_CHILD_NICE';
export const ENV_NAME = 'KESTREL_CHILD_NAME';

export function serializeError(e: unknown): SerializedError {
  return e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };
}
