/**
 * The rule evaluator: (rules, world, previous state) → (active alerts, next state). Pure and
 * deterministic: time is the world's stamp, never the wall clock, so a replayed bag raises the
 * same alerts at the same stamps. Linear in rules × tracks (× companions for unattended).
 *
 * Semantics:
 * - count: n objects of class (in region) compared with `op threshold`; the condition must hold
 *   for `duration_s` to raise; once raised it clears only when n is `hysteresis` past the threshold.
 * - dwell: an object stays in the region ≥ duration_s (timer restarts when it leaves).
 * - unattended: an object has no companion-class object within radius_m for ≥ duration_s; once
 *   raised, a companion must come within radius_m - hysteresis to clear it.
 * - proximity: an object within radius_m of the vehicle (for duration_s); clears beyond radius_m + hysteresis.
 */
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { timeToMs } from '../../runtime/time.js';
import { ANY_REGION, type Rule } from './dsl.js';

export type Alert = kestrel_msgs.Alert;
type Track = kestrel_msgs.Track;

export interface RuleState {
  active: boolean;
  /** Stamp (ms) since which the raise condition holds (count/proximity debounce). */
  since: number | undefined;
  /** Per-track timers (dwell: entered region; unattended: last attended). */
  timers: ReadonlyMap<number, number>;
  /** Tracks currently raising the alert (unattended/proximity hysteresis is per track). */
  raised: ReadonlySet<number>;
}

export interface EvalState {
  /** Stamp of the last evaluated world, ms. */
  t: number | undefined;
  rules: ReadonlyMap<string, RuleState>;
}

export const INITIAL_STATE: EvalState = { t: undefined, rules: new Map() };

export interface EvalResult {
  alerts: Alert[];
  state: EvalState;
  /** Rules whose active flag changed this step (for logs). */
  changed: { rule_id: string; active: boolean }[];
  /** The world stamp went backwards (bag loop, sim reset): timers were restarted. */
  reset: boolean;
}

const EMPTY: RuleState = { active: false, since: undefined, timers: new Map(), raised: new Set() };

const inRegion = (t: Track, region: string): boolean => region === ANY_REGION || t.regions.includes(region);
const dist2 = (a: { x: number; y: number }, b: { x: number; y: number }): number => (a.x - b.x) ** 2 + (a.y - b.y) ** 2;

export function compare(n: number, op: string, threshold: number): boolean {
  switch (op) {
    case '>': return n > threshold;
    case '>=': return n >= threshold;
    case '<': return n < threshold;
    case '<=': return n <= threshold;
    case '==': return n === threshold;
    default: return false;
  }
}

/** While raised, the count must move `h` past the threshold (in the clearing direction) to clear. */
function countHolds(n: number, r: Rule, wasActive: boolean): boolean {
  if (!wasActive || r.hysteresis <= 0) return compare(n, r.op, r.threshold);
  switch (r.op) {
    case '>': case '>=': return n > r.threshold - r.hysteresis;
    case '<': case '<=': return n < r.threshold + r.hysteresis;
    default: return compare(n, r.op, r.threshold);
  }
}

interface Step {
  state: RuleState;
  value: number;
  trackIds: number[];
}

function stepCount(r: Rule, tracks: readonly Track[], s: RuleState, t: number): Step {
  const ids = tracks.filter((k) => k.class_id === r.class_id && inRegion(k, r.region)).map((k) => k.id);
  const holds = countHolds(ids.length, r, s.active);
  const since = holds ? s.since ?? t : undefined;
  const active = holds && (s.active || t - (since as number) >= r.duration_s * 1000);
  return { state: { active, since, timers: s.timers, raised: s.raised }, value: ids.length, trackIds: active ? ids : [] };
}

function stepDwell(r: Rule, tracks: readonly Track[], s: RuleState, t: number): Step {
  const timers = new Map<number, number>();
  const ids: number[] = [];
  let longest = 0;
  for (const k of tracks) {
    if (k.class_id !== r.class_id || !inRegion(k, r.region)) continue;
    const entered = s.timers.get(k.id) ?? t;
    timers.set(k.id, entered);
    const dwell = (t - entered) / 1000;
    if (dwell >= r.duration_s) ids.push(k.id);
    longest = Math.max(longest, dwell);
  }
  return { state: { active: ids.length > 0, since: undefined, timers, raised: new Set(ids) }, value: longest, trackIds: ids };
}

function stepUnattended(r: Rule, tracks: readonly Track[], s: RuleState, t: number): Step {
  const companions = tracks.filter((k) => k.class_id === r.companion_class);
  const timers = new Map<number, number>();
  const raised = new Set<number>();
  let longest = 0;
  for (const k of tracks) {
    if (k.class_id !== r.class_id || !inRegion(k, r.region)) continue;
    const wasRaised = s.raised.has(k.id);
    const radius = wasRaised ? Math.max(0, r.radius_m - r.hysteresis) : r.radius_m;
    const attended = companions.some((c) => dist2(c.position, k.position) <= radius * radius);
    if (attended) continue;
    const alone = s.timers.get(k.id) ?? t;
    timers.set(k.id, alone);
    const secs = (t - alone) / 1000;
    if (secs >= r.duration_s) raised.add(k.id);
    longest = Math.max(longest, secs);
  }
  return { state: { active: raised.size > 0, since: undefined, timers, raised }, value: longest, trackIds: [...raised] };
}

function stepProximity(r: Rule, tracks: readonly Track[], vehicle: { x: number; y: number }, s: RuleState, t: number): Step {
  const timers = new Map<number, number>();
  const raised = new Set<number>();
  let nearest = Number.POSITIVE_INFINITY;
  for (const k of tracks) {
    if (k.class_id !== r.class_id || !inRegion(k, r.region)) continue;
    const d = Math.sqrt(dist2(k.position, vehicle));
    nearest = Math.min(nearest, d);
    const radius = s.raised.has(k.id) ? r.radius_m + r.hysteresis : r.radius_m;
    if (d > radius) continue;
    const near = s.timers.get(k.id) ?? t;
    timers.set(k.id, near);
    if (s.raised.has(k.id) || t - near >= r.duration_s * 1000) raised.add(k.id);
  }
  return { state: { active: raised.size > 0, since: undefined, timers, raised }, value: Number.isFinite(nearest) ? nearest : -1, trackIds: [...raised] };
}

/** One evaluation on one world update. Returns every active alert (stamp = world stamp). */
export function evaluateRules(rules: readonly Rule[], world: kestrel_msgs.WorldState, prev: EvalState): EvalResult {
  const t = timeToMs(world.header.stamp);
  const reset = prev.t !== undefined && t < prev.t;
  const prevRules = reset ? INITIAL_STATE.rules : prev.rules;
  const next = new Map<string, RuleState>();
  const alerts: Alert[] = [];
  const changed: { rule_id: string; active: boolean }[] = [];
  for (const r of rules) {
    const s = prevRules.get(r.id) ?? EMPTY;
    let step: Step;
    switch (r.kind) {
      case 'count': step = stepCount(r, world.tracks, s, t); break;
      case 'dwell': step = stepDwell(r, world.tracks, s, t); break;
      case 'unattended': step = stepUnattended(r, world.tracks, s, t); break;
      case 'proximity': step = stepProximity(r, world.tracks, world.vehicle.position, s, t); break;
      default: step = { state: EMPTY, value: 0, trackIds: [] };
    }
    next.set(r.id, step.state);
    if (step.state.active !== s.active) changed.push({ rule_id: r.id, active: step.state.active });
    if (step.state.active) {
      alerts.push(makeMsg('kestrel_msgs/msg/Alert', {
        header: world.header,
        rule_id: r.id,
        active: true,
        severity: r.severity,
        reaction: r.reaction,
        message: r.message,
        value: step.value,
        track_ids: [...step.trackIds].sort((a, b) => a - b),
      }));
    }
  }
  return { alerts, state: { t, rules: next }, changed, reset };
}
