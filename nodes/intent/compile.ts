/**
 * Intent → rules, through the pattern compiler, the grammar-constrained LLM, or patterns
 * first with the LLM as fallback. Whatever the path, the result is validated against the
 * DSL and the deployment's vocabulary before anyone installs it.
 */
import { parseOutput } from '../../lib/llm/grammar.js';
import type { LlmEngineApi, LlmGrammar, GenerationResult } from '../../lib/llm/engine.js';
import { describeRule, ruleSetShape, validateRules, RULE_KINDS, type DslVocabulary, type RuleFields } from '../../lib/rules/dsl.js';
import { compilePatterns, IntentCompileError } from './patterns.js';

export type CompilerMode = 'llm' | 'patterns' | 'patterns_then_llm';
export const COMPILER_MODES: readonly CompilerMode[] = ['llm', 'patterns', 'patterns_then_llm'];

export type CompileOutcome =
  | { ok: true; rules: RuleFields[]; path: 'patterns' | 'llm'; generation?: GenerationResult; notes: string[] }
  | { ok: false; errors: string[]; truncated: boolean; generation?: GenerationResult };

export interface LlmCompiler {
  engine: LlmEngineApi;
  grammar: LlmGrammar;
  maxTokens: number;
  now?: () => number;
  /** Wraps the generation (the node passes ctx.compute, so only a real LLM call is charged to sim time). */
  run?: <T>(generate: () => Promise<T>) => Promise<T>;
}

const EXAMPLES: [string, RuleFields][] = [
  ['alert if more than 10 people are in the queue', { kind: 'count', class_id: 'person', region: 'queue', op: '>', threshold: 10, duration_s: 0, radius_m: 0, companion_class: '', hysteresis: 1, severity: 'warning', reaction: 'none' }],
  ['a bag left with no person within 3 m for 30 s', { kind: 'unattended', class_id: 'bag', region: '', op: '>', threshold: 0, duration_s: 30, radius_m: 3, companion_class: 'person', hysteresis: 0.75, severity: 'warning', reaction: 'none' }],
];

/** The fixed system prompt for the LLM path (its KV cache is reused across compiles). */
export function intentSystemPrompt(v: DslVocabulary): string {
  const ex = EXAMPLES.map(([i, r]) => `Intent: ${i}\nJSON: ${JSON.stringify({ rules: [r] })}`).join('\n');
  return [
    'You compile an operator\'s monitoring intent for a drone into JSON rules.',
    `Rule kinds: ${RULE_KINDS.join(', ')}. count compares the number of objects of class_id in region with op and threshold;`,
    'dwell: an object stays in region longer than duration_s; unattended: an object of class_id has no companion_class object within radius_m for duration_s;',
    'proximity: an object of class_id comes within radius_m of the vehicle. region "" means anywhere.',
    `Known classes: ${v.classes.join(', ')}. Known regions: ${v.regions.join(', ') || 'none'}.`,
    ex,
  ].join('\n');
}

export async function compileWithLlm(intent: string, v: DslVocabulary, llm: LlmCompiler, signal?: AbortSignal): Promise<CompileOutcome> {
  const generate = (): Promise<GenerationResult> =>
    llm.engine.generate({ system: intentSystemPrompt(v), user: `Intent: ${intent}\nJSON: ` }, { grammar: llm.grammar, maxTokens: llm.maxTokens, signal, now: llm.now });
  const generation = await (llm.run ? llm.run(generate) : generate());
  let parsed: { rules: RuleFields[] };
  try {
    parsed = parseOutput<{ rules: RuleFields[] }>(generation.text, ruleSetShape(v), generation.stopReason === 'max_tokens');
  } catch (e) {
    return { ok: false, errors: [(e as Error).message], truncated: generation.stopReason === 'max_tokens', generation };
  }
  const check = validateRules(parsed.rules, v);
  if (!check.ok) return { ok: false, errors: check.errors.map((m) => `llm compile: ${m}`), truncated: false, generation };
  return { ok: true, rules: parsed.rules, path: 'llm', generation, notes: parsed.rules.map(describeRule) };
}

/** Compiles by the configured mode. Never throws for a bad intent: the outcome says why. */
export async function compileIntent(intent: string, mode: CompilerMode, v: DslVocabulary, llm?: LlmCompiler, signal?: AbortSignal): Promise<CompileOutcome> {
  const errors: string[] = [];
  if (mode !== 'llm') {
    try {
      const { rules } = compilePatterns(intent, v);
      const check = validateRules(rules, v);
      if (check.ok) return { ok: true, rules, path: 'patterns', notes: rules.map(describeRule) };
      errors.push(...check.errors.map((m) => `patterns: ${m}`));
    } catch (e) {
      if (!(e instanceof IntentCompileError)) throw e;
      errors.push(`patterns: ${e.message}`);
    }
    if (mode === 'patterns') return { ok: false, errors, truncated: false };
  }
  if (!llm) return { ok: false, errors: [...errors, 'llm: no model loaded'], truncated: false };
  const out = await compileWithLlm(intent, v, llm, signal);
  return out.ok ? out : { ...out, errors: [...errors, ...out.errors] };
}
