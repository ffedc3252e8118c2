import { describe, expect, it } from 'vitest';
import { decodeEndToEnd, decodeYoloV5, decodeYoloV8, detectFormat, ModelShapeError } from './decode.js';
import { iou, nms, clipBox } from './nms.js';
import { parseClassNames, readOnnxMetadata } from './onnx-meta.js';
import { readFileSync } from 'node:fs';

/** Builds a [1, 4+nc, N] tensor from candidate rows {cx, cy, w, h, scores}. */
function v8(cands: { b: [number, number, number, number]; s: number[] }[], nc: number): Float32Array {
  const n = cands.length;
  const t = new Float32Array((4 + nc) * n);
  cands.forEach((c, i) => {
    for (let k = 0; k < 4; k++) t[k * n + i] = c.b[k];
    for (let k = 0; k < nc; k++) t[(4 + k) * n + i] = c.s[k];
  });
  return t;
}

describe('detectFormat', () => {
  it('recognises the common export layouts', () => {
    expect(detectFormat([1, 84, 8400], 80)).toEqual({ format: 'yolov8' });
    expect(detectFormat([1, 84, 8400])).toEqual({ format: 'yolov8' });
    expect(detectFormat([1, 7, 2100], 3)).toEqual({ format: 'yolov8' });
    expect(detectFormat([1, 25200, 85], 80)).toEqual({ format: 'yolov5' });
    expect(detectFormat([1, 25200, 85])).toEqual({ format: 'yolov5' });
    expect(detectFormat([1, 300, 6], 80)).toEqual({ format: 'end2end' });
    expect(detectFormat([1, 300, 6])).toEqual({ format: 'end2end' });
    expect(detectFormat([1, 84, 'anchors'], 80)).toEqual({ format: 'yolov8' });
    expect(detectFormat(['batch', 'anchors', 85], 80)).toEqual({ format: 'yolov5' });
  });

  it('explains shapes it cannot place', () => {
    const r = detectFormat([1, 84, 8400], 3);
    expect('error' in r && r.error).toMatch(/\[1, 84, 8400\] fits no known layout for 3 classes.*\[1, 7, N\]/);
    expect('error' in detectFormat([1, 1000], 3) && detectFormat([1, 1000], 3)).toBeTruthy();
    // One class: a YOLOv5 [1, N, 6] and an end-to-end [1, N, 6] look alike.
    const amb = detectFormat([1, 300, 6], 1);
    expect('error' in amb && amb.error).toMatch(/fits yolov5 and end2end; set the output_format/);
  });
});

describe('decoders', () => {
  it('yolov8: picks the best class, converts centre/size to corners, applies the threshold', () => {
    const t = v8([
      { b: [50, 40, 20, 10], s: [0.1, 0.9, 0.2] },
      { b: [10, 10, 4, 4], s: [0.2, 0.1, 0.24] },
      { b: [100, 80, 30, 60], s: [0.3, 0.1, 0.5] },
    ], 3);
    const d = decodeYoloV8(t, [1, 7, 3], 0.25);
    expect(d).toHaveLength(2);
    expect(d[0]).toEqual({ x1: 40, y1: 35, x2: 60, y2: 45, score: expect.closeTo(0.9, 6), classIndex: 1 });
    expect(d[1]).toMatchObject({ x1: 85, y1: 50, x2: 115, y2: 110, classIndex: 2 });
    expect(d[1].score).toBeCloseTo(0.5, 6);
  });

  it('yolov5: score is objectness × class score', () => {
    const t = new Float32Array([
      50, 40, 20, 10, 0.8, 0.5, 1.0, // obj 0.8 × cls 1.0 → 0.8, class 1
      10, 10, 4, 4, 0.9, 0.2, 0.1, // 0.9 × 0.2 = 0.18 < 0.25
      70, 70, 10, 10, 0.1, 1.0, 0, // objectness below threshold
    ]);
    const d = decodeYoloV5(t, [1, 3, 7], 0.25);
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ x1: 40, y1: 35, x2: 60, y2: 45, classIndex: 1 });
    expect(d[0].score).toBeCloseTo(0.8, 6);
  });

  it('end2end: corners, score, class as given; zero-padded rows vanish', () => {
    const t = new Float32Array([1, 2, 30, 40, 0.7, 2, 0, 0, 0, 0, 0, 0]);
    expect(decodeEndToEnd(t, [1, 2, 6], 0.25)).toEqual([{ x1: 1, y1: 2, x2: 30, y2: 40, score: expect.closeTo(0.7, 6), classIndex: 2 }]);
  });

  it('rejects tensors that do not match their shape', () => {
    expect(() => decodeYoloV8(new Float32Array(10), [1, 7, 3], 0.25)).toThrow(ModelShapeError);
    expect(() => decodeYoloV8(new Float32Array(12), [1, 4, 3], 0.25)).toThrow(/no class scores/);
    expect(() => decodeYoloV5(new Float32Array(21), [2, 3, 7], 0.25)).toThrow(/batch 1/);
    expect(() => decodeEndToEnd(new Float32Array(21), [1, 3, 7], 0.25)).toThrow(/expected \[1, N, 6\]/);
  });

  it('NaN scores never pass the threshold', () => {
    const t = v8([{ b: [5, 5, 2, 2], s: [Number.NaN, Number.NaN, Number.NaN] }], 3);
    expect(decodeYoloV8(t, [1, 7, 1], 0.25)).toEqual([]);
  });
});

describe('nms', () => {
  const box = (x1: number, y1: number, x2: number, y2: number, score: number, classIndex = 0) => ({ x1, y1, x2, y2, score, classIndex });
  it('computes IoU', () => {
    expect(iou(box(0, 0, 10, 10, 1), box(5, 0, 15, 10, 1))).toBeCloseTo(50 / 150, 9);
    expect(iou(box(0, 0, 10, 10, 1), box(10, 0, 20, 10, 1))).toBe(0);
  });
  it('keeps the best of overlapping boxes per class, all classes when agnostic is off', () => {
    const dets = [box(0, 0, 10, 10, 0.6), box(1, 1, 11, 11, 0.9), box(50, 50, 60, 60, 0.5), box(1, 0, 11, 10, 0.8, 1)];
    const kept = nms(dets, { iouThreshold: 0.45 });
    expect(kept.map((d) => d.score)).toEqual([0.9, 0.8, 0.5]);
    expect(nms(dets, { iouThreshold: 0.45, agnostic: true }).map((d) => d.score)).toEqual([0.9, 0.5]);
    expect(nms(dets, { iouThreshold: 0.45, maxDetections: 1 })).toHaveLength(1);
  });
  it('clips to the image and drops boxes entirely outside', () => {
    expect(clipBox(box(-5, -5, 5, 5, 1), 100, 100)).toMatchObject({ x1: 0, y1: 0, x2: 5, y2: 5 });
    expect(clipBox(box(120, 0, 130, 5, 1), 100, 100)).toBeUndefined();
  });
});

describe('onnx metadata', () => {
  it('parses Ultralytics names', () => {
    expect(parseClassNames("{0: 'person', 1: 'bicycle', 2: \"traffic light\"}")).toEqual(['person', 'bicycle', 'traffic light']);
    expect(parseClassNames('["a", "b"]')).toEqual(['a', 'b']);
    expect(parseClassNames("{0: 'a', 2: 'c'}")).toBeUndefined();
    expect(parseClassNames('nonsense')).toBeUndefined();
  });
  it('reads metadata_props from a model file', () => {
    const meta = readOnnxMetadata(readFileSync(new URL('../../models/detector/tiny/tiny-yolov8.onnx', import.meta.url)));
    expect(meta.names).toBe("{0: 'person', 1: 'bag', 2: 'vehicle'}");
    expect(meta.imgsz).toBe('[32, 32]');
    expect(readOnnxMetadata(new Uint8Array([0xff, 0xff, 0xff]))).toEqual({});
  });
});
