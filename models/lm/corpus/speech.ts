/**
 * Small pieces of operator speech shared by the families: numbers, durations, distances,
 * class noun phrases, region references, severity and reaction phrases, lead-ins, typos.
 * Every phrase maps to a value through lib/rules/lexicon.ts, which the grounding check reads.
 */
import { Rng } from './rng.js';
import { classWords, lexiconWords, NUMBER_WORDS, regionConcepts, SELF_WORDS, type RegionConcept } from '../../../lib/rules/lexicon.js';

const WORD_OF = new Map(Object.entries(NUMBER_WORDS).map(([w, n]) => [n, w]));
const VAGUE_OF: Record<number, string[]> = { 2: ['a couple of'], 3: ['a few'], 5: ['a handful of'], 6: ['half a dozen'], 12: ['a dozen'], 100: ['a hundred', 'one hundred'] };

export const numberWord = (n: number): string | undefined => WORD_OF.get(n);

/** A count number before a noun ("10", "ten", "a dozen"). */
export function countNumber(r: Rng, n: number): string {
  const opts: string[] = [String(n), String(n)];
  const w = WORD_OF.get(n);
  if (w) opts.push(w, w);
  if (VAGUE_OF[n]) opts.push(...VAGUE_OF[n], ...VAGUE_OF[n]);
  return r.pick(opts);
}

/** A bare number in a verb phrase ("exceeds 10", "reaches a dozen"): vague forms without "of". */
export function bareNumber(r: Rng, n: number): string {
  return countNumber(r, n).replace(/ of$/, '');
}

const S_UNITS = ['s', 'sec', 'secs', 'seconds', 'seconds', 'seconds'];
const MIN_UNITS = ['min', 'mins', 'minutes', 'minutes', 'minutes'];
const H_UNITS = ['h', 'hr', 'hours', 'hours'];

function unitForm(r: Rng, n: number, units: readonly string[], singular: string): string {
  const num = n === 1 ? r.pick(['1', 'one']) : (WORD_OF.has(n) && r.chance(0.3) ? WORD_OF.get(n) as string : String(n));
  const unit = n === 1 ? r.pick([singular, singular, units[0]]) : r.pick(units);
  const compact = /^\d/.test(num) && unit.length <= 4 && r.chance(0.35);
  return compact ? `${num}${unit}` : `${num} ${unit}`;
}

/** A duration of `sec` seconds as an operator says it. */
export function duration(r: Rng, sec: number): string {
  const opts: (() => string)[] = [];
  if (sec === 30) opts.push(() => 'half a minute');
  if (sec === 60) opts.push(() => r.pick(['a minute', 'one minute']));
  if (sec === 120) opts.push(() => 'a couple of minutes');
  if (sec === 3600) opts.push(() => r.pick(['an hour', 'one hour']));
  if (sec === 1800) opts.push(() => 'half an hour');
  if (sec <= 900) opts.push(() => unitForm(r, sec, S_UNITS, 'second'));
  if (sec % 60 === 0) {
    opts.push(() => unitForm(r, sec / 60, MIN_UNITS, 'minute'));
    opts.push(() => unitForm(r, sec / 60, MIN_UNITS, 'minute'));
  } else if (sec % 30 === 0 && sec > 60) opts.push(() => `${sec / 60} ${r.pick(['min', 'minutes', 'mins'])}`);
  if (sec % 3600 === 0) opts.push(() => unitForm(r, sec / 3600, H_UNITS, 'hour'));
  return r.pick(opts)();
}

/** A distance of `m` metres. */
export function distance(r: Rng, m: number): string {
  if (m === 1 && r.chance(0.5)) return r.pick(['a metre', 'a meter', 'one metre']);
  const num = Number.isInteger(m) && WORD_OF.has(m) && r.chance(0.25) ? WORD_OF.get(m) as string : String(m);
  const unit = m === 1 ? r.pick(['m', 'metre', 'meter']) : r.pick(['m', 'm', 'metres', 'meters', 'm']);
  return /^\d/.test(num) && unit === 'm' && r.chance(0.5) ? `${num}m` : `${num} ${unit}`;
}

// --- classes -----------------------------------------------------------------------------

/** Plural noun for the class ("people", "passengers", "cars"). */
export function plural(r: Rng, cls: string): string {
  const w = classWords(cls);
  if (cls === 'person') return r.weighted([['people', 6], ['persons', 1], ['passengers', 1], ['folks', 1], ['ppl', 1], ['pedestrians', 1], ['humans', 0.5], ['visitors', 1], [r.pick(['travellers', 'travelers']), 0.7], ['individuals', 0.7], ['intruders', 0.5], ['trespassers', 0.4], ['workers', 0.6]]);
  if (cls === 'bag') return r.weighted([['bags', 5], ['luggage', 1], ['suitcases', 1], ['backpacks', 1], ['rucksacks', 0.5], ['parcels', 1], ['packages', 1], ['baggage', 0.7], ['holdalls', 0.3]]);
  if (cls === 'vehicle') return r.weighted([['vehicles', 4], ['cars', 4], ['carts', 0.5], ['trucks', 1], ['vans', 1], ['buses', 0.5], ['lorries', 0.4]]);
  return r.pick(w.plural);
}

/** Singular noun for the class. */
export function singular(r: Rng, cls: string): string {
  if (cls === 'person') return r.weighted([['person', 6], ['passenger', 1], ['pedestrian', 1], ['visitor', 1], ['individual', 0.5], ['intruder', 0.5], ['worker', 0.5], [r.pick(['traveller', 'traveler']), 0.5], ['human', 0.3], ['trespasser', 0.3]]);
  if (cls === 'bag') return r.weighted([['bag', 5], ['suitcase', 1.5], ['backpack', 1], ['rucksack', 0.5], ['parcel', 1], ['package', 1], ['holdall', 0.3]]);
  if (cls === 'vehicle') return r.weighted([['vehicle', 4], ['car', 4], ['cart', 0.5], ['truck', 1], ['van', 1], ['bus', 0.5], ['lorry', 0.4]]);
  return r.pick(classWords(cls).singular);
}

export const article = (w: string): string => (/^[aeiou]/.test(w) ? `an ${w}` : `a ${w}`);

/** Noun for a count: singular when n == 1. Mass nouns ("luggage") stay as they are. */
export function nounFor(r: Rng, cls: string, n: number): string {
  return n === 1 ? singular(r, cls) : plural(r, cls);
}

/** "someone", "a person", "a car": one unspecified member (subject of a singular verb). */
export function oneSubject(r: Rng, cls: string): string {
  if (cls === 'person' && r.chance(0.5)) return r.pick(['someone', 'anyone', 'somebody', 'anybody']);
  const sg = singular(r, cls);
  return r.chance(0.75) ? article(sg) : `any ${sg}`;
}

// --- self, regions -----------------------------------------------------------------------

export function selfRef(r: Rng, avoidVehicle: boolean): string {
  const pool = SELF_WORDS.filter((w) => !(avoidVehicle && w === 'the vehicle'));
  return r.weighted(pool.map((w) => [w, w === 'the drone' ? 6 : w === 'us' ? 2 : 1] as const));
}

export const CONCEPTS: readonly RegionConcept[] = regionConcepts();
export const CONCEPT_OF = new Map(CONCEPTS.map((c) => [c.id, c]));
export const GROUPS: readonly string[] = [...new Set(CONCEPTS.map((c) => c.group))];

/** A reference to a region id: its id, the id spaced, or a description. */
export function regionRef(r: Rng, id: string): string {
  const c = CONCEPT_OF.get(id);
  const spaced = id.replace(/_/g, ' ');
  const opts: [string, number][] = [[id, 1.2], [spaced, 1]];
  if (c) for (const d of c.refs) opts.push([d, 3 / c.refs.length + 0.5]);
  let s = r.weighted(opts);
  if (s === id || s === spaced) {
    if (!/\d|^zone|^gate|^exit|^dock|^hall/.test(id) && r.chance(0.6)) s = `the ${s}`;
  }
  return s;
}

/** "in the queue", "at gate 3", "on the east platform". */
export function regionPhrase(r: Rng, id: string): string {
  const c = CONCEPT_OF.get(id);
  const prep = c ? r.pick([...c.preps, c.preps[0]]) : r.pick(['in', 'in', 'at']);
  return `${prep} ${regionRef(r, id)}`;
}

/** A location phrase for a rule: the region, or for '' either nothing or "anywhere". */
export function locPhrase(r: Rng, region: string): string {
  if (region) return regionPhrase(r, region);
  return r.weighted([['', 6], ['anywhere', 1], ['in view', 1], ['in sight', 0.5], ['on camera', 0.5], ['anywhere in the area', 0.3]]);
}

/**
 * A vocabulary's regions: the needed ones plus distractors from other groups (or numbered
 * siblings of the same group), never two that share a reference.
 */
export function pickRegions(r: Rng, k: number, avoid: readonly string[] = []): string[] {
  const out: RegionConcept[] = avoid.map((id) => CONCEPT_OF.get(id)).filter((c): c is RegionConcept => !!c);
  const ids: string[] = [];
  let guard = 0;
  while (ids.length < k && guard++ < 100) {
    const g = r.pick(GROUPS);
    const members = CONCEPTS.filter((c) => c.group === g);
    const used = out.filter((c) => c.group === g);
    const cand = members.filter((c) => !out.includes(c) && (used.length === 0 || (c.param && used.every((u) => u.param))));
    if (cand.length === 0) continue;
    const c = r.pick(cand);
    out.push(c);
    ids.push(c.id);
  }
  return ids;
}

/** Whether region id `b` can join a vocabulary holding `a` (distinct groups, or both numbered). */
export function compatibleRegions(a: string, b: string): boolean {
  if (a === b) return false;
  const ca = CONCEPT_OF.get(a);
  const cb = CONCEPT_OF.get(b);
  if (!ca || !cb) return true;
  return ca.group !== cb.group || (ca.param && cb.param);
}

// --- severity, reaction, lead-ins --------------------------------------------------------

export const REACTION_PHRASES: Readonly<Record<string, readonly string[]>> = {
  hold: ['hover', 'hold position', 'hold', 'hover in place', 'stay put', 'stop and hover', 'hold there', 'hover there'],
  track: ['follow it', 'follow them', 'track it', 'track them', 'tail it', 'keep eyes on it', 'follow', 'track the target'],
  orbit: ['circle it', 'circle over it', 'orbit it', 'orbit', 'loiter over it', 'circle the spot', 'orbit over there', 'circle overhead'],
  rtl: ['come home', 'return home', 'return to base', 'rtl', 'head back', 'go home', 'fly home', 'come home right away'],
  land: ['land', 'land the drone', 'set down', 'touch down', 'land right there', 'set the drone down'],
};

/** The reaction said after the condition (", and hover"), or '' for none. */
export function reactionSuffix(r: Rng, reaction: string): string {
  if (reaction === 'none') return '';
  const p = r.pick(REACTION_PHRASES[reaction]);
  return `${r.pick([', and ', ' and ', ', then ', ' and then ', ' - ', ', '])}${p}`;
}

/** Imperative form for "hover if ...": the reaction plus an optional "and tell me". */
export function reactionImperative(r: Rng, reaction: string): string {
  const p = r.pick(REACTION_PHRASES[reaction]);
  return r.chance(0.4) ? `${p} and ${r.pick(['alert me', 'tell me', 'let me know', 'notify me'])}` : p;
}

export const SEVERITY_PREFIX: Readonly<Record<string, readonly string[]>> = {
  critical: ['urgent: ', 'critical: ', 'high priority: ', 'emergency: ', 'urgent - ', 'critical alert: ', 'urgent, ', 'high priority - '],
  info: ['fyi: ', 'fyi, ', 'for information: ', 'low priority: ', 'info: ', 'just log it: ', 'low priority, ', 'for information only: '],
};
export const SEVERITY_SUFFIX: Readonly<Record<string, readonly string[]>> = {
  critical: [', urgent', ' - critical', ', high priority', ' asap', ' immediately', ', it is an emergency', ' (critical)', ', urgently', ', this is critical', ' (urgent)'],
  info: [', fyi', ' (low priority)', ', just log it', ', note it', ' - info only', ', for information', ' (info)', ', low priority', ' - just log it'],
};
/** Lead-ins that carry the severity ("raise an alarm if"). */
export const SEVERITY_LEADS: Readonly<Record<string, readonly string[]>> = {
  critical: ['raise an alarm if', 'sound the alarm when', 'alert me immediately if', 'urgently tell me when', 'send a critical alert if', 'send an urgent alert when', 'trigger an alarm if', 'tell me immediately when', 'raise a critical alert when'],
  info: ['just log it when', 'just log it if', 'note it if', 'note it when', 'for information, tell me when', 'log an info event when', 'fyi, let me know if', 'low priority: tell me when'],
};

/** Lead-ins before a condition clause (no severity cue in them). */
export const COND_LEADS: readonly string[] = [
  'alert me if', 'alert me when', 'alert if', 'alert when', 'let me know when', 'let me know if', 'tell me when', 'tell me if',
  'notify me when', 'notify me if', 'warn me if', 'warn me when', 'send an alert if', 'send an alert when', 'raise an alert if',
  'ping me when', 'ping me if', 'flag it when', 'flag it if', 'give me a heads up if', 'give me a heads-up when', 'report when', 'report if',
  'i want to know when', 'i want to know if', 'i want an alert if', 'i want an alert when', 'let me know whenever', 'alert me whenever',
  'tell me whenever', 'shout if', 'give me a shout when', 'message me if', 'inform me when', 'inform me if', 'alert the operator if',
  'trigger an alert when', 'send a warning if', 'warn the operator when', 'let us know if',
];
/** Lead-ins before a noun phrase ("watch for unattended bags"). */
export const NP_LEADS: readonly string[] = [
  'watch for', 'look out for', 'alert on', 'alert me to', 'flag', 'report', 'notify me of', 'tell me about', 'identify', 'spot',
  'detect', 'warn me about', 'i want alerts for', 'alert for', 'look for', 'find', 'monitor for', 'keep watch for', 'check for',
  'send alerts for', 'warn about', 'raise an alert for', 'be on the lookout for', 'let me know about',
];
/** Question forms ("can you tell me when ...?"). */
export const QUESTION_LEADS: readonly string[] = [
  'can you tell me when', 'can you let me know if', 'could you alert me if', 'could you tell me when', 'would you notify me when',
  'can you warn me if', 'could you let me know when', 'will you tell me if', 'can you alert me when', 'can you flag it if',
];
export const NP_QUESTION_LEADS: readonly string[] = ['can you watch for', 'could you look out for', 'can you flag', 'could you spot', 'can you detect', 'will you watch for'];

export const POLITE: readonly string[] = ['please ', 'hey kestrel, ', 'kestrel, ', 'i need you to ', 'ok, ', 'hi, ', 'hey, ', 'kestrel: ', 'please could you ', 'right, ', 'so, ', 'hey drone, ', 'okay so ', 'we need you to '];

// --- typos -------------------------------------------------------------------------------

/** Words a typo may hit: fillers and class nouns (meaning-bearing cues, numbers and names stay intact). */
export const TYPO_WORDS = new Set([
  'alert', 'notify', 'please', 'know', 'tell', 'when', 'there', 'people', 'passengers', 'persons', 'person', 'someone', 'anyone',
  'luggage', 'suitcase', 'suitcases', 'backpack', 'vehicle', 'vehicles', 'package', 'parcel', 'pedestrians', 'visitors', 'whenever',
  'watch', 'report', 'message', 'inform', 'operator', 'warning', 'number', 'count', 'detect', 'identify', 'somebody', 'anybody',
  'baggage', 'trucks', 'travellers', 'individuals', 'kestrel', 'could', 'would', 'heads', 'about', 'monitor',
]);

const KEYS = 'qwertyuiopasdfghjklzxcvbnm';

/** One seeded character edit (swap, drop, double, replace by a neighbour key), first letter kept. */
export function typo(r: Rng, w: string): string {
  if (w.length < 4) return w;
  const i = r.int(1, w.length - 2);
  switch (r.int(0, 3)) {
    case 0: return w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2);
    case 1: return w.slice(0, i) + w.slice(i + 1);
    case 2: return w.slice(0, i) + w[i] + w.slice(i);
    default: {
      const k = KEYS.indexOf(w[i]);
      const n = k < 0 ? w[i] : KEYS[Math.max(0, Math.min(KEYS.length - 1, k + (r.chance(0.5) ? 1 : -1)))];
      return w.slice(0, i) + n + w.slice(i + 1);
    }
  }
}

/** Words a typo must not turn into ("there" → "three" would be a number). */
const MEANINGFUL = lexiconWords();

export function addTypos(r: Rng, text: string, p: number): string {
  return text.replace(/[a-z]+/g, (w) => {
    if (!(TYPO_WORDS.has(w) && r.chance(p))) return w;
    const t = typo(r, w);
    return MEANINGFUL.has(t) ? w : t;
  });
}

/** Operator casing: mostly lower case, sometimes sentence case, rarely shouting. */
export function casing(r: Rng, text: string): string {
  const k = r.weighted([['lower', 65], ['sentence', 30], ['upper', 3], ['title', 2]] as const);
  if (k === 'lower') return text;
  if (k === 'upper') return text.toUpperCase();
  if (k === 'title') return text.replace(/\b[a-z]/g, (c) => c.toUpperCase());
  return text.replace(/^[a-z]/, (c) => c.toUpperCase()).replace(/\bi\b/g, 'I').replace(/([.!?] )([a-z])/g, (_, a: string, b: string) => a + b.toUpperCase());
}
