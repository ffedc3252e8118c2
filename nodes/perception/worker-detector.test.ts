/**
 * WorkerDetector: the same detections as the in-process Detector, the same load errors, and
 * the JS thread stays free while the worker runs the session (ORT 1.30 runs synchronously on
 * the thread that calls it).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sampleTrainingFrame } from '../../sim/dataset.js';
import { Detector, ModelLoadError } from './detector.js';
import type { PixelView } from '../../lib/vision/image.js';
import { WorkerDetector } from './worker-detector.js';

const MODEL = fileURLToPath(new URL('../../models/detector/kestrel-det.onnx', import.meta.url));
const TINY = fileURLToPath(new URL('../../models/detector/tiny/tiny-yolov8.onnx', import.meta.url));

function simView(seed: number): PixelView {
  const f = sampleTrainingFrame(seed, { width: 320, height: 240 });
  return { width: 320, height: 240, step: 960, channels: 3, order: 'rgb', data: f.data };
}

describe('WorkerDetector', () => {
  it('gives the same detections as the in-process Detector', async () => {
    const opts = { modelPath: MODEL, scoreThreshold: 0.2 };
    const local = await Detector.create(opts);
    const worker = await WorkerDetector.create(opts);
    try {
      expect([worker.inputSize, worker.format, worker.classNames]).toEqual([local.inputSize, local.format, local.classNames]);
      for (const seed of [1_000_001, 1_000_002, 1_000_003]) {
        const img = simView(seed);
        const want = await local.detect(img);
        expect(want.length).toBeGreaterThan(0);
        expect(await worker.detect(img)).toEqual(want);
      }
      // Concurrent calls each get their own input buffer and their own answer.
      const imgs = [simView(1_000_004), simView(1_000_005)];
      const both = await Promise.all(imgs.map((i) => worker.detect(i)));
      for (const [k, img] of imgs.entries()) expect(both[k]).toEqual(await local.detect(img));
    } finally {
      await local.release();
      await worker.release();
    }
  });

  it('keeps the event loop turning while a run is in flight', async () => {
    // Input 640: one run is tens of ms; a 1 ms interval on this thread must keep firing meanwhile.
    const det = await WorkerDetector.create({ modelPath: MODEL, inputSize: 640 });
    try {
      const img = simView(1_000_010);
      let ticks = 0;
      const iv = setInterval(() => ticks++, 1);
      let runs = 0;
      const t0 = process.hrtime.bigint();
      while (runs < 3 || process.hrtime.bigint() - t0 < 30_000_000n) {
        await det.detect(img);
        runs++;
      }
      clearInterval(iv);
      // Blocking inference would allow about one tick per run (between runs); a free loop, many.
      expect(ticks).toBeGreaterThan(2 * runs);
    } finally {
      await det.release();
    }
  });

  it('refuses a bad model with the same error as Detector, and rejects after release', async () => {
    await expect(WorkerDetector.create({ modelPath: '/no/such/model.onnx' })).rejects.toThrow(ModelLoadError);
    await expect(WorkerDetector.create({ modelPath: '/no/such/model.onnx' })).rejects.toThrow(/model '\/no\/such\/model.onnx': cannot read the model file/);
    await expect(WorkerDetector.create({ modelPath: TINY, inputSize: 64 })).rejects.toThrow(/input_size 64 does not match the model's fixed input 32x32/);
    const det = await WorkerDetector.create({ modelPath: TINY });
    await det.release();
    await expect(det.detect({ width: 32, height: 32, step: 96, channels: 3, order: 'rgb', data: new Uint8Array(32 * 32 * 3) })).rejects.toThrow(/is released/);
  });
});
