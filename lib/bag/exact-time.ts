/**
 * Clocks count float milliseconds, which at epoch magnitude resolve only ~0.25 µs. A player
 * driving a SimClock notes the exact bag time (ns) it set, so a recorder on the same clock
 * stamps messages with the bag's exact 64-bit times instead of a rounded copy.
 */
import type { Clock } from '../../runtime/clock.js';
import { msToNs } from '../../runtime/time.js';

const exact = new WeakMap<Clock, { ms: number; ns: bigint }>();

export function noteExactTime(clock: Clock, ns: bigint): void {
  exact.set(clock, { ms: clock.now(), ns });
}

/** The clock's time in ns: the exact bag time when the clock still reads what the player set. */
export function exactNowNs(clock: Clock): bigint {
  const ms = clock.now();
  const e = exact.get(clock);
  return e && e.ms === ms ? e.ns : msToNs(ms);
}
