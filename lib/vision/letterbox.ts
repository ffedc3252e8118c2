/**
 * Preprocessing as one pure pass: letterbox (aspect-preserving bilinear resize onto a
 * padded square), channel reorder to RGB, normalize, and NCHW float32 layout: what
 * Ultralytics YOLO exports expect (pad 114, x/255, RGB).
 */
import type { PixelView } from './image.js';

export interface Letterbox {
  /** Square model input side, pixels. */
  size: number;
  /** Model-input pixels per source pixel, per axis (equal up to rounding). */
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
  srcWidth: number;
  srcHeight: number;
}

export interface NormalizeOptions {
  /** Grey level of the padding, 0..255. */
  pad?: number;
  /** Per-channel (R, G, B) mean and std applied after x/255. */
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
}

export function letterboxGeometry(srcWidth: number, srcHeight: number, size: number): Letterbox {
  const s = Math.min(size / srcWidth, size / srcHeight);
  const w = Math.max(1, Math.round(srcWidth * s));
  const h = Math.max(1, Math.round(srcHeight * s));
  return { size, scaleX: w / srcWidth, scaleY: h / srcHeight, padX: Math.floor((size - w) / 2), padY: Math.floor((size - h) / 2), srcWidth, srcHeight };
}

interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w: Float32Array;
}

// Resampling taps depend only on (source size, target size): cache them across frames.
const tapCache = new Map<string, Taps>();

function taps(src: number, dst: number): Taps {
  const key = `${src}:${dst}`;
  let t = tapCache.get(key);
  if (t) return t;
  t = { i0: new Int32Array(dst), i1: new Int32Array(dst), w: new Float32Array(dst) };
  const scale = src / dst;
  for (let i = 0; i < dst; i++) {
    // Half-pixel centres, as cv2.resize INTER_LINEAR.
    const s = Math.min(src - 1, Math.max(0, (i + 0.5) * scale - 0.5));
    const f = Math.floor(s);
    t.i0[i] = f;
    t.i1[i] = Math.min(src - 1, f + 1);
    t.w[i] = s - f;
  }
  if (tapCache.size > 64) tapCache.clear();
  tapCache.set(key, t);
  return t;
}

function lut(a: number, b: number): Float32Array {
  const t = new Float32Array(256);
  for (let v = 0; v < 256; v++) t[v] = v * a + b;
  return t;
}

function channelOffsets(v: PixelView): [number, number, number] {
  switch (v.order) {
    case 'rgb':
    case 'rgba':
      return [0, 1, 2];
    case 'bgr':
    case 'bgra':
      return [2, 1, 0];
    case 'gray':
      return [0, 0, 0];
  }
}

/**
 * Writes the letterboxed image into `out` (length 3 × size × size, NCHW, RGB) and returns
 * the geometry needed to map boxes back to source pixels.
 */
export function letterboxInto(img: PixelView, size: number, out: Float32Array, opts: NormalizeOptions = {}): Letterbox {
  const plane = size * size;
  if (out.length < 3 * plane) throw new Error(`letterbox: output buffer holds ${out.length} floats; expected ${3 * plane}`);
  const lb = letterboxGeometry(img.width, img.height, size);
  const w = Math.round(img.width * lb.scaleX);
  const h = Math.round(img.height * lb.scaleY);
  const mean = opts.mean ?? [0, 0, 0];
  const std = opts.std ?? [1, 1, 1];
  // out = (v / 255 - mean) / std  ==  v * a + b
  const a = [1 / (255 * std[0]), 1 / (255 * std[1]), 1 / (255 * std[2])];
  const b = [-mean[0] / std[0], -mean[1] / std[1], -mean[2] / std[2]];
  const padV = opts.pad ?? 114;
  // Fill only the padding: the image area is written below.
  for (let c = 0; c < 3; c++) {
    const v = padV * a[c] + b[c];
    const base = c * plane;
    out.fill(v, base, base + lb.padY * size);
    out.fill(v, base + (lb.padY + h) * size, base + plane);
    if (lb.padX > 0 || lb.padX + w < size) {
      for (let y = lb.padY; y < lb.padY + h; y++) {
        out.fill(v, base + y * size, base + y * size + lb.padX);
        out.fill(v, base + y * size + lb.padX + w, base + (y + 1) * size);
      }
    }
  }

  const [o0, o1, o2] = channelOffsets(img);
  const ch = img.channels;
  const { data, step } = img;
  const r = out;
  if (w === img.width && h === img.height) {
    // Same size (e.g. 320x240 into 320): a copy through per-channel lookup tables, no resampling.
    const l0 = lut(a[0], b[0]);
    const l1 = lut(a[1], b[1]);
    const l2 = lut(a[2], b[2]);
    for (let y = 0; y < h; y++) {
      let q = y * step;
      let o = (y + lb.padY) * size + lb.padX;
      for (let x = 0; x < w; x++, o++, q += ch) {
        r[o] = l0[data[q + o0]];
        r[o + plane] = l1[data[q + o1]];
        r[o + 2 * plane] = l2[data[q + o2]];
      }
    }
    return lb;
  }
  const tx = taps(img.width, w);
  const ty = taps(img.height, h);
  for (let y = 0; y < h; y++) {
    const row0 = ty.i0[y] * step;
    const row1 = ty.i1[y] * step;
    const wy = ty.w[y];
    let o = (y + lb.padY) * size + lb.padX;
    for (let x = 0; x < w; x++, o++) {
      const c0 = tx.i0[x] * ch;
      const c1 = tx.i1[x] * ch;
      const wx = tx.w[x];
      const p00 = row0 + c0;
      const p01 = row0 + c1;
      const p10 = row1 + c0;
      const p11 = row1 + c1;
      const w00 = (1 - wx) * (1 - wy);
      const w01 = wx * (1 - wy);
      const w10 = (1 - wx) * wy;
      const w11 = wx * wy;
      const vr = data[p00 + o0] * w00 + data[p01 + o0] * w01 + data[p10 + o0] * w10 + data[p11 + o0] * w11;
      const vg = data[p00 + o1] * w00 + data[p01 + o1] * w01 + data[p10 + o1] * w10 + data[p11 + o1] * w11;
      const vb = data[p00 + o2] * w00 + data[p01 + o2] * w01 + data[p10 + o2] * w10 + data[p11 + o2] * w11;
      r[o] = vr * a[0] + b[0];
      r[o + plane] = vg * a[1] + b[1];
      r[o + 2 * plane] = vb * a[2] + b[2];
    }
  }
  return lb;
}

export function letterbox(img: PixelView, size: number, opts: NormalizeOptions = {}): { tensor: Float32Array; lb: Letterbox } {
  const tensor = new Float32Array(3 * size * size);
  const lb = letterboxInto(img, size, tensor, opts);
  return { tensor, lb };
}

/** Model-input pixel coordinates → source image pixel coordinates. */
export function toSource(lb: Letterbox, x: number, y: number): { x: number; y: number } {
  return { x: (x - lb.padX) / lb.scaleX, y: (y - lb.padY) / lb.scaleY };
}
