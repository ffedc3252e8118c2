/**
 * The safety envelope: limits every command must satisfy whatever proposed it (planner,
 * alert reaction, mission). Pure functions; the arbiter applies them on every tick.
 */
import { circleInsidePolygon, distanceToBoundary, pointInPolygon, polygonFromFlat, segmentInsidePolygon, type Vec2 } from '../../lib/geo/geometry.js';

export interface Vec3 {
  x: number;
  y: number;
  z: number;
}

export type Action = 'hold' | 'goto' | 'velocity' | 'orbit' | 'takeoff' | 'land' | 'rtl' | 'arm' | 'disarm';
export const ACTIONS: readonly Action[] = ['hold', 'goto', 'velocity', 'orbit', 'takeoff', 'land', 'rtl', 'arm', 'disarm'];
export type Source = 'plan' | 'alert' | 'fallback' | 'mission' | 'envelope';

/** A command before the envelope: what some source wants. */
export interface Proposal {
  action: Action;
  source: Source;
  reason: string;
  target?: Vec3;
  velocity?: Vec3;
  speed?: number;
  radius?: number;
  yaw?: number;
}

export interface Envelope {
  /** Local ENU polygon the vehicle must stay in; undefined = no fence. */
  geofence?: readonly Vec2[];
  /** Altitude limits (local z, metres) for targets; ignored for ground vehicles. */
  minAltitudeM: number;
  maxAltitudeM: number;
  maxSpeedMps: number;
  /** Actions any source may command; hold and land are always allowed (they are the fallbacks). */
  allowedActions: ReadonlySet<Action>;
  /** Actions a plan (LLM output) may propose: never arm, disarm or takeoff. */
  planActions: ReadonlySet<Action>;
  /** 0..1; below it the vehicle returns (or lands) and does not arm. 0 disables. */
  minBattery: number;
  lowBatteryAction: 'rtl' | 'land';
  ground: boolean;
}

/** Actions the LLM may never command, whatever the params say. */
export const NEVER_FROM_PLAN: ReadonlySet<Action> = new Set<Action>(['arm', 'disarm', 'takeoff']);
const ALWAYS_ALLOWED: ReadonlySet<Action> = new Set<Action>(['hold', 'land']);

export class EnvelopeConfigError extends Error {
  constructor(detail: string) {
    super(`safety envelope parameters: ${detail}`);
    this.name = 'EnvelopeConfigError';
  }
}

export interface EnvelopeParams {
  geofence: readonly number[];
  min_altitude_m: number;
  max_altitude_m: number;
  max_speed_mps: number;
  allowed_actions: readonly string[];
  plan_actions: readonly string[];
  min_battery: number;
  low_battery_action: string;
  ground: boolean;
}

function actionSet(names: readonly string[], param: string): Set<Action> {
  const out = new Set<Action>();
  for (const n of names) {
    if (!(ACTIONS as readonly string[]).includes(n)) throw new EnvelopeConfigError(`${param}: unknown action '${n}'; expected one of ${ACTIONS.join(', ')}`);
    out.add(n as Action);
  }
  return out;
}

/** Params → Envelope, with a precise error for every inconsistent value. */
export function envelopeFromParams(p: EnvelopeParams): Envelope {
  const geofence = p.geofence.length === 0 ? undefined : polygonFromFlat(p.geofence, 'geofence');
  if (p.min_altitude_m > p.max_altitude_m) throw new EnvelopeConfigError(`min_altitude_m ${p.min_altitude_m} is above max_altitude_m ${p.max_altitude_m}`);
  if (!(p.max_speed_mps > 0)) throw new EnvelopeConfigError(`max_speed_mps must be > 0, got ${p.max_speed_mps}`);
  if (p.low_battery_action !== 'rtl' && p.low_battery_action !== 'land') throw new EnvelopeConfigError(`low_battery_action must be rtl or land, got '${p.low_battery_action}'`);
  const planActions = actionSet(p.plan_actions, 'plan_actions');
  for (const a of NEVER_FROM_PLAN) planActions.delete(a);
  return {
    geofence,
    minAltitudeM: p.min_altitude_m,
    maxAltitudeM: p.max_altitude_m,
    maxSpeedMps: p.max_speed_mps,
    allowedActions: actionSet(p.allowed_actions, 'allowed_actions'),
    planActions,
    minBattery: p.min_battery,
    lowBatteryAction: p.low_battery_action,
    ground: p.ground,
  };
}

export function insideFence(p: Vec2, fence: readonly Vec2[] | undefined): boolean {
  return fence === undefined || pointInPolygon(p, fence);
}

/** Whether the straight path a→b stays inside the fence (a concave fence can be left between two inside points). */
export function pathInsideFence(a: Vec2, b: Vec2, fence: readonly Vec2[] | undefined): boolean {
  return fence === undefined || segmentInsidePolygon(a, b, fence);
}

/** Smallest distance from p to the fence boundary (Infinity without a fence). */
export function distanceToFence(p: Vec2, fence: readonly Vec2[] | undefined): number {
  return fence === undefined ? Number.POSITIVE_INFINITY : distanceToBoundary(p, fence);
}

/**
 * An orbit is flown as given only from within this distance of its circle; from farther the
 * envelope turns it into a straight goto to the circle's nearest point (the path it checks),
 * because the bridge's orbit velocity field spirals in and its path is not a straight line.
 */
export const ORBIT_ENTRY_M = 2;

export type Verdict = { ok: true; proposal: Proposal; clipped: string[] } | { ok: false; reason: string };

const finite = (v: Vec3 | undefined): boolean => v === undefined || (Number.isFinite(v.x) && Number.isFinite(v.y) && Number.isFinite(v.z));

/**
 * Checks a proposal against the envelope, from where the vehicle is now. Out-of-fence
 * targets, forbidden actions and non-finite numbers are rejected; altitude and speed are
 * clipped into range (each clip is listed).
 */
export function applyEnvelope(p: Proposal, env: Envelope, position: Vec3 | undefined): Verdict {
  if (p.source === 'plan' && NEVER_FROM_PLAN.has(p.action)) return { ok: false, reason: `a plan may never '${p.action}'` };
  if (!ALWAYS_ALLOWED.has(p.action) && !env.allowedActions.has(p.action)) return { ok: false, reason: `action '${p.action}' is not in allowed_actions` };
  if (p.source === 'plan' && !env.planActions.has(p.action)) return { ok: false, reason: `action '${p.action}' is not in plan_actions` };
  if (!finite(p.target) || !finite(p.velocity) || (p.speed !== undefined && !Number.isFinite(p.speed)) || (p.radius !== undefined && !Number.isFinite(p.radius))) {
    return { ok: false, reason: 'non-finite number in target, velocity, speed or radius' };
  }
  if (p.speed !== undefined && p.speed < 0) return { ok: false, reason: `negative speed ${p.speed}` };
  if (p.action === 'orbit' && !((p.radius ?? 0) > 0 && (p.speed ?? 0) > 0)) {
    return { ok: false, reason: `orbit needs radius > 0 and speed > 0, got radius ${p.radius ?? 0}, speed ${p.speed ?? 0}` };
  }
  const clipped: string[] = [];
  const out: Proposal = { ...p, target: p.target && { ...p.target }, velocity: p.velocity && { ...p.velocity } };
  const moves = p.action === 'goto' || p.action === 'orbit' || p.action === 'takeoff';
  if (moves && out.target) {
    const t = out.target;
    if (env.ground) {
      t.z = 0;
    } else if (t.z > env.maxAltitudeM || t.z < env.minAltitudeM) {
      const z = Math.min(env.maxAltitudeM, Math.max(env.minAltitudeM, t.z));
      clipped.push(`altitude ${t.z.toFixed(1)} -> ${z.toFixed(1)} m`);
      t.z = z;
    }
    if (p.action !== 'takeoff') {
      if (!insideFence(t, env.geofence)) return { ok: false, reason: `target (${t.x.toFixed(1)}, ${t.y.toFixed(1)}) is outside the geofence` };
      if (p.action === 'goto' && position && insideFence(position, env.geofence) && !pathInsideFence(position, t, env.geofence)) {
        return { ok: false, reason: `path to (${t.x.toFixed(1)}, ${t.y.toFixed(1)}) leaves the geofence` };
      }
      if (p.action === 'orbit') {
        const r = out.radius ?? 0;
        const where = `orbit of radius ${r.toFixed(1)} m around (${t.x.toFixed(1)}, ${t.y.toFixed(1)})`;
        if (env.geofence && !circleInsidePolygon(t, r, env.geofence)) return { ok: false, reason: `${where} crosses the geofence` };
        if (position) {
          const d = Math.hypot(position.x - t.x, position.y - t.y);
          if (d > r + ORBIT_ENTRY_M) {
            // Approach first: a straight goto to the circle's nearest point, whose path must stay inside.
            const entry = { x: t.x + ((position.x - t.x) * r) / d, y: t.y + ((position.y - t.y) * r) / d, z: t.z };
            if (env.geofence && (!insideFence(position, env.geofence) || !pathInsideFence(position, entry, env.geofence))) {
              return { ok: false, reason: `path to the ${where} leaves the geofence` };
            }
            out.action = 'goto';
            out.target = entry;
            out.radius = undefined;
            clipped.push(`approach the ${where} at (${entry.x.toFixed(1)}, ${entry.y.toFixed(1)}) first`);
          } else if (env.geofence && d > r && !circleInsidePolygon(t, d, env.geofence)) {
            // Spiralling in from just outside the circle: it stays within distance d of the centre.
            return { ok: false, reason: `${where}: the spiral in from ${d.toFixed(1)} m leaves the geofence` };
          }
        }
      }
    }
  }
  if (out.speed !== undefined && out.speed > env.maxSpeedMps) {
    clipped.push(`speed ${out.speed.toFixed(1)} -> ${env.maxSpeedMps.toFixed(1)} m/s`);
    out.speed = env.maxSpeedMps;
  }
  if (out.velocity) {
    const v = out.velocity;
    const n = Math.hypot(v.x, v.y, v.z);
    if (n > env.maxSpeedMps) {
      const s = env.maxSpeedMps / n;
      clipped.push(`velocity ${n.toFixed(1)} -> ${env.maxSpeedMps.toFixed(1)} m/s`);
      out.velocity = { x: v.x * s, y: v.y * s, z: v.z * s };
    }
  }
  return { ok: true, proposal: out, clipped };
}
