/**
 * The Kestrel LM's intent prompt and output text (LM-SPEC "Text format"). Training (the
 * corpus generator) and inference (the intent node, `kestrel intent`) both build their text
 * here, so the model sees at run time exactly the bytes it was trained on.
 */
import { RULE_KINDS, type DslVocabulary, type RuleFields } from './dsl.js';
import { DEFAULT_REACTION, DEFAULT_SEVERITY, KIND_DEFAULTS } from './defaults.js';
import { numberLiteral } from '../llm/grammar.js';

export interface PromptParts {
  system: string;
  user: string;
}

/** Runs of whitespace (newlines included) become one space; ends trimmed. */
export const collapseWhitespace = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** `classes: a, b\nregions: x, y\n` + `intent: <text>\n`, vocabulary in the order given. */
export function intentPrompt(v: DslVocabulary, text: string): PromptParts {
  return {
    system: `classes: ${v.classes.join(', ')}\nregions: ${v.regions.length ? v.regions.join(', ') : 'none'}\n`,
    user: `intent: ${collapseWhitespace(text)}\n`,
  };
}

/** Rule fields in declaration order (the grammar's key order). */
export const RULE_FIELDS = ['kind', 'class_id', 'region', 'op', 'threshold', 'duration_s', 'radius_m', 'companion_class', 'hysteresis', 'severity', 'reaction'] as const satisfies readonly (keyof RuleFields)[];

/** A number as the grammar writes it: at most one decimal, integers without `.0`. */
export const formatNumber = numberLiteral;

/** The compact JSON the GBNF grammar of ruleSetShape emits (no spaces, keys in order). */
export function formatRuleSet(rules: readonly RuleFields[]): string {
  const one = (r: RuleFields): string => `{${RULE_FIELDS.map((k) => {
    const v = r[k];
    return `${JSON.stringify(k)}:${typeof v === 'number' ? formatNumber(v) : JSON.stringify(v)}`;
  }).join(',')}}`;
  return `{"rules":[${rules.map(one).join(',')}]}`;
}

export const REFUSAL = '{"rules":[]}';

/**
 * One rule set per kind with every documented default (lookup decoding's memory: the keys the
 * grammar forces and the default tails a compile usually ends with).
 */
export function ruleSkeletons(v: DslVocabulary): string[] {
  const cls = v.classes.includes('person') ? 'person' : v.classes[0] ?? '';
  return RULE_KINDS.map((kind) => {
    const d = KIND_DEFAULTS[kind];
    return formatRuleSet([{ kind, class_id: kind === 'unattended' ? 'bag' : cls, region: '', op: d.op ?? '>', threshold: d.threshold ?? 0, duration_s: d.duration_s ?? 0, radius_m: d.radius_m, companion_class: d.companion_class, hysteresis: d.hysteresis, severity: DEFAULT_SEVERITY, reaction: DEFAULT_REACTION }]);
  });
}
