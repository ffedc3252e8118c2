import { describe, expect, it } from 'vitest';
import { aboveClassThreshold, classThresholds, lowestThreshold } from './thresholds.js';

const d = (classIndex: number, score: number) => ({ x1: 0, y1: 0, x2: 1, y2: 1, classIndex, score });

describe('per-class score thresholds', () => {
  const names = ['person', 'bag', 'vehicle'];

  it('gives each class its own threshold, the default elsewhere', () => {
    const th = classThresholds(names, 0.3, { bag: 0.15 });
    expect(th).toEqual([0.3, 0.15, 0.3]);
    expect(lowestThreshold(th, 0.3)).toBe(0.15);
    const kept = aboveClassThreshold([d(0, 0.2), d(0, 0.31), d(1, 0.16), d(1, 0.14), d(2, 0.29)], th);
    expect(kept.map((k) => [k.classIndex, k.score])).toEqual([[0, 0.31], [1, 0.16]]);
  });

  it('no entries: the default for all', () => {
    expect(classThresholds(names, 0.25, {})).toEqual([0.25, 0.25, 0.25]);
  });

  it('rejects a class the model does not have, and a threshold outside 0..1, naming them', () => {
    expect(() => classThresholds(names, 0.3, { suitcase: 0.1 })).toThrow(/'suitcase': no such class \(classes: person, bag, vehicle\)/);
    expect(() => classThresholds(names, 0.3, { bag: 1.5 })).toThrow(/'bag' is 1.5/);
  });
});
