/**
 * Deterministic pattern compiler for common operator phrasings. A random-weight model cannot
 * understand intent; this path makes the common cases correct with any model, and says
 * precisely which clause it could not read. Pure functions.
 *
 * Recognised (one rule per clause; clauses split on '.', ';', newlines and "also"):
 * - count:      "more than 10 people in the passport queue", "alert if the queue has at least 5 persons",
 *               "fewer than 2 vehicles in the lot"
 * - unattended: "a bag is left with no person within 3 m for 30 s", "unattended luggage ... 20 seconds"
 * - dwell:      "a person stays in the gate area for more than 60 s" (stays, lingers, loiters, remains, dwells)
 * - proximity:  "a person comes within 15 m of the vehicle" (vehicle, drone, robot, us)
 */
import type { DslVocabulary, RuleFields } from '../../lib/rules/dsl.js';

export class IntentCompileError extends Error {
  constructor(readonly clause: string, detail: string) {
    super(`cannot compile ${JSON.stringify(clause)}: ${detail}`);
    this.name = 'IntentCompileError';
  }
}

const SYNONYMS: Record<string, readonly string[]> = {
  person: ['people', 'persons', 'person', 'pedestrians', 'pedestrian', 'someone', 'anyone', 'humans', 'human', 'individuals', 'passengers', 'passenger'],
  bag: ['bags', 'bag', 'luggage', 'baggage', 'suitcases', 'suitcase', 'backpacks', 'backpack', 'packages', 'package', 'parcels', 'parcel'],
  vehicle: ['vehicles', 'vehicle', 'cars', 'car', 'trucks', 'truck', 'vans', 'van'],
};

const NUMBER_WORDS: Record<string, number> = {
  zero: 0, one: 1, a: 1, an: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, fifteen: 15, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, hundred: 100,
};
const NUM = String.raw`(\d+(?:\.\d+)?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|hundred|an?)`;

function num(s: string): number {
  const n = NUMBER_WORDS[s] ?? Number(s);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${s}`);
  return n;
}

const norm = (s: string): string => s.toLowerCase().replace(/[_-]/g, ' ').replace(/[^\w.\s]/g, ' ').replace(/\s+/g, ' ').trim();

/** Splits an intent into clauses, each expected to give one rule. */
export function splitClauses(intent: string): string[] {
  return intent
    .split(/[;\n]|\.(?!\d)|\balso\b|\bthen\b/i)
    .map((c) => c.trim())
    .filter((c) => /[a-z]/i.test(c));
}

/** Classes mentioned in the text, in order of appearance (synonyms mapped to the known class). */
export function findClasses(text: string, classes: readonly string[]): string[] {
  const hits: { cls: string; at: number }[] = [];
  for (const cls of classes) {
    const words = [...new Set([cls, `${cls}s`, `${cls}es`, ...(SYNONYMS[cls] ?? [])])];
    for (const w of words) {
      const m = new RegExp(`\\b${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).exec(text);
      if (m) hits.push({ cls, at: m.index });
    }
  }
  hits.sort((a, b) => a.at - b.at);
  return [...new Set(hits.map((h) => h.cls))];
}

/** The region named in the text: a full phrase match wins; otherwise a unique partial match. */
export function findRegion(text: string, regions: readonly string[]): { region: string } | { error: string } | undefined {
  const phrase = regions.filter((r) => new RegExp(`\\b${norm(r)}\\b`).test(text));
  if (phrase.length > 0) return { region: phrase.sort((a, b) => norm(b).length - norm(a).length)[0] };
  const scored = regions
    .map((r) => ({ r, n: norm(r).split(' ').filter((w) => w.length > 2 && new RegExp(`\\b${w}\\b`).test(text)).length }))
    .filter((x) => x.n > 0)
    .sort((a, b) => b.n - a.n);
  if (scored.length === 0) return undefined;
  if (scored.length > 1 && scored[0].n === scored[1].n) return { error: `region is ambiguous: ${scored.filter((s) => s.n === scored[0].n).map((s) => s.r).join(' or ')}` };
  return { region: scored[0].r };
}

function duration(text: string): number | undefined {
  const m = new RegExp(`${NUM}\\s*(seconds?|secs?|s|minutes?|mins?|min|hours?|h)\\b`).exec(text);
  if (!m) return undefined;
  const n = num(m[1]);
  return m[2].startsWith('m') ? n * 60 : m[2].startsWith('h') ? n * 3600 : n;
}

function distance(text: string): number | undefined {
  const m = new RegExp(`${NUM}\\s*(m|meters?|metres?|km)\\b`).exec(text);
  if (!m) return undefined;
  return m[2] === 'km' ? num(m[1]) * 1000 : num(m[1]);
}

function severityOf(text: string): string {
  if (/\b(critical|urgent|urgently|immediately|emergency)\b/.test(text)) return 'critical';
  if (/\b(notify|note|log|inform|info)\b/.test(text) && !/\b(alert|alarm|warn)\b/.test(text)) return 'info';
  return 'warning';
}

function reactionOf(text: string): string {
  if (/\b(return (to )?(home|launch|base)|rtl)\b/.test(text)) return 'rtl';
  if (/\bland\b/.test(text)) return 'land';
  if (/\b(orbit|circle)\b/.test(text)) return 'orbit';
  if (/\b(track|follow)\b/.test(text) && !/\btrack (of|the count)\b/.test(text)) return 'track';
  if (/\b(hold|hover|stop|pause)\b/.test(text)) return 'hold';
  return 'none';
}

interface Comparison {
  op: string;
  threshold: number;
}

function comparison(text: string): Comparison | undefined {
  const table: [RegExp, string][] = [
    [new RegExp(`\\b(?:more than|over|above|exceeds?|exceeding|greater than)\\s+${NUM}\\b`), '>'],
    [new RegExp(`\\b(?:at least|minimum of|no fewer than|no less than)\\s+${NUM}\\b`), '>='],
    [new RegExp(`\\b(?:fewer than|less than|under|below)\\s+${NUM}\\b`), '<'],
    [new RegExp(`\\b(?:at most|no more than|maximum of)\\s+${NUM}\\b`), '<='],
    [new RegExp(`\\b(?:exactly)\\s+${NUM}\\b`), '=='],
    [new RegExp(`\\b${NUM}\\s+or more\\b`), '>='],
    [new RegExp(`\\b${NUM}\\s+or (?:fewer|less)\\b`), '<='],
  ];
  // The earliest phrase wins; at the same place the longest ("no more than" over "more than").
  let best: { at: number; len: number; c: Comparison } | undefined;
  for (const [re, op] of table) {
    const m = re.exec(text);
    if (m && (!best || m.index < best.at || (m.index === best.at && m[0].length > best.len))) best = { at: m.index, len: m[0].length, c: { op, threshold: num(m[1]) } };
  }
  if (best) return best.c;
  return undefined;
}

const BASE = { op: '>', threshold: 0, duration_s: 0, radius_m: 0, companion_class: '', hysteresis: 0 };

/** One clause → one rule's fields; throws IntentCompileError saying what is missing. */
export function compileClause(clause: string, v: DslVocabulary): RuleFields {
  const text = norm(clause);
  const severity = severityOf(text);
  const reaction = reactionOf(text);
  const fail = (d: string): never => { throw new IntentCompileError(clause, d); };
  const regionHit = findRegion(text, v.regions);
  if (regionHit && 'error' in regionHit) fail(regionHit.error);
  const region = regionHit && 'region' in regionHit ? regionHit.region : '';

  // Proximity to ourselves: "within 15 m of the vehicle/drone/robot/us".
  const prox = new RegExp(`\\bwithin\\s+${NUM}\\s*(?:m|meters?|metres?)\\s+of\\s+(?:the\\s+|our\\s+)?(vehicle|drone|robot|aircraft|us|me|uav)\\b`).exec(text);
  if (prox || /\b(near|close to|approach(?:es|ing)?)\s+(?:the\s+|our\s+)?(drone|robot|aircraft|uav|us)\b/.test(text)) {
    const stripped = text.replace(/\bof\s+(?:the\s+|our\s+)?(vehicle|drone|robot|aircraft|uav)\b/, ' ').replace(/\b(near|close to|approach\w*)\s+(?:the\s+|our\s+)?\w+/, ' ');
    const cls = findClasses(stripped, v.classes)[0] ?? fail(`no known object class (known: ${v.classes.join(', ')})`);
    const radius = prox ? num(prox[1]) : distance(text) ?? fail('no distance (e.g. "within 15 m")');
    return { ...BASE, kind: 'proximity', class_id: cls, region, radius_m: radius, duration_s: duration(text.replace(prox?.[0] ?? '', ' ')) ?? 0, hysteresis: radius >= 4 ? 1 : 0, severity, reaction };
  }

  const classes = findClasses(text, v.classes);
  // Unattended: "<class> left / unattended / abandoned ... no <companion> within R m for T s".
  if (/\b(unattended|left behind|left alone|abandoned|left|alone)\b/.test(text) && (/\bno\b|\bwithout\b|\bunattended\b|\babandoned\b/.test(text))) {
    const companionMatch = /\b(?:no|without(?: an?| any)?)\s+(\w+)/.exec(text);
    const companion = companionMatch ? findClasses(companionMatch[1], v.classes)[0] : undefined;
    const objectCls = classes.find((c) => c !== companion) ?? fail(`no known object class (known: ${v.classes.join(', ')})`);
    const comp = companion ?? (v.classes.includes('person') && objectCls !== 'person' ? 'person' : fail('no attending class (e.g. "no person within 3 m")'));
    const radius = distance(text) ?? fail('no radius (e.g. "within 3 m")');
    const dur = duration(text) ?? fail('no duration (e.g. "for 30 s")');
    return { ...BASE, kind: 'unattended', class_id: objectCls, companion_class: comp, region, radius_m: radius, duration_s: dur, hysteresis: radius >= 2 ? Math.min(1, radius / 4) : 0, severity, reaction };
  }

  // Dwell: "<class> stays / lingers / loiters / remains in <region> for more than T s".
  if (/\b(stays?|staying|lingers?|lingering|loiters?|loitering|remains?|dwells?|dwelling|waits?|waiting)\b/.test(text) && duration(text) !== undefined) {
    const cls = classes[0] ?? fail(`no known object class (known: ${v.classes.join(', ')})`);
    if (!region) fail(`a dwell rule needs a region (known: ${v.regions.join(', ') || 'none'})`);
    return { ...BASE, kind: 'dwell', class_id: cls, region, duration_s: duration(text) as number, severity, reaction };
  }

  // Count: a comparison and a class.
  const cmp = comparison(text);
  if (cmp) {
    const cls = classes[0] ?? fail(`no known object class (known: ${v.classes.join(', ')})`);
    const h = cmp.op === '==' ? 0 : Math.max(1, Math.round(cmp.threshold * 0.1));
    return { ...BASE, kind: 'count', class_id: cls, region, op: cmp.op, threshold: cmp.threshold, hysteresis: Math.min(h, cmp.threshold), duration_s: duration(text) ?? 0, severity, reaction };
  }
  return fail('no known pattern (count: "more than N <class> in <region>"; unattended: "<class> left with no person within R m for T s"; dwell: "<class> stays in <region> for T s"; proximity: "<class> within R m of the vehicle")');
}

export interface PatternCompile {
  rules: RuleFields[];
}

/** Every clause must compile; the first that does not fails the whole intent (nothing half-installed). */
export function compilePatterns(intent: string, v: DslVocabulary): PatternCompile {
  const clauses = splitClauses(intent);
  if (clauses.length === 0) throw new IntentCompileError(intent, 'empty intent');
  return { rules: clauses.map((c) => compileClause(c, v)) };
}
