/**
 * Each scenario end to end under virtual time (simulator + simulated PX4 over the in-process
 * MAVLink wire + the whole mission pipeline), with the oracle detector (the detector's own
 * accuracy is tested in models/detector): the expected alert fires inside its window, the
 * arbiter returns home in the low-battery window, and the control variant raises nothing.
 * Positive runs stop once everything expected has happened; control runs cover the whole
 * scenario (app/eval/scenario-run.ts, shared with the sweep). Then one scenario of each rule kind
 * (count: passport-queue, unattended: stranded-bag) with the real detector (kestrel-det.onnx in
 * the perception node), tracker and rules at the mission's params.
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../app/eval/scenario-run.js';

// A loaded machine (vitest's other workers, a training job) can keep the niced LLM and detector
// children from becoming ready in the default 60 s: a failed start there is not what is tested.
const slowStart = { child_start_timeout_ms: 300_000 };
const run = (name: string, control: boolean, perception: 'onnx' | 'oracle' = 'oracle') =>
  runScenario({ name, control, perception, stop: 'when-met', label: 'test', params: { intent: slowStart, planner: slowStart, ...(perception === 'onnx' ? { perception: slowStart } : {}) } });

/** `35–52 s`, or an onset-relative window with its place in this run. */
const where = (e: { window_s: readonly number[] | null; window: { from: string; s: readonly number[] } }): string =>
  `${e.window.from === 'onset' ? `onset ${e.window.s.join('…')} s = ` : ''}${e.window_s ? `${e.window_s.map((v) => v.toFixed(2)).join('–')} s` : 'none (the event never started)'}`;

function expectMet(j: Awaited<ReturnType<typeof run>>['j']): void {
  for (const e of j.alerts.expected) {
    expect(e.first_alert_s, `${e.event}: first alert (window ${where(e)}, truth onset ${e.truth_onset_s} s)`).not.toBeNull();
    expect(e.in_window, `${e.event}: first alert at ${e.first_alert_s} s, window ${where(e)}, truth onset ${e.truth_onset_s} s`).toBe(true);
  }
  // perimeter-patrol's low battery is the arbiter's: it must command rtl in the window.
  for (const x of j.reactions) expect(x.in_window, `${x.event}: ${x.action} at ${x.first_command_s} s, window ${where(x)}`).toBe(true);
  expect(j.alerts.false_positives).toBe(0);
}

describe('scenarios end to end (virtual time, oracle perception)', () => {
  for (const name of ['passport-queue', 'stranded-bag', 'perimeter-patrol']) {
    it(`${name}: the expected alert fires inside its window`, async () => {
      expectMet((await run(name, false)).j);
    }, 300_000);

    it(`${name} (control): no alert fires`, async () => {
      const { j } = await run(name, true);
      expect(j.alerts.episodes).toEqual([]);
      expect(j.reactions.every((x) => x.first_command_s === null)).toBe(true);
      expect(j.passed).toBe(true);
    }, 300_000);
  }
});

// One scenario of each rule kind with kestrel-det in the perception node, by default: count
// (passport-queue, its alert about 37 s in) and unattended (stranded-bag, about 48 s), at the
// scenario's own seed, each stopping once its alert fired: 8.6 s and 12.4 s on the 2-core VM
// after the training job (the six oracle runs above: 25.5 s together). KESTREL_E2E_REAL=0 skips them (a
// quick pipeline-logic run); the 5-seed sweep of every scenario and control is
// app/eval/sweep.ts, too slow for this suite (results in models/detector/README.md, "In the mission").
const REAL = process.env.KESTREL_E2E_REAL !== '0';
if (!REAL) console.warn('scenarios with the real detector skipped (KESTREL_E2E_REAL=0)');

describe.skipIf(!REAL)('scenarios end to end with the real detector (virtual time)', () => {
  for (const name of ['passport-queue', 'stranded-bag']) {
    it(`${name}: kestrel-det's detections raise the expected alert inside its window`, async () => {
      const { j, r } = await run(name, false, 'onnx');
      expect(r.monitor.frames).toBeGreaterThan(100);
      expectMet(j);
    }, 600_000);
  }
});
