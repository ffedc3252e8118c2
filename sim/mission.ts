/**
 * A scripted vehicle that flies the scenario's mission by itself (hover over a point, or a
 * patrol of waypoints), for running a scenario without the simulated flight controller:
 * tests, `kestrel eval`, and fixed-camera setups. It offers the same surface the simulator
 * uses on the real SimVehicle: truth(), setWind(), setBatteryRemaining().
 */
import { wrapAngle, type Vec2 } from '../lib/geo/geometry.js';
import type { VehicleTruth } from './fc/vehicle.js';
import type { MissionSpec } from './scenario.js';

/** Vehicle ground truth: the scripted vehicle reports the same shape as sim/fc's SimVehicle. */
export type { VehicleTruth };

/** Anything the camera can ride on: the scripted vehicle, sim/fc's SimVehicle, a fixed mast. */
export interface VehiclePoseSource {
  truth(): VehicleTruth;
}

/** What the simulator applies to the vehicle, when it offers it (SimVehicle does). */
export interface VehicleEffects {
  setWind?(v: { x: number; y: number }): void;
  setBatteryRemaining?(f: number): void;
}

/** A camera on a fixed pose (a mast or a hovering test vehicle); wind and battery are recorded, not flown. */
export class FixedPoseSource implements VehiclePoseSource, VehicleEffects {
  private battery: number;
  constructor(private readonly pose: { x: number; y: number; z: number; yaw: number }, battery = 1) {
    this.battery = battery;
  }
  truth(): VehicleTruth {
    return { ...this.pose, vx: 0, vy: 0, vz: 0, armed: true, mode: 'HOLD', battery_remaining: this.battery, battery_voltage: 4 * (3.5 + 0.7 * this.battery) };
  }
  setWind(): void {}
  setBatteryRemaining(f: number): void {
    this.battery = f;
  }
}

export interface ScriptedVehicleOptions {
  start: { x: number; y: number; z: number; yaw: number };
  mission: MissionSpec;
  battery: number;
  drain_per_s: number;
  maxAccel?: number;
  maxClimb?: number;
  /** Seconds for the position controller to learn a new wind (gusts drift it meanwhile). */
  windAdaptS?: number;
}

export class ScriptedVehicle implements VehiclePoseSource, VehicleEffects {
  private x: number;
  private y: number;
  private z: number;
  private vx = 0;
  private vy = 0;
  private vz = 0;
  private yaw: number;
  private battery: number;
  private wind: Vec2 = { x: 0, y: 0 };
  private windEst: Vec2 = { x: 0, y: 0 };
  private wp = 0;

  constructor(private readonly o: ScriptedVehicleOptions) {
    this.x = o.start.x;
    this.y = o.start.y;
    this.z = o.start.z;
    this.yaw = o.start.yaw;
    this.battery = o.battery;
  }

  truth(): VehicleTruth {
    return {
      x: this.x, y: this.y, z: this.z, vx: this.vx, vy: this.vy, vz: this.vz, yaw: this.yaw, armed: true,
      mode: this.o.mission.kind === 'patrol' ? 'AUTO.MISSION' : 'AUTO.LOITER',
      battery_remaining: this.battery, battery_voltage: 4 * (3.5 + 0.7 * this.battery),
    };
  }

  setWind(v: { x: number; y: number }): void {
    this.wind = { x: v.x, y: v.y };
  }

  setBatteryRemaining(f: number): void {
    if (!(f >= 0 && f <= 1)) throw new RangeError(`setBatteryRemaining: expected a fraction in 0..1, got ${f}`);
    this.battery = f;
  }

  /** Index of the waypoint being flown to. */
  waypointIndex(): number {
    return this.wp;
  }

  step(dt: number): void {
    const m = this.o.mission;
    const target = m.waypoints[this.wp];
    const dx = target.x - this.x;
    const dy = target.y - this.y;
    const d = Math.hypot(dx, dy);
    if (m.kind === 'patrol' && d < 1.0) {
      if (this.wp + 1 < m.waypoints.length) this.wp++;
      else if (m.loop) this.wp = 0;
    }
    // Velocity command towards the target, slowing over the last few metres.
    const vmax = m.kind === 'patrol' ? m.speed : Math.min(m.speed, 3);
    const vc = Math.min(vmax, d * 0.8);
    const cmd = d > 1e-6 ? { x: (dx / d) * vc, y: (dy / d) * vc } : { x: 0, y: 0 };
    const amax = (this.o.maxAccel ?? 3) * dt;
    // Ground velocity = controlled air-relative part + the wind the controller has not yet compensated.
    const drift = { x: this.wind.x - this.windEst.x, y: this.wind.y - this.windEst.y };
    const ctrl = { x: this.vx - drift.x, y: this.vy - drift.y };
    ctrl.x += clamp(cmd.x - ctrl.x, -amax, amax);
    ctrl.y += clamp(cmd.y - ctrl.y, -amax, amax);
    const k = Math.min(1, dt / (this.o.windAdaptS ?? 2));
    this.windEst = { x: this.windEst.x + (this.wind.x - this.windEst.x) * k, y: this.windEst.y + (this.wind.y - this.windEst.y) * k };
    this.vx = ctrl.x + (this.wind.x - this.windEst.x);
    this.vy = ctrl.y + (this.wind.y - this.windEst.y);
    const climb = this.o.maxClimb ?? 2;
    const vzCmd = clamp((m.altitude - this.z) * 0.8, -climb, climb);
    this.vz += clamp(vzCmd - this.vz, -amax, amax);
    this.x += this.vx * dt;
    this.y += this.vy * dt;
    this.z = Math.max(0, this.z + this.vz * dt);
    if (m.kind === 'patrol' && vc > 0.5) {
      const want = Math.atan2(cmd.y, cmd.x);
      const maxTurn = (Math.PI / 4) * dt;
      this.yaw = wrapAngle(this.yaw + clamp(wrapAngle(want - this.yaw), -maxTurn, maxTurn));
    }
    this.battery = Math.max(0, this.battery - this.o.drain_per_s * dt);
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
