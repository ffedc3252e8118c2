/**
 * Pure rules from a kestrel VehicleCommand (local ENU) to what the bridge sends: validation
 * with precise errors, discrete vs streamed actions, and the setpoint of a streamed action.
 */
import type { kestrel_msgs } from '../../msgs/index.js';
import { timeToMs, isZeroTime } from '../../runtime/time.js';
import type { Vec3 } from '../../lib/mavlink/frames.js';

export type DiscreteAction = 'hold' | 'takeoff' | 'land' | 'rtl' | 'arm' | 'disarm';
export type StreamedAction = 'goto' | 'velocity' | 'orbit';
export const DISCRETE_ACTIONS: readonly DiscreteAction[] = ['hold', 'takeoff', 'land', 'rtl', 'arm', 'disarm'];
export const STREAMED_ACTIONS: readonly StreamedAction[] = ['goto', 'velocity', 'orbit'];

export interface CommandLimits {
  /** Largest commanded speed (velocity norm, goto/orbit speed), m/s. */
  maxSpeed: number;
  /** Highest target altitude (local z), metres. */
  maxAltitude: number;
  maxOrbitRadius: number;
}

function finite(...xs: number[]): boolean {
  return xs.every((x) => Number.isFinite(x));
}

/** Why a command cannot be executed, or undefined when it can. */
export function validateCommand(c: kestrel_msgs.VehicleCommand, lim: CommandLimits): string | undefined {
  const a = c.action;
  const where = `/cmd seq ${c.seq} (${a || '<empty action>'})`;
  if (!(DISCRETE_ACTIONS as readonly string[]).includes(a) && !(STREAMED_ACTIONS as readonly string[]).includes(a)) {
    return `${where}: unknown action '${a}'; expected one of ${[...DISCRETE_ACTIONS, ...STREAMED_ACTIONS].join(', ')}`;
  }
  if (isZeroTime(c.valid_until)) return `${where}: valid_until is not set; every command needs a validity horizon`;
  const t = c.target;
  const v = c.velocity;
  if (a === 'goto' || a === 'orbit') {
    if (!finite(t.x, t.y, t.z)) return `${where}: target (${t.x}, ${t.y}, ${t.z}) is not finite`;
    if (t.z < 0 || t.z > lim.maxAltitude) return `${where}: target altitude ${t.z} m outside [0, ${lim.maxAltitude}]`;
    if (!(c.speed >= 0 && c.speed <= lim.maxSpeed)) return `${where}: speed ${c.speed} m/s outside [0, ${lim.maxSpeed}]`;
  }
  if (a === 'orbit') {
    if (!(c.radius > 0 && c.radius <= lim.maxOrbitRadius)) return `${where}: radius ${c.radius} m outside (0, ${lim.maxOrbitRadius}]`;
    if (!(c.speed > 0)) return `${where}: orbit speed must be > 0, got ${c.speed}`;
  }
  if (a === 'velocity') {
    if (!finite(v.x, v.y, v.z)) return `${where}: velocity (${v.x}, ${v.y}, ${v.z}) is not finite`;
    const n = Math.hypot(v.x, v.y, v.z);
    if (n > lim.maxSpeed) return `${where}: velocity norm ${n.toFixed(2)} m/s above ${lim.maxSpeed}`;
  }
  if (a === 'takeoff') {
    if (!finite(t.z) || t.z <= 0 || t.z > lim.maxAltitude) return `${where}: takeoff altitude (target.z) ${t.z} m outside (0, ${lim.maxAltitude}]`;
  }
  if (!Number.isFinite(c.yaw)) return `${where}: yaw ${c.yaw} is not finite`;
  return undefined;
}

export function isStreamed(action: string): action is StreamedAction {
  return (STREAMED_ACTIONS as readonly string[]).includes(action);
}

export function validUntilMs(c: kestrel_msgs.VehicleCommand): number {
  return timeToMs(c.valid_until);
}

/** A setpoint in local ENU: a position, or a velocity (with optional ENU yaw). */
export type EnuSetpoint =
  | { kind: 'position'; p: Vec3; yaw?: number }
  | { kind: 'velocity'; v: Vec3; yaw?: number };

/**
 * Velocity that circles `center` counter-clockwise at `radius` and `speed`, converging onto
 * the circle (radial correction) and the target altitude, facing the centre.
 */
export function orbitVelocity(pos: Vec3, center: Vec3, radius: number, speed: number): { v: Vec3; yaw: number } {
  let rx = pos.x - center.x;
  let ry = pos.y - center.y;
  let d = Math.hypot(rx, ry);
  if (d < 1e-3) {
    rx = 1;
    ry = 0;
    d = 1e-3;
  }
  const ux = rx / d;
  const uy = ry / d;
  const radial = Math.max(-speed, Math.min(speed, (radius - d) * 1.0));
  const vx = -uy * speed + ux * radial;
  const vy = ux * speed + uy * radial;
  const vz = Math.max(-1, Math.min(1, center.z - pos.z));
  return { v: { x: vx, y: vy, z: vz }, yaw: Math.atan2(-uy, -ux) };
}

/** The setpoint of a streamed command, given the vehicle position (needed for orbit). */
export function setpointFor(c: kestrel_msgs.VehicleCommand, pos: Vec3 | undefined, useYaw: boolean): EnuSetpoint | string {
  const yaw = useYaw ? c.yaw : undefined;
  switch (c.action) {
    case 'goto':
      return { kind: 'position', p: { x: c.target.x, y: c.target.y, z: c.target.z }, yaw };
    case 'velocity':
      return { kind: 'velocity', v: { x: c.velocity.x, y: c.velocity.y, z: c.velocity.z }, yaw };
    case 'orbit': {
      if (!pos) return 'orbit needs the vehicle position (no fresh LOCAL_POSITION_NED)';
      const o = orbitVelocity(pos, c.target, c.radius, c.speed);
      return { kind: 'velocity', v: o.v, yaw: o.yaw };
    }
    default:
      return `action '${c.action}' is not streamed`;
  }
}
