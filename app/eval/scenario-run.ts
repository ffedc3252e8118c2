/**
 * One scenario run under virtual time, judged against its expectations: what the 5-seed sweep
 * (sweep.ts) and the end-to-end tests (test/e2e/scenarios.test.ts) share, so both run the same
 * mission, latency model and stopping rule.
 *
 * A control run covers the whole scenario (no alert may fire anywhere in it). A positive run
 * stops early, by `stop`:
 * - 'when-met' (tests): once every expected alert fired, every expected truth started and every
 *   expected reaction was commanded;
 * - 'windows-closed' (sweep): once every window has closed (an onset-relative window once its
 *   event started and onset + to passed), so false alerts inside every window are counted.
 * Either way it stops at the scenario's end, or at an absolute window's end + 1 s when every
 * window is absolute (the original files).
 */
import { runMission, type MissionResult } from '../mission/run.js';
import type { LatencyModel } from '../../runtime/compute.js';
import { absoluteWindow, loadScenario, windowCloseBound, type Scenario } from '../../sim/scenario.js';
import { DEVICE_PROFILES } from './profiles.js';
import { evaluate, type EvalJson } from './evaluate.js';

/** Inference is charged 40 ms a frame, everything else 5 ms: the same in every sweep and test, whatever the machine. */
export const SCENARIO_LATENCY: LatencyModel = { mode: 'model', stages: { inference: { fixed_ms: 40 } }, default_ms: 5 };

/**
 * A silent virtual-time run with the real detector for the trace tools (trace-tracks.ts, probe-dets.ts): the
 * scenario (default stranded-bag), its control variant, a seed, params, and a hook on the bus.
 */
export async function traceMission(o: { scenario?: string; control: boolean; seed: string; durationS: number; params: Parameters<typeof runMission>[0]['params']; onBus: NonNullable<Parameters<typeof runMission>[0]['onBus']> }): Promise<MissionResult> {
  return runMission({
    scenario: o.scenario ?? 'stranded-bag',
    control: o.control,
    durationS: o.durationS,
    mode: 'virtual',
    perception: 'onnx',
    ...(o.seed ? { seed: Number(o.seed) } : {}),
    latency: SCENARIO_LATENCY,
    logSink: () => undefined,
    params: o.params,
    onBus: o.onBus,
  });
}

export interface ScenarioRunOptions {
  name: string;
  control: boolean;
  perception: 'onnx' | 'oracle';
  /** World seed (default: the scenario's). */
  seed?: number;
  /** Parameter overrides by node executable, over the launch file's (and the planner's 0.2 Hz). */
  params?: Record<string, Record<string, number | string | boolean>>;
  stop: 'when-met' | 'windows-closed';
  /** The `source.path`/`latency.spec` label in the evaluation JSON. */
  label: string;
}

export interface ScenarioRun {
  scenario: Scenario;
  j: EvalJson;
  r: MissionResult;
}

/** Seconds the run may last: the scenario, or just past its last absolute window. */
export function plannedDuration(sc: Scenario): number {
  if (sc.control) return sc.duration_s;
  return Math.min(sc.duration_s, Math.max(...sc.expected.map((e) => windowCloseBound(e, sc.duration_s))) + 1);
}

export async function runScenario(o: ScenarioRunOptions): Promise<ScenarioRun> {
  const sc = loadScenario(o.name, { control: o.control });
  const durationS = plannedDuration(sc);
  const alertsWanted = sc.expected.filter((e) => !e.by);
  const pendingAlerts = new Set(alertsWanted.map((e) => e.event));
  const pendingTruth = new Set(sc.expected.map((e) => e.event));
  const pendingActions = new Set(sc.expected.filter((e) => e.by).map((e) => String(e.rule?.reaction)));
  const onsets = new Map<string, number>();
  let alerts = 0;
  const ac = new AbortController();
  const allHappened = (): boolean => alerts >= pendingAlerts.size && pendingTruth.size === 0 && pendingActions.size === 0;
  const windowsClosed = (t: number): boolean =>
    pendingTruth.size === 0 && sc.expected.every((e) => (absoluteWindow(e, onsets.get(e.event)) ?? [0, Infinity])[1] + 1 <= t);
  const check = (t: number): void => {
    if (o.control || ac.signal.aborted) return;
    if (o.stop === 'when-met' ? allHappened() : windowsClosed(t)) ac.abort();
  };
  const r = await runMission({
    scenario: o.name,
    control: o.control,
    durationS,
    mode: 'virtual',
    perception: o.perception,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    latency: SCENARIO_LATENCY,
    logSink: () => undefined,
    signal: ac.signal,
    // The planner's llama.cpp work is waited for under virtual time (ctx.compute); alerts do not
    // depend on it, so it plans every 5 s instead of every second, to keep runs short.
    params: { ...o.params, planner: { rate_hz: 0.2, ...o.params?.planner } },
    onEvent: (e) => {
      if (e.kind === 'alert' && e.active) alerts++;
      if (e.kind === 'truth' && e.active) {
        pendingTruth.delete(e.name);
        if (!onsets.has(e.name)) onsets.set(e.name, e.t);
      }
      if (e.kind === 'command') pendingActions.delete(e.action);
      // The truth onset too: an alert may precede it by a moment, and is scored against it.
      check(e.t);
    },
    onProgress: (s) => check(s),
  });
  const j = evaluate({
    source: { kind: 'scenario', name: o.name, path: sc.source, control: o.control, seed: o.seed ?? sc.seed, perception: o.perception },
    durationS: r.ranS,
    expected: sc.expected,
    latency: { spec: o.label, model: SCENARIO_LATENCY },
    profile: DEVICE_PROFILES.x86,
    monitor: r.monitor,
    diagnostics: r.diagnostics,
    stageSamples: r.stageSamples,
    peakRssMb: r.peakRssMb,
    wallS: r.wallS,
  });
  return { scenario: sc, j, r };
}
