/**
 * Per-class score thresholds (pure). One threshold cannot serve every class of a small-object
 * detector: kestrel-det scores people and vehicles well above 0.3 but a 10x5 px bag mostly at
 * 0.2-0.35, so the bag gets its own, lower threshold while the others keep theirs.
 */
import type { RawDetection } from './decode.js';

/** Threshold by class index: `perClass[name]` where given, else `def`. A name that is not a class throws, naming the classes. */
export function classThresholds(names: readonly string[], def: number, perClass: Readonly<Record<string, number>>): number[] {
  for (const [name, v] of Object.entries(perClass)) {
    if (!names.includes(name)) throw new RangeError(`class score threshold for '${name}': no such class (classes: ${names.join(', ')})`);
    if (!(v >= 0 && v <= 1)) throw new RangeError(`class score threshold for '${name}' is ${v}; expected 0..1`);
  }
  return names.map((n) => perClass[n] ?? def);
}

/** The lowest threshold: what the decoder must keep so that each class can apply its own. */
export function lowestThreshold(th: readonly number[], def: number): number {
  return Math.min(def, ...th);
}

/** Detections at or above their class's threshold (an index outside the table is kept for the caller's own check). */
export function aboveClassThreshold<T extends RawDetection>(dets: readonly T[], th: readonly number[]): T[] {
  return dets.filter((d) => d.classIndex < 0 || d.classIndex >= th.length || d.score >= th[d.classIndex]);
}
