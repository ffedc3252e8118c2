import { describe, expect, it } from 'vitest';
import { circleInsidePolygon, distanceToBoundary, pointInPolygon, polygonFromFlat, segmentInsidePolygon } from './geometry.js';

// An L: the square [0,100]² without its upper-right [40,100]×[40,100].
const L = polygonFromFlat([0, 0, 100, 0, 100, 40, 40, 40, 40, 100, 0, 100]);

describe('polygon containment (concave fences)', () => {
  it('a segment between two inside points can leave an L; touching the reflex vertex is inside only if it stays in', () => {
    expect(segmentInsidePolygon({ x: 90, y: 20 }, { x: 20, y: 90 }, L)).toBe(false); // cuts the missing corner
    expect(segmentInsidePolygon({ x: 90, y: 20 }, { x: 20, y: 20 }, L)).toBe(true);
    expect(segmentInsidePolygon({ x: 20, y: 20 }, { x: 20, y: 90 }, L)).toBe(true);
    // Through the reflex vertex (40, 40), from inside to inside along the diagonal: stays in.
    expect(segmentInsidePolygon({ x: 10, y: 10 }, { x: 39, y: 39 }, L)).toBe(true);
    // Grazing the reflex vertex from (60, 20) to (20, 60): passes exactly through (40, 40) and stays inside the L.
    expect(segmentInsidePolygon({ x: 60, y: 20 }, { x: 20, y: 60 }, L)).toBe(true);
    // Through the vertex and on into the missing corner.
    expect(segmentInsidePolygon({ x: 60, y: 20 }, { x: 30, y: 50 }, L)).toBe(true);
    expect(segmentInsidePolygon({ x: 30, y: 30 }, { x: 50, y: 50 }, L)).toBe(false);
    // Along an edge: on the fence, not inside it.
    expect(segmentInsidePolygon({ x: 40, y: 60 }, { x: 40, y: 90 }, L)).toBe(false);
    expect(segmentInsidePolygon({ x: 5, y: 5 }, { x: 5, y: 5 }, L)).toBe(true);
    expect(segmentInsidePolygon({ x: 5, y: 5 }, { x: 60, y: 60 }, L)).toBe(false);
  });

  it('a circle is inside only if its centre is and no boundary point is nearer than its radius', () => {
    expect(circleInsidePolygon({ x: 20, y: 20 }, 15, L)).toBe(true);
    expect(circleInsidePolygon({ x: 30, y: 30 }, 15, L)).toBe(false); // the reflex corner is 14.1 m away
    expect(circleInsidePolygon({ x: 60, y: 60 }, 5, L)).toBe(false); // centre in the missing corner
    expect(circleInsidePolygon({ x: 20, y: 20 }, Number.NaN, L)).toBe(false);
    expect(distanceToBoundary({ x: 30, y: 30 }, L)).toBeCloseTo(Math.SQRT2 * 10);
  });

  it('agrees with dense sampling on random segments and circles in the L', () => {
    let seed = 99;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 110 - 5;
    for (let i = 0; i < 3000; i++) {
      const a = { x: rnd(), y: rnd() };
      const b = { x: rnd(), y: rnd() };
      const exact = segmentInsidePolygon(a, b, L);
      let sampled = true;
      for (let k = 0; k <= 400 && sampled; k++) sampled = pointInPolygon({ x: a.x + ((b.x - a.x) * k) / 400, y: a.y + ((b.y - a.y) * k) / 400 }, L);
      // Sampling can miss a corner clipped between samples; it can never see outside an inside segment.
      if (exact) expect(sampled).toBe(true);
      const r = Math.abs(rnd()) / 3;
      if (circleInsidePolygon(a, r, L)) {
        for (let k = 0; k < 90; k++) expect(pointInPolygon({ x: a.x + r * 0.999999 * Math.cos(k / 14.3), y: a.y + r * 0.999999 * Math.sin(k / 14.3) }, L)).toBe(true);
      }
    }
  });
});
