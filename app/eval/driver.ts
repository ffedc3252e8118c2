/**
 * Drives a composed pipeline under virtual time: jump the SimClock to the next due
 * timer, then let every callback, promise and tracked compute finish before the next
 * jump. Real work (ONNX, llama.cpp) runs at its real speed, but time only moves when
 * the pipeline is quiet, so the same inputs and latency model give the same run.
 */
import type { SimClock } from '../../runtime/clock.js';
import type { ComputeTracker } from '../../runtime/compute.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Waits until no tracked compute is in flight and the event loop has nothing immediate left. */
export async function settle(compute: ComputeTracker): Promise<void> {
  for (;;) {
    await tick();
    if (compute.busy) {
      await compute.idle();
      continue;
    }
    await tick();
    if (!compute.busy) return;
  }
}

export interface VirtualRunOptions {
  /** Called after each advance with the current sim time, for progress bars. */
  onAdvance?: (nowMs: number) => void;
  /** Stop early when this returns true. */
  stop?: () => boolean;
}

export async function runVirtual(clock: SimClock, compute: ComputeTracker, untilMs: number, o: VirtualRunOptions = {}): Promise<void> {
  await settle(compute);
  while (clock.now() < untilMs && !o.stop?.()) {
    const next = clock.nextDue();
    const target = next === undefined || next > untilMs ? untilMs : next;
    clock.advanceTo(target);
    await settle(compute);
    o.onAdvance?.(clock.now());
  }
}
