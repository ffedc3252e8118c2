/**
 * Candidate splits of an intent into clauses, one rule (or a few) each: the intent compiler's
 * decomposition (nodes/intent/compile.ts) compiles the pieces one at a time when the whole text
 * fails grounding. Pure functions; the splits are only candidates: a piece that does not compile
 * and ground on its own rejects its whole split, so a bad cut costs a refusal, never a rule.
 *
 * Strongest first: sentence and list boundaries; then joiners ("and if", ", and", "also", "plus",
 * "additionally", "as well as", "in addition"); then bare commas. A "header: ..." lead (a region or
 * a lead-in said once for all clauses, "zone c: more than 8 bags, abandoned bags") is repeated on
 * every piece, so a piece keeps the context the operator said once.
 */
import { MAX_RULES } from './dsl.js';

// Sentence ends (a point before a space: never a decimal), semicolons, new lines, " | " and " // " list bars.
const STRONG = /\s*(?:;|\n|\s\|\s|\s\/\/\s|[.!?](?=\s+\S))\s*/;
// Words that open a clause: the bare " and " splits only before one ("... queue and anyone lingering").
const OPENERS = 'if|when|whenever|once|any|anyone|anybody|someone|somebody|a|an|more|fewer|less|over|under|at least|at most|no|nobody|there|tell|alert|warn|notify|let|flag|ping|log';
const JOIN = new RegExp(`\\s*(?:,?\\s+(?:and also|and separately|and then|also|plus|additionally|as well as|in addition)[,:]?\\s+|,\\s*(?:and|then)\\s+|\\s+and\\s+(?=(?:${OPENERS})\\b))`, 'i');
// A joiner left at the start of a piece after a sentence split (". also, ...", ". then ...").
const LEADING = /^(?:and also|and then|and separately|and|also|then|next|plus|additionally|as well as|in addition|separately|besides|after that|another thing)\b[,:]?\s*/i;
// A piece that points back ("left alone there", "more than 10 each", "all critical", "when it's back under 5") leans on
// another piece: such a split is no candidate (the whole intent is what the operator meant).
const ANAPHORA = /\bthere\b(?!\s*(?:is|are|was|were|be|'s|s|will|must)\b)|\b(?:here|each|both|same|them|those|these|either|former|latter)\b|(?<!\bat )\ball\b|\bit(?:'s| is| was)\b/i;
// "zone c: ...", "two things please: ...": a short lead before a colon, said once for every clause.
const HEADER = /^([^:;.\n]{2,40}):\s+(?=\S)/;

function clean(piece: string): string {
  let p = piece.trim().replace(/^[-–•*]\s+/, '');
  for (let prev = ''; prev !== p; ) {
    prev = p;
    p = p.replace(LEADING, '').replace(/^[,;:\s]+|[,;:\s]+$/g, '');
  }
  return p;
}

// split() cuts at every match whatever the flags; JOIN carries its own 'i' (the other cuts have no letters).
function cut(body: string, by: RegExp): string[] {
  return body.split(by).map(clean).filter((p) => /\p{L}/u.test(p));
}

/**
 * Candidate splits of `text`, strongest first, each of 2..MAX_RULES pieces (duplicates dropped).
 * An intent with no clause boundary gives none.
 */
export function clauseSplits(text: string): string[][] {
  const t = text.trim();
  const h = HEADER.exec(t);
  const header = h ? `${h[1].trim()}: ` : '';
  const body = h ? t.slice(h[0].length) : t;
  // A dash list ("- A - B") is a list only when it starts with one: a lone " - " is a suffix ("- urgent").
  const dashList = /^-\s/.test(body) ? [cut(body.slice(1), /\s+-\s+/)] : [];
  const strong = cut(body, STRONG);
  const joined = strong.flatMap((p) => cut(p, JOIN));
  const commas = joined.flatMap((p) => cut(p, /\s*,\s*/));
  const out: string[][] = [];
  const seen = new Set<string>();
  for (const pieces of [...dashList, strong, joined, commas]) {
    if (pieces.length < 2 || pieces.length > MAX_RULES || pieces.some((p) => ANAPHORA.test(p))) continue;
    const withHeader = pieces.map((p) => header + p);
    const key = JSON.stringify(withHeader);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(withHeader);
  }
  return out;
}
