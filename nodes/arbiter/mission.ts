/**
 * The mission: what the vehicle does when no alert or plan applies. Given as params
 * (hover at a point, patrol waypoints, hold where it is, or stay idle on the ground).
 * Only the mission may arm and take off; never the planner.
 */
import { distance } from '../../lib/geo/geometry.js';
import type { Proposal, Vec3 } from './envelope.js';

export type MissionMode = 'idle' | 'hold' | 'hover' | 'patrol';

export interface Mission {
  mode: MissionMode;
  /** hover: the point to hover at (local ENU). */
  point: Vec3;
  /** patrol: waypoints visited in order, then from the first again (or, without loop, stay at the last). */
  waypoints: readonly Vec3[];
  loop?: boolean;
  speed: number;
  /** A waypoint counts as reached within this horizontal distance. */
  acceptRadiusM: number;
  /** Arm and take off when disarmed on the ground (hover and patrol). */
  autoTakeoff: boolean;
  takeoffAltitudeM: number;
  /** Below this local z the vehicle counts as on the ground. */
  groundAltitudeM: number;
}

export class MissionConfigError extends Error {
  constructor(detail: string) {
    super(`mission parameters: ${detail}`);
    this.name = 'MissionConfigError';
  }
}

export function waypointsFromFlat(flat: readonly number[]): Vec3[] {
  if (flat.length % 3 !== 0) throw new MissionConfigError(`mission_waypoints: expected [x0, y0, z0, x1, y1, z1, ...], got ${flat.length} numbers (not a multiple of 3)`);
  const out: Vec3[] = [];
  for (let i = 0; i < flat.length; i += 3) out.push({ x: flat[i], y: flat[i + 1], z: flat[i + 2] });
  return out;
}

export function pointFromFlat(flat: readonly number[], name: string): Vec3 {
  if (flat.length !== 3) throw new MissionConfigError(`${name}: expected [x, y, z], got ${flat.length} numbers`);
  return { x: flat[0], y: flat[1], z: flat[2] };
}

export interface VehiclePose {
  armed: boolean;
  position: Vec3;
}

export interface MissionStep {
  proposal: Proposal;
  /** Index of the patrol waypoint to fly to next. */
  index: number;
}

/** One tick of the mission from where the vehicle is: arm, take off, then hover or patrol. */
export function missionStep(m: Mission, v: VehiclePose, index: number, ground: boolean): MissionStep {
  const here = v.position;
  const hold = (reason: string): MissionStep => ({ proposal: { action: 'hold', source: 'mission', reason, target: { ...here } }, index });
  if (m.mode === 'idle') return hold('mission idle');
  if (m.mode === 'hold') return hold('mission: hold position');
  const flies = m.mode === 'hover' || (m.mode === 'patrol' && m.waypoints.length > 0);
  if (!flies) return hold('mission: patrol without waypoints');
  if (!v.armed) {
    if (!m.autoTakeoff) return hold('mission: disarmed and auto_takeoff is off');
    return { proposal: { action: 'arm', source: 'mission', reason: 'mission: arm before takeoff' }, index };
  }
  if (!ground && here.z < m.groundAltitudeM) {
    return { proposal: { action: 'takeoff', source: 'mission', reason: 'mission: take off', target: { x: here.x, y: here.y, z: m.takeoffAltitudeM } }, index };
  }
  if (m.mode === 'hover') return { proposal: { action: 'goto', source: 'mission', reason: 'mission: hover at point', target: { ...m.point }, speed: m.speed }, index };
  const last = m.waypoints.length - 1;
  let i = m.loop === false ? Math.min(Math.max(0, index), last) : ((index % m.waypoints.length) + m.waypoints.length) % m.waypoints.length;
  if (distance(here, m.waypoints[i]) <= m.acceptRadiusM) i = m.loop === false ? Math.min(i + 1, last) : (i + 1) % m.waypoints.length;
  return { proposal: { action: 'goto', source: 'mission', reason: `mission: patrol waypoint ${i}`, target: { ...m.waypoints[i] }, speed: m.speed }, index: i };
}
