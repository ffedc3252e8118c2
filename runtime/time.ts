/**
 * ROS 2 time helpers. Stamps on the wire are builtin_interfaces/Time {sec, nanosec};
 * inside the runtime we compute with milliseconds as float64 (sub-microsecond precision
 * at epoch magnitudes), and with bigint nanoseconds where bags need exact 64-bit times.
 */
export interface Time {
  sec: number;
  nanosec: number;
}

export const ZERO_TIME: Time = Object.freeze({ sec: 0, nanosec: 0 }) as Time;

export function msToTime(ms: number): Time {
  let sec = Math.floor(ms / 1000);
  let nanosec = Math.round((ms - sec * 1000) * 1e6);
  if (nanosec >= 1e9) {
    sec += 1;
    nanosec -= 1e9;
  }
  return { sec, nanosec };
}

export function timeToMs(t: Time): number {
  return t.sec * 1000 + t.nanosec / 1e6;
}

export function nsToTime(ns: bigint): Time {
  const sec = ns / 1_000_000_000n;
  return { sec: Number(sec), nanosec: Number(ns - sec * 1_000_000_000n) };
}

export function timeToNs(t: Time): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nanosec);
}

export function nsToMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}

export function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1e6));
}

export function isZeroTime(t: Time): boolean {
  return t.sec === 0 && t.nanosec === 0;
}

/** Age of `stamp` at `nowMs`, in ms. A zero stamp (never set) is infinitely old. */
export function ageMs(stamp: Time, nowMs: number): number {
  return isZeroTime(stamp) ? Number.POSITIVE_INFINITY : nowMs - timeToMs(stamp);
}

export function compareTime(a: Time, b: Time): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nanosec - b.nanosec;
}

export function minTime(stamps: readonly Time[]): Time {
  let best: Time | undefined;
  for (const s of stamps) if (!isZeroTime(s) && (!best || compareTime(s, best) < 0)) best = s;
  return best ?? ZERO_TIME;
}
