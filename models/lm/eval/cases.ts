/**
 * The hand-written intent eval set (intents.jsonl): parsing, well-formedness checks, and the
 * scoring rule (exact match + per-field accuracy) so every evaluator scores it the same way.
 * Pure functions; the file is read by the caller.
 */
import { MAX_RULES, validateRules, type RuleFields } from '../../../lib/rules/dsl.js';

/** Rule fields in the order the compact output format (LM-SPEC "Output format") writes them. */
export const RULE_FIELDS = [
  'kind', 'class_id', 'region', 'op', 'threshold', 'duration_s', 'radius_m',
  'companion_class', 'hysteresis', 'severity', 'reaction',
] as const;
export type RuleField = (typeof RULE_FIELDS)[number];

export interface IntentCase {
  id: string;
  intent: string;
  classes: string[];
  regions: string[];
  /** `{"rules":[]}` is a refusal. */
  expect: { rules: RuleFields[] };
  note?: string;
}

const CASE_KEYS = ['id', 'intent', 'classes', 'regions', 'expect', 'note'];
const NUMERIC = new Set<RuleField>(['threshold', 'duration_s', 'radius_m', 'hysteresis']);
// What the grammar can emit: JavaScript String(x) of a non-negative number with at most one decimal.
const ONE_DECIMAL = /^\d+(\.\d)?$/;

/** The defaults a kind fixes whatever the text says (LM-SPEC "Semantics and documented defaults"). */
function kindDefaultErrors(r: RuleFields): string[] {
  const e: string[] = [];
  const want = (field: RuleField, value: string | number): void => {
    if (r[field] !== value) e.push(`${field}: ${JSON.stringify(r[field])} (a ${r.kind} rule has ${JSON.stringify(value)})`);
  };
  if (r.kind !== 'count') { want('op', '>'); want('threshold', 0); }
  if (r.kind === 'count' || r.kind === 'proximity') { want('companion_class', ''); want('hysteresis', 1); }
  if (r.kind === 'count' || r.kind === 'dwell') want('radius_m', 0);
  if (r.kind === 'dwell') { want('companion_class', ''); want('hysteresis', 0); }
  if (r.kind === 'unattended') want('hysteresis', 0.5);
  return e;
}

/** Every problem with one parsed line, each prefixed with the case id (or line number). */
export function caseErrors(raw: unknown, where: string): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [`${where}: not a JSON object`];
  const c = raw as Record<string, unknown>;
  const e: string[] = [];
  const at = typeof c.id === 'string' && c.id ? c.id : where;
  for (const k of Object.keys(c)) if (!CASE_KEYS.includes(k)) e.push(`${at}: unknown key '${k}'`);
  if (typeof c.id !== 'string' || !/^h\d{3}$/.test(c.id)) e.push(`${at}: id must look like h001`);
  if (typeof c.intent !== 'string') e.push(`${at}: intent must be a string`);
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string' && s !== '');
  if (!strings(c.classes) || c.classes.length === 0) e.push(`${at}: classes must be a non-empty list of names`);
  if (!strings(c.regions)) e.push(`${at}: regions must be a list of names`);
  if (c.note !== undefined && typeof c.note !== 'string') e.push(`${at}: note must be a string`);
  const ex = c.expect as { rules?: unknown } | undefined;
  if (typeof ex !== 'object' || ex === null || Object.keys(ex).join() !== 'rules' || !Array.isArray(ex.rules)) {
    return [...e, `${at}: expect must be exactly {"rules":[...]}`];
  }
  const rules = ex.rules as Record<string, unknown>[];
  if (rules.length > MAX_RULES) e.push(`${at}: ${rules.length} rules (at most ${MAX_RULES})`);
  rules.forEach((r, i) => {
    const keys = typeof r === 'object' && r !== null ? Object.keys(r).join() : '';
    if (keys !== RULE_FIELDS.join()) {
      e.push(`${at}: rules[${i}] keys ${keys || '(none)'} (expected ${RULE_FIELDS.join(',')} in that order)`);
      return;
    }
    for (const f of RULE_FIELDS) {
      const v = r[f];
      if (NUMERIC.has(f) ? typeof v !== 'number' || !ONE_DECIMAL.test(String(v)) : typeof v !== 'string') {
        e.push(`${at}: rules[${i}].${f} = ${JSON.stringify(v)} (${NUMERIC.has(f) ? 'a number with at most one decimal' : 'a string'})`);
      }
    }
    for (const m of kindDefaultErrors(r as unknown as RuleFields)) e.push(`${at}: rules[${i}].${m}`);
  });
  if (e.length > 0 || rules.length === 0) return e;
  if (!strings(c.classes) || !strings(c.regions)) return e;
  const check = validateRules(rules as unknown as RuleFields[], { classes: c.classes, regions: c.regions });
  return check.errors.map((m) => `${at}: ${m}`);
}

export interface ParsedCases {
  cases: IntentCase[];
  errors: string[];
}

/**
 * Parse the JSONL text. Each line must be the compact JSON the output format uses (re-serialising
 * it gives the same bytes), so the expected rules are byte-for-byte what the grammar would emit.
 */
export function parseIntentCases(text: string): ParsedCases {
  const cases: IntentCase[] = [];
  const errors: string[] = [];
  const ids = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const where = `line ${i + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      errors.push(`${where}: not JSON (${(err as Error).message})`);
      return;
    }
    const e = caseErrors(raw, where);
    if (e.length === 0 && JSON.stringify(raw) !== line) e.push(`${where}: not compact JSON (no spaces, numbers as String(x))`);
    const c = raw as IntentCase;
    if (e.length === 0 && ids.has(c.id)) e.push(`${where}: duplicate id '${c.id}'`);
    if (e.length > 0) errors.push(...e);
    else { ids.add(c.id); cases.push(c); }
  });
  return { cases, errors };
}

export interface Score {
  cases: number;
  /** Cases whose whole rule list equals the expected one (same length, every field equal, in order). */
  exact: number;
  /** Refusal cases (expect `{"rules":[]}`) answered with an empty set. */
  refusalsCorrect: number;
  refusals: number;
  /** Per field: correct / compared, over rules aligned by position in cases where both sides have that rule. */
  fields: Record<RuleField, { correct: number; total: number }>;
  /** Cases where the number of rules differs (including a missed or false refusal). */
  countMismatch: number;
}

/** Score predictions (same order as cases; `null` = the compile failed, scored as an empty set). */
export function scoreIntents(cases: readonly IntentCase[], predicted: readonly (RuleFields[] | null)[]): Score {
  if (predicted.length !== cases.length) throw new Error(`scoreIntents: ${predicted.length} predictions for ${cases.length} cases`);
  const fields = Object.fromEntries(RULE_FIELDS.map((f) => [f, { correct: 0, total: 0 }])) as Score['fields'];
  const s: Score = { cases: cases.length, exact: 0, refusalsCorrect: 0, refusals: 0, fields, countMismatch: 0 };
  cases.forEach((c, i) => {
    const want = c.expect.rules;
    const got = predicted[i] ?? [];
    if (want.length === 0) { s.refusals++; if (got.length === 0) s.refusalsCorrect++; }
    if (got.length !== want.length) s.countMismatch++;
    let same = got.length === want.length;
    for (let k = 0; k < Math.min(got.length, want.length); k++) {
      for (const f of RULE_FIELDS) {
        const ok = got[k][f] === want[k][f];
        fields[f].total++;
        if (ok) fields[f].correct++;
        else same = false;
      }
    }
    if (same) s.exact++;
  });
  return s;
}
