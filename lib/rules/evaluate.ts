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
 *
 * Flicker (`EvalOptions`, all 0 = the strict semantics above): a real detector misses frames
 * and a tracker re-creates lost objects under new ids. `gap_s` lets a count condition lapse that
 * long without restarting its debounce or clearing a raised alert; `min_hold_s` is the least
 * debounce of a count (one frame of over-counting must not raise); `handover_m` hands a dwell or
 * unattended timer from a track that vanished (within the last `handover_s`) to a track of the
 * same class within that many metres of where it was last seen (a new one, or a duplicate that
 * started on the same object), so the timer survives a lost-and-reacquired object.
 */
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import { timeToMs } from '../../runtime/time.js';
import { ANY_REGION, type Rule } from './dsl.js';

export type Alert = kestrel_msgs.Alert;
type Track = kestrel_msgs.Track;

export interface EvalOptions {
  /** A count condition may lapse this long (s) without restarting its debounce or clearing. */
  gap_s: number;
  /** Timers of vanished tracks are kept this long (s) for hand-over. */
  handover_s: number;
  /** Least debounce (s) of a count condition, whatever the rule's duration_s. */
  min_hold_s: number;
  /** A new track within this distance (m) of a vanished one of the same class takes over its timer (0 = never). */
  handover_m: number;
}

/** The strict semantics: every frame counts, timers belong to track ids. */
export const STRICT: EvalOptions = { gap_s: 0, min_hold_s: 0, handover_s: 0, handover_m: 0 };

/** A timer whose track vanished: kept for hand-over to a reacquired track. */
interface LostTimer {
  start: number;
  lostAt: number;
  x: number;
  y: number;
  classId: string;
}

export interface RuleState {
  active: boolean;
  /** Stamp (ms) since which the raise condition holds (count/proximity debounce). */
  since: number | undefined;
  /** Per-track timers (dwell: entered region; unattended: last attended). */
  timers: ReadonlyMap<number, number>;
  /** Tracks currently raising the alert (unattended/proximity hysteresis is per track). */
  raised: ReadonlySet<number>;
  /** count: last stamp (ms) the condition held (for gap_s). */
  lastHeld?: number;
  /** dwell/unattended: last ground position of each timed track, and timers of vanished tracks. */
  where?: ReadonlyMap<number, { x: number; y: number }>;
  lost?: readonly LostTimer[];
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

function stepCount(r: Rule, tracks: readonly Track[], s: RuleState, t: number, o: EvalOptions): Step {
  const ids = tracks.filter((k) => k.class_id === r.class_id && inRegion(k, r.region)).map((k) => k.id);
  const holdsNow = countHolds(ids.length, r, s.active);
  // A lapse shorter than gap_s is flicker: the debounce keeps running and a raised alert stays.
  const bridged = !holdsNow && s.since !== undefined && s.lastHeld !== undefined && t - s.lastHeld <= o.gap_s * 1000;
  const holds = holdsNow || bridged;
  const since = holds ? s.since ?? t : undefined;
  const lastHeld = holdsNow ? t : bridged ? s.lastHeld : undefined;
  const debounce = Math.max(r.duration_s, o.min_hold_s) * 1000;
  const active = holds && (s.active || (holdsNow && t - (since as number) >= debounce));
  return { state: { active, since, timers: s.timers, raised: s.raised, lastHeld }, value: ids.length, trackIds: active ? ids : [] };
}

/**
 * Per-track timers that survive a track being lost and reacquired under a new id: `eligible`
 * tracks keep (or take over, or start) a timer; timed tracks that are gone from `tracks` leave
 * their timer in `lost` for gap_s; a timed track still present but no longer eligible (left the
 * region, attended) loses its timer for good.
 */
function carryTimers(r: Rule, tracks: readonly Track[], eligible: readonly Track[], s: RuleState, t: number, o: EvalOptions) {
  const present = new Set(tracks.map((k) => k.id));
  const lost: LostTimer[] = (s.lost ?? []).filter((l) => t - l.lostAt <= o.handover_s * 1000);
  if (o.handover_m > 0) {
    for (const [id, start] of s.timers) {
      const at = s.where?.get(id);
      if (!present.has(id) && at) lost.push({ start, lostAt: t, x: at.x, y: at.y, classId: r.class_id });
    }
  }
  const timers = new Map<number, number>();
  const where = new Map<number, { x: number; y: number }>();
  for (const k of eligible) {
    let start = s.timers.get(k.id);
    if (o.handover_m > 0) {
      // Reacquired, or a duplicate track on the same object? Take the oldest vanished timer
      // within handover_m when it is older than the track's own.
      let best = -1;
      for (let i = 0; i < lost.length; i++) {
        const l = lost[i];
        if (l.classId === k.class_id && dist2(l, k.position) <= o.handover_m ** 2 && (best < 0 || l.start < lost[best].start)) best = i;
      }
      if (best >= 0 && (start === undefined || lost[best].start < start)) {
        start = lost[best].start;
        lost.splice(best, 1);
      }
    }
    timers.set(k.id, start ?? t);
    where.set(k.id, { x: k.position.x, y: k.position.y });
  }
  return { timers, where, lost };
}

function stepDwell(r: Rule, tracks: readonly Track[], s: RuleState, t: number, o: EvalOptions): Step {
  const eligible = tracks.filter((k) => k.class_id === r.class_id && inRegion(k, r.region));
  const { timers, where, lost } = carryTimers(r, tracks, eligible, s, t, o);
  const ids: number[] = [];
  let longest = 0;
  for (const [id, entered] of timers) {
    const dwell = (t - entered) / 1000;
    if (dwell >= r.duration_s) ids.push(id);
    longest = Math.max(longest, dwell);
  }
  return { state: { active: ids.length > 0, since: undefined, timers, raised: new Set(ids), where, lost }, value: longest, trackIds: ids };
}

function stepUnattended(r: Rule, tracks: readonly Track[], s: RuleState, t: number, o: EvalOptions): Step {
  const companions = tracks.filter((k) => k.class_id === r.companion_class);
  const alone = tracks.filter((k) => {
    if (k.class_id !== r.class_id || !inRegion(k, r.region)) return false;
    const radius = s.raised.has(k.id) ? Math.max(0, r.radius_m - r.hysteresis) : r.radius_m;
    return !companions.some((c) => c.id !== k.id && dist2(c.position, k.position) <= radius * radius);
  });
  const { timers, where, lost } = carryTimers(r, tracks, alone, s, t, o);
  const raised = new Set<number>();
  let longest = 0;
  for (const [id, since] of timers) {
    const secs = (t - since) / 1000;
    if (secs >= r.duration_s) raised.add(id);
    longest = Math.max(longest, secs);
  }
  return { state: { active: raised.size > 0, since: undefined, timers, raised, where, lost }, value: longest, trackIds: [...raised] };
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
export function evaluateRules(rules: readonly Rule[], world: kestrel_msgs.WorldState, prev: EvalState, opts: EvalOptions = STRICT): EvalResult {
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
      case 'count': step = stepCount(r, world.tracks, s, t, opts); break;
      case 'dwell': step = stepDwell(r, world.tracks, s, t, opts); break;
      case 'unattended': step = stepUnattended(r, world.tracks, s, t, opts); break;
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
