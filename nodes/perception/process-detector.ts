/**
 * A Detector whose ONNX Runtime session lives in a supervised child process (lib/process), so
 * a native crash, hang or runaway memory in inference cannot stop the control process. Same
 * options, load errors and detections as Detector / WorkerDetector.
 *
 * Frames cross as source pixels (only the rows in use) over the IPC channel with 'advanced'
 * serialization (one copy each way, no JSON); the child letterboxes. While the child is down
 * detect() rejects at once with ChildUnavailableError (the node drops and counts the frame,
 * the arbiter's watchdog on /detections covers the gap) and the supervisor restarts it with
 * backoff, loading the model again before it takes frames.
 */
import { statSync } from 'node:fs';
import type { OutputFormat } from '../../lib/vision/decode.js';
import type { PixelView } from '../../lib/vision/image.js';
import { ChildError, ChildUnavailableError, Supervisor, siblingEntry, type SupervisorOptions } from '../../lib/process/supervisor.js';
import { ChildPool } from '../../lib/process/pool.js';
import { ModelLoadError, type Detection, type DetectorOptions } from './detector.js';

export type ProcessOptions = Omit<SupervisorOptions, 'name' | 'entry' | 'init'>;

interface Loaded {
  inputSize: number;
  format: OutputFormat;
  classNames: string[];
}

function reviveLoad(e: unknown, path: string): Error {
  if (e instanceof ChildError && e.name === 'ModelLoadError') {
    const err = new ModelLoadError(path, '');
    err.message = e.message; // already "model '<path>': <detail>"
    return err;
  }
  return e as Error;
}

/** Idle detector children, kept a while for the next node with the same model and options (eval runs, tests). */
const pool = new ChildPool<{ loaded?: Loaded }>({ exclusive: true });

export class ProcessDetector {
  private released = false;

  private constructor(
    private readonly release_: () => Promise<void>,
    readonly supervisor: Supervisor,
    readonly modelPath: string,
    readonly inputSize: number,
    readonly format: OutputFormat,
    readonly classNames: readonly string[],
    private readonly deadlineMs: number,
  ) {}

  static async create(opts: DetectorOptions, proc: ProcessOptions = {}, requestDeadlineMs = 5000): Promise<ProcessDetector> {
    // A missing file fails here, as Detector words it, before a child is spawned for it.
    try {
      if (!statSync(opts.modelPath).isFile()) throw new Error('not a regular file');
    } catch (e) {
      throw new ModelLoadError(opts.modelPath, `cannot read the model file: ${(e as Error).message}`);
    }
    const key = JSON.stringify([opts, proc]);
    const make = () => {
      const data: { loaded?: Loaded } = {};
      const sup = new Supervisor({
        name: `detector '${opts.modelPath}'`,
        entry: siblingEntry(import.meta.url, 'detector-host'),
        ...proc,
        init: async (call) => {
          const l = await call<Loaded>('init', opts).catch((e: unknown) => {
            throw reviveLoad(e, opts.modelPath);
          });
          // A restart must bring back the same model: a changed file on disk is a load error, not silently different boxes.
          const was = data.loaded;
          if (was && (l.inputSize !== was.inputSize || l.format !== was.format || l.classNames.join() !== was.classNames.join())) {
            throw new Error(`model '${opts.modelPath}' changed on restart (input ${l.inputSize}, ${l.format}, ${l.classNames.length} classes)`);
          }
          data.loaded = l;
        },
      });
      return { sup, data };
    };
    const got = await pool.acquire(key, make);
    const l = got.data.loaded as Loaded;
    const release = got.pooled ? () => pool.release(key) : () => got.sup.stop();
    return new ProcessDetector(release, got.sup, opts.modelPath, l.inputSize, l.format, l.classNames, requestDeadlineMs);
  }

  /** Infers in the child; detections in source pixels. Rejects at once while the child is down. */
  detect(img: PixelView): Promise<Detection[]> {
    if (this.released) return Promise.reject(new ChildUnavailableError(this.supervisor.name, 'stopped', 'the detector is released'));
    // Only the bytes in use cross (a view into a larger pool would otherwise not matter, see v8 DefaultSerializer).
    const bytes = img.height * img.step;
    const data = img.data.length > bytes ? img.data.subarray(0, bytes) : img.data;
    return this.supervisor.request<Detection[]>('detect', { width: img.width, height: img.height, step: img.step, channels: img.channels, order: img.order, data }, { deadlineMs: this.deadlineMs });
  }

  /** Lets go of the child: it stays loaded a while for the next user with the same model (lib/process/pool.ts), then stops. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.release_();
  }
}
