/**
 * The safety envelope: limits every command must satisfy whatever proposed it (planner,
 * alert reaction, mission). Pure functions; the arbiter applies them on every tick.
 */
import { pointInPolygon, polygonFromFlat, type Vec2 } from '../../lib/geo/geometry.js';

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

function segmentsCross(a: Vec2, b: Vec2, c: Vec2, d: Vec2): boolean {
  const o = (p: Vec2, q: Vec2, r: Vec2): number => (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x);
  const d1 = o(c, d, a);
  const d2 = o(c, d, b);
  const d3 = o(a, b, c);
  const d4 = o(a, b, d);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}

function distToSegment(p: Vec2, a: Vec2, b: Vec2): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
}

export function insideFence(p: Vec2, fence: readonly Vec2[] | undefined): boolean {
  return fence === undefined || pointInPolygon(p, fence);
}

/** Whether the straight path a→b stays inside the fence (a concave fence can be left between two inside points). */
export function pathInsideFence(a: Vec2, b: Vec2, fence: readonly Vec2[] | undefined): boolean {
  if (fence === undefined) return true;
  if (!pointInPolygon(a, fence) || !pointInPolygon(b, fence)) return false;
  for (let i = 0, j = fence.length - 1; i < fence.length; j = i++) if (segmentsCross(a, b, fence[j], fence[i])) return false;
  return true;
}

/** Smallest distance from p to the fence boundary (Infinity without a fence). */
export function distanceToFence(p: Vec2, fence: readonly Vec2[] | undefined): number {
  if (fence === undefined) return Number.POSITIVE_INFINITY;
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0, j = fence.length - 1; i < fence.length; j = i++) best = Math.min(best, distToSegment(p, fence[j], fence[i]));
  return best;
}

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
    if (p.action !== 'takeoff') {
      if (!insideFence(t, env.geofence)) return { ok: false, reason: `target (${t.x.toFixed(1)}, ${t.y.toFixed(1)}) is outside the geofence` };
      if (p.action === 'goto' && position && insideFence(position, env.geofence) && !pathInsideFence(position, t, env.geofence)) {
        return { ok: false, reason: `path to (${t.x.toFixed(1)}, ${t.y.toFixed(1)}) leaves the geofence` };
      }
      if (p.action === 'orbit') {
        const r = out.radius ?? 0;
        if (distanceToFence(t, env.geofence) < r) return { ok: false, reason: `orbit of radius ${r.toFixed(1)} m around (${t.x.toFixed(1)}, ${t.y.toFixed(1)}) crosses the geofence` };
      }
    }
    if (env.ground) {
      t.z = 0;
    } else if (t.z > env.maxAltitudeM || t.z < env.minAltitudeM) {
      const z = Math.min(env.maxAltitudeM, Math.max(env.minAltitudeM, t.z));
      clipped.push(`altitude ${t.z.toFixed(1)} -> ${z.toFixed(1)} m`);
      t.z = z;
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
