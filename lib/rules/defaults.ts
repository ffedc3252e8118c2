/**
 * The documented defaults of the rule DSL (LM-SPEC "Semantics and documented defaults"). A
 * compiled field that the intent text does not state must equal the value here; the
 * grounding check (grounding.ts) and the corpus generator (models/lm/corpus) read these, so
 * the model is trained on exactly what the check accepts. `null` = no default: the text must
 * say it (a count's op and threshold, a dwell's duration).
 */
import type { RuleKind } from './dsl.js';

export interface KindDefaults {
  /** Fixed op for kinds that do not compare a count; null = from the text. */
  op: string | null;
  /** Fixed threshold; null = from the text. */
  threshold: number | null;
  /** Default duration when none is said; null = required in the text. */
  duration_s: number | null;
  radius_m: number;
  companion_class: string;
  hysteresis: number;
}

export const KIND_DEFAULTS: Readonly<Record<RuleKind, KindDefaults>> = {
  count: { op: null, threshold: null, duration_s: 0, radius_m: 0, companion_class: '', hysteresis: 1 },
  dwell: { op: '>', threshold: 0, duration_s: null, radius_m: 0, companion_class: '', hysteresis: 0 },
  unattended: { op: '>', threshold: 0, duration_s: 30, radius_m: 3, companion_class: 'person', hysteresis: 0.5 },
  proximity: { op: '>', threshold: 0, duration_s: 0, radius_m: 5, companion_class: '', hysteresis: 1 },
};

/** '' = anywhere: the region when the text names none. */
export const DEFAULT_REGION = '';
export const DEFAULT_SEVERITY = 'warning';
export const DEFAULT_REACTION = 'none';
/** Kinds whose rule is meaningless without a region. */
export const NEEDS_REGION: readonly RuleKind[] = ['dwell'];
