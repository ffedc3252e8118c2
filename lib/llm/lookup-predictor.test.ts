import { describe, it, expect } from 'vitest';
import type { Token } from 'node-llama-cpp';
import { lookupPrediction, LOOKUP_DEFAULTS } from './lookup-predictor.js';

const t = (...xs: number[]): Token[] => xs as Token[];

describe('lookupPrediction (prompt lookup + output skeletons)', () => {
  it('continues the longest suffix seen earlier in the sequence, latest occurrence first', () => {
    // ... 5 6 7 ... 5 6 8 ... 5 6  -> the latest "5 6" was followed by 8
    expect(lookupPrediction(t(1, 5, 6, 7, 2, 5, 6, 8, 3, 5, 6), [], { ...LOOKUP_DEFAULTS, maxPredict: 2 })).toEqual(t(8, 3));
    // a longer match wins over a later shorter one: "4 5 6" was followed by 7
    expect(lookupPrediction(t(4, 5, 6, 7, 9, 5, 6, 8, 4, 5, 6), [], { ...LOOKUP_DEFAULTS, maxPredict: 1 })).toEqual(t(7));
  });

  it('falls back to the memory when the sequence has no match, and predicts at most maxPredict', () => {
    const memory = [t(10, 11, 12, 13, 14, 15)];
    expect(lookupPrediction(t(1, 2, 11, 12), memory, { ...LOOKUP_DEFAULTS, maxPredict: 2 })).toEqual(t(13, 14));
    expect(lookupPrediction(t(1, 2, 3), memory)).toEqual([]);
    expect(lookupPrediction(t(), memory)).toEqual([]);
  });
});
