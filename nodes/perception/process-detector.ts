/**
 * A Detector whose ONNX Runtime session lives in a supervised child process (lib/process), so
 * a native crash, hang or runaway memory in inference cannot stop the control process. Same
 * options, load errors and detections as Detector / WorkerDetector.
 *
 * Frames cross as source pixels (only the rows in use) through a shared memory region
 * (lib/process/shm.ts: two frame slots; one memcpy here, the request carries only the slot),
 * or, where shared memory is unavailable or both slots are taken, over the IPC channel with
 * 'advanced' serialization (one copy each way, no JSON); the child letterboxes. While the child is down
 * detect() rejects at once with ChildUnavailableError (the node drops and counts the frame,
 * the arbiter's watchdog on /detections covers the gap) and the supervisor restarts it with
 * backoff, loading the model again before it takes frames.
 */
import { statSync } from 'node:fs';
import type { OutputFormat } from '../../lib/vision/decode.js';
import type { PixelView } from '../../lib/vision/image.js';
import { ChildError, ChildLostError, ChildUnavailableError, Supervisor, siblingEntry, type SupervisorOptions } from '../../lib/process/supervisor.js';
import { ChildPool } from '../../lib/process/pool.js';
import { SharedRegion, sharedMemoryUnavailable } from '../../lib/process/shm.js';
import { ModelLoadError, type Detection, type DetectorOptions } from './detector.js';

export type ProcessOptions = Omit<SupervisorOptions, 'name' | 'entry' | 'init'>;

interface Loaded {
  inputSize: number;
  format: OutputFormat;
  classNames: string[];
}

/** Frame slots in a region the child has mapped. */
interface Frames {
  region: SharedRegion;
  slotBytes: number;
  free: number[];
  /** Slots of requests that failed (deadline, loss): the child may still read them; free again after the next reply. */
  quarantined: number[];
}

const SLOTS = 2;

interface ChildData {
  loaded?: Loaded;
  frames?: Frames;
  /** Why frames go over IPC instead (shared memory unavailable or its mapping failed). */
  noShm?: string;
  /** A region is being made and mapped: frames meanwhile go over IPC (the child maps one region at a time). */
  growing?: boolean;
}

/** The pixels of a frame, the bytes themselves or where they lie in the shared region. */
export type FrameRequest = Omit<PixelView, 'data'> & ({ data: Uint8Array } | { offset: number; length: number });

function reviveLoad(e: unknown, path: string): Error {
  if (e instanceof ChildError && e.name === 'ModelLoadError') {
    const err = new ModelLoadError(path, '');
    err.message = e.message; // already "model '<path>': <detail>"
    return err;
  }
  return e as Error;
}

/** Idle detector children, kept a while for the next node with the same model and options (eval runs, tests). */
const pool = new ChildPool<ChildData>({ exclusive: true });

export class ProcessDetector {
  private released = false;

  private constructor(
    private readonly release_: () => Promise<void>,
    readonly supervisor: Supervisor,
    private readonly child: ChildData,
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
      const data: ChildData = { noShm: sharedMemoryUnavailable() };
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
          // A restarted child maps the frames region again (the parent keeps it across restarts);
          // if it cannot, frames go over IPC: shared memory must never keep the detector down.
          if (data.frames && !data.noShm) {
            await call('map', data.frames.region.ref).catch((e: unknown) => {
              data.noShm = `the restarted child could not map the frames region: ${(e as Error).message}`;
            });
          }
        },
      });
      sup.onState((e) => {
        if (e.state !== 'stopped' || !data.frames) return;
        data.frames.region.close();
        data.frames = undefined;
      });
      return { sup, data };
    };
    const got = await pool.acquire(key, make);
    const l = got.data.loaded as Loaded;
    const release = got.pooled ? () => pool.release(key) : () => got.sup.stop();
    return new ProcessDetector(release, got.sup, got.data, opts.modelPath, l.inputSize, l.format, l.classNames, requestDeadlineMs);
  }

  /** 'shared' while frames go through shared memory, else 'ipc: <why>'. */
  get transport(): string {
    return this.child.noShm ? `ipc: ${this.child.noShm}` : 'shared';
  }

  /** Infers in the child; detections in source pixels. Rejects at once while the child is down. */
  async detect(img: PixelView): Promise<Detection[]> {
    if (this.released) throw new ChildUnavailableError(this.supervisor.name, 'stopped', 'the detector is released');
    // Only the rows in use cross.
    const bytes = img.height * img.step;
    const data = img.data.length > bytes ? img.data.subarray(0, bytes) : img.data;
    const meta = { width: img.width, height: img.height, step: img.step, channels: img.channels, order: img.order };
    const frames = await this.framesFor(bytes);
    const slot = frames?.free.pop();
    if (!frames || slot === undefined) return this.request({ ...meta, data });
    const offset = slot * frames.slotBytes;
    new Uint8Array(frames.region.buffer, offset, bytes).set(data);
    let ok = false;
    try {
      const r = await this.request({ ...meta, offset, length: bytes });
      ok = true;
      return r;
    } finally {
      // The child runs requests one at a time: after this reply it reads no earlier slot either.
      if (ok) frames.free.push(slot, ...frames.quarantined.splice(0));
      else frames.quarantined.push(slot);
    }
  }

  private request(f: FrameRequest): Promise<Detection[]> {
    return this.supervisor.request<Detection[]>('detect', f, { deadlineMs: this.deadlineMs });
  }

  /** The frames region with slots of at least `bytes`, made or grown (when no slot is in use); undefined: send over IPC. */
  private async framesFor(bytes: number): Promise<Frames | undefined> {
    const c = this.child;
    if (c.noShm || c.growing || this.supervisor.state !== 'ready') return undefined;
    if (c.frames && c.frames.slotBytes >= bytes) return c.frames;
    if (c.frames && c.frames.free.length < SLOTS) return undefined;
    c.growing = true;
    const old = c.frames;
    c.frames = undefined;
    old?.region.close();
    let region: SharedRegion | undefined;
    try {
      region = SharedRegion.create(SLOTS * bytes);
      await this.supervisor.request('map', region.ref, { deadlineMs: this.deadlineMs });
      c.frames = { region, slotBytes: bytes, free: Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i), quarantined: [] };
      return c.frames;
    } catch (e) {
      region?.close();
      // A child that went away is not a reason to give up shared memory; a failed mapping is.
      if (!(e instanceof ChildUnavailableError) && !(e instanceof ChildLostError)) c.noShm = (e as Error).message;
      return undefined;
    } finally {
      c.growing = false;
    }
  }

  /** Lets go of the child: it stays loaded a while for the next user with the same model (lib/process/pool.ts), then stops. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.release_();
  }
}
