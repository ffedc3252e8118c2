/**
 * Guidance of the simulated FC: offboard/guided setpoints decoded from
 * SET_POSITION_TARGET_{LOCAL_NED,GLOBAL_INT} (rejected and counted when unsupported or not
 * finite), and each mode's target for the vehicle (takeoff, RTL phases, hold, land).
 */
import { common } from 'node-mavlink';
import { geoToEnu, nedToEnu, nedYawToEnu } from '../../lib/mavlink/frames.js';
import type { FcCore } from './core.js';
import type { GuidanceTarget } from './vehicle.js';

const { MavFrame, PositionTargetTypemask } = common;

type Vec = { x: number; y: number; z: number };

export class Guidance {
  /** Flies the mission while in AUTO.MISSION / AUTO (set by the owner). */
  mission: (now: number) => void = () => { this.fc.v.setTarget({ kind: 'hold' }); };

  constructor(private readonly fc: FcCore) {}

  onLocalSetpoint(m: InstanceType<typeof common.SetPositionTargetLocalNed>, now: number): void {
    this.accept(m.coordinateFrame === MavFrame.LOCAL_NED ? this.localTarget(m) : undefined, m.typeMask, now);
  }

  onGlobalSetpoint(m: InstanceType<typeof common.SetPositionTargetGlobalInt>, now: number): void {
    this.fc.counts.globalSetpoints++;
    this.accept(this.globalTarget(m), m.typeMask, now);
  }

  private accept(target: GuidanceTarget | undefined, typeMask: number, now: number): void {
    if (!target) {
      this.fc.counts.setpointsRejected++;
      return;
    }
    this.fc.counts.setpoints++;
    this.fc.setpoint = { target, atMs: now, velocity: target.kind === 'velocity' && (typeMask & 0b111) !== 0 };
  }

  private vectorTarget(mask: number, pos: Vec | undefined, vel: Vec, yaw: number, yawRate: number): GuidanceTarget | undefined {
    const M = PositionTargetTypemask;
    const yawEnu = mask & M.YAW_IGNORE ? undefined : nedYawToEnu(yaw);
    const rateEnu = mask & M.YAW_RATE_IGNORE ? undefined : -yawRate;
    const usePos = (mask & (M.X_IGNORE | M.Y_IGNORE | M.Z_IGNORE)) === 0;
    const useVel = (mask & (M.VX_IGNORE | M.VY_IGNORE | M.VZ_IGNORE)) === 0;
    const finite = (...xs: (number | undefined)[]): boolean => xs.every((x) => x === undefined || Number.isFinite(x));
    if (usePos && pos) {
      if (!finite(pos.x, pos.y, pos.z, yawEnu)) return undefined;
      return { kind: 'position', x: pos.x, y: pos.y, z: pos.z, yaw: yawEnu };
    }
    if (useVel) {
      if (!finite(vel.x, vel.y, vel.z, yawEnu, rateEnu)) return undefined;
      return { kind: 'velocity', vx: vel.x, vy: vel.y, vz: vel.z, yaw: yawEnu, yawRate: rateEnu };
    }
    return undefined;
  }

  private localTarget(m: InstanceType<typeof common.SetPositionTargetLocalNed>): GuidanceTarget | undefined {
    const p = nedToEnu({ x: m.x, y: m.y, z: m.z });
    const v = nedToEnu({ x: m.vx, y: m.vy, z: m.vz });
    return this.vectorTarget(m.typeMask, p, v, m.yaw, m.yawRate);
  }

  /** Local ENU of a global position in a GLOBAL(_INT) or GLOBAL_RELATIVE_ALT(_INT) frame; undefined for other frames. */
  globalToLocal(frame: number, lat: number, lon: number, alt: number): Vec | undefined {
    const F = MavFrame;
    const origin = this.fc.v.origin;
    if (frame === F.GLOBAL_INT || frame === F.GLOBAL) return geoToEnu(origin, lat, lon, alt);
    if (frame === F.GLOBAL_RELATIVE_ALT_INT || frame === F.GLOBAL_RELATIVE_ALT) {
      const e = geoToEnu(origin, lat, lon, origin.alt);
      return { x: e.x, y: e.y, z: alt };
    }
    return undefined;
  }

  private globalTarget(m: InstanceType<typeof common.SetPositionTargetGlobalInt>): GuidanceTarget | undefined {
    const pos = this.globalToLocal(m.coordinateFrame, m.latInt / 1e7, m.lonInt / 1e7, m.alt);
    if (!pos) return undefined;
    const v = nedToEnu({ x: m.vx, y: m.vy, z: m.vz });
    return this.vectorTarget(m.typeMask, pos, v, m.yaw, m.yawRate);
  }

  /** Sets the vehicle's target for the current mode (after the failsafes had their say). */
  guide(now: number): void {
    const fc = this.fc;
    const v = fc.v;
    if (!v.isArmed()) return;
    const t = v.truth();
    switch (fc.mode) {
      case 'offboard': {
        const sp = fc.setpoint;
        const age = sp ? now - sp.atMs : Infinity;
        if (fc.autopilot === 'px4') {
          if (sp) v.setTarget(sp.target);
        } else if (sp && !(sp.velocity && age > fc.o.guidedVelocityTimeoutMs)) {
          v.setTarget(sp.target);
        } else if (v.getTarget().kind !== 'position') {
          v.setTarget({ kind: 'hold' });
        }
        return;
      }
      case 'takeoff': {
        const home = v.homePosition();
        v.setTarget({ kind: 'position', x: home.x, y: home.y, z: fc.takeoffAlt });
        if (Math.abs(t.z - fc.takeoffAlt) < 0.3 && fc.autopilot === 'px4') {
          // PX4 loiters at the takeoff altitude, not where the climb happened to be when it switched.
          fc.setMode('hold');
          fc.holdTarget = { x: home.x, y: home.y, z: fc.takeoffAlt };
        }
        return;
      }
      case 'mission':
        this.mission(now);
        return;
      case 'land':
        v.setTarget({ kind: 'land' });
        return;
      case 'rtl': {
        const home = v.homePosition();
        const alt = fc.o.rtlAltitude;
        if (fc.rtlPhase === 'climb') {
          v.setTarget({ kind: 'position', x: t.x, y: t.y, z: Math.max(t.z, alt) });
          if (t.z >= alt - 0.3) fc.rtlPhase = 'return';
        } else if (fc.rtlPhase === 'return') {
          const cruise = Math.max(alt, 0);
          v.setTarget({ kind: 'position', x: home.x, y: home.y, z: Math.max(cruise, Math.min(t.z, cruise + 50)) });
          if (Math.hypot(t.x - home.x, t.y - home.y) < 0.5) fc.rtlPhase = 'land';
        } else {
          v.setTarget({ kind: 'land' });
        }
        return;
      }
      case 'hold':
        v.setTarget(fc.holdTarget ? { kind: 'position', ...fc.holdTarget } : { kind: 'hold' });
        return;
      default:
        v.setTarget({ kind: 'hold' });
    }
  }
}
