/**
 * A host for the supervisor's tests (and nothing else): echoes, crashes natively (abort),
 * hangs, stalls its thread, and allocates without bound (native Buffers, outside the JS heap,
 * so only the RSS cap can stop it).
 */
import { serve } from './host.js';

const hoard: Buffer[] = [];

serve({
  echo: (arg: unknown) => arg,
  pid: () => process.pid,
  /** Takes bytes, answers small: the one-way cost of moving a frame (the bench's transfer figure). */
  size: (arg: { data: Uint8Array }) => arg.data.length,
  sleep: (ms: number, signal: AbortSignal) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => resolve('slept'), ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new Error('sleep aborted'));
      });
    }),
  /** Blocks this thread (as a synchronous native model load does): no heartbeats meanwhile. */
  block: (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until);
    return 'unblocked';
  },
  abort: () => {
    // What a failing native addon does (std::terminate → abort): SIGABRT, no JS error.
    process.abort();
  },
  /** What the host sends when the kernel refuses its scheduling policy (the parent's handling is under test). */
  refuseSched: (msg: string) => {
    process.send?.({ t: 'sched-failed', message: msg });
    return 'sent';
  },
  fail: (msg: string) => {
    const e = new Error(msg);
    e.name = 'TestHostError';
    throw e;
  },
  allocate: (mbPerStep: number) => {
    const step = (): void => {
      hoard.push(Buffer.alloc(mbPerStep * 2 ** 20, 1)); // filled, so the pages are resident
      setTimeout(step, 5);
    };
    step();
    return 'allocating';
  },
});
