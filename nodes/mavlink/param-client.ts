/**
 * The parameter protocol from the ground-station side: read a parameter by name
 * (PARAM_REQUEST_READ) or set it (PARAM_SET), each answered by a PARAM_VALUE naming it, resent
 * after a timeout up to a bound. PX4 encodes integer parameters bytewise, ArduPilot as a float
 * cast: values are decoded for the autopilot in use. A set is confirmed only when the value
 * that comes back is the one asked for. Timers run on the node clock.
 */
import { common } from 'node-mavlink';
import { timer, type Subscription } from 'rxjs';
import type { Clock } from '../../runtime/clock.js';
import type { Autopilot } from '../../lib/mavlink/modes.js';

const { MavParamType: T } = common;

export type ParamOutcome =
  | { ok: true; name: string; value: number; type: number; attempts: number }
  | { ok: false; name: string; error: string; attempts: number };

export interface ParamClientOptions {
  clock: Clock;
  send(m: InstanceType<typeof common.ParamRequestRead> | InstanceType<typeof common.ParamSet>): boolean;
  autopilot(): Autopilot;
  targetSystem: number;
  targetComponent: number;
  timeoutMs: number;
  retries: number;
}

interface Pending {
  name: string;
  set?: { value: number; type: number };
  attempts: number;
  timer: Subscription | undefined;
  resolve(o: ParamOutcome): void;
}

const f32 = Buffer.alloc(4);

/** A PARAM_VALUE's value as a number, for the autopilot's encoding. */
export function paramFromWire(wire: number, type: number, autopilot: Autopilot): number {
  if (type === T.REAL32 || type === T.REAL64 || autopilot !== 'px4') return wire;
  f32.writeFloatLE(wire, 0);
  return type === T.UINT32 ? f32.readUInt32LE(0) : type === T.UINT8 ? f32.readUInt8(0) : type === T.INT8 ? f32.readInt8(0) : type === T.UINT16 ? f32.readUInt16LE(0) : type === T.INT16 ? f32.readInt16LE(0) : f32.readInt32LE(0);
}

export function paramToWire(value: number, type: number, autopilot: Autopilot): number {
  if (type === T.REAL32 || type === T.REAL64 || autopilot !== 'px4') return value;
  f32.writeInt32LE(value | 0, 0);
  return f32.readFloatLE(0);
}

export class ParamClient {
  private readonly pending = new Map<string, Pending>();
  /** Last value heard for each parameter (also from a full list someone else asked for). */
  readonly values = new Map<string, { value: number; type: number }>();
  unmatched = 0;

  constructor(private readonly o: ParamClientOptions) {}

  get(name: string): Promise<ParamOutcome> {
    return this.start(name, undefined);
  }

  /**
   * Sets a parameter. Its MAVLink type decides the encoding on PX4, so when neither `type` is
   * given nor a PARAM_VALUE for it heard, the parameter is read first (as ground stations,
   * which hold the whole list, effectively do).
   */
  async set(name: string, value: number, type?: number): Promise<ParamOutcome> {
    if (name.length === 0 || name.length > 16) return { ok: false, name, error: `parameter name '${name}' must be 1..16 characters`, attempts: 0 };
    if (!Number.isFinite(value)) return { ok: false, name, error: `value ${value} is not finite`, attempts: 0 };
    let t = type ?? this.values.get(name)?.type;
    if (t === undefined) {
      const read = await this.get(name);
      if (!read.ok) return read;
      t = read.type;
    }
    return this.start(name, { value, type: t });
  }

  private start(name: string, set: Pending['set']): Promise<ParamOutcome> {
    this.pending.get(name)?.resolve({ ok: false, name, error: 'superseded', attempts: 0 });
    return new Promise((resolve) => {
      const p: Pending = { name, set, attempts: 0, timer: undefined, resolve };
      this.pending.set(name, p);
      this.attempt(p);
    });
  }

  private attempt(p: Pending): void {
    const o = this.o;
    let m: InstanceType<typeof common.ParamRequestRead> | InstanceType<typeof common.ParamSet>;
    if (p.set) {
      const s = new common.ParamSet();
      s.paramId = p.name;
      s.paramValue = paramToWire(p.set.value, p.set.type, o.autopilot());
      s.paramType = p.set.type;
      m = s;
    } else {
      const r = new common.ParamRequestRead();
      r.paramId = p.name;
      r.paramIndex = -1;
      m = r;
    }
    m.targetSystem = o.targetSystem;
    m.targetComponent = o.targetComponent;
    p.attempts++;
    if (!o.send(m)) {
      this.finish(p, { ok: false, name: p.name, error: 'link down', attempts: p.attempts });
      return;
    }
    p.timer?.unsubscribe();
    p.timer = timer(o.timeoutMs, o.clock.scheduler).subscribe(() => {
      if (this.pending.get(p.name) !== p) return;
      if (p.attempts > o.retries) this.finish(p, { ok: false, name: p.name, error: `no PARAM_VALUE after ${p.attempts} attempt(s) (unknown parameter?)`, attempts: p.attempts });
      else this.attempt(p);
    });
  }

  private finish(p: Pending, o: ParamOutcome): void {
    p.timer?.unsubscribe();
    if (this.pending.get(p.name) === p) this.pending.delete(p.name);
    p.resolve(o);
  }

  onValue(m: InstanceType<typeof common.ParamValue>): void {
    const name = m.paramId.replace(/\0+$/, '');
    const value = paramFromWire(m.paramValue, m.paramType, this.o.autopilot());
    this.values.set(name, { value, type: m.paramType });
    const p = this.pending.get(name);
    if (!p) {
      this.unmatched++;
      return;
    }
    if (p.set && Math.fround(value) !== Math.fround(p.set.value)) {
      this.finish(p, { ok: false, name, error: `the FC kept ${value} (refused ${p.set.value})`, attempts: p.attempts });
      return;
    }
    this.finish(p, { ok: true, name, value, type: m.paramType, attempts: p.attempts });
  }

  cancelAll(error = 'cancelled'): void {
    for (const p of [...this.pending.values()]) this.finish(p, { ok: false, name: p.name, error, attempts: p.attempts });
  }
}
