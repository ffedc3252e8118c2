/**
 * Prompt lookup with a memory of output skeletons (`predictor: lookup`). llama.cpp verifies every
 * predicted token in one batch and keeps the greedy choice, so outputs are byte-identical; what a
 * prediction buys is fewer sequential decode steps. node-llama-cpp's InputLookupTokenPredictor
 * searches only the prompt and the output so far, and a Kestrel output repeats its own JSON shape
 * more than the prompt: the keys the grammar forces and the documented defaults of a rule's tail
 * (`,"duration_s":0,"radius_m":0,...`). The memory holds such skeletons (from the nodes: one
 * formatted default rule per kind, one plan per action), searched after the sequence itself.
 */
import { TokenPredictor, type Token } from 'node-llama-cpp';

export interface LookupOptions {
  /** Shortest suffix of the sequence that must match (tokens). */
  minPattern: number;
  /** Longest suffix tried; longer matches are more specific. */
  maxPattern: number;
  /** Most tokens predicted at once. */
  maxPredict: number;
}

export const LOOKUP_DEFAULTS: LookupOptions = { minPattern: 1, maxPattern: 12, maxPredict: 16 };

function endsWithAt(hay: readonly Token[], end: number, needle: readonly Token[]): boolean {
  if (end < needle.length) return false;
  for (let k = 0; k < needle.length; k++) if (hay[end - needle.length + k] !== needle[k]) return false;
  return true;
}

/**
 * The tokens that followed the longest suffix of `seq` seen before: first in `seq` itself (latest
 * occurrence), then in each memory sequence. Pure; [] when nothing matches.
 */
export function lookupPrediction(seq: readonly Token[], memory: readonly (readonly Token[])[], o: LookupOptions = LOOKUP_DEFAULTS): Token[] {
  for (let len = Math.min(o.maxPattern, seq.length - 1); len >= o.minPattern; len--) {
    const pattern = seq.slice(seq.length - len);
    // In the sequence itself, an occurrence that ends before its own suffix.
    for (let end = seq.length - 1; end >= len; end--) {
      if (endsWithAt(seq, end, pattern)) return seq.slice(end, Math.min(seq.length, end + o.maxPredict)) as Token[];
    }
    for (const m of memory) {
      for (let end = len; end < m.length; end++) {
        if (endsWithAt(m, end, pattern)) return m.slice(end, end + o.maxPredict) as Token[];
      }
    }
  }
  return [];
}

export class LookupTokenPredictor extends TokenPredictor {
  private seq: Token[] = [];

  constructor(private readonly memory: readonly (readonly Token[])[], private readonly o: LookupOptions = LOOKUP_DEFAULTS) {
    super();
  }

  reset({ stateTokens }: { stateTokens: Token[] }): void {
    this.seq = stateTokens.slice();
  }

  override updateInputTokens(tokens: Token[]): void {
    this.seq = tokens.slice();
  }

  pushTokens(tokens: Token[]): void {
    this.seq.push(...tokens);
  }

  predictTokens(): Token[] {
    return lookupPrediction(this.seq, this.memory, this.o);
  }

  override dispose(): void {
    this.seq = [];
  }
}
