/** Messages between WorkerDetector (main thread) and detector-worker.ts. */
import type { OutputFormat } from '../../lib/vision/decode.js';
import type { Detection } from './detector.js';
import type { Letterbox } from '../../lib/vision/letterbox.js';

export interface SerializedError {
  name: string;
  message: string;
}

export type WorkerRequest =
  /** `buffer`: the letterboxed NCHW float32 input, transferred (it comes back in the reply). */
  | { kind: 'detect'; id: number; lb: Letterbox; buffer: ArrayBuffer }
  | { kind: 'release' };

export type WorkerReply =
  | { kind: 'ready'; inputSize: number; format: OutputFormat; classNames: string[] }
  | { kind: 'init-error'; error: SerializedError }
  | { kind: 'result'; id: number; detections: Detection[]; buffer: ArrayBuffer }
  | { kind: 'error'; id: number; error: SerializedError; buffer: ArrayBuffer }
  | { kind: 'released' };
