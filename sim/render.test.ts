import { describe, expect, it } from 'vitest';
import { groundToPixel, intrinsicsFromFov, type CameraPose } from '../lib/geo/geometry.js';
import { labelsToBoxes, sampleScenarioFrame, sampleTrainingFrame } from './dataset.js';
import { labelObjects, renderFrame, SIM_CLASSES, type RenderOptions, type SimObject } from './render.js';

const k = intrinsicsFromFov(320, 240, (60 * Math.PI) / 180);
const pose: CameraPose = { x: 3, y: -2, altitude: 18, yaw: 0.4 };
// No noise, vignette, shadows or texture variation: a pixel changes only where something is drawn.
const flat: RenderOptions = { seed: 1, noise: 0, vignette: 0, shadow_len: 0, background: { seed: 9, material: 'asphalt' } };

function diffBox(a: Uint8Array, b: Uint8Array, w: number): [number, number, number, number] | undefined {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < a.length; i += 3) {
    if (Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]) < 6) continue;
    const p = i / 3;
    const x = p % w;
    const y = Math.floor(p / w);
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
  }
  return x1 > x0 ? [x0, y0, x1, y1] : undefined;
}

describe('renderFrame', () => {
  const objects: SimObject[] = [
    { id: 7, class_id: 'person', x: 1, y: -1, yaw: 0.3 },
    { id: 8, class_id: 'bag', x: 6, y: 1, yaw: 1.1 },
    { id: 9, class_id: 'vehicle', x: -2, y: -6, yaw: 2.0 },
  ];

  it('is deterministic: same inputs give identical bytes, another seed gives other noise', () => {
    const opts: RenderOptions = { seed: 42, background: { seed: 5, material: 'tiles', clutter: [{ kind: 'bin', x: 0, y: 0, yaw: 0 }] } };
    const a = renderFrame(objects, k, pose, opts);
    const b = renderFrame(objects, k, pose, opts);
    expect(a.width).toBe(320);
    expect(a.height).toBe(240);
    expect(a.data.length).toBe(320 * 240 * 3);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(a.labels).toEqual(b.labels);
    const c = renderFrame(objects, k, pose, { ...opts, seed: 43 });
    expect(Buffer.from(a.data).equals(Buffer.from(c.data))).toBe(false);
    expect(c.labels).toEqual(a.labels);
  });

  it('labels each object with a box that matches the pixels it changed', () => {
    const empty = renderFrame([], k, pose, flat);
    for (const o of objects) {
      const f = renderFrame([o], k, pose, flat);
      expect(f.labels).toHaveLength(1);
      const l = f.labels[0];
      expect(l.id).toBe(o.id);
      expect(l.class_id).toBe(o.class_id);
      expect(l.visible).toBe(true);
      expect(l.position.x).toBe(o.x);
      const drawn = diffBox(empty.data, f.data, k.width);
      expect(drawn).toBeDefined();
      const [dx0, dy0, dx1, dy1] = drawn as [number, number, number, number];
      const { x, y } = l.bbox.center.position;
      const tol = 1.5;
      expect(Math.abs(x - l.bbox.size_x / 2 - dx0)).toBeLessThan(tol);
      expect(Math.abs(x + l.bbox.size_x / 2 - dx1)).toBeLessThan(tol);
      expect(Math.abs(y - l.bbox.size_y / 2 - dy0)).toBeLessThan(tol);
      expect(Math.abs(y + l.bbox.size_y / 2 - dy1)).toBeLessThan(tol);
      // Near its ground point, as the tracker's pixelToGround expects (tall parts lean a little).
      const g = groundToPixel(o, k, pose);
      expect(Math.abs(g.x - x)).toBeLessThan(l.bbox.size_x);
      expect(Math.abs(g.y - y)).toBeLessThan(l.bbox.size_y);
    }
  });

  it('sizes objects to scale: a ~0.5 m person and a ~4.5 m car', () => {
    const f = renderFrame(objects, k, pose, flat);
    const mpp = pose.altitude / k.fx;
    const person = f.labels.find((l) => l.class_id === 'person');
    const car = f.labels.find((l) => l.class_id === 'vehicle');
    expect(Math.max(person!.bbox.size_x, person!.bbox.size_y) * mpp).toBeGreaterThan(0.4);
    expect(Math.max(person!.bbox.size_x, person!.bbox.size_y) * mpp).toBeLessThan(1.0);
    expect(Math.max(car!.bbox.size_x, car!.bbox.size_y) * mpp).toBeGreaterThan(3.5);
    expect(Math.max(car!.bbox.size_x, car!.bbox.size_y) * mpp).toBeLessThan(6);
  });

  it('clips boxes to the image, flags mostly-outside objects invisible and omits objects out of view', () => {
    const edge = intrinsicsFromFov(320, 240, (60 * Math.PI) / 180);
    const at = (u: number, v: number) => {
      const p = { x: 0, y: 0, altitude: 20, yaw: Math.PI / 2 };
      // With yaw = north, image right is east and up is north.
      const mpp = p.altitude / edge.fx;
      return { x: (u - edge.cx) * mpp, y: -(v - edge.cy) * mpp, p };
    };
    const inside = at(318, 120);
    const out = at(400, 120);
    const p = inside.p;
    const f = renderFrame(
      [
        { id: 1, class_id: 'vehicle', x: inside.x, y: inside.y, yaw: 0 },
        { id: 2, class_id: 'vehicle', x: out.x, y: out.y, yaw: 0 },
      ],
      edge,
      p,
      flat,
    );
    expect(f.labels.map((l) => l.id)).toEqual([1]);
    const l = f.labels[0];
    expect(l.visible).toBe(false);
    expect(l.bbox.center.position.x + l.bbox.size_x / 2).toBeLessThanOrEqual(320);
    expect(l.bbox.center.position.x - l.bbox.size_x / 2).toBeGreaterThanOrEqual(0);
  });

  it('labelObjects gives the same labels without drawing', () => {
    const f = renderFrame(objects, k, pose, { seed: 5, background: { seed: 2, material: 'grass' } });
    expect(labelObjects(objects, k, pose)).toEqual(f.labels);
  });

  it('copies regions into labels and rejects bad input with a clear error', () => {
    const f = renderFrame([{ id: 3, class_id: 'bag', x: pose.x, y: pose.y, yaw: 0, regions: ['platform'] }], k, pose, flat);
    expect(f.labels[0].regions).toEqual(['platform']);
    const bad = { id: 4, class_id: 'dog', x: 0, y: 0, yaw: 0 } as unknown as SimObject;
    expect(() => renderFrame([bad], k, pose, flat)).toThrow(/object 4 has unknown class_id 'dog'/);
    expect(() => renderFrame([], k, { ...pose, altitude: 0 }, flat)).toThrow(/altitude must be > 0.5 m/);
  });
});

describe('sampleTrainingFrame', () => {
  it('is deterministic in its seed and varied across seeds, with every class and in-image boxes', () => {
    const a = sampleTrainingFrame(11, { width: 160, height: 120 });
    const b = sampleTrainingFrame(11, { width: 160, height: 120 });
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(a.labels).toEqual(b.labels);
    const counts = new Map<string, number>();
    const altitudes: number[] = [];
    for (let s = 0; s < 40; s++) {
      const f = sampleTrainingFrame(s, { width: 160, height: 120 });
      altitudes.push(f.pose.altitude);
      expect(f.data.length).toBe(160 * 120 * 3);
      expect(f.labels.length).toBeLessThanOrEqual(25);
      for (const box of labelsToBoxes(f.labels)) {
        counts.set(SIM_CLASSES[box.class_index], (counts.get(SIM_CLASSES[box.class_index]) ?? 0) + 1);
        expect(box.x0).toBeGreaterThanOrEqual(0);
        expect(box.y0).toBeGreaterThanOrEqual(0);
        expect(box.x1).toBeLessThanOrEqual(160);
        expect(box.y1).toBeLessThanOrEqual(120);
        expect(box.x1).toBeGreaterThan(box.x0);
      }
    }
    for (const c of SIM_CLASSES) expect(counts.get(c) ?? 0).toBeGreaterThan(10);
    expect(Math.min(...altitudes)).toBeGreaterThanOrEqual(15);
    expect(Math.max(...altitudes)).toBeLessThanOrEqual(40);
    expect(Math.max(...altitudes) - Math.min(...altitudes)).toBeGreaterThan(15);
  });
});

describe('sampleScenarioFrame', () => {
  it('renders a reference scenario at a random time, deterministically', () => {
    const a = sampleScenarioFrame(3, { width: 160, height: 120 });
    const b = sampleScenarioFrame(3, { width: 160, height: 120 });
    expect(['passport-queue', 'stranded-bag', 'perimeter-patrol']).toContain(a.scenario);
    expect(a.t).toBeGreaterThanOrEqual(0);
    expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
    expect(a.labels).toEqual(b.labels);
    const names = new Set([1, 2, 4, 5, 6, 7, 8, 9].map((s) => sampleScenarioFrame(s, { width: 64, height: 48 }).scenario));
    expect(names.size).toBe(3);
  });
});
