/** Greedy non-maximum suppression and box helpers (pure). */
import type { Box, RawDetection } from './decode.js';

export function area(b: Box): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const u = area(a) + area(b) - inter;
  return u > 0 ? inter / u : 0;
}

export interface NmsOptions {
  iouThreshold: number;
  /** Suppress across classes (one box per object whatever its class). */
  agnostic?: boolean;
  maxDetections?: number;
}

/** Highest score first; a box is dropped when it overlaps a kept box of its class by more than the threshold. */
export function nms<T extends RawDetection>(dets: readonly T[], o: NmsOptions): T[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const max = o.maxDetections ?? Infinity;
  const kept: T[] = [];
  for (const d of sorted) {
    if (kept.length >= max) break;
    let ok = true;
    for (const k of kept) {
      if ((o.agnostic || k.classIndex === d.classIndex) && iou(k, d) > o.iouThreshold) {
        ok = false;
        break;
      }
    }
    if (ok) kept.push(d);
  }
  return kept;
}

/** Clips a box to [0, width] × [0, height]; returns undefined when nothing is left. */
export function clipBox<T extends Box>(b: T, width: number, height: number): T | undefined {
  const x1 = Math.min(width, Math.max(0, b.x1));
  const y1 = Math.min(height, Math.max(0, b.y1));
  const x2 = Math.min(width, Math.max(0, b.x2));
  const y2 = Math.min(height, Math.max(0, b.y2));
  if (x2 - x1 <= 0 || y2 - y1 <= 0) return undefined;
  return { ...b, x1, y1, x2, y2 };
}
