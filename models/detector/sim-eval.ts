/**
 * Scores a detector on fresh simulator frames against the renderer's labels.
 * Seeds from 1,000,000 up are never used for training (random scenes used seeds 1..4000,
 * scenario frames seeds 1..300).
 */
import { labelsToBoxes, sampleScenarioFrame, sampleTrainingFrame } from '../../sim/dataset.js';
import { SIM_CLASSES } from '../../sim/render.js';
import type { Detector } from '../../nodes/perception/detector.js';
import { evaluateDetections, type EvalResult, type GtBox, type ScoredBox } from '../../lib/vision/metrics.js';

export const EVAL_FIRST_SEED = 1_000_000;

export interface SimEvalOptions {
  frames: number;
  firstSeed?: number;
  width?: number;
  height?: number;
  /** Ground-truth boxes smaller than this (longest side, pixels) are ignored: neither missed nor false when detected. */
  minSize?: number;
  operatingScore?: number;
  /** 'random' (sampleTrainingFrame, default) or 'scenario' (sampleScenarioFrame: the reference missions). */
  source?: 'random' | 'scenario';
  /** With source 'scenario': only these scenarios. */
  scenarios?: readonly string[];
}

export async function evaluateOnSim(det: Detector, o: SimEvalOptions): Promise<EvalResult & { frames: number; minSize: number }> {
  const width = o.width ?? 320;
  const height = o.height ?? 240;
  const minSize = o.minSize ?? 0;
  const frames: { dets: ScoredBox[]; gt: GtBox[] }[] = [];
  for (let i = 0; i < o.frames; i++) {
    const seed = (o.firstSeed ?? EVAL_FIRST_SEED) + i;
    const f = o.source === 'scenario' ? sampleScenarioFrame(seed, { width, height }, o.scenarios ? { scenarios: o.scenarios } : {}) : sampleTrainingFrame(seed, { width, height });
    const gt: GtBox[] = labelsToBoxes(f.labels).map((b) => ({
      x1: b.x0,
      y1: b.y0,
      x2: b.x1,
      y2: b.y1,
      classId: SIM_CLASSES[b.class_index],
      ignore: !b.visible || Math.max(b.x1 - b.x0, b.y1 - b.y0) < minSize,
    }));
    const dets = await det.detect({ width, height, step: width * 3, channels: 3, order: 'rgb', data: f.data });
    frames.push({ dets: dets.map((d) => ({ x1: d.x1, y1: d.y1, x2: d.x2, y2: d.y2, score: d.score, classId: d.className })), gt });
  }
  return { ...evaluateDetections(frames, SIM_CLASSES, 0.5, o.operatingScore ?? 0.25), frames: o.frames, minSize };
}
