/**
 * The decoders through real ONNX Runtime sessions on the tiny models built by
 * models/detector/build_tiny_yolo.py (output = 2 × the first values of the input).
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Detector, ModelLoadError } from './detector.js';
import { letterboxGeometry } from '../../lib/vision/letterbox.js';

const TINY = fileURLToPath(new URL('../../models/detector/tiny/', import.meta.url));
const lb32 = letterboxGeometry(32, 32, 32);

describe('Detector on tiny YOLO-shaped models', () => {
  it('yolov8 layout: detected from the shape, names from metadata, NMS applied', async () => {
    const det = await Detector.create({ modelPath: join(TINY, 'tiny-yolov8.onnx') });
    try {
      expect(det.format).toBe('yolov8');
      expect(det.inputSize).toBe(32);
      expect(det.classNames).toEqual(['person', 'bag', 'vehicle']);
      const n = 64;
      const want = new Float32Array(7 * n);
      const put = (i: number, b: number[], s: number[]) => {
        b.forEach((v, k) => (want[k * n + i] = v));
        s.forEach((v, k) => (want[(4 + k) * n + i] = v));
      };
      put(3, [10, 12, 6, 8], [0.1, 0.8, 0.0]); // bag
      put(4, [10.5, 12, 6, 8], [0.1, 0.7, 0.0]); // overlapping bag, suppressed
      put(9, [25, 25, 4, 4], [0.95, 0.1, 0.0]); // person
      put(20, [5, 5, 2, 2], [0.1, 0.1, 0.2]); // below threshold
      det.input.fill(0);
      for (let i = 0; i < want.length; i++) det.input[i] = want[i] / 2;
      const { data, dims } = await det.infer();
      expect(dims).toEqual([1, 7, 64]);
      expect(Array.from(data)).toEqual(Array.from(want));
      const out = det.postprocess(data, dims, lb32);
      expect(out).toHaveLength(2);
      expect(out[0]).toMatchObject({ className: 'person', x1: 23, y1: 23, x2: 27, y2: 27 });
      expect(out[0].score).toBeCloseTo(0.95, 6);
      expect(out[1]).toMatchObject({ className: 'bag', x1: 7, y1: 8, x2: 13, y2: 16 });
    } finally {
      await det.release();
    }
  });

  it('per-class score thresholds: a bag at 0.18 kept under class_score_threshold.bag 0.15, a person at 0.2 not', async () => {
    const det = await Detector.create({ modelPath: join(TINY, 'tiny-yolov8.onnx'), scoreThreshold: 0.3, classScoreThresholds: { bag: 0.15 } });
    try {
      const n = 64;
      const want = new Float32Array(7 * n);
      const put = (i: number, b: number[], s: number[]) => {
        b.forEach((v, k) => (want[k * n + i] = v));
        s.forEach((v, k) => (want[(4 + k) * n + i] = v));
      };
      put(3, [10, 12, 6, 8], [0.05, 0.18, 0.0]); // bag over its own threshold
      put(9, [25, 25, 4, 4], [0.2, 0.05, 0.0]); // person under the default
      put(20, [5, 5, 2, 2], [0.05, 0.1, 0.0]); // bag under its threshold
      det.input.fill(0);
      for (let i = 0; i < want.length; i++) det.input[i] = want[i] / 2;
      const { data, dims } = await det.infer();
      const out = det.postprocess(data, dims, lb32);
      expect(out.map((d) => d.className)).toEqual(['bag']);
      expect(out[0].score).toBeCloseTo(0.18, 6);
    } finally {
      await det.release();
    }
    await expect(Detector.create({ modelPath: join(TINY, 'tiny-yolov8.onnx'), classScoreThresholds: { suitcase: 0.1 } })).rejects.toThrow(/'suitcase': no such class \(classes: person, bag, vehicle\)/);
  });

  it('yolov5 and end2end layouts', async () => {
    const v5 = await Detector.create({ modelPath: join(TINY, 'tiny-yolov5.onnx') });
    const e2e = await Detector.create({ modelPath: join(TINY, 'tiny-e2e.onnx') });
    try {
      expect(v5.format).toBe('yolov5');
      expect(e2e.format).toBe('end2end');
      v5.input.fill(0);
      [16, 16, 8, 4, 0.9, 0, 0, 1].forEach((v, k) => (v5.input[8 * 5 + k] = v / 2));
      const a = await v5.infer();
      expect(v5.postprocess(a.data, a.dims, lb32)).toEqual([{ x1: 12, y1: 14, x2: 20, y2: 18, score: expect.closeTo(0.9, 6), classIndex: 2, className: 'vehicle' }]);
      e2e.input.fill(0);
      [2, 3, 9, 30, 0.6, 1].forEach((v, k) => (e2e.input[6 * 2 + k] = v / 2));
      const b = await e2e.infer();
      expect(e2e.postprocess(b.data, b.dims, lb32)).toEqual([{ x1: 2, y1: 3, x2: 9, y2: 30, score: expect.closeTo(0.6, 6), classIndex: 1, className: 'bag' }]);
    } finally {
      await v5.release();
      await e2e.release();
    }
  });

  it('maps boxes back through the letterbox to source pixels', async () => {
    const det = await Detector.create({ modelPath: join(TINY, 'tiny-yolov8.onnx') });
    try {
      det.input.fill(0);
      const n = 64;
      [16, 16, 8, 4].forEach((v, k) => (det.input[k * n] = v / 2));
      det.input[4 * n] = 0.45;
      const { data, dims } = await det.infer();
      // A 64x32 source letterboxed to 32: scale 0.5, pad 8 rows top.
      const out = det.postprocess(data, dims, letterboxGeometry(64, 32, 32));
      expect(out[0]).toMatchObject({ x1: 24, y1: 12, x2: 40, y2: 20, className: 'person' });
    } finally {
      await det.release();
    }
  });

  it('refuses a missing, corrupt or wrong-kind model with a clear error', async () => {
    await expect(Detector.create({ modelPath: '/nonexistent/model.onnx' })).rejects.toThrow(/model '\/nonexistent\/model.onnx': cannot read the model file/);
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-det-'));
    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, Buffer.from('this is not a protobuf at all'));
    await expect(Detector.create({ modelPath: corrupt })).rejects.toThrow(ModelLoadError);
    await expect(Detector.create({ modelPath: corrupt })).rejects.toThrow(/ONNX Runtime cannot load it/);
    await expect(Detector.create({ modelPath: join(TINY, 'tiny-classifier.onnx') })).rejects.toThrow(/no 3-D output; outputs: output0 \[1, 10\]/);
    await expect(Detector.create({ modelPath: join(TINY, 'tiny-yolov8.onnx'), classNames: ['a', 'b'] })).rejects.toThrow(/\[1, 7, 64\] fits no known layout for 2 classes/);
    await expect(Detector.create({ modelPath: join(TINY, 'tiny-yolov8.onnx'), classNames: ['a', 'b'], format: 'yolov8' })).rejects.toThrow(/outputs 3 classes but 2 class names are given/);
    await expect(Detector.create({ modelPath: join(TINY, 'tiny-yolov8.onnx'), inputSize: 64 })).rejects.toThrow(/input_size 64 does not match the model's fixed input 32x32/);
  });
});
