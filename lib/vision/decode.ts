/**
 * Decoders for the common detector export layouts, as pure functions over the raw output
 * tensor. Boxes come out as corners in model-input pixels.
 *   - yolov8:  [1, 4+nc, N]  rows cx, cy, w, h, then nc class scores (YOLOv8/YOLO11/kestrel-det)
 *   - yolov5:  [1, N, 5+nc]  columns cx, cy, w, h, objectness, nc class scores (score = obj × cls)
 *   - end2end: [1, N, 6]     x1, y1, x2, y2, score, class (NMS inside: YOLOv10, YOLO26, `nms=True` exports)
 */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface RawDetection extends Box {
  score: number;
  classIndex: number;
}

export type OutputFormat = 'yolov8' | 'yolov5' | 'end2end';

export class ModelShapeError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'ModelShapeError';
  }
}

/** A dimension as ONNX metadata reports it: a number, or a symbolic name / -1 when dynamic. */
export type Dim = number | string;

const known = (d: Dim | undefined): d is number => typeof d === 'number' && d > 0;

/**
 * Infers the layout from the output shape and (when known) the number of classes.
 * Returns a reason when the shape fits no layout, or fits several and `nc` cannot decide.
 */
export function detectFormat(dims: readonly Dim[], nc?: number): { format: OutputFormat } | { error: string } {
  const shape = `[${dims.join(', ')}]`;
  if (dims.length !== 3) return { error: `output shape ${shape} has ${dims.length} dims; expected 3 ([1, 4+nc, N], [1, N, 5+nc] or [1, N, 6])` };
  const [, a, b] = dims;
  if (known(a) && known(b)) {
    const fits: OutputFormat[] = [];
    if (nc !== undefined) {
      if (a === 4 + nc && b > a) fits.push('yolov8');
      if (b === 5 + nc) fits.push('yolov5');
      if (b === 6) fits.push('end2end');
    } else {
      // Without the class count, the long axis is the candidate axis.
      if (a >= 5 && b > a) fits.push('yolov8');
      if (b === 6 && a > b) fits.push('end2end');
      else if (b >= 6 && a > b) fits.push('yolov5');
    }
    if (fits.length === 1) return { format: fits[0] };
    if (fits.length > 1) return { error: `output shape ${shape} fits ${fits.join(' and ')}; set the output_format parameter` };
    return { error: `output shape ${shape} fits no known layout for ${nc ?? 'an unknown number of'} classes: expected [1, ${nc !== undefined ? 4 + nc : '4+nc'}, N] (yolov8), [1, N, ${nc !== undefined ? 5 + nc : '5+nc'}] (yolov5) or [1, N, 6] (end2end)` };
  }
  // Dynamic candidate axis (e.g. 'anchors'): the fixed axis tells the layout.
  if (known(a) && !known(b)) return nc === undefined || a === 4 + nc ? { format: 'yolov8' } : { error: `output shape ${shape}: ${a} rows is not 4 + ${nc} classes` };
  if (known(b) && !known(a)) {
    if (b === 6 && nc !== 1) return { format: 'end2end' };
    if (nc === undefined || b === 5 + nc) return { format: 'yolov5' };
    return { error: `output shape ${shape}: ${b} columns is not 5 + ${nc} classes` };
  }
  return { error: `output shape ${shape} is fully dynamic; set the output_format parameter` };
}

/** Number of classes implied by a concrete output shape for a given layout. */
export function classCount(format: OutputFormat, dims: readonly number[]): number | undefined {
  if (format === 'yolov8') return dims[1] - 4;
  if (format === 'yolov5') return dims[2] - 5;
  return undefined;
}

function checkDims(dims: readonly number[], what: string): void {
  if (dims.length !== 3 || dims[0] !== 1) throw new ModelShapeError(`${what}: output shape [${dims.join(', ')}]; expected batch 1 and 3 dims`);
}

/** [1, 4+nc, N]: channel-major, so one class row is contiguous; scan per candidate for the best class. */
export function decodeYoloV8(data: Float32Array, dims: readonly number[], scoreThreshold: number): RawDetection[] {
  checkDims(dims, 'yolov8');
  const rows = dims[1];
  const n = dims[2];
  const nc = rows - 4;
  if (nc < 1) throw new ModelShapeError(`yolov8: ${rows} rows leaves no class scores; expected 4 + nc rows`);
  if (data.length < rows * n) throw new ModelShapeError(`yolov8: output has ${data.length} values; shape needs ${rows * n}`);
  const out: RawDetection[] = [];
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    let cls = -1;
    for (let c = 0; c < nc; c++) {
      const s = data[(4 + c) * n + i];
      if (s > best) {
        best = s;
        cls = c;
      }
    }
    if (!(best >= scoreThreshold)) continue;
    const cx = data[i];
    const cy = data[n + i];
    const w = data[2 * n + i];
    const h = data[3 * n + i];
    out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score: best, classIndex: cls });
  }
  return out;
}

/** [1, N, 5+nc]: candidate-major with objectness; skip on objectness first (most candidates are background). */
export function decodeYoloV5(data: Float32Array, dims: readonly number[], scoreThreshold: number): RawDetection[] {
  checkDims(dims, 'yolov5');
  const n = dims[1];
  const cols = dims[2];
  const nc = cols - 5;
  if (nc < 1) throw new ModelShapeError(`yolov5: ${cols} columns leaves no class scores; expected 5 + nc columns`);
  if (data.length < cols * n) throw new ModelShapeError(`yolov5: output has ${data.length} values; shape needs ${cols * n}`);
  const out: RawDetection[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * cols;
    const obj = data[o + 4];
    if (!(obj >= scoreThreshold)) continue;
    let best = -Infinity;
    let cls = -1;
    for (let c = 0; c < nc; c++) {
      const s = data[o + 5 + c];
      if (s > best) {
        best = s;
        cls = c;
      }
    }
    const score = obj * best;
    if (!(score >= scoreThreshold)) continue;
    const cx = data[o];
    const cy = data[o + 1];
    const w = data[o + 2];
    const h = data[o + 3];
    out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, classIndex: cls });
  }
  return out;
}

/** [1, N, 6]: already suppressed; padded rows have score 0 and fall under the threshold. */
export function decodeEndToEnd(data: Float32Array, dims: readonly number[], scoreThreshold: number): RawDetection[] {
  checkDims(dims, 'end2end');
  const n = dims[1];
  if (dims[2] !== 6) throw new ModelShapeError(`end2end: output shape [${dims.join(', ')}]; expected [1, N, 6] (x1, y1, x2, y2, score, class)`);
  if (data.length < 6 * n) throw new ModelShapeError(`end2end: output has ${data.length} values; shape needs ${6 * n}`);
  const out: RawDetection[] = [];
  for (let i = 0; i < n; i++) {
    const o = i * 6;
    const score = data[o + 4];
    if (!(score >= scoreThreshold)) continue;
    out.push({ x1: data[o], y1: data[o + 1], x2: data[o + 2], y2: data[o + 3], score, classIndex: Math.round(data[o + 5]) });
  }
  return out;
}

export function decode(format: OutputFormat, data: Float32Array, dims: readonly number[], scoreThreshold: number): RawDetection[] {
  switch (format) {
    case 'yolov8':
      return decodeYoloV8(data, dims, scoreThreshold);
    case 'yolov5':
      return decodeYoloV5(data, dims, scoreThreshold);
    case 'end2end':
      return decodeEndToEnd(data, dims, scoreThreshold);
  }
}
