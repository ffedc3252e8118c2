/**
 * Child-process side of ProcessDetector (lib/process supervises it): owns the ONNX Runtime
 * session, letterboxes each frame into the detector's one reused input tensor, runs, decodes,
 * NMS. A native crash here ends this process only. Frames arrive as the source pixels (uint8,
 * the rows in use only), which are 4x smaller than the letterboxed float32 tensor and leave
 * the letterbox off the control process.
 */
import { serve } from '../../lib/process/host.js';
import type { PixelView } from '../../lib/vision/image.js';
import { Detector, type DetectorOptions } from './detector.js';

let det: Detector | undefined;
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
  detect: (img: PixelView) =>
    serial(() => {
      if (!det) throw new Error('the detector child has no model loaded');
      return det.detect(img);
    }),
  release: async () => {
    await det?.release();
    det = undefined;
    return true;
  },
});
