/**
 * Approximate-time alignment and fusion into one WorldState. Pure: buffers of stamped
 * samples per input, the sample nearest a driver stamp (within a slop), and the fused
 * snapshot with the age of every input. Nothing here waits: a missing or late input is
 * reported by its age, never waited for.
 */
import { makeMsg, type kestrel_msgs, type sensor_msgs } from '../../msgs/index.js';
import { msToTime } from '../../runtime/time.js';

export interface Sample<T> {
  stampMs: number;
  msg: T;
}

/** The last `capacity` samples of one input, ordered by stamp (late arrivals are inserted in place). */
export class StampBuffer<T> {
  private readonly items: Sample<T>[] = [];
  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error(`StampBuffer capacity must be >= 1, got ${capacity}`);
  }

  push(stampMs: number, msg: T): void {
    let i = this.items.length;
    while (i > 0 && this.items[i - 1].stampMs > stampMs) i--;
    this.items.splice(i, 0, { stampMs, msg });
    if (this.items.length > this.capacity) this.items.shift();
  }

  get size(): number {
    return this.items.length;
  }

  latest(): Sample<T> | undefined {
    return this.items[this.items.length - 1];
  }

  /** The sample whose stamp is nearest `stampMs` (the later one on a tie). */
  nearest(stampMs: number): Sample<T> | undefined {
    let best: Sample<T> | undefined;
    for (const s of this.items) if (!best || Math.abs(s.stampMs - stampMs) <= Math.abs(best.stampMs - stampMs)) best = s;
    return best;
  }
}

export interface Picked<T> {
  sample?: Sample<T>;
  /** Within the slop of the driver stamp. */
  matched: boolean;
}

/** Approximate-time choice: the sample nearest the driver within `slopMs`, else the newest one (unmatched). */
export function pick<T>(buf: StampBuffer<T>, driverMs: number, slopMs: number): Picked<T> {
  const n = buf.nearest(driverMs);
  if (n && Math.abs(n.stampMs - driverMs) <= slopMs) return { sample: n, matched: true };
  return { sample: buf.latest(), matched: false };
}

export interface FuseInputs {
  tracks?: Sample<kestrel_msgs.TrackArray>;
  state?: Sample<kestrel_msgs.VehicleState>;
  imu?: Sample<sensor_msgs.Imu>;
  gps?: Sample<sensor_msgs.NavSatFix>;
  battery?: Sample<sensor_msgs.BatteryState>;
}

export interface FuseOptions {
  now: number;
  maxAgeMs: number;
  frameId: string;
}

/** ENU yaw of a quaternion (rotation about z). */
export function yawOf(q: { x: number; y: number; z: number; w: number }): number {
  return Math.atan2(2 * (q.w * q.z + q.x * q.y), 1 - 2 * (q.y * q.y + q.z * q.z));
}

const INPUT_ORDER = ['tracks', 'fc_state', 'imu', 'gps', 'battery'] as const;

/**
 * The fused snapshot. FC state is the base (the autopilot's estimate is better than raw
 * sensors); GPS and IMU fill in position and heading only when it is missing or stale;
 * a fresh /battery overrides the FC's battery figures. Stale tracks are left out.
 */
export function fuseWorld(inp: FuseInputs, o: FuseOptions): kestrel_msgs.WorldState {
  const samples: Record<(typeof INPUT_ORDER)[number], Sample<unknown> | undefined> = {
    tracks: inp.tracks,
    fc_state: inp.state,
    imu: inp.imu,
    gps: inp.gps,
    battery: inp.battery,
  };
  const fresh = (s: Sample<unknown> | undefined): boolean => s !== undefined && o.now - s.stampMs <= o.maxAgeMs;
  const inputs = INPUT_ORDER.map((name) => {
    const s = samples[name];
    return makeMsg('kestrel_msgs/msg/InputAge', {
      name,
      stamp: s ? msToTime(s.stampMs) : { sec: 0, nanosec: 0 },
      // -1: never received.
      age_ms: s ? o.now - s.stampMs : -1,
      stale: !fresh(s),
    });
  });

  const vehicle = inp.state ? structuredClone(inp.state.msg) : makeMsg('kestrel_msgs/msg/VehicleState', { connected: false, battery_remaining: -1, status_text: 'no /fc/state' });
  const fcFresh = fresh(inp.state);
  if (!fcFresh) {
    if (inp.gps && fresh(inp.gps) && inp.gps.msg.status.status >= 0) {
      vehicle.latitude = inp.gps.msg.latitude;
      vehicle.longitude = inp.gps.msg.longitude;
      vehicle.altitude_amsl = inp.gps.msg.altitude;
    }
    if (inp.imu && fresh(inp.imu)) vehicle.heading = yawOf(inp.imu.msg.orientation);
  }
  if (inp.battery && fresh(inp.battery)) {
    const b = inp.battery.msg;
    vehicle.battery_voltage = b.voltage;
    // BatteryState.percentage is 0..1, NaN when unknown; VehicleState uses -1 for unknown.
    vehicle.battery_remaining = Number.isFinite(b.percentage) ? b.percentage : -1;
  }

  const freshStamps = INPUT_ORDER.map((n) => samples[n]).filter((s): s is Sample<unknown> => fresh(s)).map((s) => s.stampMs);
  const oldest = freshStamps.length > 0 ? Math.min(...freshStamps) : o.now;
  return makeMsg('kestrel_msgs/msg/WorldState', {
    header: { stamp: msToTime(oldest), frame_id: o.frameId },
    vehicle,
    tracks: inp.tracks && fresh(inp.tracks) ? inp.tracks.msg.tracks : [],
    inputs,
  });
}
