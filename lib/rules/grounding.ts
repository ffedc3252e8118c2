/**
 * Grounding: a compiled rule is accepted only when every field can be traced to the intent
 * text (through the lexicons of lexicon.ts: synonyms, number words, units, comparatives,
 * cues) or is the documented default of defaults.ts. Otherwise the compile is refused with
 * the field named, e.g. `rules[0].threshold: 2 is not in the intent ("...")`. It also refuses
 * a compile that leaves out something the operator said (a comparison, a time, a distance,
 * a severity or reaction cue that no rule carries). Pure functions.
 *
 * This is what makes a model compile "never silently wrong": "notify me if anyone hangs
 * around the concourse for more than 2 minutes" compiled as `count > 2` is refused, because
 * the only 2 in the text is a duration.
 */
import type { DslVocabulary, FieldChoices, RuleFields } from './dsl.js';
import { describeRule, REACTIONS, SEVERITIES } from './dsl.js';
import { KIND_DEFAULTS, DEFAULT_REACTION, DEFAULT_SEVERITY } from './defaults.js';
import {
  allClassWords, ANY_CUES, CLASS_WORDS, EXTRA_CLASSES, INSTRUCTION_CUES, lexiconWords, regionConcepts, DISTANCE_UNITS, GROUNDING_EXTRA, KIND_CUES, KIND_STRONG_CUES, NUMBER_WORDS, OP_CUES, REACTION_CUES, regionReferences, SELF_WORDS,
  SEVERITY_CUES, SPECIAL_DISTANCES, SPECIAL_DURATIONS, TIME_UNITS, VAGUE_NUMBERS, ZERO_CUES,
} from './lexicon.js';
import type { RuleKind } from './dsl.js';

/** Lower case, punctuation to spaces, "30s" → "30 s", sentence dots dropped, decimal points kept. */
export function normalizeIntent(text: string): string[] {
  return text
    .toLowerCase()
    // Shorthand: "queue >= 25", "50+ bods"; arrows ("-> fyi") are separators, not comparisons.
    .replace(/[-=]+>/g, ' , ')
    .replace(/>=|=>|≥/g, ' at least ')
    .replace(/<=|=<|≤/g, ' at most ')
    .replace(/>/g, ' more than ')
    .replace(/</g, ' fewer than ')
    .replace(/==?/g, ' exactly ')
    .replace(/(\d)\s*\+/g, '$1 plus ')
    .replace(/[_\-/]+/g, ' ')
    .replace(/(\d)\.(\d)/g, '$1\u0000$2')
    // eslint-disable-next-line no-control-regex -- NUL marks a decimal point while punctuation is blanked
    .replace(/[^a-z0-9\u0000\s]/g, ' ')
    // eslint-disable-next-line no-control-regex -- the same marker, restored
    .replace(/\u0000/g, '.')
    .replace(/(\d)([a-z])/g, '$1 $2')
    .replace(/([a-z])(\d)/g, '$1 $2')
    .split(/\s+/)
    .filter(Boolean);
}

const words = (phrase: string): string[] => normalizeIntent(phrase);

/** Words that join clauses: each opens the next clause (and stays a token of it). */
const JOINERS = ['and', 'also', 'then', 'or', 'plus'];
// A spaced dash or bar ("... 2 - let us know", "A | B", "A // B") ends a clause as a comma does.
const CLAUSE_BREAK = new RegExp(`([.;,!?:]+(?!\\d)|->|\\s[-–|]\\s|\\s\\/\\/\\s|\\b(?:${JOINERS.join('|')})\\b)`, 'i');

/** Tokens and, for each, the clause it is in (clauses end at punctuation and at the joiners). */
function clauseTokens(text: string): { tokens: string[]; clause: number[] } {
  const tokens: string[] = [];
  const clause: number[] = [];
  // Separator words stay tokens ("10 or more", "more then 10"); they open the next clause.
  text.split(CLAUSE_BREAK).forEach((part, k) => {
    for (const t of normalizeIntent(part ?? '')) {
      tokens.push(t);
      clause.push(Math.ceil(k / 2));
    }
  });
  return { tokens, clause };
}

/** Start indices where `phrase` occurs as whole tokens (`fuzzy`: a typo allowed in words of 5+ letters). */
function findPhrase(tokens: readonly string[], phrase: readonly string[], fuzzy = false): number[] {
  const out: number[] = [];
  if (phrase.length === 0) return out;
  for (let i = 0; i + phrase.length <= tokens.length; i++) {
    let ok = true;
    for (let j = 0; j < phrase.length; j++) if (!(tokens[i + j] === phrase[j] || (fuzzy && nearWord(tokens[i + j], phrase[j])))) { ok = false; break; }
    if (ok) out.push(i);
  }
  return out;
}
const hasPhrase = (tokens: readonly string[], phrase: string): boolean => findPhrase(tokens, words(phrase)).length > 0;

// A word of the lexicon is itself, never a typo of another ("track" the reaction is no misspelt "truck").
let known: Set<string> | undefined;

/** Damerau distance ≤ 1 (operators' typos on class nouns); `a` is the text's word. */
function nearWord(a: string, b: string): boolean {
  if (a === b) return true;
  known ??= new Set([...lexiconWords(), ...Object.values(GROUNDING_EXTRA.classes).flat(), ...Object.values(GROUNDING_EXTRA.kinds).flat()].flatMap((p) => p.split(' ')));
  if (known.has(a)) return false;
  if (Math.abs(a.length - b.length) > 1 || b.length < 5 || a.length < 4) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2));
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

export interface Mention {
  value: number;
  start: number;
  end: number;
  /** seconds (time), metres (distance), or a bare number. */
  unit: 'time' | 'distance' | 'none';
}

const MASK = '\u0001';

/** The intent as the check reads it: tokens with region references masked, and its quantities. */
export interface IntentFacts {
  text: string;
  tokens: string[];
  /** Clause index of each token. */
  clause: number[];
  mentions: Mention[];
  /** Region ids referred to, with the token positions of each reference. */
  regionsSaid: Map<string, number[]>;
  /** Those named outright (id, spaced id, a description), not only by a distinctive word of the id. */
  regionsNamed: Set<string>;
}

const REGION_STOP = new Set(['the', 'area', 'zone', 'gate', 'exit', 'hall', 'side', 'lot', 'dock', 'bay', 'main', 'platform', 'north', 'south', 'east', 'west', 'of', 'and', 'in', 'at', 'on', 'a', 'b', 'c', 'd']);

/**
 * Region ids of the vocabulary the text refers to (longest references first, then masked):
 * the id, its spaced form and descriptions (lexicon), list continuations of numbered ids
 * ("zone a, b and c", "gates 3 and 4"), and a word of the id that no other vocabulary region
 * has ("reclaim" → baggage_reclaim).
 */
function maskRegions(tokens: string[], v: DslVocabulary): { said: Map<string, number[]>; named: Set<string> } {
  const said = new Map<string, number[]>();
  const mark = (id: string, i: number, n: number): void => {
    const at = said.get(id) ?? [];
    for (let j = i; j < i + n; j++) {
      tokens[j] = MASK;
      at.push(j);
    }
    said.set(id, at);
  };
  const refs = v.regions.flatMap((id) => regionReferences(id).map((r) => ({ id, w: words(r) })));
  refs.sort((a, b) => b.w.length - a.w.length);
  for (const { id, w } of refs) {
    for (const i of findPhrase(tokens, w, true)) {
      if (tokens.slice(i, i + w.length).includes(MASK)) continue;
      mark(id, i, w.length);
    }
  }
  const named = new Set(said.keys());
  // "zone a, b and c": siblings named by their suffix after a reference of the same prefix.
  for (const id of [...said.keys()]) {
    const m = /^(.+)_([a-z0-9]+)$/.exec(id);
    if (!m) continue;
    const last = Math.max(...(said.get(id) ?? []));
    for (let j = last + 1; j < tokens.length; j++) {
      const t = tokens[j];
      if (t === 'and' || t === 'or') continue;
      const num = t in NUMBER_WORDS ? String(NUMBER_WORDS[t]) : t;
      const sib = `${m[1]}_${num}`;
      if (t.length > 2 && !(t in NUMBER_WORDS)) break;
      // "gate two 2 or more": the id again is a number, not a list.
      if (!v.regions.includes(sib) || sib === id) break;
      mark(sib, j, 1);
      named.add(sib);
    }
  }
  // A distinctive word of one id ("reclaim", "departures"), when no other region shares it.
  const meaningful = new Set(Object.keys(CLASS_WORDS).flatMap(allClassWords).concat(Object.keys(NUMBER_WORDS)));
  const wordsOf = new Map(v.regions.map((id) => [id, id.toLowerCase().split(/[_\-\s]+/).filter((w) => w.length >= 3 && !REGION_STOP.has(w) && !meaningful.has(w))]));
  for (const [id, ws] of wordsOf) {
    if (said.has(id)) continue;
    for (const w of ws) {
      if ([...wordsOf].some(([o, ows]) => o !== id && ows.includes(w))) continue;
      for (const i of findPhrase(tokens, [w], true)) if (tokens[i] !== MASK) mark(id, i, 1);
    }
  }
  return { said, named };
}

const UNITLESS_PHRASES: [string[], number][] = Object.entries(VAGUE_NUMBERS).map(([k, n]) => [words(k), n] as [string[], number]).concat([[words('a single'), 1]]).sort((a, b) => b[0].length - a[0].length);
const TIME_PHRASES: [string[], number][] = Object.entries(SPECIAL_DURATIONS).map(([k, n]) => [words(k), n] as [string[], number]).sort((a, b) => b[0].length - a[0].length);
const DIST_PHRASES: [string[], number][] = Object.entries(SPECIAL_DISTANCES).map(([k, n]) => [words(k), n] as [string[], number]);
const DIGITS = new Set(['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine']);
const TENS = new Set(['twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety']);

const SCALES: Readonly<Record<string, number>> = { hundred: 100, thousand: 1000 };

/**
 * A number below 100 at `i` ("7", "seven", "forty two"); with `clause`, "forty, two" is not 42.
 * (findMentions' own word reading passes no clause: its tens and units join across a comma, as they always did.)
 */
function smallNumber(tokens: readonly string[], i: number, clause?: readonly number[]): { value: number; len: number } | undefined {
  const t = tokens[i];
  if (t === undefined) return undefined;
  if (/^\d+$/.test(t) && Number(t) < 100) return { value: Number(t), len: 1 };
  if (!(t in NUMBER_WORDS) || NUMBER_WORDS[t] >= 100) return undefined;
  const next = tokens[i + 1];
  if (TENS.has(t) && next !== undefined && (!clause || clause[i + 1] === clause[i]) && next in NUMBER_WORDS && NUMBER_WORDS[next] > 0 && NUMBER_WORDS[next] < 10) return { value: NUMBER_WORDS[t] + NUMBER_WORDS[next], len: 2 };
  return { value: NUMBER_WORDS[t], len: 1 };
}

/**
 * A spoken number with a scale word at `i`: "eight hundred" is 800, not 8 and 100; "two hundred and
 * fifty", "a thousand", "1 thousand two hundred". Undefined when no scale word follows a leading number.
 */
function scaledNumber(tokens: readonly string[], clause: readonly number[], i: number): { value: number; len: number } | undefined {
  let k = i;
  let value = 0;
  let scaled = false;
  for (;;) {
    const lead = tokens[k] === 'a' ? { value: 1, len: 1 } : smallNumber(tokens, k, clause);
    const scale = lead ? tokens[k + lead.len] : undefined;
    if (!lead || scale === undefined || !(scale in SCALES) || clause[k + lead.len] !== clause[i]) break;
    // "two thousand three hundred": each scale smaller than the one before.
    if (value > 0 && value % (SCALES[scale] * 10) !== 0) break;
    value += lead.value * SCALES[scale];
    k += lead.len + 1;
    scaled = true;
  }
  if (!scaled) return undefined;
  const at = tokens[k] === 'and' ? k + 1 : k;
  const rest = clause[at] === clause[i] || tokens[k] === 'and' ? smallNumber(tokens, at, clause) : undefined;
  // "three hundred and twenty", "a hundred 5": the tail is part of the number; a unit after it belongs to all of it.
  if (rest && !((tokens[at + rest.len] ?? '') in SCALES)) return { value: value + rest.value, len: at + rest.len - i };
  return { value, len: k - i };
}

/** Numbers, durations and distances in the text, each once (longest reading first). */
function findMentions(tokens: string[], clause: readonly number[]): Mention[] {
  const used = new Array<boolean>(tokens.length).fill(false);
  const out: Mention[] = [];
  const claim = (i: number, n: number): boolean => {
    for (let j = i; j < i + n; j++) if (used[j]) return false;
    for (let j = i; j < i + n; j++) used[j] = true;
    return true;
  };
  // "no one", "not a single" are not the number one.
  for (const p of [words('no one'), words('not a single')]) for (const i of findPhrase(tokens, p)) claim(i, p.length);
  const numbers: { value: number; start: number; end: number }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const s = used[i] ? undefined : scaledNumber(tokens, clause, i);
    if (s && claim(i, s.len)) {
      numbers.push({ value: s.value, start: i, end: i + s.len });
      i += s.len - 1;
    }
  }
  for (const [p, n] of TIME_PHRASES) for (const i of findPhrase(tokens, p)) if (claim(i, p.length)) out.push({ value: n, start: i, end: i + p.length, unit: 'time' });
  for (const [p, n] of DIST_PHRASES) for (const i of findPhrase(tokens, p)) if (claim(i, p.length)) out.push({ value: n, start: i, end: i + p.length, unit: 'distance' });
  for (const [p, n] of UNITLESS_PHRASES) for (const i of findPhrase(tokens, p)) if (claim(i, p.length)) numbers.push({ value: n, start: i, end: i + p.length });
  for (let i = 0; i < tokens.length; i++) {
    if (used[i]) continue;
    const t = tokens[i];
    let value: number | undefined;
    let len = 1;
    if (/^\d+(\.\d+)?$/.test(t)) value = Number(t);
    else if (DIGITS.has(t) && tokens[i + 1] !== undefined && DIGITS.has(tokens[i + 1]) && !used[i + 1]) {
      // Radio style: "one five" = 15.
      let k = i;
      let digits = '';
      while (k < tokens.length && DIGITS.has(tokens[k]) && !used[k]) digits += String(NUMBER_WORDS[tokens[k++]]);
      value = Number(digits);
      len = k - i;
    } else if (t in NUMBER_WORDS) {
      // "hundred" alone is 100 (smallNumber reads below 100 only).
      ({ value, len } = smallNumber(tokens, i) ?? { value: NUMBER_WORDS[t], len: 1 });
    }
    if (value === undefined) continue;
    claim(i, len);
    numbers.push({ value, start: i, end: i + len });
  }
  for (const m of numbers) {
    // "a couple of minutes": the unit may follow "of".
    const at = tokens[m.end] === 'of' ? m.end + 1 : m.end;
    const u = tokens[at];
    if (u !== undefined && u in TIME_UNITS) out.push({ value: Math.round(m.value * TIME_UNITS[u] * 10) / 10, start: m.start, end: at + 1, unit: 'time' });
    else if (u !== undefined && u in DISTANCE_UNITS) out.push({ value: m.value * DISTANCE_UNITS[u], start: m.start, end: at + 1, unit: 'distance' });
    else out.push({ ...m, unit: 'none' });
  }
  return out.sort((a, b) => a.start - b.start);
}

export function intentFacts(text: string, v: DslVocabulary): IntentFacts {
  const { tokens, clause } = clauseTokens(text);
  const { said: regionsSaid, named: regionsNamed } = maskRegions(tokens, v);
  return { text, tokens, clause, mentions: findMentions(tokens, clause), regionsSaid, regionsNamed };
}

const OP_PHRASES: { op: string; w: string[]; after: boolean }[] = [OP_CUES, GROUNDING_EXTRA.ops]
  .flatMap((table) => Object.entries(table).flatMap(([op, c]) => [...c.before.map((p) => ({ op, w: words(p), after: false })), ...c.after.map((p) => ({ op, w: words(p), after: true }))]))
  .sort((a, b) => b.w.length - a.w.length);

/**
 * The comparatives said about a bare number: the cue right before it, or "or more" right after it (or after its noun).
 * The longest cue at a place wins: "no more than 7" is '<=', not also the '>' of its tail "more than 7".
 */
export function opsAt(tokens: readonly string[], m: Mention): string[] {
  const ops = new Set<string>();
  let beforeLen = 0;
  const afterLen = new Map<number, number>();
  for (const c of OP_PHRASES) { // longest first
    if (!c.after) {
      const s = m.start - c.w.length;
      if (s >= 0 && c.w.length >= beforeLen && c.w.every((w, j) => tokens[s + j] === w)) {
        ops.add(c.op);
        beforeLen = c.w.length;
      }
    } else {
      for (let skip = 0; skip <= 2; skip++) {
        const s = m.end + skip;
        if (c.w.length >= (afterLen.get(s) ?? 0) && c.w.every((w, j) => tokens[s + j] === w)) {
          ops.add(c.op);
          afterLen.set(s, c.w.length);
        }
      }
    }
  }
  return [...ops];
}

/** Token positions where the class is named (synonyms, slang, a typo in words of 5+ letters). */
function classPositions(tokens: readonly string[], cls: string): number[] {
  const ws = [...allClassWords(cls), ...(GROUNDING_EXTRA.classes[cls] ?? [])].map(words);
  return ws.flatMap((w) => (w.length === 1 ? tokens.flatMap((t, i) => (nearWord(t, w[0]) ? [i] : [])) : findPhrase(tokens, w)));
}
const classSaid = (tokens: readonly string[], cls: string): boolean => classPositions(tokens, cls).length > 0;

/**
 * The class named by one of its own words, exactly (no typo tolerance), outside the phrases that
 * mean the vehicle itself ("approach the vehicle", "land the drone"): the stricter reading the
 * completeness checks use, so that they never refuse on a near-word.
 */
const OTHER_DRONE = new Set(['a', 'an', 'any', 'another', 'other', 'second', 'rogue', 'foreign', 'unknown', 'some']);

function classNamed(tokens: readonly string[], cls: string): boolean {
  // "hey drone", "the drone": the vehicle itself, addressed or named. Plural or indefinite ("drones in zone b",
  // "another drone") it is an object: a deployment without the class must not read it as someone else.
  if (cls === 'drone') return tokens.some((t, i) => t === 'drones' || t === 'uavs' || ((t === 'drone' || t === 'uav') && OTHER_DRONE.has(tokens[i - 1] ?? '')));
  const self = new Set(SELF_WORDS.flatMap((p) => { const w = words(p); return findPhrase(tokens, w).flatMap((i) => w.map((_, k) => i + k)); }));
  return allClassWords(cls).some((p) => { const w = words(p); return findPhrase(tokens, w).some((i) => !w.some((_, k) => self.has(i + k))); });
}

function anyCue(tokens: readonly string[]): boolean {
  const extra = ['turns up', 'turn up', 'show up', 'shows up', 'appear', 'enter'];
  return [...ANY_CUES, ...extra].some((c) => hasPhrase(tokens, c)) || tokens.some((t) => ['anyone', 'someone', 'somebody', 'anybody'].some((w) => nearWord(t, w)));
}
const ZERO = [...ZERO_CUES, ...GROUNDING_EXTRA.zero];
const zeroCue = (tokens: readonly string[]): boolean => ZERO.some((c) => hasPhrase(tokens, c));
/** A zero cue said in one of `clauses` (not "no more than": a cue before a number is its comparative). */
const zeroCueIn = (f: IntentFacts, clauses: readonly number[]): boolean =>
  ZERO.some((c) => findPhrase(f.tokens, words(c)).some((i) => clauses.includes(f.clause[i]) && !['more', 'fewer', 'less'].includes(f.tokens[i + 1])));

/**
 * Whether a cue is said; with `mentions`, a match right before a number does not count
 * ("people loiter over 2 minutes" is a dwell, not an orbit).
 */
function cueSaid(tokens: readonly string[], cues: readonly string[], mentions?: readonly Mention[], fuzzy = false): boolean {
  return cuePositions(tokens, cues, mentions, fuzzy).length > 0;
}
function cuePositions(tokens: readonly string[], cues: readonly string[], mentions?: readonly Mention[], fuzzy = false): number[] {
  return cues.flatMap((c) => findPhrase(tokens, words(c), fuzzy).filter((i) => {
    const end = i + words(c).length;
    // "don't land", "no alarm": a negated cue is not said.
    if (i > 0 && NEGATIONS.has(tokens[i - 1])) return false;
    if (i > 1 && tokens[i - 2] === 'do' && tokens[i - 1] === 'not') return false;
    return !mentions?.some((m) => m.start === end);
  }));
}
const NEGATIONS = new Set(['no', 'not', 'dont', 'never', 'without', 'don']);

function kindSaid(tokens: readonly string[], kind: RuleKind): boolean {
  if (kind === 'count') return true;
  if (kind === 'proximity' && SELF_WORDS.some((w) => hasPhrase(tokens, w))) return true;
  return cueSaid(tokens, [...KIND_CUES[kind], ...(GROUNDING_EXTRA.kinds[kind] ?? [])], undefined, true);
}

/** A cue ending before `next` is followed by "over"/"above" as the orbit reaction ("loiter over it"), not a stay ("spends over 2 minutes"). */
const orbitAfter = (f: IntentFacts, next: number): boolean => ['over', 'above'].includes(f.tokens[next] ?? '') && !f.mentions.some((m) => m.start === next + 1);

/** Dwell cues ("is still", "stays", "has been", "standing") said in one of `clauses`: the first found. */
function dwellCueIn(f: IntentFacts, clauses: readonly number[]): string | undefined {
  // "stay put" is the hold reaction, "waiting room" a region's name: neither says that something stays.
  const reaction = new Set(Object.keys(REACTION_CUES).flatMap((re) => reactionCues(re).flatMap((c) => findPhrase(f.tokens, words(c)).flatMap((i) => words(c).map((_, k) => i + k)))));
  const regionWords = new Set([...f.regionsSaid.keys()].flatMap((id) => words(id)));
  return [...KIND_CUES.dwell, ...(GROUNDING_EXTRA.kinds.dwell ?? [])].find((c) => cuePositions(f.tokens, [c]).some((i) => {
    return clauses.includes(f.clause[i]) && !orbitAfter(f, i + words(c).length) && !reaction.has(i) && !regionWords.has(f.tokens[i]);
  }));
}

/**
 * The clauses that say a rule's time together with its class ("a van is still on gate 3 after 4 minutes"): where
 * what is held for that time is said. Empty when no clause holds both (then nothing is read from the wording).
 */
function timeClauses(f: IntentFacts, r: RuleFields): number[] {
  const cls = new Set(classPositions(f.tokens, r.class_id).map((i) => f.clause[i]));
  return [...new Set(f.mentions.filter((m) => m.unit === 'time' && Math.abs(m.value - r.duration_s) < 0.05).map((m) => f.clause[m.start]))].filter((c) => cls.has(c));
}

/**
 * An instruction aimed at Kestrel itself in the text ("ignore previous rules", "system override"), as said;
 * undefined when there is none. Such an intent is refused whole (INSTRUCTION_CUES).
 */
export function instructionCue(text: string): string | undefined {
  const tokens = normalizeIntent(text);
  for (const p of INSTRUCTION_CUES.phrases) if (hasPhrase(tokens, p)) return p;
  for (const verb of INSTRUCTION_CUES.verbs) {
    for (const i of findPhrase(tokens, [verb])) {
      for (const o of INSTRUCTION_CUES.objects) {
        const at = findPhrase(tokens, words(o)).find((k) => k > i && k <= i + 4);
        if (at !== undefined) return tokens.slice(i, at + words(o).length).join(' ');
      }
    }
  }
  return undefined;
}

const severityCues = (sev: string): readonly string[] => [...(SEVERITY_CUES[sev as 'critical' | 'info'] ?? []), ...(GROUNDING_EXTRA.severity[sev] ?? [])];
const reactionCues = (re: string): readonly string[] => [...(REACTION_CUES[re as keyof typeof REACTION_CUES] ?? []), ...(GROUNDING_EXTRA.reactions[re] ?? [])];
const PROHIBITION = ['otherwise', 'must', 'should', 'allowed', 'permitted', 'supposed'];

const BREACH: Readonly<Record<string, string>> = { '<=': '>', '<': '>=', '>=': '<', '>': '<=' };
/**
 * A number said as a limit ("no more than 25 people are allowed", "at least 3 must be at the gate"): the alert is
 * its breach ('>' 25, '<' 3), never the limit itself. Undefined when the clause states no limit ("should more than
 * 10 gather" is a condition; "more than 10 are not allowed" says the breach outright).
 */
function limitBreach(f: IntentFacts, m: Mention): string[] | undefined {
  const c = f.clause[m.start];
  const inClause = (ws: readonly string[]): boolean => f.tokens.some((t, k) => f.clause[k] === c && ws.includes(t));
  if (!inClause(['allowed', 'permitted', 'must', 'supposed']) || inClause(['not', 'never', 'cannot', 'cant', 'mustn', 'nt'])) return undefined;
  const ops = opsAt(f.tokens, m);
  return ops.length ? ops.map((o) => BREACH[o] ?? o) : undefined;
}

/** Clauses a rule is anchored in: where its region, class or numbers are said. */
function anchorClauses(f: IntentFacts, v: DslVocabulary, r: RuleFields): number[] {
  return [...new Set(anchorTokens(f, r).map((i) => f.clause[i]))];
}
/** Token positions of a rule's region, class and numbers. */
function anchorTokens(f: IntentFacts, r: RuleFields): number[] {
  return [
    ...(r.region ? f.regionsSaid.get(r.region) ?? [] : []),
    ...classPositions(f.tokens, r.class_id),
    ...ruleMentions(f, r).map((m) => m.start),
  ];
}
/** The stated numbers a rule carries: its count threshold, time and distance. */
function ruleMentions(f: IntentFacts, r: RuleFields): Mention[] {
  return f.mentions.filter((m) => (m.unit === 'none' && m.value === r.threshold && r.kind === 'count') || (m.unit === 'time' && m.value === r.duration_s) || (m.unit === 'distance' && m.value === r.radius_m));
}

/**
 * People are the implied class of a clause that names no class ("queue hits 30", "loitering
 * at gate 3, 4 mins"): accepted when a clause holding the rule's numbers (or, for a rule with no
 * stated number, its region) names no class of the vocabulary. The number's clause decides: in
 * "taxi rank: fewer than 3 cabs waiting" the region stands alone, but 3 counts cabs.
 */
function personImplied(f: IntentFacts, v: DslVocabulary, r: RuleFields): boolean {
  if (!v.classes.includes('person') || r.kind === 'unattended') return false;
  const named = new Set(v.classes.flatMap((c) => classPositions(f.tokens, c)).map((i) => f.clause[i]));
  const numbers = [...new Set(ruleMentions(f, r).map((m) => f.clause[m.start]))];
  return (numbers.length > 0 ? numbers : anchorClauses(f, v, r)).some((c) => !named.has(c));
}

/** What the text states that no rule carries (the repair decode narrows these fields to them). */
export interface Uncarried {
  times: number[];
  distances: number[];
  numbers: number[];
  classes: string[];
  regions: string[];
  severities: string[];
  reactions: string[];
  /** The kind the wording says where the compile chose another ("is still there after 4 minutes": dwell). */
  kinds: string[];
}

export interface GroundingResult {
  ok: boolean;
  errors: string[];
  uncarried: Uncarried;
}

const quote = (text: string): string => JSON.stringify(text.length > 120 ? `${text.slice(0, 117)}...` : text);

/**
 * Rules that differ in severity (or reaction) must each take the cue said of their own clause: "more than
 * 20 people in the hall is a warning; more than 40 is critical" compiled with the severities swapped grounds
 * field by field, yet is wrong. A rule's clauses are those only it is anchored in (its own number), else all its
 * anchors. A cue said in a rule's clause is that rule's; one said alone ("..., then hover", "plus urgent, watch
 * ...") may be the clause's before it or after it (both orders are how operators speak).
 */
function cueBindingErrors(f: IntentFacts, v: DslVocabulary, rules: readonly RuleFields[], q: string): string[] {
  if (rules.length < 2) return [];
  // Clauses are counted by what they say: "60 and then circle it" is next to its number, though the joiners
  // "and" and "then" each open a clause.
  const content = new Set(f.clause.filter((c, k) => !JOINERS.includes(f.tokens[k])));
  const rank = (c: number): number => [...content].filter((x) => x < c).length;
  // Own by word first: "... once it has exactly 8 travellers" is the count's clause though "travellers" is every person rule's.
  const all = rules.map((r) => anchorTokens(f, r));
  const clausesOf = (ks: readonly number[]): number[] => [...new Set(ks.map((k) => rank(f.clause[k])))];
  const own = all.map((a, i) => {
    const mine = a.filter((k) => !all.some((b, j) => j !== i && b.includes(k)));
    return clausesOf(mine.length > 0 ? mine : a);
  });
  const owners = (x: number): number[] => rules.flatMap((_, j) => (own[j].includes(x) ? [j] : []));
  const anchored = [...new Set(own.flat())].sort((a, b) => a - b);
  const errors: string[] = [];
  const fields = [['severity', severityCues, DEFAULT_SEVERITY], ['reaction', reactionCues, DEFAULT_REACTION]] as const;
  for (const [field, cuesOf, dflt] of fields) {
    if (new Set(rules.map((r) => r[field])).size < 2) continue;
    rules.forEach((r, i) => {
      if (r[field] === dflt) return;
      const at = cuePositions(f.tokens, cuesOf(r[field]), field === 'reaction' ? f.mentions : undefined).map((k) => f.clause[k]);
      const fits = at.some((raw) => {
        const c = rank(raw);
        // A cue in a clause of a rule's own belongs to that rule (or to any that share the clause)...
        if (owners(c).length) return owners(c).some((j) => rules[j][field] === r[field]);
        // ...one said alone ("..., then hover", "plus urgent, watch ...") to the clause before or after it.
        const before = anchored.filter((x) => x < c).pop();
        const after = anchored.find((x) => x > c);
        const near = [before, after].filter((x): x is number => x !== undefined);
        return near.length === 0 || near.some((x) => owners(x).some((j) => rules[j][field] === r[field]));
      });
      if (at.length > 0 && !fits) errors.push(`rules[${i}].${field}: '${r[field]}' is said of another rule's clause (${q})`);
    });
  }
  return errors;
}

/** The text's mentions of `value` in `unit`. */
function mentionsOf(f: IntentFacts, unit: Mention['unit'], value: number): Mention[] {
  return f.mentions.filter((m) => m.unit === unit && Math.abs(m.value - value) < 0.05);
}

/**
 * Rules that repeat one condition (the same kind, class, region and companion, and no stated value
 * apart) beyond the clauses that name its class: "critical alert and hover" written as two alerts,
 * or a second rule differing only in a documented default the text does not state. An operator
 * who says the condition twice, in two clauses, gets two rules; a tiered pair ("more than 20 ... a
 * warning; more than 40 ... critical", "for 1 min ..., for 10 min ...") differs in a stated value
 * and stands. One condition said once is one rule: its severity and reaction go on it.
 */
function repeatedConditions(f: IntentFacts, rules: readonly RuleFields[]): string[] {
  // A field the two rules hold apart, told apart by the text: both values stated (a default on one side is not).
  const apart = (a: number, b: number, unit: Mention['unit'], def: number | null): boolean => a !== b && ![a, b].some((x) => x === def && mentionsOf(f, unit, x).length === 0);
  const errors: string[] = [];
  rules.forEach((b, j) => {
    const d = KIND_DEFAULTS[b.kind as RuleKind];
    if (!d) return;
    const repeats = rules.filter((a, k) => k < j && a.kind === b.kind && a.class_id === b.class_id && a.region === b.region && a.companion_class === b.companion_class
      && !(a.op !== b.op || a.threshold !== b.threshold || apart(a.duration_s, b.duration_s, 'time', d.duration_s) || apart(a.radius_m, b.radius_m, 'distance', d.radius_m)));
    const said = new Set(classPositions(f.tokens, b.class_id).map((p) => f.clause[p])).size;
    if (repeats.length > 0 && repeats.length + 1 > Math.max(1, said)) {
      errors.push(`rules[${j}]: repeats the condition of rules[${rules.indexOf(repeats[0])}] (${b.kind} ${b.class_id}${b.region ? ` in ${b.region}` : ''}), which the intent states ${said > 1 ? `in ${said} clauses` : 'once'}; one condition is one rule, with its severity and reaction on it`);
    }
  });
  return errors;
}

/**
 * A bare presence count (> 0, no number, no time) beside another rule about the same class there (or anywhere, for a
 * presence without a region) holds whenever that rule does: the other rule's subject read a second time (rounds 9
 * and 10: "any person within 50 m of the aircraft at the fuel farm, follow" as a proximity rule and a presence count
 * carrying the reaction). It stands only where the class is said in as many clauses as rules use it.
 */
function extraPresence(f: IntentFacts, rules: readonly RuleFields[]): string[] {
  const errors: string[] = [];
  rules.forEach((a, j) => {
    if (a.kind !== 'count' || a.op !== '>' || a.threshold !== 0 || a.duration_s !== 0) return;
    const others = rules.filter((b, k) => k !== j && b.class_id === a.class_id && (a.region === '' || b.region === a.region));
    // Clauses that say the class with something to watch for (a place, a quantity): not "intruder alert:".
    const place = new Set([...f.mentions.map((m) => f.clause[m.start]), ...[...f.regionsSaid.values()].flat().map((p) => f.clause[p]),
      ...SELF_WORDS.flatMap((w) => findPhrase(f.tokens, words(w)).map((p) => f.clause[p]))]);
    const said = new Set(classPositions(f.tokens, a.class_id).map((p) => f.clause[p]).filter((c) => place.has(c))).size;
    if (others.length > 0 && others.length + 1 > said) {
      const b = others[0];
      errors.push(`rules[${j}]: a presence count of ${a.class_id}${a.region ? ` in ${a.region}` : ''} beside rules[${rules.indexOf(b)}] (${b.kind} ${b.class_id}${b.region ? ` in ${b.region}` : ''}), which it holds whenever that does; the intent says ${a.class_id} ${said > 1 ? `in ${said} clauses` : 'once'}`);
    }
  });
  return errors;
}

/** Words before "the drone"/"us" that make it the place of a proximity ("near the drone", "within 10 m of us"). */
const NEAR_SELF = new Set(['near', 'nearer', 'within', 'close', 'closer', 'approach', 'approaches', 'approaching', 'towards', 'toward', 'up']);

/** "person near the drone", "walks up to us": the vehicle itself as the place, which only a proximity rule measures. */
function nearSelf(f: IntentFacts): string | undefined {
  for (const w of SELF_WORDS) {
    const ws = words(w);
    const at = findPhrase(f.tokens, ws).find((i) => f.tokens.slice(Math.max(0, i - 4), i).some((t, k, before) => NEAR_SELF.has(t) && f.clause[i - before.length + k] === f.clause[i]));
    if (at !== undefined) return f.tokens.slice(Math.max(0, at - 4), at + ws.length).join(' ');
  }
  return undefined;
}

/** "no person within 20 m", "nobody near it": an absence near something, what an unattended rule's companion says. */
function absentNear(f: IntentFacts, cls: string): boolean {
  const after = new Set(['within', 'near', 'around', 'close', 'nearby', 'beside']);
  const followed = (i: number, len: number): boolean => after.has(f.tokens[i + len] ?? '');
  const negative = CLASS_WORDS[cls]?.negative ?? [];
  return negative.some((p) => findPhrase(f.tokens, words(p)).some((i) => followed(i, words(p).length)))
    || f.tokens.some((t, i) => f.tokens[i - 1] === 'no' && allClassWords(cls).includes(t) && followed(i, 1));
}

/**
 * Every field of every rule traced to the text or to the documented default, and every
 * comparison, time, distance, severity and reaction the text states carried by some rule.
 */
export function groundRules(text: string, v: DslVocabulary, rules: readonly RuleFields[]): GroundingResult {
  const f = intentFacts(text, v);
  const q = quote(text);
  const errors: string[] = [];
  const notIn = (i: number, field: string, what: string): void => { errors.push(`rules[${i}].${field}: ${what} is not in the intent (${q})`); };

  // What this deployment cannot see or does not have: a compile would silently drop it.
  if (rules.length > 0) {
    for (const cls of [...Object.keys(CLASS_WORDS), ...EXTRA_CLASSES]) {
      if (!v.classes.includes(cls) && classNamed(f.tokens, cls)) errors.push(`intent: names ${cls}, which this deployment's detector does not know (classes: ${v.classes.join(', ')})`);
    }
    for (const [cls, plural] of Object.entries(GROUNDING_EXTRA.otherObjects)) {
      if (!v.classes.includes(cls) && f.tokens.includes(plural)) errors.push(`intent: names ${plural}, which no class of this deployment's detector covers (classes: ${v.classes.join(', ')})`);
    }
    for (const c of regionConcepts()) {
      if (!c.param || v.regions.includes(c.id)) continue;
      const ref = c.refs.find((r) => findPhrase(f.tokens, words(r)).length > 0);
      if (ref) errors.push(`intent: names "${ref}" (${c.id}), which is not a region of this deployment (regions: ${v.regions.join(', ') || 'none'})`);
    }
  }
  const kinds: string[] = [];
  rules.forEach((r, i) => {
    const d = KIND_DEFAULTS[r.kind as RuleKind];
    if (!d) {
      errors.push(`rules[${i}].kind: unknown kind '${r.kind}'`);
      return;
    }
    // A dwell is also said by its time alone ("anyone on the apron for longer than 30 s").
    const dwellByTime = r.kind === 'dwell' && mentionsOf(f, 'time', r.duration_s).length > 0;
    if (!dwellByTime && !kindSaid(f.tokens, r.kind as RuleKind)) errors.push(`rules[${i}].kind: '${r.kind}' is not what the intent describes (${q})`);
    // "gate 4 has no vehicles at all for half an hour" is a count == 0 held for a time: nothing there to stay.
    const dwellAt = r.kind === 'dwell' ? timeClauses(f, r) : [];
    if (dwellAt.length > 0 && dwellAt.every((c) => zeroCueIn(f, [c]) && !dwellCueIn(f, [c]))) {
      kinds.push('count');
      errors.push(`rules[${i}].kind: 'dwell' (an object staying), but the intent says there is none (${q})`);
    }
    if (!classSaid(f.tokens, r.class_id) && !(r.class_id === 'person' && personImplied(f, v, r))) notIn(i, 'class_id', `'${r.class_id}'`);
    if (r.region !== '' && !f.regionsSaid.has(r.region)) notIn(i, 'region', `'${r.region}'`);
    // op and threshold
    if (r.kind === 'count') {
      const prohibition = PROHIBITION.some((w) => f.tokens.includes(w));
      const anchors = anchorClauses(f, v, r);
      // A bare presence ("dogs in the perimeter") is > 0 only where no zero cue is said with it ("nobody there for 5 min").
      const barePresence = !anchors.some((c) => f.mentions.some((m) => m.unit === 'none' && f.clause[m.start] === c)) && !zeroCueIn(f, anchors);
      if (r.threshold === 0 && ((r.op === '==' && zeroCue(f.tokens)) || (r.op === '>' && (anyCue(f.tokens) || (zeroCue(f.tokens) && prohibition) || barePresence)))) {
        // "no X" (== 0), "any X" / a bare "dogs in the perimeter" (> 0), "must have nobody ... otherwise" (> 0) need no number.
      } else {
        const ms = mentionsOf(f, 'none', r.threshold);
        if (ms.length === 0) notIn(i, 'threshold', String(r.threshold));
        else {
          const said = ms.flatMap((m) => limitBreach(f, m) ?? opsAt(f.tokens, m));
          const bare = ms.some((m) => opsAt(f.tokens, m).length === 0);
          // A number without a comparison ("when there are 10 people", "the count is 0") reads as >= or ==.
          if (!said.includes(r.op) && !(bare && (r.op === '>=' || r.op === '=='))) {
            errors.push(`rules[${i}].op: '${r.op}' is not what the intent says about ${r.threshold} (${said.length ? `it says ${[...new Set(said)].join(' or ')}` : 'no comparison'}; ${q})`);
          }
        }
      }
      // "someone is still at security after 370 s" is one object staying (a dwell); a presence count held for a
      // time is also met by a stream of different people ("any people in the hall for 5 minutes").
      const held = r.op === '>' && r.threshold === 0 && r.duration_s > 0 ? timeClauses(f, r) : [];
      const stay = held.length > 0 && held.every((c) => dwellCueIn(f, [c])) ? dwellCueIn(f, held) : undefined;
      if (stay) {
        kinds.push('dwell');
        errors.push(`rules[${i}].kind: 'count' (a presence held ${r.duration_s} s), but the intent says "${stay}": one object staying is a dwell rule (${q})`);
      }
    } else {
      if (r.op !== d.op) errors.push(`rules[${i}].op: '${r.op}' (a ${r.kind} rule always uses '${d.op}')`);
      if (r.threshold !== d.threshold) errors.push(`rules[${i}].threshold: ${r.threshold} (a ${r.kind} rule always uses ${d.threshold})`);
    }
    if (!(d.duration_s !== null && r.duration_s === d.duration_s) && mentionsOf(f, 'time', r.duration_s).length === 0) {
      notIn(i, 'duration_s', `${r.duration_s}${d.duration_s === null ? ' (a dwell rule needs the time from the intent)' : ''}`);
    }
    // Only unattended and proximity rules measure a distance: a radius on a count or dwell rule is a stated
    // distance attached to the wrong rule.
    if (d.radius_m === 0 && (r.kind === 'count' || r.kind === 'dwell')) {
      if (r.radius_m !== 0) errors.push(`rules[${i}].radius_m: ${r.radius_m} (a ${r.kind} rule has no radius)`);
    } else if (r.radius_m !== d.radius_m && mentionsOf(f, 'distance', r.radius_m).length === 0) notIn(i, 'radius_m', String(r.radius_m));
    if (r.kind === 'unattended') {
      if (r.companion_class !== d.companion_class && !classSaid(f.tokens, r.companion_class)) notIn(i, 'companion_class', `'${r.companion_class}'`);
    } else if (r.companion_class !== '') errors.push(`rules[${i}].companion_class: '${r.companion_class}' (only unattended rules have one)`);
    if (r.hysteresis !== d.hysteresis) errors.push(`rules[${i}].hysteresis: ${r.hysteresis} is not the documented default ${d.hysteresis} for ${r.kind} rules`);
    if (r.severity !== DEFAULT_SEVERITY) {
      if (!cueSaid(f.tokens, severityCues(r.severity))) notIn(i, 'severity', `'${r.severity}'`);
    }
    if (r.reaction !== DEFAULT_REACTION) {
      if (!cueSaid(f.tokens, reactionCues(r.reaction), f.mentions)) notIn(i, 'reaction', `'${r.reaction}'`);
    }
  });

  errors.push(...cueBindingErrors(f, v, rules, q));
  errors.push(...repeatedConditions(f, rules), ...extraPresence(f, rules));
  rules.forEach((r, i) => {
    // The companion's absence read as its approach: "a dog on its own, no person within 20 m" is unattended.
    if (r.kind === 'proximity' && absentNear(f, r.class_id) && !rules.some((u) => u.kind === 'unattended' && u.companion_class === r.class_id)) {
      errors.push(`rules[${i}].kind: 'proximity' of ${r.class_id}, but the intent says no ${r.class_id} near: an absence, the companion of an unattended rule (${q})`);
    }
  });
  const self = rules.length > 0 && !rules.some((r) => r.kind === 'proximity') ? nearSelf(f) : undefined;
  if (self) errors.push(`intent: says "${self}" (a proximity rule: the vehicle itself as the place) but no rule is proximity`);

  // What the operator said must be carried by some rule (a dropped clause is a wrong compile).
  const u: Uncarried = { times: [], distances: [], numbers: [], classes: [], regions: [], severities: [], reactions: [], kinds };
  if (rules.length > 0) {
    for (const m of f.mentions) {
      const said = f.tokens.slice(m.start, m.end).join(' ');
      if (m.unit === 'time' && !rules.some((r) => Math.abs(r.duration_s - m.value) < 0.05)) {
        errors.push(`intent: the time "${said}" (${m.value} s) is in no rule`);
        u.times.push(m.value);
      }
      if (m.unit === 'distance' && !rules.some((r) => Math.abs(r.radius_m - m.value) < 0.05)) {
        errors.push(`intent: the distance "${said}" (${m.value} m) is in no rule`);
        u.distances.push(m.value);
      }
      if (m.unit === 'none' && opsAt(f.tokens, m).length > 0 && !rules.some((r) => r.kind === 'count' && Math.abs(r.threshold - m.value) < 0.05)) {
        errors.push(`intent: the number "${said}" is in no rule`);
        u.numbers.push(m.value);
      }
    }
    // Every class the text names is some rule's object or companion ("and any vehicle within 10 m" is a rule).
    for (const cls of v.classes) {
      if (classNamed(f.tokens, cls) && !rules.some((r) => r.class_id === cls || r.companion_class === cls)) {
        errors.push(`intent: names ${cls} but no rule is about it`);
        u.classes.push(cls);
      }
    }
    // A region named outright belongs to some rule: "exactly 2 vehicles on stand 12" is not a count
    // anywhere. (A distinctive word alone, "waiting" for waiting_area, may be just a word.)
    for (const id of f.regionsNamed) {
      if (!rules.some((r) => r.region === id)) {
        errors.push(`intent: names the region ${id} but no rule is about it`);
        u.regions.push(id);
      }
    }
    // A kind said outright is some rule's kind ("loiter over it" is the orbit reaction, not a dwell).
    for (const [kind, cues] of Object.entries(KIND_STRONG_CUES)) {
      const cue = cues.find((c) => findPhrase(f.tokens, words(c)).some((i) => !orbitAfter(f, i + words(c).length)));
      if (cue && !rules.some((r) => r.kind === kind)) errors.push(`intent: says "${cue}" (a ${kind} rule) but no rule is ${kind}`);
    }
    // A severity or reaction said is some rule's.
    const stated = [
      { keys: Object.keys(SEVERITY_CUES), cuesOf: severityCues, mentions: undefined, field: 'severity', verb: 'is', dropped: u.severities },
      { keys: Object.keys(REACTION_CUES), cuesOf: reactionCues, mentions: f.mentions, field: 'reaction', verb: 'reacts with', dropped: u.reactions },
    ] as const;
    for (const { keys, cuesOf, mentions, field, verb, dropped } of stated) {
      for (const value of keys) {
        const cues = cuesOf(value);
        if (cueSaid(f.tokens, cues, mentions) && !rules.some((r) => r[field] === value)) {
          errors.push(`intent: says ${value} ("${cues.find((c) => hasPhrase(f.tokens, c))}") but no rule ${verb} ${value}`);
          dropped.push(value);
        }
      }
    }
  }
  return { ok: errors.length === 0, errors, uncarried: u };
}

/**
 * Grounded decoding: the values each rule field may take for this text (what it states plus the
 * documented defaults), so the model's grammar can only write traceable values. Cross-field checks
 * (op against the number, every stated time carried) stay with `groundRules`.
 */
export function groundedChoices(text: string, v: DslVocabulary): FieldChoices {
  const f = intentFacts(text, v);
  const uniq = <T,>(xs: T[]): T[] => [...new Set(xs)];
  const said = (unit: Mention['unit']): number[] => f.mentions.filter((m) => m.unit === unit).map((m) => m.value);
  const defaults = Object.values(KIND_DEFAULTS);
  const classes = v.classes.filter((c) => classSaid(f.tokens, c) || c === 'person');
  return {
    // No class of the vocabulary said: the grammar keeps them all and grounding names the problem.
    classes: classes.length ? classes : v.classes,
    regions: ['', ...v.regions.filter((r) => f.regionsSaid.has(r))],
    companions: uniq(['', ...defaults.map((d) => d.companion_class).filter((c) => v.classes.includes(c)), ...v.classes.filter((c) => classSaid(f.tokens, c))]),
    thresholds: uniq([...defaults.flatMap((d) => (d.threshold === null ? [] : [d.threshold])), ...said('none')]),
    durations: uniq([...defaults.flatMap((d) => (d.duration_s === null ? [] : [d.duration_s])), ...said('time')]),
    radii: uniq([...defaults.map((d) => d.radius_m), ...said('distance')]),
    hysteresis: uniq(defaults.map((d) => d.hysteresis)),
    severities: SEVERITIES.filter((s) => s === DEFAULT_SEVERITY || cueSaid(f.tokens, severityCues(s))),
    reactions: REACTIONS.filter((r) => r === DEFAULT_REACTION || cueSaid(f.tokens, reactionCues(r), f.mentions)),
  };
}

/**
 * The repair decode's choices: a compile that dropped something the text states is decoded once
 * more with each such field narrowed to what was dropped, and (`kinds`) the first compile's rule kinds kept:
 * the repair fixes a dropped value, not the reading (a kind the wording names outright, `u.kinds`, excepted). Greedy decoding under a superset of the
 * first grammar would write the same rules again, so the value the model chose must leave the set.
 * Undefined when nothing was dropped (the failure was something else: nothing to narrow).
 */
export function repairChoices(base: FieldChoices, u: Uncarried, kinds?: readonly string[]): FieldChoices | undefined {
  const pick = <T,>(missing: readonly T[], all: readonly T[]): readonly T[] => (missing.length ? [...new Set(missing)] : all);
  const nothing = Object.values(u).every((xs: readonly unknown[]) => xs.length === 0);
  if (nothing) return undefined;
  return {
    ...base,
    // A misread kind is the one thing the repair changes about the reading: it takes the kind the wording says.
    ...(u.kinds.length ? { kinds: [...new Set(u.kinds)] } : kinds ? { kinds: [...new Set(kinds)] } : {}),
    durations: pick(u.times, base.durations),
    radii: pick(u.distances, base.radii),
    thresholds: pick(u.numbers, base.thresholds),
    classes: pick(u.classes, base.classes),
    regions: pick(u.regions, base.regions),
    severities: pick(u.severities, base.severities),
    reactions: pick(u.reactions, base.reactions),
  };
}

/** Sentences to echo back to the operator for confirmation (one per rule). */
export function describeRules(rules: readonly RuleFields[]): string[] {
  return rules.map((r) => {
    const extra = [r.severity !== DEFAULT_SEVERITY ? r.severity : '', r.reaction !== DEFAULT_REACTION ? `then ${r.reaction}` : ''].filter(Boolean);
    return `${describeRule(r)}${extra.length ? ` (${extra.join(', ')})` : ''}`;
  });
}
