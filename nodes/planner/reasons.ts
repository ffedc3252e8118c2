/**
 * The sentences a plan's `reason` is made of: the plan teacher's (models/lm/corpus/plan.ts), which the model
 * was distilled on. From them, the reasons true of one situation: under grounded decoding the model picks one,
 * so a plan can never name a rule, region or track the situation does not hold (free text did: "r8_1 person
 * count in gate_12" while the alert was r1_1 in the queue).
 */
import type { kestrel_msgs } from '../../msgs/index.js';
import { REASON_MAX } from './plan.js';
import { situationPlaces, type SituationPlaces } from './situation.js';

/** A short name for what an alert is about, from its message (describeRule's sentences). */
export function alertSummary(message: string): string {
  let m = /^(\S+)(?: in (\S+))? with no (\S+) within/.exec(message);
  if (m) return `unattended ${m[1]}${m[2] ? ` in ${m[2]}` : ''}`;
  m = /^(\S+) staying(?: in (\S+))? longer than/.exec(message);
  if (m) return `${m[1]} loitering${m[2] ? ` in ${m[2]}` : ''}`;
  m = /^(\S+)(?: in (\S+))? within \S+ m of the vehicle/.exec(message);
  if (m) return `${m[1]} close to the drone`;
  m = /^(\S+) count(?: in (\S+))? (\S+) (\S+)/.exec(message);
  if (m) return `${m[1]} count${m[2] ? ` in ${m[2]}` : ''} ${m[3]} ${m[4]}`;
  return message.replace(/[^\x20-\x7e]|["\\]/g, ' ').slice(0, 40);
}

/** A reason as the plan carries it: no quote or backslash (it sits in JSON), at most REASON_MAX characters. */
export const clipReason = (s: string): string => s.replace(/["\\]/g, ' ').slice(0, REASON_MAX);

/** The teacher's sentences, one per decision it makes. */
export const REASONS = {
  battery: (pct: number, doing: 'returning home' | 'landing' | 'holding'): string => `battery ${pct}%: ${doing}`,
  noAlerts: 'no alerts: holding',
  /** An alert that asks for no reaction: watched. */
  watching: (ruleId: string, sum: string): string => clipReason(`${ruleId} ${sum}: holding`),
  notAllowed: (react: string, sum: string): string => clipReason(`${react} not allowed, holding: ${sum}`),
  /** hold, rtl, land: about the alert, not a track. */
  acting: (react: string, sum: string): string => clipReason(`${react}: ${sum}`),
  noTrack: (react: string, sum: string): string => clipReason(`${react}: no listed track, holding: ${sum}`),
  /** orbit, track: a listed track. */
  onTrack: (react: string, trackId: number, sum: string): string => clipReason(`${react} #${trackId}: ${sum}`),
} as const;

export interface ReasonInputs {
  /** Battery as the situation shows it, 0..100 %; negative when unknown. */
  batteryPct: number;
  alerts: readonly Pick<kestrel_msgs.Alert, 'rule_id' | 'message' | 'track_ids'>[];
  /** Ids of the tracks the situation lists. */
  trackIds: readonly number[];
  actions: readonly string[];
}

/** A reason and the plan it explains: the action, and for orbit/track the track. */
export interface Reason {
  text: string;
  action: string;
  trackId?: number;
}

/** Every reason the teacher could give about this situation, whatever it decides (distinct, in a fixed order). */
export function candidateReasons(s: ReasonInputs): Reason[] {
  const out = new Map<string, Reason>();
  const add = (text: string, action: string, trackId?: number): void => {
    if (!out.has(text)) out.set(text, trackId === undefined ? { text, action } : { text, action, trackId });
  };
  if (s.batteryPct >= 0) {
    add(REASONS.battery(s.batteryPct, 'returning home'), 'rtl');
    add(REASONS.battery(s.batteryPct, 'landing'), 'land');
    add(REASONS.battery(s.batteryPct, 'holding'), 'hold');
  }
  if (s.alerts.length === 0) add(REASONS.noAlerts, 'hold');
  for (const a of s.alerts) {
    const sum = alertSummary(a.message);
    add(REASONS.watching(a.rule_id, sum), 'hold');
    for (const react of ['hold', 'rtl', 'land']) {
      if (s.actions.includes(react)) add(REASONS.acting(react, sum), react);
      else add(REASONS.notAllowed(react, sum), 'hold');
    }
    for (const react of ['orbit', 'track']) {
      if (!s.actions.includes(react)) {
        add(REASONS.notAllowed(react, sum), 'hold');
        continue;
      }
      add(REASONS.noTrack(react, sum), 'hold');
      for (const id of s.trackIds) if (a.track_ids.includes(id)) add(REASONS.onTrack(react, id, sum), react, id);
    }
  }
  return [...out.values()];
}

/** Whether a plan does what its reason says (the action, and the track of an orbit or track). */
export function reasonFits(reasons: readonly Reason[], plan: { action: string; track_id: number; reason: string }): boolean {
  const r = reasons.find((x) => x.text === plan.reason);
  return r !== undefined && r.action === plan.action && (r.trackId === undefined || r.trackId === plan.track_id);
}

const BATTERY = /^Vehicle: .*, battery (\d+)%\.$/m;
const ALERT = /^- \S+ (\S+): (.*) \(value -?[\d.]+, tracks ([\d,]+|-), suggested \S+\)$/gm;

/**
 * The reasons true of a situation text (buildSituation's): its battery, alerts and listed tracks, read back from
 * what the model is shown, so the node, the evaluator and the corpus check all ground the same way.
 */
export function situationReasons(situation: string, actions: readonly string[], places: SituationPlaces = situationPlaces(situation)): Reason[] {
  const battery = BATTERY.exec(situation);
  const alerts = [...situation.matchAll(ALERT)].map((m) => ({ rule_id: m[1], message: m[2], track_ids: m[3] === '-' ? [] : m[3].split(',').map(Number) }));
  return candidateReasons({ batteryPct: battery ? Number(battery[1]) : -1, alerts, trackIds: places.tracks.map((t) => t.id), actions });
}

/** The texts of situationReasons: the grounded grammar's choices for `reason`. */
export const reasonTexts = (reasons: readonly Reason[]): string[] => reasons.map((r) => r.text);
