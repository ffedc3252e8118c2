/**
 * A simulated multicopter: point-mass kinematics in local ENU with acceleration and speed
 * limits, wind drift, ground contact and battery drain. It knows nothing of MAVLink: the
 * simulated flight controller (flight-controller.ts) sets its mode and guidance target,
 * and the world simulator renders the camera from `truth()`.
 */
import { enuToGeo, type GeoOrigin, type GeoPosition } from '../../lib/mavlink/frames.js';

export interface VehicleTruth {
  /** Local ENU metres; z = altitude above ground. */
  x: number;
  y: number;
  z: number;
  vx: number;
  vy: number;
  vz: number;
  /** ENU rad, 0 = east, counter-clockwise. */
  yaw: number;
  armed: boolean;
  mode: string;
  /** 0..1 */
  battery_remaining: number;
  battery_voltage: number;
}

export type { GeoOrigin, GeoPosition } from '../../lib/mavlink/frames.js';
export { enuToGeo, geoToEnu } from '../../lib/mavlink/frames.js';

/** What the flight controller asks the vehicle to do. */
export type GuidanceTarget =
  | { kind: 'idle' }
  | { kind: 'hold' }
  | { kind: 'position'; x: number; y: number; z: number; yaw?: number }
  | { kind: 'velocity'; vx: number; vy: number; vz: number; yaw?: number; yawRate?: number }
  | { kind: 'land' };

export interface SimVehicleOptions {
  origin?: GeoOrigin;
  /** Initial ENU position and yaw. */
  start?: { x: number; y: number; z?: number; yaw?: number };
  maxSpeed?: number;
  maxClimb?: number;
  maxDescent?: number;
  /** Horizontal and vertical acceleration limit, m/s². */
  maxAccel?: number;
  maxYawRate?: number;
  /** Position controller gain, 1/s. */
  positionGain?: number;
  landSpeed?: number;
  /** Battery fraction used per second while armed (hover); 0.001 ≈ 16 min of flight. */
  drainPerSecond?: number;
  /** Cells of the simulated LiPo pack (voltage 3.5..4.2 V per cell). */
  cells?: number;
  /** Time constant (s) with which the controller learns the wind; gusts drift the vehicle until it has. */
  windAdaptS?: number;
}

export const DEFAULT_ORIGIN: GeoOrigin = { lat: 47.397742, lon: 8.545594, alt: 488 };

function clampMag2(x: number, y: number, max: number): [number, number] {
  const m = Math.hypot(x, y);
  return m > max && m > 0 ? [(x * max) / m, (y * max) / m] : [x, y];
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function wrap(a: number): number {
  return Math.atan2(Math.sin(a), Math.cos(a));
}

export class SimVehicle {
  readonly origin: GeoOrigin;
  private readonly o: Required<Omit<SimVehicleOptions, 'origin' | 'start'>>;
  private x: number;
  private y: number;
  private z: number;
  private vx = 0;
  private vy = 0;
  private vz = 0;
  private yaw: number;
  private armed = false;
  private mode = 'MANUAL';
  private battery = 1;
  private wind = { x: 0, y: 0 };
  private windEst = { x: 0, y: 0 };
  private target: GuidanceTarget = { kind: 'idle' };
  /** Where a 'hold' target holds: captured when hold starts. */
  private holdAt: { x: number; y: number; z: number } | undefined;
  private home: { x: number; y: number; z: number };
  private timeMs = 0;

  constructor(opts: SimVehicleOptions = {}) {
    this.origin = opts.origin ?? DEFAULT_ORIGIN;
    this.x = opts.start?.x ?? 0;
    this.y = opts.start?.y ?? 0;
    this.z = Math.max(0, opts.start?.z ?? 0);
    this.yaw = opts.start?.yaw ?? Math.PI / 2;
    this.home = { x: this.x, y: this.y, z: 0 };
    this.o = {
      maxSpeed: opts.maxSpeed ?? 8,
      maxClimb: opts.maxClimb ?? 3,
      maxDescent: opts.maxDescent ?? 2,
      maxAccel: opts.maxAccel ?? 4,
      maxYawRate: opts.maxYawRate ?? Math.PI / 2,
      positionGain: opts.positionGain ?? 1,
      landSpeed: opts.landSpeed ?? 1,
      drainPerSecond: opts.drainPerSecond ?? 0.001,
      cells: opts.cells ?? 4,
      windAdaptS: opts.windAdaptS ?? 2,
    };
  }

  /** Advances the physics by dtMs (call at a fixed rate; the FC does at `physicsHz`). */
  step(dtMs: number): void {
    if (!(dtMs > 0)) return;
    const dt = dtMs / 1000;
    this.timeMs += dtMs;
    const onGround = this.z <= 0;
    let dvx = 0;
    let dvy = 0;
    let dvz = 0;
    let yawRate = 0;
    const t = this.target;
    if (!this.armed || t.kind === 'idle') {
      // Unarmed or idle on the ground: no thrust; in the air an idle vehicle falls (disarmed in flight).
      dvx = 0;
      dvy = 0;
      dvz = onGround ? 0 : -this.o.maxDescent * 2;
    } else if (t.kind === 'velocity') {
      [dvx, dvy] = clampMag2(t.vx, t.vy, this.o.maxSpeed);
      dvz = clamp(t.vz, -this.o.maxDescent, this.o.maxClimb);
      if (t.yawRate !== undefined) yawRate = t.yawRate;
      else if (t.yaw !== undefined) yawRate = wrap(t.yaw - this.yaw) * 2;
    } else if (t.kind === 'land') {
      const h = this.holdAt ?? { x: this.x, y: this.y, z: this.z };
      [dvx, dvy] = clampMag2((h.x - this.x) * this.o.positionGain, (h.y - this.y) * this.o.positionGain, this.o.maxSpeed);
      dvz = -this.o.landSpeed;
    } else {
      const p = t.kind === 'position' ? t : (this.holdAt ?? { x: this.x, y: this.y, z: this.z });
      [dvx, dvy] = clampMag2((p.x - this.x) * this.o.positionGain, (p.y - this.y) * this.o.positionGain, this.o.maxSpeed);
      dvz = clamp((p.z - this.z) * this.o.positionGain, -this.o.maxDescent, this.o.maxClimb);
      if (t.kind === 'position' && t.yaw !== undefined) yawRate = wrap(t.yaw - this.yaw) * 2;
    }
    // The controller tracks ground velocity by commanding air velocity minus its wind estimate.
    const airborne = this.armed && !(onGround && dvz <= 0);
    const a = Math.min(1, dt / this.o.windAdaptS);
    this.windEst.x += (this.wind.x - this.windEst.x) * a;
    this.windEst.y += (this.wind.y - this.windEst.y) * a;
    const windErrX = airborne ? this.wind.x - this.windEst.x : 0;
    const windErrY = airborne ? this.wind.y - this.windEst.y : 0;
    const maxDv = this.o.maxAccel * dt;
    const gvx = this.vx - windErrX;
    const gvy = this.vy - windErrY;
    const [ax, ay] = clampMag2(dvx - gvx, dvy - gvy, maxDv);
    this.vx = gvx + ax + windErrX;
    this.vy = gvy + ay + windErrY;
    this.vz += clamp(dvz - this.vz, -maxDv, maxDv);
    if (!airborne && onGround) {
      this.vx = 0;
      this.vy = 0;
      if (this.vz < 0) this.vz = 0;
    }
    this.x += this.vx * dt;
    this.y += this.vy * dt;
    this.z += this.vz * dt;
    if (this.z <= 0) {
      this.z = 0;
      if (this.vz < 0) this.vz = 0;
      this.vx = 0;
      this.vy = 0;
    }
    this.yaw = wrap(this.yaw + clamp(yawRate, -this.o.maxYawRate, this.o.maxYawRate) * dt);
    if (this.armed) this.battery = Math.max(0, this.battery - this.o.drainPerSecond * dt);
  }

  truth(): VehicleTruth {
    return {
      x: this.x,
      y: this.y,
      z: this.z,
      vx: this.vx,
      vy: this.vy,
      vz: this.vz,
      yaw: this.yaw,
      armed: this.armed,
      mode: this.mode,
      battery_remaining: this.battery,
      battery_voltage: this.o.cells * (3.5 + 0.7 * this.battery),
    };
  }

  /** Steady wind, ENU m/s: drifts the vehicle until the controller has adapted (windAdaptS). */
  setWind(v: { x: number; y: number }): void {
    this.wind = { x: v.x, y: v.y };
  }

  setBatteryRemaining(f: number): void {
    if (!(f >= 0 && f <= 1)) throw new RangeError(`setBatteryRemaining: expected a fraction in 0..1, got ${f}`);
    this.battery = f;
  }

  // --- control surface for the flight controller ---

  setArmed(armed: boolean): void {
    if (armed && !this.armed) this.home = { x: this.x, y: this.y, z: 0 };
    this.armed = armed;
    if (!armed) this.target = { kind: 'idle' };
  }

  isArmed(): boolean {
    return this.armed;
  }

  /** Display name of the mode, as the autopilot names it (e.g. OFFBOARD, GUIDED). */
  setMode(mode: string): void {
    this.mode = mode;
  }

  setTarget(t: GuidanceTarget): void {
    if (t.kind === 'hold' || t.kind === 'land') {
      // A new hold/land captures the current position; repeating it keeps the first capture.
      if (this.target.kind !== t.kind || this.holdAt === undefined) this.holdAt = { x: this.x, y: this.y, z: this.z };
    } else {
      this.holdAt = undefined;
    }
    this.target = t;
  }

  getTarget(): GuidanceTarget {
    return this.target;
  }

  /** On the ground (not necessarily disarmed). */
  landed(): boolean {
    return this.z <= 0.05 && Math.abs(this.vz) < 0.1;
  }

  homePosition(): { x: number; y: number; z: number } {
    return { ...this.home };
  }

  geodetic(): GeoPosition {
    return enuToGeo(this.origin, this.x, this.y, this.z);
  }

  /** Simulated time the vehicle has been stepped, ms. */
  elapsedMs(): number {
    return this.timeMs;
  }
}
