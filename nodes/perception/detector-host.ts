/**
 * Child-process side of ProcessDetector (lib/process supervises it): owns the ONNX Runtime
 * session, letterboxes each frame into the detector's one reused input tensor, runs, decodes,
 * NMS. A native crash here ends this process only. Frames arrive as the source pixels (uint8,
 * the rows in use only), in the parent's shared region (`map`) or in the message, which are 4x
 * smaller than the letterboxed float32 tensor and leave the letterbox off the control process.
 */
import { serve } from '../../lib/process/host.js';
import { SharedRegion, type SharedRegionRef } from '../../lib/process/shm.js';
import type { PixelView } from '../../lib/vision/image.js';
import { Detector, type DetectorOptions } from './detector.js';
import type { FrameRequest } from './process-detector.js';

let det: Detector | undefined;
let region: SharedRegion | undefined;

function pixels(f: FrameRequest): PixelView {
  if ('data' in f) return f;
  if (!region) throw new Error('a frame in shared memory arrived before its region was mapped');
  if (!(f.offset >= 0 && f.length >= 0 && f.offset + f.length <= region.size)) throw new Error(`frame at ${f.offset}+${f.length} lies outside the ${region.size}-byte shared region`);
  return { width: f.width, height: f.height, step: f.step, channels: f.channels, order: f.order, data: new Uint8Array(region.buffer, f.offset, f.length) };
}
/** One run at a time: the detector letterboxes into one reused tensor, and ORT defers the native run past the next message. */
let queue: Promise<unknown> = Promise.resolve();
const serial = <T>(fn: () => Promise<T>): Promise<T> => {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
};

serve({
  init: async (opts: DetectorOptions) => {
    await det?.release();
    det = await Detector.create(opts);
    return { inputSize: det.inputSize, format: det.format, classNames: [...det.classNames] };
  },
  // In the queue too: a region is replaced only after the frames before it are read.
  map: (ref: SharedRegionRef) =>
    serial(async () => {
      region?.close();
      region = undefined;
      region = SharedRegion.open(ref);
      return true;
    }),
  detect: (f: FrameRequest) =>
    serial(() => {
      if (!det) throw new Error('the detector child has no model loaded');
      return det.detect(pixels(f));
    }),
  /** No work: the bench's figure for the round trip itself, to this child as loaded. */
  ping: () => true,
  release: async () => {
    await det?.release();
    det = undefined;
    return true;
  },
});
