/** The well-formedness checks every hand-written intent set's test makes (imported by tests only: it uses vitest's expect). */
import { expect } from 'vitest';
import type { ParsedCases } from './cases.js';

/** No parse errors, at least `min` cases, unique ids, one case per line of `text`. */
export function expectWellFormedSet(text: string, { cases, errors }: ParsedCases, min = 120): void {
  expect(errors).toEqual([]);
  expect(cases.length).toBeGreaterThanOrEqual(min);
  expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  expect(text.trimEnd().split('\n').length).toBe(cases.length);
}
