/**
 * Turns what a run was judged by (monitor, final diagnostics, stage samples) into the
 * `kestrel eval` figures: latency per stage, misses, drops, end-to-end ages, alert
 * precision/recall and time to alert against the scenario's ground truth, arbiter
 * reactions, planner tokens/s, memory and an energy estimate. Pure: the same run gives
 * the same JSON, except the fields under `wall` and `planner` (timed on the wall clock).
 */
import type { kestrel_msgs } from '../../msgs/index.js';
import type { LatencyModel } from '../../runtime/compute.js';
import type { NodeStatus } from '../../runtime/diagnostics.js';
import { percentile } from '../../runtime/diagnostics.js';
import type { ExpectedAlert } from '../../sim/scenario.js';
import { absoluteWindow, describeWindow } from '../../sim/window.js';
import type { MissionMonitor } from '../mission/monitor.js';
import { energyMj, type DeviceProfile } from './profiles.js';
import type { ReportFrame } from './frames.js';
import type { Interval, ReportInput, ReportStage } from './report.js';
import type { StagePoint } from './series.js';
import { episodes, scoreAlerts } from './score.js';

/** An alert may start this early before its truth onset (smoothing, hysteresis) ... */
export const EARLY_S = 2;
/** ... or this late after it (tracks must be confirmed, unattended timers run out) and still count. */
export const LATE_S = 10;

/** Compute stages (ctx.compute: the ONNX detector, LLM generation, intent compile): energy per call is estimated for them. */
const INFERENCE_STAGES = /\/(inference|generate|compile_llm)$/;

export interface EvalInput {
  source: { kind: 'scenario' | 'bag'; name: string; path: string; control: boolean; seed?: number; perception: 'onnx' | 'oracle' };
  durationS: number;
  expected: readonly ExpectedAlert[];
  latency: { spec: string; model: LatencyModel };
  profile: DeviceProfile;
  monitor: MissionMonitor;
  diagnostics: readonly NodeStatus[];
  stageSamples: Record<string, number[]>;
  peakRssMb: number;
  wallS: number;
  /** Real energy counter delta over the run, where the platform has one. */
  energyCounter?: { source: string; uj: number };
  notes?: string[];
}

const round = (n: number, d = 3): number => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : n);

function dist(xs: readonly number[]): { count: number; p50: number; p99: number; max: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  return {
    count: s.length,
    p50: round(percentile(s, 0.5)),
    p99: round(percentile(s, 0.99)),
    max: round(s.length ? s[s.length - 1] : 0),
    mean: round(s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0),
  };
}

/** Does an installed rule have every field the scenario's `expected.rule` names? */
export function ruleMatches(rule: kestrel_msgs.Rule, want: Record<string, string | number>): boolean {
  const r = rule as unknown as Record<string, unknown>;
  return Object.entries(want).every(([k, v]) => {
    const got = r[k];
    if (typeof v === 'number') return typeof got === 'number' && Math.abs(got - v) < 1e-6;
    return got === v;
  });
}

/** Arbiter-handled expectations (`by: arbiter`, `rule: {reaction: rtl}`) are reactions, not alerts. */
const isReaction = (e: ExpectedAlert): boolean => e.by !== undefined && e.by !== 'rules';

/** First time each command action appears in the decision log (`<t> cmd <seq> <action> <source> ...`). */
function commandOnsets(log: readonly string[]): { t: number; action: string; source: string }[] {
  const out: { t: number; action: string; source: string }[] = [];
  let last = '';
  for (const line of log) {
    const m = /^(-?[\d.]+) cmd \d+ (\S+) (\S+)/.exec(line);
    if (!m) continue;
    const key = `${m[2]}/${m[3]}`;
    if (key !== last) out.push({ t: Number(m[1]), action: m[2], source: m[3] });
    last = key;
  }
  return out;
}

export function evaluate(i: EvalInput) {
  const m = i.monitor;
  const alerts = episodes(m.alertSamples, i.durationS);
  const truthAll = episodes(m.truthSamples, i.durationS);
  const ruleById = new Map(m.rules.map((r) => [r.id, r]));
  const alertExp = i.expected.filter((e) => !isReaction(e));
  const reactionExp = i.expected.filter(isReaction);
  const reactionEvents = new Set(reactionExp.map((e) => e.event));
  // Truth the rules are judged on: every event except those a reaction (arbiter) answers.
  const truth = truthAll.filter((t) => !reactionEvents.has(t.name));
  const matches = (alertName: string, truthName: string): boolean => {
    const rule = ruleById.get(alertName);
    return rule !== undefined && alertExp.some((e) => e.event === truthName && e.rule !== undefined && ruleMatches(rule, e.rule));
  };
  const score = scoreAlerts(truth, alerts, matches, { lateS: LATE_S, earlyS: EARLY_S });

  const perEvent = alertExp.map((e) => {
    const onset = truth.find((t) => t.name === e.event)?.startS;
    const first = alerts.filter((a) => matches(a.name, e.event)).map((a) => a.startS).sort((a, b) => a - b)[0];
    const window = absoluteWindow(e, onset);
    const inWindow = first !== undefined && window !== null && first >= window[0] && first <= window[1];
    return {
      event: e.event,
      rule: e.rule ?? null,
      /** The window in scenario time (an onset-relative one placed at this run's onset; null: the event never started). */
      window_s: window,
      /** The window as the scenario gives it: from its start or from the truth onset. */
      window: e.window,
      truth_onset_s: onset ?? null,
      first_alert_s: first ?? null,
      time_to_alert_s: first !== undefined && onset !== undefined ? round(first - onset) : null,
      in_window: inWindow,
      // A control run must raise nothing; a normal run must alert inside the window.
      ok: i.source.control ? alerts.length === 0 : inWindow,
    };
  });

  const onsets = commandOnsets(m.decisionLog);
  const reactions = reactionExp.map((e) => {
    const action = typeof e.rule?.reaction === 'string' ? e.rule.reaction : undefined;
    const onset = truthAll.find((t) => t.name === e.event)?.startS;
    const window = absoluteWindow(e, onset);
    const first = window === null ? undefined : onsets.find((c) => c.action === action && c.t >= window[0] - EARLY_S);
    const inWindow = first !== undefined && window !== null && first.t <= window[1];
    const anyAction = onsets.some((c) => c.action === action);
    return {
      event: e.event,
      by: e.by,
      action: action ?? null,
      window_s: window,
      window: e.window,
      truth_onset_s: onset ?? null,
      first_command_s: first?.t ?? null,
      source: first?.source ?? null,
      in_window: inWindow,
      ok: i.source.control ? !anyAction : inWindow,
    };
  });

  const stages = i.diagnostics.flatMap((d) =>
    d.stages.map((s) => ({
      name: s.name,
      count: s.count,
      p50_ms: round(s.p50),
      p99_ms: round(s.p99),
      max_ms: round(s.max),
      deadline_misses: s.misses,
      drops: s.drops,
      errors: s.errors,
    })),
  );
  const sum = (k: 'deadline_misses' | 'drops' | 'errors'): number => stages.reduce((n, s) => n + s[k], 0);

  // Planner TTFT and tokens/s are timed by the engine on the wall clock (under sim time the
  // node clock stands still while the model runs), so they vary run to run: kept apart from
  // the deterministic part.
  const plannerDiag = i.diagnostics.find((d) => /(^|\/)planner$/.test(d.node));
  const genPlans = m.plans.filter((p) => p.genMs > 0);
  const tokens = genPlans.reduce((n, p) => n + p.tokens, 0);
  const genMs = genPlans.reduce((n, p) => n + p.genMs, 0);
  const planner = {
    plans: m.plans.length,
    tokens_per_s: genMs > 0 ? round(tokens / (genMs / 1000), 1) : null,
    ttft_ms: dist(m.plans.map((p) => p.ttftMs)),
    completion_tokens: tokens,
    diagnostics: plannerDiag?.values ?? {},
  };

  const p = i.profile;
  const inference = stages
    .filter((s) => INFERENCE_STAGES.test(s.name) && s.count > 0)
    .map((s) => {
      const d = dist(i.stageSamples[s.name] ?? []);
      return { stage: s.name, calls: s.count, mean_ms: d.mean, energy_per_inference_estimate_mj: round(energyMj(p, d.mean)) };
    });
  const busyMs = inference.reduce((n, s) => n + s.calls * s.mean_ms, 0);
  const energy = {
    note: 'ESTIMATE from the device profile power figures (active minus idle watts × compute time), not a measurement',
    profile: p.name,
    profile_source: p.source,
    idle_w: p.idle_w,
    active_w: p.active_w,
    per_stage: inference,
    compute_estimate_ms: round(busyMs),
    inference_energy_estimate_j: round(energyMj(p, busyMs) / 1000),
    run_energy_estimate_j: round(p.idle_w * i.durationS + energyMj(p, busyMs) / 1000),
  };

  const e2e = dist(m.e2eAgesMs);
  const warnings = evalWarnings(m.plans.length, stages, i.durationS);
  return {
    kestrel_eval: 1,
    source: i.source,
    duration_s: i.durationS,
    latency_model: { spec: i.latency.spec, ...i.latency.model },
    device_profile: p,
    stages,
    totals: { deadline_misses: sum('deadline_misses'), drops: sum('drops'), errors: sum('errors') },
    e2e_age_ms: e2e,
    frames: m.frames,
    detections: m.detections,
    alerts: {
      precision: round(score.precision),
      recall: round(score.recall),
      true_positives: score.truePositives,
      false_positives: score.falsePositives,
      false_negatives: score.falseNegatives,
      time_to_alert_s: score.timeToAlertS.map((t) => round(t)),
      tolerances_s: { early: EARLY_S, late: LATE_S },
      expected: perEvent,
      episodes: alerts.map((a) => ({ ...a, rule: ruleById.get(a.name)?.message ?? '' })),
      truth: truthAll,
    },
    reactions,
    commands_by_source: m.commandsBySource,
    decision_log_lines: m.decisionLog.length,
    passed: perEvent.every((e) => e.ok) && reactions.every((r) => r.ok),
    warnings,
    energy,
    planner,
    wall: {
      wall_s: round(i.wallS),
      peak_rss_mb: round(i.peakRssMb, 1),
      energy_counter: i.energyCounter ?? null,
    },
    notes: i.notes ?? [],
  };
}

export type EvalJson = ReturnType<typeof evaluate>;

/**
 * What must not pass unnoticed: a planner that produced nothing, a stage that missed most
 * of its deadlines. `kestrel eval` prints these loudly and the report shows them on top.
 */
export function evalWarnings(plans: number, stages: readonly { name: string; count: number; deadline_misses: number }[], durationS: number): string[] {
  const out: string[] = [];
  const planner = stages.find((s) => /\/planner\/plan$/.test(s.name));
  if (plans === 0 && durationS >= 5) {
    out.push(`the planner produced 0 plans in ${durationS} s${planner ? ` (${planner.count} attempt(s), ${planner.deadline_misses} deadline miss(es) on ${planner.name})` : ''}: the mission ran on mission/fallback commands only`);
  }
  for (const s of stages) {
    // Whether count includes the missed calls differs per stage: more misses than half the count is "most" either way or close.
    if (s.deadline_misses > 0 && s.deadline_misses > s.count / 2) out.push(`${s.name} missed most of its deadlines: ${s.deadline_misses} miss(es) for ${s.count} completed call(s)`);
  }
  return out;
}

/** The eval JSON without what depends on wall time or this machine's load (for determinism checks). */
export function deterministicPart(j: EvalJson): Omit<EvalJson, 'wall' | 'planner' | 'totals' | 'warnings'> {
  const { wall: _w, planner: _p, totals: _t, warnings: _x, ...rest } = j;
  // The planner's own stage runs llama.cpp at wall speed: its counts (and so the totals) vary with load.
  return { ...rest, stages: rest.stages.filter((s) => !/\/planner\/plan$/.test(s.name)) };
}

/** What the report draws beyond eval.json: the run's time series, the scenario's map, frames. */
export interface ReportExtras {
  stageSamples: Record<string, number[]>;
  series: Record<string, StagePoint[]>;
  /** Deadline-like params by node fqn (runMission's `deadlines`). */
  deadlines: Record<string, Record<string, number>>;
  monitor: Pick<MissionMonitor, 'commands' | 'plans' | 'vehicle' | 'trackPoints'>;
  regions: { name: string; polygon: { x: number; y: number }[] }[];
  geofence?: string;
  frames: ReportFrame[];
}

/** The deadline a stage is judged against: its node's deadline_ms, latency_budget_ms or max_period_ms. */
/** `35–52 s`, or for an onset-relative window `onset −2…+13 s (35.1–50.1 s)` (its place in this run, if the event started). */
function windowText(e: { window_s: readonly number[] | null; window: ExpectedAlert['window'] }): string {
  const spec = describeWindow(e);
  if (e.window.from === 'start') return spec;
  return e.window_s ? `${spec} (${round(e.window_s[0], 2)}–${round(e.window_s[1], 2)} s)` : `${spec} (the event never started)`;
}

function stageDeadline(stage: string, deadlines: ReportExtras['deadlines']): ReportStage['deadline'] {
  const node = stage.slice(0, stage.lastIndexOf('/'));
  const d = deadlines[node];
  if (!d) return undefined;
  for (const param of ['deadline_ms', 'latency_budget_ms', 'max_period_ms']) if (d[param] !== undefined) return { param, ms: d[param] };
  return undefined;
}

export function reportInput(j: EvalJson, x: ReportExtras): ReportInput {
  const stageSamples = x.stageSamples;
  const label = (iv: Interval & { rule?: string }): Interval => ({ name: iv.rule ? `${iv.name} ${iv.rule}` : iv.name, startS: iv.startS, endS: iv.endS });
  const ok = (b: boolean): string => (b ? 'yes' : 'NO');
  return {
    title: `kestrel eval: ${j.source.name}${j.source.control ? ' (control)' : ''}`,
    summary: {
      source: `${j.source.kind} ${j.source.path}`,
      perception: j.source.perception,
      'duration (s)': j.duration_s,
      'latency model': j.latency_model.spec,
      'device profile': `${j.device_profile.name}: ${j.device_profile.description}`,
      'expectations met': ok(j.passed),
      'alert precision': j.alerts.precision,
      'alert recall': j.alerts.recall,
      'time to alert (s)': j.alerts.time_to_alert_s.join(', ') || '-',
      'deadline misses': j.totals.deadline_misses,
      'dropped': j.totals.drops,
      'errors': j.totals.errors,
      'e2e age of decisions p50/p99/max (ms)': `${j.e2e_age_ms.p50} / ${j.e2e_age_ms.p99} / ${j.e2e_age_ms.max}`,
      'planner plans': j.planner.plans,
      'planner tokens/s': j.planner.tokens_per_s ?? '-',
      'planner TTFT p50 (ms)': j.planner.ttft_ms.count ? j.planner.ttft_ms.p50 : '-',
      'peak RSS (MB)': j.wall.peak_rss_mb,
      'energy per run (J, ESTIMATE)': j.energy.run_energy_estimate_j,
      'energy counter': j.wall.energy_counter ? `${j.wall.energy_counter.uj} µJ from ${j.wall.energy_counter.source} (measured, whole machine)` : 'none on this platform',
      'wall time (s)': j.wall.wall_s,
    },
    warnings: j.warnings,
    stages: j.stages.map((s) => {
      const deadline = stageDeadline(s.name, x.deadlines);
      return { name: s.name, count: s.count, p50: s.p50_ms, p99: s.p99_ms, max: s.max_ms, misses: s.deadline_misses, drops: s.drops, errors: s.errors, samples: stageSamples[s.name] ?? [], ...(deadline ? { deadline } : {}) };
    }),
    truth: j.alerts.truth,
    alerts: j.alerts.episodes.map(label),
    expected: [
      ...j.alerts.expected.map((e) => ({ event: e.event, kind: 'alert' as const, what: 'alert', window_s: e.window_s, truth_onset_s: e.truth_onset_s, first_s: e.first_alert_s, ok: e.ok })),
      ...j.reactions.map((r) => ({ event: r.event, kind: 'reaction' as const, what: r.action ?? 'reaction', window_s: r.window_s, truth_onset_s: r.truth_onset_s, first_s: r.first_command_s, ok: r.ok })),
    ],
    durationS: j.duration_s,
    commands: x.monitor.commands,
    e2eDeadlineMs: Object.entries(x.deadlines).find(([n]) => /(^|\/)arbiter$/.test(n))?.[1].max_age_ms,
    series: x.series,
    plans: x.monitor.plans.map((p) => ({ t: p.t, action: p.action, reason: p.reason, tokens: p.tokens, ttftMs: p.ttftMs })),
    map: {
      regions: x.regions.map((r) => ({ name: r.name, polygon: r.polygon.map((q): [number, number] => [q.x, q.y]) })),
      ...(x.geofence !== undefined ? { geofence: x.geofence } : {}),
      vehicle: x.monitor.vehicle,
      tracks: x.monitor.trackPoints,
    },
    energy: j.energy.per_stage.map((e) => ({ stage: e.stage, calls: e.calls, mean_ms: e.mean_ms, mj: e.energy_per_inference_estimate_mj })),
    frames: x.frames,
    notes: [
      ...j.alerts.expected.map((e) => `${e.event}: window ${windowText(e)}, first alert ${e.first_alert_s ?? 'none'} s, truth onset ${e.truth_onset_s ?? 'none'} s, time to alert ${e.time_to_alert_s ?? '-'} s: ${e.ok ? 'ok' : 'FAILED'}`),
      ...j.reactions.map((r) => `${r.event} (by ${r.by}): ${r.action} expected in ${windowText(r)}, first at ${r.first_command_s ?? 'never'} s: ${r.ok ? 'ok' : 'FAILED'}`),
      `Energy figures are estimates from the ${j.energy.profile} profile (${j.energy.profile_source}).`,
      ...j.notes,
    ],
  };
}
