/**
 * Detection accuracy against ground truth, as in PASCAL VOC / COCO at one IoU threshold:
 * per class, detections sorted by score are matched greedily to the unmatched ground-truth
 * box they overlap most (IoU ≥ threshold); AP is the area under the interpolated
 * precision–recall curve (all points). Ground truth marked `ignore` (e.g. objects mostly
 * outside the image) neither counts as missed nor makes a detection of it false.
 */
import type { Box } from './decode.js';
import { iou } from './nms.js';

export interface GtBox extends Box {
  classId: string;
  ignore?: boolean;
}

export interface ScoredBox extends Box {
  classId: string;
  score: number;
}

export interface ClassMetrics {
  classId: string;
  groundTruth: number;
  ap: number;
  /** At the given operating score threshold. */
  precision: number;
  recall: number;
  tp: number;
  fp: number;
}

export interface EvalResult {
  map: number;
  classes: ClassMetrics[];
}

/** `frames[i]` pairs the detections and ground truth of one image. */
export function evaluateDetections(frames: readonly { dets: readonly ScoredBox[]; gt: readonly GtBox[] }[], classes: readonly string[], iouThreshold = 0.5, operatingScore = 0.25): EvalResult {
  const out: ClassMetrics[] = [];
  for (const cls of classes) {
    const scored: { score: number; tp: boolean }[] = [];
    let nGt = 0;
    for (const f of frames) {
      const gt = f.gt.filter((g) => g.classId === cls);
      nGt += gt.filter((g) => !g.ignore).length;
      const used = new Array<boolean>(gt.length).fill(false);
      const dets = f.dets.filter((d) => d.classId === cls).sort((a, b) => b.score - a.score);
      for (const d of dets) {
        let best = -1;
        let bestIou = iouThreshold;
        for (let j = 0; j < gt.length; j++) {
          if (used[j]) continue;
          const v = iou(d, gt[j]);
          if (v >= bestIou) {
            bestIou = v;
            best = j;
          }
        }
        if (best >= 0) {
          used[best] = true;
          if (gt[best].ignore) continue;
          scored.push({ score: d.score, tp: true });
        } else scored.push({ score: d.score, tp: false });
      }
    }
    scored.sort((a, b) => b.score - a.score);
    const prec: number[] = [];
    const rec: number[] = [];
    let tp = 0;
    let fp = 0;
    let opTp = 0;
    let opFp = 0;
    for (const s of scored) {
      if (s.tp) tp++;
      else fp++;
      if (s.score >= operatingScore) {
        if (s.tp) opTp++;
        else opFp++;
      }
      prec.push(tp / (tp + fp));
      rec.push(nGt > 0 ? tp / nGt : 0);
    }
    // All-point interpolation: precision made monotone from the right, integrated over recall.
    for (let i = prec.length - 2; i >= 0; i--) prec[i] = Math.max(prec[i], prec[i + 1]);
    let ap = 0;
    let prevR = 0;
    for (let i = 0; i < prec.length; i++) {
      ap += (rec[i] - prevR) * prec[i];
      prevR = rec[i];
    }
    out.push({ classId: cls, groundTruth: nGt, ap: nGt > 0 ? ap : 0, precision: opTp + opFp > 0 ? opTp / (opTp + opFp) : 0, recall: nGt > 0 ? opTp / nGt : 0, tp: opTp, fp: opFp });
  }
  const withGt = out.filter((c) => c.groundTruth > 0);
  return { map: withGt.length > 0 ? withGt.reduce((a, c) => a + c.ap, 0) / withGt.length : 0, classes: out };
}
