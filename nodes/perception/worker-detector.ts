/**
 * A Detector that runs its ONNX Runtime session in a worker_thread (one per node).
 * onnxruntime-node 1.30 runs `session.run` synchronously on the calling JS thread (a
 * setInterval probe is late by the whole run), which would stall every node in the process.
 * Here the main thread only letterboxes into a Float32Array and transfers it (no copy); the
 * worker runs the session, decode and NMS and hands the buffer back with the detections.
 * Same options, checks and errors as Detector (the worker builds one).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { OutputFormat } from '../../lib/vision/decode.js';
import { ModelLoadError, type Detection, type DetectorOptions } from './detector.js';
import type { PixelView } from '../../lib/vision/image.js';
import { letterboxInto } from '../../lib/vision/letterbox.js';
import type { SerializedError, WorkerReply, WorkerRequest } from './worker-protocol.js';

export class DetectorWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DetectorWorkerError';
  }
}

function revive(e: SerializedError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

/** Starts the worker; from TypeScript sources (tsx, vitest) it registers tsx in the worker first. */
function spawn(opts: DetectorOptions): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./detector-worker.js', here), { workerData: opts });
  // tsx's ESM API (its CJS build resolves its own chunks wrongly from an eval'd worker).
  const tsxApi = pathToFileURL(join(dirname(createRequire(here).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const entry = new URL('./detector-worker.ts', here).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); }).catch((e) => { require('node:worker_threads').parentPort.postMessage({ kind: 'init-error', error: { name: 'Error', message: 'cannot start the detector worker: ' + (e && e.stack || e) } }); });`;
  return new Worker(boot, { eval: true, workerData: opts });
}

export class WorkerDetector {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (d: Detection[]) => void; reject: (e: Error) => void }>();
  /** Input buffers not in the worker; normally one (latest-only keeps one frame in flight). */
  private readonly spare: Float32Array[] = [];
  private dead: Error | undefined;
  private onReleased: (() => void) | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly modelPath: string,
    readonly inputSize: number,
    readonly format: OutputFormat,
    readonly classNames: readonly string[],
    private readonly opts: DetectorOptions,
  ) {
    worker.on('message', (m: WorkerReply) => this.onMessage(m));
    worker.on('error', (e) => this.fail(new DetectorWorkerError(`detector worker for '${modelPath}' failed: ${e.message}`)));
    worker.on('exit', (code) => {
      this.onReleased?.();
      this.fail(new DetectorWorkerError(`detector worker for '${modelPath}' exited (code ${code})`));
    });
    // An idle worker must not keep the process alive; a pending run does (see request()).
    worker.unref();
  }

  static create(opts: DetectorOptions): Promise<WorkerDetector> {
    const worker = spawn(opts);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        worker.off('message', onMsg);
        worker.off('error', onErr);
        worker.off('exit', onExit);
      };
      const onMsg = (m: WorkerReply) => {
        cleanup();
        if (m.kind === 'ready') resolve(new WorkerDetector(worker, opts.modelPath, m.inputSize, m.format, m.classNames, opts));
        else {
          void worker.terminate();
          if (m.kind === 'init-error' && m.error.name === 'ModelLoadError') {
            const e = new ModelLoadError(opts.modelPath, '');
            e.message = m.error.message; // already "model '<path>': <detail>"
            reject(e);
          } else reject(m.kind === 'init-error' ? revive(m.error) : new DetectorWorkerError(`detector worker: unexpected '${m.kind}' at start`));
        }
      };
      const onErr = (e: Error) => {
        cleanup();
        void worker.terminate();
        reject(new DetectorWorkerError(`detector worker for '${opts.modelPath}' failed at start: ${e.message}`));
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new DetectorWorkerError(`detector worker for '${opts.modelPath}' exited at start (code ${code})`));
      };
      worker.on('message', onMsg);
      worker.on('error', onErr);
      worker.on('exit', onExit);
    });
  }

  /** Letterboxes here (cheap), infers in the worker; detections in source pixels. */
  detect(img: PixelView): Promise<Detection[]> {
    if (this.dead) return Promise.reject(this.dead);
    const buf = this.spare.pop() ?? new Float32Array(3 * this.inputSize * this.inputSize);
    let lb;
    try {
      lb = letterboxInto(img, this.inputSize, buf, this.opts.normalize ?? {});
    } catch (e) {
      this.spare.push(buf);
      return Promise.reject(e as Error);
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      const req: WorkerRequest = { kind: 'detect', id, lb, buffer: buf.buffer as ArrayBuffer };
      this.worker.postMessage(req, [buf.buffer as ArrayBuffer]);
    });
  }

  private onMessage(m: WorkerReply): void {
    if (m.kind === 'released') {
      this.onReleased?.();
      return;
    }
    if (m.kind !== 'result' && m.kind !== 'error') return;
    this.spare.push(new Float32Array(m.buffer));
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.kind === 'result') p.resolve(m.detections);
    else p.reject(revive(m.error));
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Releases the session in the worker, then ends the worker. */
  async release(): Promise<void> {
    if (this.dead) return;
    const released = new Promise<void>((resolve) => (this.onReleased = resolve));
    this.worker.ref();
    this.worker.postMessage({ kind: 'release' } satisfies WorkerRequest);
    await released;
    this.fail(new DetectorWorkerError(`detector for '${this.modelPath}' is released`));
    await this.worker.terminate();
  }
}
