/**
 * ProcessDetector: the same detections as the in-process Detector from a real child process,
 * the same load errors, and a killed child is restarted (frames rejected while it is down), with
 * frames through shared memory (grown for a larger frame, mapped again after a restart).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sampleTrainingFrame } from '../../sim/dataset.js';
import type { PixelView } from '../../lib/vision/image.js';
import { ChildUnavailableError } from '../../lib/process/supervisor.js';
import { Detector, ModelLoadError } from './detector.js';
import { ProcessDetector } from './process-detector.js';

const MODEL = fileURLToPath(new URL('../../models/detector/kestrel-det.onnx', import.meta.url));
const TINY = fileURLToPath(new URL('../../models/detector/tiny/tiny-yolov8.onnx', import.meta.url));

function simView(seed: number): PixelView {
  const f = sampleTrainingFrame(seed, { width: 320, height: 240 });
  return { width: 320, height: 240, step: 960, channels: 3, order: 'rgb', data: f.data };
}

describe('ProcessDetector', () => {
  it('gives the same detections as the in-process Detector, and survives a SIGKILL of its child', async () => {
    const opts = { modelPath: MODEL, scoreThreshold: 0.2 };
    const local = await Detector.create(opts);
    const det = await ProcessDetector.create(opts, { restart: { initialMs: 50 } });
    try {
      expect([det.inputSize, det.format, det.classNames]).toEqual([local.inputSize, local.format, local.classNames]);
      const img = simView(1_000_001);
      const want = await local.detect(img);
      expect(want.length).toBeGreaterThan(0);
      expect(await det.detect(img)).toEqual(want);
      expect(det.transport).toBe('shared'); // through the shared frame slots, not the IPC message
      // A view into a larger buffer: only its rows cross, the answer is the same.
      const pooled = new Uint8Array(img.data.length + 4096);
      pooled.set(img.data, 1000);
      expect(await det.detect({ ...img, data: pooled.subarray(1000) })).toEqual(want);
      // A larger frame grows the region; concurrent frames beyond the two slots go over IPC: same answers.
      const big = sampleTrainingFrame(7, { width: 640, height: 480 });
      const bigView: PixelView = { width: 640, height: 480, step: 1920, channels: 3, order: 'rgb', data: big.data };
      const bigWant = await local.detect(bigView);
      expect(await Promise.all([det.detect(bigView), det.detect(img), det.detect(bigView)])).toEqual([bigWant, want, bigWant]);
      expect(det.transport).toBe('shared');

      const pid = det.supervisor.pid as number;
      process.kill(pid, 'SIGKILL');
      await expect(det.detect(img)).rejects.toThrow(/lost|not ready/);
      await expect(det.detect(img)).rejects.toBeInstanceOf(ChildUnavailableError);
      await det.supervisor.whenReady();
      expect(det.supervisor.pid).not.toBe(pid);
      expect(await det.detect(img)).toEqual(want);
    } finally {
      await local.release();
      await det.release();
    }
  });

  it('refuses a bad model with the same error as Detector, and rejects after release', async () => {
    await expect(ProcessDetector.create({ modelPath: '/no/such/model.onnx' })).rejects.toThrow(ModelLoadError);
    await expect(ProcessDetector.create({ modelPath: '/no/such/model.onnx' })).rejects.toThrow(/model '\/no\/such\/model.onnx': cannot read the model file: ENOENT/);
    await expect(ProcessDetector.create({ modelPath: TINY, inputSize: 64 })).rejects.toThrow(/model '.*tiny-yolov8.onnx': input_size 64 does not match the model's fixed input 32x32/);
    const det = await ProcessDetector.create({ modelPath: TINY });
    await det.release();
    await expect(det.detect({ width: 32, height: 32, step: 96, channels: 3, order: 'rgb', data: new Uint8Array(32 * 32 * 3) })).rejects.toThrow(/not ready \(stopped: the detector is released/);
  });
});
