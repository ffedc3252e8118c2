/**
 * Child side of a Supervisor: serves named async handlers over IPC, sends heartbeats, lowers
 * every thread of this process to the supervisor's nice value and scheduling policy (both are
 * per thread on Linux and inherited at thread creation, so threads ONNX Runtime or llama.cpp
 * start later inherit them from the lowered thread that starts them; a periodic pass catches the
 * rest), and exits when the parent goes away (an orphaned model must not keep running).
 */
import { existsSync, readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { ENV_HEARTBEAT_MS, ENV_NICE, ENV_SCHED, serializeError, type ToChild, type ToParent } from './protocol.js';
import { isSchedPolicy, setProcessPolicy, type SchedPolicy } from './sched.js';

export type Handler = (arg: never, signal: AbortSignal) => Promise<unknown> | unknown;

/** Sets every thread of this process (the main one included) to `nice`; never raises one. */
export function niceAllThreads(nice: number): number {
  if (process.platform !== 'linux' || !existsSync('/proc/self/task')) return 0;
  let n = 0;
  for (const entry of readdirSync('/proc/self/task')) {
    const tid = Number(entry);
    try {
      if (getPriority(tid) < nice) setPriority(tid, nice);
      n++;
    } catch {
      // The thread exited meanwhile.
    }
  }
  return n;
}

function send(m: ToParent): void {
  if (process.connected) process.send?.(m);
}

/** Starts serving; call once, after the handlers' own setup, from the host script. */
export function serve(handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('serve(): this script runs only as a supervised child (lib/process/supervisor.ts)');
  const hbMs = Number(process.env[ENV_HEARTBEAT_MS] ?? 250);
  let nice = Number(process.env[ENV_NICE] ?? 0);
  const envSched = process.env[ENV_SCHED] ?? 'other';
  let sched: SchedPolicy = isSchedPolicy(envSched) ? envSched : 'other';
  let schedFailed = !isSchedPolicy(envSched);
  if (schedFailed) send({ t: 'sched-failed', message: `unknown scheduling policy '${envSched}' in ${ENV_SCHED}` });
  const inFlight = new Map<number, AbortController>();
  const lower = (): void => {
    if (nice > 0) niceAllThreads(nice);
    if (sched === 'other' || schedFailed) return;
    try {
      setProcessPolicy(sched);
    } catch (e) {
      // Reported once; the parent kills this child with the reason (a model must not run above its policy unnoticed).
      schedFailed = true;
      send({ t: 'sched-failed', message: (e as Error).message });
    }
  };
  lower();
  const hb = setInterval(() => send({ t: 'hb' }), hbMs);
  const renice = setInterval(lower, 2000);
  renice.unref();
  process.on('disconnect', () => {
    clearInterval(hb);
    process.exit(0);
  });
  process.on('message', (m: ToChild) => {
    if (m.t === 'priority') {
      nice = m.nice;
      sched = m.sched;
      lower();
      return;
    }
    if (m.t === 'cancel') {
      inFlight.get(m.id)?.abort(new Error('cancelled by the parent'));
      return;
    }
    const h = handlers[m.method];
    if (!h) {
      send({ t: 'res', id: m.id, ok: false, error: { name: 'Error', message: `child has no method '${m.method}' (has ${Object.keys(handlers).join(', ')})` } });
      return;
    }
    const ac = new AbortController();
    inFlight.set(m.id, ac);
    void (async () => {
      try {
        const value = await h(m.arg as never, ac.signal);
        send({ t: 'res', id: m.id, ok: true, value });
      } catch (e) {
        send({ t: 'res', id: m.id, ok: false, error: serializeError(e) });
      } finally {
        inFlight.delete(m.id);
      }
    })();
  });
  send({ t: 'ready' });
}
