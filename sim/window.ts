/**
 * Expected-alert windows (scenario `expected:` entries): where one sits in a run, how it reads.
 * Apart from sim/scenario.ts (and its YAML parser) so the evaluation can use it without loading it.
 */
/** A window in seconds from the scenario's start (`window_s:`) or from the truth onset of its event (`after_onset_s:`). */
export interface ExpectedWindow {
  window: { from: 'start' | 'onset'; s: [number, number] };
}

/**
 * The absolute window (scenario seconds) of `e` in a run whose ground-truth onset of `e.event` is
 * `onsetS`; null when the window is onset-relative and the event never started (nothing to be
 * relative to: the expectation cannot be met).
 */
export function absoluteWindow(e: ExpectedWindow, onsetS: number | null | undefined): [number, number] | null {
  if (e.window.from === 'start') return e.window.s;
  if (onsetS === null || onsetS === undefined) return null;
  return [onsetS + e.window.s[0], onsetS + e.window.s[1]];
}

/**
 * The latest scenario time at which `e`'s window may still be open, in a scenario of `durationS`
 * (for run lengths): the window's end, or for an onset-relative window the whole scenario (the
 * onset is only known once the run has reached it).
 */
export function windowCloseBound(e: ExpectedWindow, durationS: number): number {
  return e.window.from === 'start' ? e.window.s[1] : durationS;
}

/** A window as people read it: `35–52 s` or `onset −2…+13 s`. */
export function describeWindow(e: ExpectedWindow): string {
  const [a, b] = e.window.s;
  if (e.window.from === 'start') return `${a}–${b} s`;
  const sign = (v: number): string => (v < 0 ? `−${-v}` : `+${v}`);
  return `onset ${sign(a)}…${sign(b)} s`;
}
