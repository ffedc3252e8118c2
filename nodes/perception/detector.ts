/**
 * An ONNX Runtime detector session: loads and checks the model (one image input, one
 * detection output of a known layout), then turns pixel views into detections in source
 * pixels. The node and the benchmark share it.
 */
import { readFileSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { classCount, decode, detectFormat, ModelShapeError, type Dim, type OutputFormat, type RawDetection } from '../../lib/vision/decode.js';
import type { PixelView } from '../../lib/vision/image.js';
import { letterboxInto, type Letterbox, type NormalizeOptions } from '../../lib/vision/letterbox.js';
import { clipBox, nms } from '../../lib/vision/nms.js';
import { aboveClassThreshold, classThresholds, lowestThreshold } from '../../lib/vision/thresholds.js';
import { readOnnxMetadata, parseClassNames } from '../../lib/vision/onnx-meta.js';

export interface DetectorOptions {
  modelPath: string;
  /** 0 = take it from the model's input shape (or its `imgsz` metadata). */
  inputSize?: number;
  /** Empty = take them from the model's `names` metadata (Ultralytics exports carry it). */
  classNames?: readonly string[];
  format?: OutputFormat | 'auto';
  scoreThreshold?: number;
  /** Per-class score thresholds by class name (the others use `scoreThreshold`). */
  classScoreThresholds?: Readonly<Record<string, number>>;
  iouThreshold?: number;
  agnosticNms?: boolean;
  maxDetections?: number;
  intraOpNumThreads?: number;
  executionProviders?: readonly string[];
  normalize?: NormalizeOptions;
}

export interface Detection extends RawDetection {
  className: string;
}

export class ModelLoadError extends Error {
  constructor(readonly modelPath: string, detail: string) {
    super(`model '${modelPath}': ${detail}`);
    this.name = 'ModelLoadError';
  }
}

function dimsOf(meta: ort.InferenceSession.ValueMetadata): readonly Dim[] | undefined {
  return meta.isTensor ? meta.shape : undefined;
}

export class Detector {
  private readonly buf: Float32Array;
  private readonly tensor: ort.Tensor;

  private constructor(
    readonly session: ort.InferenceSession,
    readonly modelPath: string,
    readonly inputName: string,
    readonly outputName: string,
    readonly inputSize: number,
    readonly format: OutputFormat,
    readonly classNames: readonly string[],
    private readonly o: Required<Omit<DetectorOptions, 'classNames' | 'format' | 'inputSize' | 'modelPath' | 'normalize' | 'classScoreThresholds'>> & { normalize: NormalizeOptions },
    /** Score threshold by class index. */
    private readonly thresholds: readonly number[],
  ) {
    this.buf = new Float32Array(3 * inputSize * inputSize);
    // One input tensor over one buffer, reused every frame: no per-frame allocation.
    this.tensor = new ort.Tensor('float32', this.buf, [1, 3, inputSize, inputSize]);
  }

  static async create(opts: DetectorOptions): Promise<Detector> {
    const path = opts.modelPath;
    let bytes: Uint8Array;
    try {
      if (!statSync(path).isFile()) throw new Error('not a regular file');
      bytes = readFileSync(path);
    } catch (e) {
      throw new ModelLoadError(path, `cannot read the model file: ${(e as Error).message}`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: opts.intraOpNumThreads ?? 1,
        interOpNumThreads: 1,
        executionProviders: [...(opts.executionProviders ?? ['cpu'])],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (e) {
      throw new ModelLoadError(path, `ONNX Runtime cannot load it (corrupt or not an ONNX model?): ${(e as Error).message}`);
    }
    try {
      return await Detector.check(session, path, bytes, opts);
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  private static async check(session: ort.InferenceSession, path: string, bytes: Uint8Array, opts: DetectorOptions): Promise<Detector> {
    const fail = (detail: string): never => {
      throw new ModelLoadError(path, detail);
    };
    if (session.inputNames.length !== 1) fail(`expected 1 input (an image [1, 3, H, W]), found ${session.inputNames.length}: ${session.inputNames.join(', ')}`);
    if (session.outputNames.length < 1) fail('the model has no outputs');
    const inMeta = session.inputMetadata[0];
    const inDims = dimsOf(inMeta);
    if (!inMeta.isTensor || inMeta.type !== 'float32' || !inDims || inDims.length !== 4) {
      fail(`input '${session.inputNames[0]}' is ${inMeta.isTensor ? `${inMeta.type} [${inDims?.join(', ')}]` : 'not a tensor'}; expected float32 [1, 3, H, W]`);
    }
    const d = inDims as readonly Dim[];
    if (typeof d[1] === 'number' && d[1] !== 3) fail(`input has ${d[1]} channels; expected 3 (RGB)`);
    const meta = readOnnxMetadata(bytes);
    const fixedH = typeof d[2] === 'number' && d[2] > 0 ? d[2] : undefined;
    const fixedW = typeof d[3] === 'number' && d[3] > 0 ? d[3] : undefined;
    if (fixedH !== undefined && fixedW !== undefined && fixedH !== fixedW) fail(`input is ${fixedW}x${fixedH}; only square inputs are supported (export with a square imgsz)`);
    const metaSize = meta.imgsz ? Number(/\d+/.exec(meta.imgsz)?.[0]) : undefined;
    let size = opts.inputSize && opts.inputSize > 0 ? opts.inputSize : (fixedH ?? metaSize ?? 0);
    if (!(size > 0)) fail('input size is dynamic and the model has no imgsz metadata; set the input_size parameter');
    if (fixedH !== undefined && size !== fixedH) fail(`input_size ${size} does not match the model's fixed input ${fixedH}x${fixedH}`);
    if (size % 32 !== 0 && fixedH === undefined) fail(`input_size ${size} must be a multiple of 32 for a dynamic-shape YOLO model`);
    size = Math.round(size);

    // The detection output: the only one, or the first 3-D one (segmentation exports add a mask proto).
    const outIdx = session.outputMetadata.findIndex((m) => m.isTensor && m.shape.length === 3);
    if (outIdx < 0) fail(`no 3-D output; outputs: ${session.outputMetadata.map((m) => `${m.name} [${dimsOf(m)?.join(', ') ?? '?'}]`).join(', ')}; expected [1, 4+nc, N], [1, N, 5+nc] or [1, N, 6]`);
    const outMeta = session.outputMetadata[outIdx];
    const outDims = dimsOf(outMeta) as readonly Dim[];
    if (outMeta.isTensor && outMeta.type !== 'float32') fail(`output '${outMeta.name}' is ${outMeta.type}; expected float32`);

    // One warm-up run on a blank frame: it pays the first-run cost before frames arrive and
    // gives the concrete output shape, which dynamic exports leave symbolic.
    let probeDims: readonly number[];
    try {
      const probe = new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]);
      const out = await session.run({ [session.inputNames[0]]: probe }, [outMeta.name]);
      probeDims = out[outMeta.name].dims;
      out[outMeta.name].dispose();
    } catch (e) {
      return fail(`a test run at ${size}x${size} failed: ${(e as Error).message}`);
    }
    const shapeNote = outDims.some((x) => typeof x !== 'number' || x <= 0) ? ` (declared [${outDims.join(', ')}])` : '';

    let names = opts.classNames && opts.classNames.length > 0 ? [...opts.classNames] : meta.names ? parseClassNames(meta.names) : undefined;
    let format: OutputFormat;
    if (opts.format && opts.format !== 'auto') format = opts.format;
    else {
      const f = detectFormat(probeDims, names?.length);
      if ('error' in f) return fail(f.error + shapeNote);
      format = f.format;
    }
    const nc = classCount(format, probeDims);
    if (nc !== undefined && nc < 1) fail(`output shape [${probeDims.join(', ')}] leaves no class scores for layout ${format}`);
    if (names && nc !== undefined && names.length !== nc) {
      fail(`the model outputs ${nc} classes but ${names.length} class names are given (${names.join(', ')})`);
    }
    if (!names) {
      if (nc === undefined) return fail('class names are not in the model metadata; set the class_names parameter');
      names = Array.from({ length: nc }, (_, i) => `class_${i}`);
    }
    let thresholds: number[];
    try {
      thresholds = classThresholds(names, opts.scoreThreshold ?? 0.25, opts.classScoreThresholds ?? {});
    } catch (e) {
      return fail((e as Error).message);
    }
    return new Detector(session, path, session.inputNames[0], outMeta.name, size, format, names, {
      scoreThreshold: opts.scoreThreshold ?? 0.25,
      iouThreshold: opts.iouThreshold ?? 0.45,
      agnosticNms: opts.agnosticNms ?? false,
      maxDetections: opts.maxDetections ?? 100,
      intraOpNumThreads: opts.intraOpNumThreads ?? 1,
      executionProviders: opts.executionProviders ?? ['cpu'],
      normalize: opts.normalize ?? {},
    }, thresholds);
  }

  /** The input tensor's buffer (NCHW float32), for callers that prepare their own input. */
  get input(): Float32Array {
    return this.buf;
  }

  /** Letterboxes into the reused input buffer. The buffer belongs to the next `infer` call. */
  preprocess(img: PixelView): Letterbox {
    return letterboxInto(img, this.inputSize, this.buf, this.o.normalize);
  }

  /** Runs the session on the prepared input buffer; returns the raw output. */
  async infer(): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const out = await this.session.run({ [this.inputName]: this.tensor }, [this.outputName]);
    const t = out[this.outputName];
    if (t.type !== 'float32') throw new ModelShapeError(`output '${this.outputName}' is ${t.type}; expected float32`);
    return { data: t.data as Float32Array, dims: t.dims };
  }

  /** Raw output → NMS'd detections in source pixels, clipped to the image. */
  postprocess(data: Float32Array, dims: readonly number[], lb: Letterbox): Detection[] {
    const raw = aboveClassThreshold(decode(this.format, data, dims, lowestThreshold(this.thresholds, this.o.scoreThreshold)), this.thresholds);
    const kept = this.format === 'end2end' ? raw : nms(raw, { iouThreshold: this.o.iouThreshold, agnostic: this.o.agnosticNms, maxDetections: this.o.maxDetections });
    const out: Detection[] = [];
    for (const d of kept.slice(0, this.o.maxDetections)) {
      if (d.classIndex < 0 || d.classIndex >= this.classNames.length) {
        throw new ModelShapeError(`class index ${d.classIndex} is outside the ${this.classNames.length} class names`);
      }
      const b = clipBox(
        { ...d, x1: (d.x1 - lb.padX) / lb.scaleX, y1: (d.y1 - lb.padY) / lb.scaleY, x2: (d.x2 - lb.padX) / lb.scaleX, y2: (d.y2 - lb.padY) / lb.scaleY },
        lb.srcWidth,
        lb.srcHeight,
      );
      if (b) out.push({ ...b, className: this.classNames[d.classIndex] });
    }
    return out;
  }

  async detect(img: PixelView): Promise<Detection[]> {
    const lb = this.preprocess(img);
    const { data, dims } = await this.infer();
    return this.postprocess(data, dims, lb);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
