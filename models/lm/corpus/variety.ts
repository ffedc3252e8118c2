/**
 * Corpus v2's second layer: ways operators roughen a finished intent that v1 never produced
 * (openers and sign-offs, radio framing, fillers, dropped articles, contractions, text-speak,
 * dropped commas). Applied to train/val intents only (heldout stays v1's, byte for byte), and
 * each roughened text is kept only if the grounding check still traces every field of its
 * rules to it: a variation may change how the intent reads, never what it means.
 * No phrase here is a class, number, unit, comparative, severity, reaction or kind cue.
 */
import type { DslVocabulary, RuleFields } from '../../../lib/rules/dsl.js';
import { groundRules } from '../../../lib/rules/grounding.js';
import { Rng } from './rng.js';

const OPENERS = ['ok so ', 'right, ', 'alright, ', 'um, ', 'uh ', 'so basically ', 'quick one: ', 'new rule: ', 'new task: ', 'for this shift, ', 'from now on, ', 'going forward, ', 'tonight, ', 'today ', 'heads-up kestrel: ', 'listen, ', 'next: '];
const CLOSERS = [' from now on', ' going forward', ' for the rest of the shift', ' until further notice', ' today', ' tonight', ' cheers', ' thx', ' ty', ' pls', ' if you can', ' thanks kestrel', ' ta', ' when you can', ' for me'];
const RADIO: readonly (readonly [string, string])[] = [
  ['kestrel, control: ', '. over'], ['control to kestrel, ', ', over'], ['kestrel this is ops, ', '. out'], ['ops to drone: ', '. over.'],
  ['kestrel, kestrel, ', ', over'], ['base to kestrel: ', ''],
];
const FILLERS = ['just ', 'basically ', 'like ', 'actually ', 'kindly '];
/** Shorthand with the same meaning (word → replacements), applied word by word. */
const SHORT: Readonly<Record<string, readonly string[]>> = {
  please: ['pls', 'plz'], you: ['u'], your: ['ur'], thanks: ['thx', 'ty'], 'let me know': ['lmk'], 'there is': ["there's", 'theres'],
  'there are': ["there're", 'theres'], 'i want': ['i wanna'], 'going to': ['gonna'],
};

function roughen(r: Rng, text: string): string {
  let t = text;
  if (r.chance(0.3)) {
    const k = r.next();
    if (k < 0.4) t = r.pick(OPENERS) + t;
    else if (k < 0.75) t = t.replace(/[.!]?$/, (end) => r.pick(CLOSERS) + end);
    else {
      const [a, b] = r.pick(RADIO);
      t = a + t.replace(/[.!?]$/, '') + b;
    }
  }
  if (r.chance(0.12)) t = t.replace(/^(\w+ )/, (w) => r.pick(FILLERS) + w);
  if (r.chance(0.2)) t = t.replace(/\bthe /gi, (w) => (r.chance(0.6) ? '' : w));
  if (r.chance(0.2)) {
    for (const [from, to] of Object.entries(SHORT)) t = t.replace(new RegExp(`\\b${from}\\b`, 'g'), (w) => (r.chance(0.6) ? r.pick(to) : w));
  }
  if (r.chance(0.1)) t = t.replace(/,/g, '');
  if (r.chance(0.05)) t = t.replace(/[.!]?$/, r.pick(['!!', '...', ' !', '.']));
  return t.replace(/\s+/g, ' ').trim();
}

/**
 * `text` roughened, or `text` itself when the roughened form would no longer ground `rules`
 * (refusals, with no rules, are kept as roughened: fillers never make a refusal a rule).
 */
export function roughenIntent(r: Rng, text: string, v: DslVocabulary, rules: readonly RuleFields[]): string {
  const t = roughen(r, text);
  return t !== text && rules.length > 0 && !groundRules(t, v, rules).ok ? text : t;
}
