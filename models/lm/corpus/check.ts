/**
 * Checks corpus lines against the contract: every output is producible by the GBNF grammar
 * of its task (a regular expression built from the same JsonShape, mirroring shapeToGbnf),
 * parses and validates (parseOutput, validateRules with the prompt's vocabulary), and
 * prompts have the builder's form. Used by the corpus test and by `check.ts <file>`.
 */
import { readFileSync } from 'node:fs';
import { literalText, numberLiteral, parseOutput, type JsonShape } from '../../../lib/llm/grammar.js';
import { ruleSetShape, validateRules, type DslVocabulary, type RuleFields } from '../../../lib/rules/dsl.js';
import { formatPlan, planShape, REASON_MAX, type PlanFields } from '../../../nodes/planner/plan.js';
import { formatRuleSet } from '../../../lib/rules/lm-prompt.js';
import { situationPlaces } from '../../../nodes/planner/situation.js';
import { reasonTexts, situationReasons } from '../../../nodes/planner/reasons.js';

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The language of shapeToGbnf(shape) as a regular expression source (same rules, same bounds). */
export function shapeToRegex(s: JsonShape): string {
  switch (s.type) {
    case 'object':
      return `\\{${Object.entries(s.properties).map(([k, v], i) => `${i === 0 ? '' : ','}${esc(JSON.stringify(k))}:${shapeToRegex(v)}`).join('')}\\}`;
    case 'string':
      return 'enum' in s ? `(?:${s.enum.map((e) => esc(JSON.stringify(e))).join('|')})` : `"[ !#-\\[\\]-~]{0,${s.maxLength}}"`;
    case 'number':
    case 'integer': {
      if ('enum' in s) return `(?:${[...new Set(s.enum.map(numberLiteral))].map(esc).join('|')})`;
      const k = Math.max(1, String(Math.floor(Math.max(Math.abs(s.minimum), Math.abs(s.maximum)))).length);
      const int = k > 1 ? `(?:0|[1-9][0-9]{0,${k - 1}})` : '[0-9]';
      const sign = s.minimum < 0 ? '-?' : '';
      const dec = s.type === 'number' && (s.decimals ?? 2) > 0 ? `(?:\\.[0-9]{1,${s.decimals ?? 2}})?` : '';
      return `${sign}${int}${dec}`;
    }
    case 'boolean':
      return '(?:true|false)';
    case 'literal':
      return `(?:${[...new Set(s.values.map(literalText))].map(esc).join('|')})`;
    case 'array': {
      const item = shapeToRegex(s.items);
      const min = s.minItems ?? 0;
      if (s.maxItems < 1) return '\\[\\]';
      if (min === 0) return `\\[(?:${item}(?:,${item}){0,${s.maxItems - 1}})?\\]`;
      return `\\[${item}(?:,${item}){${min - 1},${s.maxItems - 1}}\\]`;
    }
  }
}

export interface CorpusLine { task: string; family: string; split: string; system: string; user: string; output: string }

/** The vocabulary an intent prompt states. */
export function vocabOf(system: string): DslVocabulary {
  const m = /^classes: (.*)\nregions: (.*)\n$/.exec(system);
  if (!m) throw new Error(`bad intent system ${JSON.stringify(system)}`);
  return { classes: m[1].split(', '), regions: m[2] === 'none' ? [] : m[2].split(', ') };
}

export function actionsOf(system: string): string[] {
  const m = /^mission: .*\nactions: (.*)\n$/.exec(system);
  if (!m) throw new Error(`bad plan system ${JSON.stringify(system)}`);
  return m[1].split(', ');
}

const regexCache = new Map<string, RegExp>();
function grammarRegex(key: string, shape: JsonShape): RegExp {
  let re = regexCache.get(key);
  if (!re) {
    if (regexCache.size > 5000) regexCache.clear();
    re = new RegExp(`^${shapeToRegex(shape)}$`);
    regexCache.set(key, re);
  }
  return re;
}

/**
 * Problems with one line ([] = fine). `grammar: false` skips the grammar regex (compiling
 * one per vocabulary costs ~50 ms); the re-formatting check still pins the exact text.
 */
export function lineErrors(e: CorpusLine, o: { grammar?: boolean } = {}): string[] {
  const grammar = o.grammar ?? true;
  const errs: string[] = [];
  try {
    if (e.task === 'intent') {
      const v = vocabOf(e.system);
      if (!/^intent: \S.*\n$/.test(e.user) || /\s{2}|\n./.test(e.user)) errs.push('user: not "intent: <collapsed text>\\n"');
      const shape = ruleSetShape(v, { minItems: 0 });
      if (grammar && !grammarRegex(e.system, shape).test(e.output)) errs.push('output: not producible by the grammar');
      const { rules } = parseOutput<{ rules: RuleFields[] }>(e.output, shape);
      if (formatRuleSet(rules) !== e.output) errs.push('output: not in the compact form formatRuleSet writes');
      if (rules.length > 0) {
        const c = validateRules(rules, v);
        if (!c.ok) errs.push(...c.errors);
      }
    } else {
      const actions = actionsOf(e.system);
      if (!e.user.endsWith('Plan JSON:\n')) errs.push('user: does not end with "Plan JSON:\\n"');
      const shape = planShape(actions);
      if (grammar && !grammarRegex(`plan:${actions.join(',')}`, shape).test(e.output)) errs.push('output: not producible by the grammar');
      const p = parseOutput<PlanFields>(e.output, shape);
      if (p.reason.length > REASON_MAX) errs.push('reason too long');
      if (formatPlan(p) !== e.output) errs.push('output: not in the compact form formatPlan writes');
      // Grounded decoding (the planner's default) must still admit the teacher's plan.
      try {
        parseOutput<PlanFields>(e.output, planShape(actions, situationPlaces(e.user), reasonTexts(situationReasons(e.user, actions))));
      } catch (x) {
        errs.push(`output: outside the grounded plan grammar: ${(x as Error).message}`);
      }
    }
  } catch (x) {
    errs.push((x as Error).message);
  }
  return errs;
}

function main(): void {
  let n = 0;
  let bad = 0;
  for (const f of process.argv.slice(2)) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line) continue;
      n++;
      const errs = lineErrors(JSON.parse(line) as CorpusLine);
      if (errs.length) {
        bad++;
        if (bad <= 20) console.log(`${f}: ${errs.join('; ')}\n  ${line.slice(0, 400)}`);
      }
    }
  }
  console.log(`${n} lines, ${bad} bad`);
  if (bad) process.exitCode = 1;
}

if (process.argv[1] && /check\.ts$/.test(process.argv[1])) main();
