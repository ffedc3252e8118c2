/**
 * Alert scoring against scenario ground truth. An alert episode (a rule active from
 * onset to clear) is a true positive when it overlaps a ground-truth episode of a
 * matching event, allowing `lateS` for the pipeline to notice and `earlyS` of slack
 * before; a ground-truth episode is recalled when some matching alert starts within it
 * (or within `lateS` after its start). Time to alert = first matching onset − truth onset.
 */
import type { Interval } from './report.js';

export interface AlertScore {
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  timeToAlertS: number[];
}

/** Turns a sequence of (time, active) samples into episodes. */
export function episodes(samples: readonly { t: number; name: string; active: boolean }[], endS: number): Interval[] {
  const open = new Map<string, number>();
  const out: Interval[] = [];
  for (const s of samples) {
    if (s.active && !open.has(s.name)) open.set(s.name, s.t);
    else if (!s.active && open.has(s.name)) {
      out.push({ name: s.name, startS: open.get(s.name) as number, endS: s.t });
      open.delete(s.name);
    }
  }
  for (const [name, start] of open) out.push({ name, startS: start, endS: endS });
  return out.sort((a, b) => a.startS - b.startS || a.name.localeCompare(b.name));
}

export function scoreAlerts(
  truth: readonly Interval[],
  alerts: readonly Interval[],
  matches: (alertName: string, truthName: string) => boolean,
  o: { lateS: number; earlyS: number },
): AlertScore {
  let tp = 0;
  let fp = 0;
  for (const a of alerts) {
    const hit = truth.some((t) => matches(a.name, t.name) && a.startS <= t.endS + o.lateS && a.endS >= t.startS - o.earlyS);
    if (hit) tp++;
    else fp++;
  }
  let fn = 0;
  const tta: number[] = [];
  for (const t of truth) {
    const onsets = alerts.filter((a) => matches(a.name, t.name) && a.startS >= t.startS - o.earlyS && a.startS <= t.endS + o.lateS).map((a) => a.startS);
    if (onsets.length === 0) fn++;
    else tta.push(Math.max(0, Math.min(...onsets) - t.startS));
  }
  return {
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: truth.length === 0 ? 1 : (truth.length - fn) / truth.length,
    timeToAlertS: tta,
  };
}
