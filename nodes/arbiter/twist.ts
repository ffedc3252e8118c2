/**
 * /cmd_vel for ground robots: a command becomes a body-frame Twist (linear.x forward,
 * angular.z yaw rate), as diff-drive controllers expect. Anything but a move is a stop.
 */
import { makeMsg, type geometry_msgs, type kestrel_msgs } from '../../msgs/index.js';
import { wrapAngle } from '../../lib/geo/geometry.js';

export interface TwistLimits {
  maxSpeedMps: number;
  maxYawRateRps: number;
  /** Proportional gains: speed per metre of distance, yaw rate per radian of heading error. */
  kDistance: number;
  kHeading: number;
  /** Within this distance the target counts as reached: stop. */
  arriveM: number;
}

export function stopTwist(): geometry_msgs.Twist {
  return makeMsg('geometry_msgs/msg/Twist', {});
}

export function twistFor(cmd: kestrel_msgs.VehicleCommand, state: kestrel_msgs.VehicleState | undefined, l: TwistLimits): geometry_msgs.Twist {
  if (!state || !state.armed) return stopTwist();
  if (cmd.action === 'velocity') {
    // ENU velocity → body frame.
    const c = Math.cos(state.heading);
    const s = Math.sin(state.heading);
    const fwd = cmd.velocity.x * c + cmd.velocity.y * s;
    return makeMsg('geometry_msgs/msg/Twist', { linear: { x: clamp(fwd, -l.maxSpeedMps, l.maxSpeedMps) } });
  }
  if (cmd.action !== 'goto') return stopTwist();
  const dx = cmd.target.x - state.position.x;
  const dy = cmd.target.y - state.position.y;
  const dist = Math.hypot(dx, dy);
  if (dist <= l.arriveM) return stopTwist();
  const err = wrapAngle(Math.atan2(dy, dx) - state.heading);
  const maxV = Math.min(l.maxSpeedMps, cmd.speed > 0 ? cmd.speed : l.maxSpeedMps);
  // Turn in place when facing away; drive forward as the heading error closes.
  const v = Math.max(0, Math.cos(err)) * Math.min(maxV, l.kDistance * dist);
  return makeMsg('geometry_msgs/msg/Twist', { linear: { x: v }, angular: { z: clamp(l.kHeading * err, -l.maxYawRateRps, l.maxYawRateRps) } });
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
