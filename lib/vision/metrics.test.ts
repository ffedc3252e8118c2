import { describe, expect, it } from 'vitest';
import { evaluateDetections, type GtBox } from './metrics.js';

const gt = (x: number, classId = 'person', ignore = false): GtBox => ({ x1: x, y1: 0, x2: x + 10, y2: 10, classId, ignore });
const det = (x: number, score: number, classId = 'person') => ({ x1: x, y1: 0, x2: x + 10, y2: 10, classId, score });

describe('evaluateDetections', () => {
  it('scores perfect detections as AP 1', () => {
    const r = evaluateDetections([{ gt: [gt(0), gt(20, 'bag')], dets: [det(0, 0.9), det(20, 0.8, 'bag')] }], ['person', 'bag', 'vehicle']);
    expect(r.map).toBe(1);
    expect(r.classes.find((c) => c.classId === 'vehicle')?.groundTruth).toBe(0);
  });

  it('computes AP from the ranked list with all-point interpolation', () => {
    // Ranked: FP (0.9), TP (0.8), TP (0.7) over 2 ground truths → precision 1/2 at recall 1/2, 2/3 at
    // recall 1; interpolated (best precision at this recall or more) 2/3 throughout → AP 2/3.
    const r = evaluateDetections([{ gt: [gt(0), gt(40)], dets: [det(100, 0.9), det(0, 0.8), det(41, 0.7)] }], ['person']);
    expect(r.map).toBeCloseTo(2 / 3, 9);
    // TP, FP, TP: 1 at recall 1/2, 2/3 at recall 1 → 0.5 + 0.5·2/3.
    const r2 = evaluateDetections([{ gt: [gt(0), gt(40)], dets: [det(0, 0.9), det(100, 0.8), det(41, 0.7)] }], ['person']);
    expect(r2.map).toBeCloseTo(0.5 + 0.5 * (2 / 3), 9);
    expect(r.classes[0]).toMatchObject({ tp: 2, fp: 1, recall: 1 });
  });

  it('counts a duplicate as a false positive, a miss against recall, and ignores ignored truth', () => {
    const r = evaluateDetections([{ gt: [gt(0), gt(40), gt(80, 'person', true)], dets: [det(0, 0.9), det(1, 0.8), det(80, 0.7)] }], ['person'], 0.5, 0.25);
    expect(r.classes[0]).toMatchObject({ groundTruth: 2, tp: 1, fp: 1 });
    expect(r.classes[0].recall).toBe(0.5);
    expect(r.classes[0].precision).toBe(0.5);
  });

  it('needs IoU ≥ 0.5 and the right class', () => {
    const r = evaluateDetections([{ gt: [gt(0)], dets: [det(4, 0.9), det(0, 0.9, 'bag')] }], ['person', 'bag']);
    expect(r.classes[0].ap).toBe(0); // IoU 6/14 < 0.5
    expect(r.classes[1].fp).toBe(1);
  });
});
