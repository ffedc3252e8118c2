/**
 * Worker-thread side of WorkerDetector: owns the ONNX Runtime session, so a run (which
 * onnxruntime-node 1.30 executes synchronously on the calling JS thread) stalls this thread
 * only, never the control loop's. The main thread letterboxes into a Float32Array and
 * transfers it here; it comes back with the detections, so one buffer ping-pongs per frame.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { Detector, type DetectorOptions } from './detector.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('detector-worker.ts runs only as a worker_thread (see worker-detector.ts)');

const errorReply = (e: unknown): { name: string; message: string } =>
  e instanceof Error ? { name: e.name, message: e.message } : { name: 'Error', message: String(e) };

const post = (msg: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

let det: Detector | undefined;
try {
  det = await Detector.create(workerData as DetectorOptions);
  post({ kind: 'ready', inputSize: det.inputSize, format: det.format, classNames: [...det.classNames] });
} catch (e) {
  post({ kind: 'init-error', error: errorReply(e) });
}

port.on('message', (req: WorkerRequest) => {
  void handle(req);
});

async function handle(req: WorkerRequest): Promise<void> {
  if (req.kind === 'release') {
    await det?.release();
    det = undefined;
    post({ kind: 'released' });
    return;
  }
  const buf = new Float32Array(req.buffer);
  try {
    if (!det) throw new Error('the detector is released');
    const s = det.inputSize;
    const out = await det.session.run({ [det.inputName]: new ort.Tensor('float32', buf, [1, 3, s, s]) }, [det.outputName]);
    const t = out[det.outputName];
    if (t.type !== 'float32') throw new Error(`output '${det.outputName}' is ${t.type}; expected float32`);
    const detections = det.postprocess(t.data as Float32Array, t.dims, req.lb);
    post({ kind: 'result', id: req.id, detections, buffer: req.buffer }, [req.buffer]);
  } catch (e) {
    post({ kind: 'error', id: req.id, error: errorReply(e), buffer: req.buffer }, [req.buffer]);
  }
}
