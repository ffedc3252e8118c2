/**
 * The Kestrel LM's grammars, from the prompt's own vocabulary (LM-SPEC "Text format"): the intent
 * grammar is ruleSetShape with minItems 0 (`{"rules":[]}` is the model's refusal), the plan grammar
 * is planShape over the allowed actions the system part lists.
 */
import { ruleSetShape, type DslVocabulary } from '../../lib/rules/dsl.js';
import { groundedChoices } from '../../lib/rules/grounding.js';
import { planShape } from '../../nodes/planner/plan.js';
import { situationPlaces } from '../../nodes/planner/situation.js';
import { reasonTexts, situationReasons } from '../../nodes/planner/reasons.js';
import type { JsonShape } from '../../lib/llm/grammar.js';

const list = (s: string): string[] => (s.trim() === 'none' || s.trim() === '' ? [] : s.split(',').map((x) => x.trim()));

/** The vocabulary an intent system part declares (`classes: …\nregions: …\n`). */
export function vocabularyOf(system: string): DslVocabulary {
  const c = /^classes: (.*)$/m.exec(system);
  const r = /^regions: (.*)$/m.exec(system);
  if (!c || !r) throw new Error(`not an intent system part: ${JSON.stringify(system.slice(0, 80))}`);
  return { classes: list(c[1]), regions: list(r[1]) };
}

/** The actions a plan system part allows (`mission: …\nactions: …\n`). */
export function actionsOf(system: string): string[] {
  const a = /^actions: (.*)$/m.exec(system);
  if (!a) throw new Error(`not a plan system part: ${JSON.stringify(system.slice(0, 80))}`);
  return list(a[1]);
}

/** The rule-set shape the Kestrel model decodes under: an empty list is its refusal. */
export function kestrelRuleSetShape(v: DslVocabulary): JsonShape {
  return ruleSetShape(v, { minItems: 0 });
}

/** The intent text back out of its user part (`intent: <text>\n`). */
export function intentTextOf(user: string): string {
  if (!user.startsWith('intent: ')) throw new Error(`not an intent user part: ${JSON.stringify(user.slice(0, 80))}`);
  return user.slice('intent: '.length).replace(/\n$/, '');
}

/** The decoding grammar's shape; `grounded` narrows it to what the user text states, as the intent and planner nodes decode. */
export function shapeFor(task: 'intent' | 'plan', system: string, user = '', grounded = false): JsonShape {
  if (task === 'plan') return grounded ? planShape(actionsOf(system), situationPlaces(user), reasonTexts(situationReasons(user, actionsOf(system)))) : planShape(actionsOf(system));
  const v = vocabularyOf(system);
  return grounded ? ruleSetShape(v, { minItems: 0, choices: groundedChoices(intentTextOf(user), v) }) : kestrelRuleSetShape(v);
}


/** The intent prompt builder the corpus and the intent node share (lib/rules/lm-prompt.ts). */
export { intentPrompt } from '../../lib/rules/lm-prompt.js';
