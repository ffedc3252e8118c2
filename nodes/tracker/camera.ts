/**
 * Where the camera is when a frame was taken: a fixed mount (PoE camera on a pole) or the
 * vehicle's pose from /fc/state (nadir camera under a drone). Pure helpers.
 */
import type { kestrel_msgs } from '../../msgs/index.js';
import { pointInPolygon, polygonFromFlat, type CameraPose, type Vec2 } from '../../lib/geo/geometry.js';
import { timeToMs } from '../../runtime/time.js';

export type PoseLookup = { pose: CameraPose } | { missing: 'no_state' | 'stale_state' | 'not_connected' | 'bad_altitude' };

/** The vehicle pose as a nadir camera pose, if the state is recent enough to describe frame time `tMs`. */
export function poseFromVehicle(state: kestrel_msgs.VehicleState | undefined, tMs: number, maxAgeMs: number): PoseLookup {
  if (!state) return { missing: 'no_state' };
  if (!state.connected) return { missing: 'not_connected' };
  if (Math.abs(tMs - timeToMs(state.header.stamp)) > maxAgeMs) return { missing: 'stale_state' };
  // ENU z is height above the local origin; the ground plane is z = 0.
  if (!(state.position.z > 0.1)) return { missing: 'bad_altitude' };
  return { pose: { x: state.position.x, y: state.position.y, altitude: state.position.z, yaw: state.heading } };
}

export interface Region {
  name: string;
  polygon: Vec2[];
}

/** `regions.<name>: [x0, y0, x1, y1, ...]` params → named polygons; a malformed one is an error naming it. */
export function regionsFromParams(groups: Readonly<Record<string, readonly number[]>>): Region[] {
  return Object.entries(groups)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, flat]) => ({ name, polygon: polygonFromFlat(flat, `parameter regions.${name}`) }));
}

export function regionsContaining(p: Vec2, regions: readonly Region[]): string[] {
  return regions.filter((r) => pointInPolygon(p, r.polygon)).map((r) => r.name);
}
