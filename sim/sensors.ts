/**
 * Simulated IMU and GPS with seeded noise, and the wind that pushes the vehicle. Each model
 * owns its own random stream, so adding a sensor does not change another's noise.
 *
 * IMU (REP 103/145): body frame FLU, orientation relative to ENU. The vehicle is taken to
 * be a multicopter: it tilts so its thrust gives the acceleration it makes, so the
 * accelerometer reads the specific force along body z plus noise and bias, and roll/pitch
 * follow from the acceleration. GPS: flat-earth mapping of local ENU to lat/lon around the
 * scenario origin (the same mapping as the flight controller's GLOBAL_POSITION_INT), with a
 * slowly wandering (Gauss-Markov) error plus white noise.
 */
import type { VehicleTruth } from './fc/vehicle.js';
import { makeMsg, type sensor_msgs, type std_msgs } from '../msgs/index.js';
import { NavSatFixConstants, NavSatStatusConstants } from '../msgs/generated/sensor_msgs.js';
import { wrapAngle, type Vec2 } from '../lib/geo/geometry.js';
import { Rng } from './rng.js';
import type { GustSpec } from './scenario.js';

export const GRAVITY = 9.80665;
const EARTH_RADIUS = 6378137;

export interface GeoOrigin {
  lat: number;
  lon: number;
  alt: number;
}

/** Local ENU metres → lat/lon/alt (flat earth; fine over a few km). */
export function enuToLatLon(origin: GeoOrigin, x: number, y: number, z: number): GeoOrigin {
  return {
    lat: origin.lat + (y / EARTH_RADIUS) * (180 / Math.PI),
    lon: origin.lon + (x / (EARTH_RADIUS * Math.cos((origin.lat * Math.PI) / 180))) * (180 / Math.PI),
    alt: origin.alt + z,
  };
}

/** Kinematic state the sensors sample: ENU position/velocity and ENU yaw. */
export type KinematicState = Pick<VehicleTruth, 'x' | 'y' | 'z' | 'vx' | 'vy' | 'vz' | 'yaw'>;

/** Steady wind plus scripted gusts (smooth rise and fall) plus seeded turbulence. ENU m/s. */
export class WindModel {
  private turb = { x: 0, y: 0 };
  private readonly rng: Rng;

  constructor(
    private readonly spec: { base: Vec2; turbulence: number; gusts: readonly GustSpec[] },
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }

  /** Advances the turbulence (Ornstein-Uhlenbeck, 3 s correlation) by dt seconds. */
  step(dt: number): void {
    const tau = 3;
    const a = Math.exp(-dt / tau);
    const s = this.spec.turbulence * Math.sqrt(1 - a * a);
    this.turb = { x: this.turb.x * a + s * this.rng.normal(), y: this.turb.y * a + s * this.rng.normal() };
  }

  /** The wind at time t (s). */
  at(t: number): Vec2 {
    let x = this.spec.base.x + this.turb.x;
    let y = this.spec.base.y + this.turb.y;
    for (const g of this.spec.gusts) {
      const f = (t - g.at_s) / g.duration_s;
      if (f <= 0 || f >= 1) continue;
      const env = Math.sin(Math.PI * f) ** 2;
      x += Math.cos(g.dir) * g.speed * env;
      y += Math.sin(g.dir) * g.speed * env;
    }
    return { x, y };
  }
}

export interface ImuNoise {
  /** White noise, m/s² and rad/s (1 sigma per sample). */
  accel_sigma: number;
  gyro_sigma: number;
  /** Constant bias drawn once per run, up to this magnitude. */
  accel_bias: number;
  gyro_bias: number;
  /** Attitude estimate noise, rad. */
  attitude_sigma: number;
}

export const DEFAULT_IMU_NOISE: ImuNoise = { accel_sigma: 0.03, gyro_sigma: 0.002, accel_bias: 0.05, gyro_bias: 0.003, attitude_sigma: 0.005 };

/** Quaternion from roll, pitch, yaw (ZYX, as tf2's setRPY). */
export function quaternionFromRpy(roll: number, pitch: number, yaw: number): { x: number; y: number; z: number; w: number } {
  const cr = Math.cos(roll / 2), sr = Math.sin(roll / 2);
  const cp = Math.cos(pitch / 2), sp = Math.sin(pitch / 2);
  const cy = Math.cos(yaw / 2), sy = Math.sin(yaw / 2);
  return { w: cr * cp * cy + sr * sp * sy, x: sr * cp * cy - cr * sp * sy, y: cr * sp * cy + sr * cp * sy, z: cr * cp * sy - sr * sp * cy };
}

export class ImuModel {
  private readonly rng: Rng;
  private readonly ab: [number, number, number];
  private readonly gb: [number, number, number];
  private prev: { s: KinematicState; roll: number; pitch: number } | undefined;

  constructor(seed: number, private readonly noise: ImuNoise = DEFAULT_IMU_NOISE) {
    this.rng = new Rng(seed);
    const b = (m: number): [number, number, number] => [this.rng.uniform(-m, m), this.rng.uniform(-m, m), this.rng.uniform(-m, m)];
    this.ab = b(noise.accel_bias);
    this.gb = b(noise.gyro_bias);
  }

  /** One reading from the state now and the time since the previous reading (s). */
  sample(s: KinematicState, dt: number, header: std_msgs.Header): sensor_msgs.Imu {
    const p = this.prev;
    const ax = p && dt > 0 ? (s.vx - p.s.vx) / dt : 0;
    const ay = p && dt > 0 ? (s.vy - p.s.vy) / dt : 0;
    const az = p && dt > 0 ? (s.vz - p.s.vz) / dt : 0;
    // Specific force in ENU; thrust (body z) points along it.
    const fx = ax;
    const fy = ay;
    const fz = az + GRAVITY;
    const c = Math.cos(s.yaw);
    const sn = Math.sin(s.yaw);
    const fxh = c * fx + sn * fy;
    const fyh = -sn * fx + c * fy;
    const pitch = Math.atan2(fxh, fz);
    const roll = Math.atan2(-fyh, Math.hypot(fxh, fz));
    const fmag = Math.hypot(fx, fy, fz);
    const n = this.noise;
    const rollRate = p && dt > 0 ? (roll - p.roll) / dt : 0;
    const pitchRate = p && dt > 0 ? (pitch - p.pitch) / dt : 0;
    const yawRate = p && dt > 0 ? wrapAngle(s.yaw - p.s.yaw) / dt : 0;
    this.prev = { s: { ...s }, roll, pitch };
    const rn = (sigma: number): number => this.rng.normal(0, sigma);
    const q = quaternionFromRpy(roll + rn(n.attitude_sigma), pitch + rn(n.attitude_sigma), wrapAngle(s.yaw + rn(n.attitude_sigma)));
    const av = n.accel_sigma ** 2;
    const gv = n.gyro_sigma ** 2;
    const ov = n.attitude_sigma ** 2;
    return makeMsg('sensor_msgs/msg/Imu', {
      header,
      orientation: q,
      orientation_covariance: [ov, 0, 0, 0, ov, 0, 0, 0, ov],
      // Small-angle body rates: good enough for the gentle attitudes of the scenarios.
      angular_velocity: { x: rollRate + this.gb[0] + rn(n.gyro_sigma), y: pitchRate + this.gb[1] + rn(n.gyro_sigma), z: yawRate + this.gb[2] + rn(n.gyro_sigma) },
      angular_velocity_covariance: [gv, 0, 0, 0, gv, 0, 0, 0, gv],
      linear_acceleration: { x: this.ab[0] + rn(n.accel_sigma), y: this.ab[1] + rn(n.accel_sigma), z: fmag + this.ab[2] + rn(n.accel_sigma) },
      linear_acceleration_covariance: [av, 0, 0, 0, av, 0, 0, 0, av],
    });
  }
}

export interface GpsNoise {
  /** Slowly wandering error (Gauss-Markov), metres 1 sigma, and its correlation time. */
  horizontal_m: number;
  vertical_m: number;
  tau_s: number;
  /** White noise per fix, metres. */
  white_m: number;
}

export const DEFAULT_GPS_NOISE: GpsNoise = { horizontal_m: 0.6, vertical_m: 1.2, tau_s: 30, white_m: 0.2 };

export class GpsModel {
  private readonly rng: Rng;
  private err = { x: 0, y: 0, z: 0 };

  constructor(
    private readonly origin: GeoOrigin,
    seed: number,
    private readonly noise: GpsNoise = DEFAULT_GPS_NOISE,
  ) {
    this.rng = new Rng(seed);
    this.err = { x: this.rng.normal(0, noise.horizontal_m), y: this.rng.normal(0, noise.horizontal_m), z: this.rng.normal(0, noise.vertical_m) };
  }

  /** One fix; dt (s) since the previous fix drives the error's wander. */
  sample(s: KinematicState, dt: number, header: std_msgs.Header): sensor_msgs.NavSatFix {
    const n = this.noise;
    const a = Math.exp(-Math.max(0, dt) / n.tau_s);
    const k = Math.sqrt(1 - a * a);
    this.err = {
      x: this.err.x * a + k * this.rng.normal(0, n.horizontal_m),
      y: this.err.y * a + k * this.rng.normal(0, n.horizontal_m),
      z: this.err.z * a + k * this.rng.normal(0, n.vertical_m),
    };
    const w = (): number => this.rng.normal(0, n.white_m);
    const g = enuToLatLon(this.origin, s.x + this.err.x + w(), s.y + this.err.y + w(), s.z + this.err.z + w());
    const hv = n.horizontal_m ** 2 + n.white_m ** 2;
    const vv = n.vertical_m ** 2 + n.white_m ** 2;
    return makeMsg('sensor_msgs/msg/NavSatFix', {
      header,
      status: { status: NavSatStatusConstants.STATUS_FIX, service: NavSatStatusConstants.SERVICE_GPS },
      latitude: g.lat,
      longitude: g.lon,
      altitude: g.alt,
      position_covariance: [hv, 0, 0, 0, hv, 0, 0, 0, vv],
      position_covariance_type: NavSatFixConstants.COVARIANCE_TYPE_DIAGONAL_KNOWN,
    });
  }
}
