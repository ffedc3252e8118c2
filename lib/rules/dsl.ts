/**
 * The rule DSL (kestrel_msgs/msg/Rule): vocabulary, the JSON shape the LLM compiles into,
 * and validation against the deployment's known classes and regions. Pure functions.
 */
import { makeMsg, type kestrel_msgs } from '../../msgs/index.js';
import type { JsonShape } from '../llm/grammar.js';

export type Rule = kestrel_msgs.Rule;

export const RULE_KINDS = ['count', 'dwell', 'unattended', 'proximity'] as const;
export const RULE_OPS = ['>', '>=', '<', '<=', '=='] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export const REACTIONS = ['none', 'hold', 'track', 'orbit', 'rtl', 'land'] as const;
/** `region: ''` means anywhere; `class_id: ''` is not allowed (a rule is always about a class). */
export const ANY_REGION = '';

export type RuleKind = (typeof RULE_KINDS)[number];
export type RuleOp = (typeof RULE_OPS)[number];

/** What a deployment knows: the detector's classes and the named regions from params. */
export interface DslVocabulary {
  classes: readonly string[];
  regions: readonly string[];
}

/** Numeric bounds; the grammar's digit counts enforce the same ranges (see lib/llm/grammar.ts). */
export const LIMITS = {
  threshold: { minimum: 0, maximum: 999.99 },
  duration_s: { minimum: 0, maximum: 9999.99 },
  radius_m: { minimum: 0, maximum: 999.99 },
  hysteresis: { minimum: 0, maximum: 99.99 },
} as const;
export const MAX_RULES = 4;

/** Fields the compiler fills (the rest, id and message, are derived). */
export type RuleFields = Omit<kestrel_msgs.Rule, 'id' | 'message'>;

/**
 * The JSON the LLM must produce: `{"rules":[{...}]}` with every enum drawn from the vocabulary.
 * `minItems: 0` lets the model refuse with `{"rules":[]}` (the Kestrel LM does; the compile
 * then reports the refusal).
 */
/**
 * What grounded decoding lets each field be (lib/rules/grounding.ts `groundedChoices`): the values the
 * intent text states plus the documented defaults. Every list is a subset of the vocabulary's.
 */
export interface FieldChoices {
  /** Rule kinds (all when absent: grounding judges the kind; the repair decode keeps the first compile's). */
  kinds?: readonly string[];
  classes: readonly string[];
  regions: readonly string[];
  companions: readonly string[];
  thresholds: readonly number[];
  durations: readonly number[];
  radii: readonly number[];
  hysteresis: readonly number[];
  severities: readonly string[];
  reactions: readonly string[];
}

export function ruleSetShape(v: DslVocabulary, o: { minItems?: 0 | 1; choices?: FieldChoices } = {}): JsonShape {
  const c = o.choices;
  const num = (k: keyof typeof LIMITS, grounded?: readonly number[]): JsonShape =>
    grounded ? { type: 'number', enum: grounded } : { type: 'number', ...LIMITS[k], decimals: 1 };
  return {
    type: 'object',
    properties: {
      rules: {
        type: 'array',
        minItems: o.minItems ?? 1,
        maxItems: MAX_RULES,
        items: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: c?.kinds ?? RULE_KINDS },
            class_id: { type: 'string', enum: c?.classes ?? v.classes },
            region: { type: 'string', enum: c?.regions ?? [ANY_REGION, ...v.regions] },
            op: { type: 'string', enum: RULE_OPS },
            threshold: num('threshold', c?.thresholds),
            duration_s: num('duration_s', c?.durations),
            radius_m: num('radius_m', c?.radii),
            companion_class: { type: 'string', enum: c?.companions ?? ['', ...v.classes] },
            hysteresis: num('hysteresis', c?.hysteresis),
            severity: { type: 'string', enum: c?.severities ?? SEVERITIES },
            reaction: { type: 'string', enum: c?.reactions ?? REACTIONS },
          },
        },
      },
    },
  };
}

const inList = (list: readonly string[], s: string): boolean => list.includes(s);

/**
 * Every problem with one rule, as `field: what (expected)`. With a vocabulary, classes and
 * regions must be known; without one (the rules node, which trusts the compiler's
 * vocabulary), only the structure is checked.
 */
export function ruleErrors(r: Rule | RuleFields, v?: DslVocabulary): string[] {
  const e: string[] = [];
  const known = (list: readonly string[]): string => `(known: ${list.join(', ') || 'none'})`;
  if (!inList(RULE_KINDS, r.kind)) e.push(`kind: '${r.kind}' is not one of ${RULE_KINDS.join(', ')}`);
  if (!r.class_id) e.push('class_id: empty (a rule needs an object class)');
  else if (v && !inList(v.classes, r.class_id)) e.push(`class_id: '${r.class_id}' is not a known class ${known(v.classes)}`);
  if (v && r.region !== ANY_REGION && !inList(v.regions, r.region)) e.push(`region: '${r.region}' is not a known region ${known(v.regions)}`);
  for (const k of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
    const x = r[k];
    if (!Number.isFinite(x) || x < LIMITS[k].minimum || x > LIMITS[k].maximum) e.push(`${k}: ${x} outside [${LIMITS[k].minimum}, ${LIMITS[k].maximum}]`);
  }
  if (!inList(SEVERITIES, r.severity)) e.push(`severity: '${r.severity}' is not one of ${SEVERITIES.join(', ')}`);
  if (!inList(REACTIONS, r.reaction)) e.push(`reaction: '${r.reaction}' is not one of ${REACTIONS.join(', ')}`);
  switch (r.kind) {
    case 'count':
      if (!inList(RULE_OPS, r.op)) e.push(`op: '${r.op}' is not one of ${RULE_OPS.join(' ')} (count rules compare a count)`);
      if ((r.op === '<' || r.op === '<=') && r.threshold === 0) e.push('threshold: a count is never below 0');
      break;
    case 'dwell':
      if (!(r.duration_s > 0)) e.push('duration_s: a dwell rule needs a duration > 0');
      if (r.region === ANY_REGION) e.push('region: a dwell rule needs a region');
      break;
    case 'unattended':
      if (!r.companion_class) e.push('companion_class: an unattended rule needs the class that attends (e.g. person)');
      else if (v && !inList(v.classes, r.companion_class)) e.push(`companion_class: '${r.companion_class}' is not a known class ${known(v.classes)}`);
      if (r.companion_class === r.class_id && r.class_id) e.push('companion_class: must differ from class_id');
      if (!(r.radius_m > 0)) e.push('radius_m: an unattended rule needs a radius > 0');
      if (r.hysteresis >= r.radius_m && r.radius_m > 0) e.push('hysteresis: must be smaller than radius_m');
      break;
    case 'proximity':
      if (!(r.radius_m > 0)) e.push('radius_m: a proximity rule needs a radius > 0');
      break;
    default:
      break;
  }
  return e;
}

export interface RuleSetCheck {
  ok: boolean;
  errors: string[];
}

export function validateRules(rules: readonly (Rule | RuleFields)[], v?: DslVocabulary): RuleSetCheck {
  const errors: string[] = [];
  if (rules.length === 0) errors.push('rules: empty (expected at least one rule)');
  if (rules.length > MAX_RULES * 4) errors.push(`rules: ${rules.length} rules (at most ${MAX_RULES * 4})`);
  const ids = new Set<string>();
  rules.forEach((r, i) => {
    for (const m of ruleErrors(r, v)) errors.push(`rules[${i}].${m}`);
    if ('id' in r) {
      if (ids.has(r.id)) errors.push(`rules[${i}].id: duplicate '${r.id}'`);
      ids.add(r.id);
    }
  });
  return { ok: errors.length === 0, errors };
}

const where = (region: string): string => (region === ANY_REGION ? '' : ` in ${region}`);

/** A sentence for the alert text and the operator's confirmation. */
export function describeRule(r: RuleFields): string {
  switch (r.kind) {
    case 'count':
      return `${r.class_id} count${where(r.region)} ${r.op} ${r.threshold}${r.duration_s > 0 ? ` for ${r.duration_s} s` : ''}`;
    case 'dwell':
      return `${r.class_id} staying${where(r.region)} longer than ${r.duration_s} s`;
    case 'unattended':
      return `${r.class_id}${where(r.region)} with no ${r.companion_class} within ${r.radius_m} m for ${r.duration_s} s`;
    case 'proximity':
      return `${r.class_id}${where(r.region)} within ${r.radius_m} m of the vehicle${r.duration_s > 0 ? ` for ${r.duration_s} s` : ''}`;
    default:
      return `${r.kind} rule on ${r.class_id}`;
  }
}

/** A complete Rule message from compiled fields. */
export function toRule(f: RuleFields, id: string): Rule {
  return makeMsg('kestrel_msgs/msg/Rule', { ...f, id, message: describeRule(f) });
}
