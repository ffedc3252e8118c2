/**
 * Each scenario end to end under virtual time (simulator + simulated PX4 over the in-process
 * MAVLink wire + the whole mission pipeline), with the oracle detector (the detector's own
 * accuracy is tested in models/detector): the expected alert fires inside its window, the
 * arbiter returns home in the low-battery window, and the control variant raises nothing.
 * Positive runs stop once everything expected has happened; control runs cover every window.
 * Then one scenario of each rule kind (count: passport-queue, unattended: stranded-bag) with the
 * real detector (kestrel-det.onnx in the perception node), tracker and rules at the mission's
 * params; every scenario and control variant over 5 seeds is in models/detector/README.md
 * (app/eval/sweep.ts), too slow for this suite.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../app/eval/evaluate.js';
import { DEVICE_PROFILES } from '../../app/eval/profiles.js';
import { runMission } from '../../app/mission/run.js';
import type { LatencyModel } from '../../runtime/compute.js';
import { loadScenario } from '../../sim/scenario.js';

const LATENCY: LatencyModel = { mode: 'model', stages: { inference: { fixed_ms: 40 } }, default_ms: 5 };
const quiet = (): void => undefined;

async function run(name: string, control: boolean, perception: 'onnx' | 'oracle' = 'oracle') {
  const sc = loadScenario(name, { control });
  const durationS = Math.max(...sc.expected.map((e) => e.window_s[1])) + 1;
  // What must happen in a positive run: the expected rules' alerts and the arbiter's reactions.
  const pendingAlerts = sc.expected.filter((e) => !e.by).length;
  const pendingTruth = new Set(sc.expected.filter((e) => !e.by).map((e) => e.event));
  const pendingActions = new Set(sc.expected.filter((e) => e.by).map((e) => String(e.rule?.reaction)));
  let alerts = 0;
  const ac = new AbortController();
  const r = await runMission({
    scenario: name,
    control,
    durationS,
    mode: 'virtual',
    perception,
    latency: LATENCY,
    logSink: quiet,
    signal: ac.signal,
    // The planner's llama.cpp work is waited for under virtual time (ctx.compute); alerts do not
    // depend on it, so it plans every 5 s here instead of every second, to keep the file short.
    params: { planner: { rate_hz: 0.2 } },
    onEvent: (e) => {
      if (control) return;
      if (e.kind === 'alert' && e.active) alerts++;
      if (e.kind === 'truth' && e.active) pendingTruth.delete(e.name);
      if (e.kind === 'command') pendingActions.delete(e.action);
      // The truth onset too: an alert may precede it by a moment, and is scored against it.
      if (alerts >= pendingAlerts && pendingTruth.size === 0 && pendingActions.size === 0) ac.abort();
    },
  });
  const j = evaluate({
    source: { kind: 'scenario', name, path: sc.source, control, perception },
    durationS,
    expected: sc.expected,
    latency: { spec: 'test', model: LATENCY },
    profile: DEVICE_PROFILES.x86,
    monitor: r.monitor,
    diagnostics: r.diagnostics,
    stageSamples: r.stageSamples,
    peakRssMb: r.peakRssMb,
    wallS: r.wallS,
  });
  return { j, r };
}

describe('scenarios end to end (virtual time, oracle perception)', () => {
  for (const name of ['passport-queue', 'stranded-bag', 'perimeter-patrol']) {
    it(`${name}: the expected alert fires inside its window`, async () => {
      const { j } = await run(name, false);
      for (const e of j.alerts.expected) {
        expect(e.first_alert_s, `${e.event}: first alert (window ${e.window_s.join('–')} s)`).not.toBeNull();
        expect(e.in_window, `${e.event}: first alert at ${e.first_alert_s} s, window ${e.window_s.join('–')} s`).toBe(true);
      }
      // perimeter-patrol's low battery is the arbiter's: it must command rtl in the window.
      for (const x of j.reactions) expect(x.in_window, `${x.event}: ${x.action} at ${x.first_command_s} s, window ${x.window_s.join('–')} s`).toBe(true);
      expect(j.alerts.false_positives).toBe(0);
    });

    it(`${name} (control): no alert fires`, async () => {
      const { j } = await run(name, true);
      expect(j.alerts.episodes).toEqual([]);
      expect(j.reactions.every((x) => x.first_command_s === null)).toBe(true);
      expect(j.passed).toBe(true);
    });
  }
});

// One such run takes 30-60 s on a quiet 2-core machine and over 180 s under heavy load; until
// they are verified to pass on every run they are opt-in (KESTREL_E2E_REAL=1).
const REAL = process.env.KESTREL_E2E_REAL === '1';
if (!REAL) console.warn('scenarios with the real detector skipped: set KESTREL_E2E_REAL=1 to run them (slow)');

describe.skipIf(!REAL)('scenarios end to end with the real detector (virtual time)', () => {
  for (const name of ['passport-queue', 'stranded-bag']) {
    it(`${name}: kestrel-det's detections raise the expected alert inside its window`, async () => {
      const { j, r } = await run(name, false, 'onnx');
      expect(r.monitor.frames).toBeGreaterThan(100);
      for (const e of j.alerts.expected) {
        expect(e.first_alert_s, `${e.event}: first alert (window ${e.window_s.join('–')} s)`).not.toBeNull();
        expect(e.in_window, `${e.event}: first alert at ${e.first_alert_s} s, window ${e.window_s.join('–')} s`).toBe(true);
      }
      expect(j.alerts.false_positives).toBe(0);
    }, 600_000);
  }
});
